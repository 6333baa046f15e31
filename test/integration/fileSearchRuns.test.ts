import type { FileCitationAnnotation, TextContentBlock } from 'openai/resources/beta/threads/messages';
import type { FileSearchToolCall, RunStep } from 'openai/resources/beta/threads/runs/steps';
import { startFakeModel, type FakeModel, type Step, type ToolCallsStep } from '../support/fakeModel';
import { DIALECTS, startTestService, type TestService } from '../support/service';
import { readSse } from '../support/sse';
import { seedVectorStore } from '../support/vectorStores';

/**
 * file_search in runs, end to end through the official Node SDK: the model (fake) searches, the run searches
 * the assistant's and the thread's vector stores on the real keyword index, the step shows the results (their
 * text only with include[]), and the marker the model copies from a result becomes a file_citation annotation
 * pointing at the file it came from — polled and streamed.
 */
jest.setTimeout(60_000);

const CONTENT = 'step_details.tool_calls[*].file_search.results[*].content' as const;

const search = (...queries: string[]): ToolCallsStep => ({
  kind: 'tool_calls',
  calls: [{ name: 'file_search', arguments: JSON.stringify({ queries }) }],
});

function searchCalls(steps: RunStep[]): FileSearchToolCall[] {
  return steps.flatMap((step) =>
    step.step_details.type === 'tool_calls'
      ? step.step_details.tool_calls.filter((c): c is FileSearchToolCall => c.type === 'file_search')
      : [],
  );
}

describe.each(DIALECTS)('file_search in runs (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;
  let whales: string;
  let manual: string;
  let notes: string;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL });
    const books = await seedVectorStore(svc, 'vs_fsrun_books', [
      {
        filename: 'moby.txt',
        chunks: [
          'Call me Ishmael. Some years ago I went to sea.',
          'The white whale, Moby Dick, was hunted by Captain Ahab.',
        ],
      },
      { filename: 'lamp-manual.txt', chunks: ['To replace the whale-oil lamp, unscrew the base and lift.'] },
    ]);
    const own = await seedVectorStore(svc, 'vs_fsrun_thread', [
      { filename: 'notes.md', chunks: ['Queequeg the harpooner carried a tomahawk pipe.'] },
    ]);
    [whales, manual, notes] = [books[0]!, books[1]!, own[0]!];
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      instructions: 'Answer from the files.',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: ['vs_fsrun_books'] } },
    });
    assistantId = assistant.id;
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  async function run(
    threadId: string,
    steps: Step[],
    extra: { tools?: [{ type: 'file_search'; file_search?: object }] } = {},
  ) {
    model.script(...steps);
    return svc.openai.beta.threads.runs.createAndPoll(
      threadId,
      { assistant_id: assistantId, ...extra },
      { pollIntervalMs: 50 },
    );
  }

  it('searches, numbers the results for the model and turns its citation into a file_citation annotation', async () => {
    const thread = await svc.openai.beta.threads.create({
      messages: [{ role: 'user', content: 'Who hunted the whale?' }],
    });
    const done = await run(thread.id, [search('white whale Ahab'), { kind: 'text', text: 'Captain Ahab{{cite:0}}.' }]);
    expect(done.status).toBe('completed');
    expect(model.requests[0]!.body.tools).toEqual([
      expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'file_search' }) }),
    ]);
    // The model read the results under their markers, best first.
    const toolMessage = model.requests[1]!.body.messages.at(-1)!;
    expect(toolMessage.role).toBe('tool');
    const output = toolMessage.content as string;
    expect(output).toContain('【0:0†source】 file: moby.txt');
    expect(output.indexOf('Captain Ahab')).toBeLessThan(output.indexOf('【0:1†source】'));

    const [message] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    const text = message!.content[0] as TextContentBlock;
    expect(text.text.value).toBe('Captain Ahab【0:0†source】.');
    expect(text.text.annotations).toEqual([
      {
        type: 'file_citation',
        text: '【0:0†source】',
        file_citation: { file_id: whales },
        start_index: 12,
        end_index: 24,
      },
    ]);
    const [cited] = text.text.annotations as FileCitationAnnotation[];
    expect(text.text.value.slice(cited!.start_index, cited!.end_index)).toBe(cited!.text);

    // Steps: results without their text unless include[] asks for it.
    const plain = await svc.openai.beta.threads.runs.steps.list(done.id, { thread_id: thread.id, order: 'asc' });
    const [call] = searchCalls(plain.data);
    expect(call).toEqual({
      id: expect.stringMatching(/^call_/),
      type: 'file_search',
      file_search: {
        ranking_options: { ranker: 'auto', score_threshold: 0 },
        results: expect.arrayContaining([{ file_id: whales, file_name: 'moby.txt', score: expect.any(Number) }]),
      },
    });
    for (const result of call!.file_search.results!) expect(result).not.toHaveProperty('content');
    expect(call!.file_search.results![0]).toMatchObject({ file_id: whales, score: 1 });

    const full = await svc.openai.beta.threads.runs.steps.list(done.id, {
      thread_id: thread.id,
      order: 'asc',
      include: [CONTENT],
    });
    const [withText] = searchCalls(full.data);
    expect(withText!.file_search.results![0]!.content).toEqual([
      { type: 'text', text: 'The white whale, Moby Dick, was hunted by Captain Ahab.' },
    ]);
    const stepId = full.data.find((s) => s.step_details.type === 'tool_calls')!.id;
    const one = await svc.openai.beta.threads.runs.steps.retrieve(stepId, {
      thread_id: thread.id,
      run_id: done.id,
      include: [CONTENT],
    });
    expect(searchCalls([one])[0]!.file_search.results![0]!.content).toHaveLength(1);
    const bare = await svc.openai.beta.threads.runs.steps.retrieve(stepId, { thread_id: thread.id, run_id: done.id });
    expect(searchCalls([bare])[0]!.file_search.results![0]).not.toHaveProperty('content');
  });

  it("searches the thread's store too, in parallel queries, and applies max_num_results and the threshold", async () => {
    const thread = await svc.openai.beta.threads.create({
      messages: [{ role: 'user', content: 'Harpoons and lamps?' }],
      tool_resources: { file_search: { vector_store_ids: ['vs_fsrun_thread'] } },
    });
    const done = await run(
      thread.id,
      [search('harpooner tomahawk', 'whale-oil lamp'), { kind: 'text', text: 'Both{{cite:0}}{{cite:1}}.' }],
      {
        tools: [{ type: 'file_search', file_search: { max_num_results: 2 } }],
      },
    );
    expect(done.status).toBe('completed');
    const steps = await svc.openai.beta.threads.runs.steps.list(done.id, { thread_id: thread.id });
    const [call] = searchCalls(steps.data);
    expect(call!.file_search.results).toHaveLength(2);
    expect(call!.file_search.results!.map((r) => r.file_id).sort()).toEqual([manual, notes].sort());
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    const annotations = (message!.content[0] as TextContentBlock).text.annotations as FileCitationAnnotation[];
    expect(annotations.map((a) => a.file_citation.file_id).sort()).toEqual([manual, notes].sort());

    // A threshold keeps only what scores at least that much: each query's best hit scores 1.
    const strict = await run(thread.id, [search('harpooner'), { kind: 'text', text: 'Only{{cite:0}}.' }], {
      tools: [{ type: 'file_search', file_search: { ranking_options: { score_threshold: 1 } } }],
    });
    expect(strict.status).toBe('completed');
    const strictSteps = await svc.openai.beta.threads.runs.steps.list(strict.id, { thread_id: thread.id });
    expect(searchCalls(strictSteps.data)[0]!.file_search).toEqual({
      ranking_options: { ranker: 'auto', score_threshold: 1 },
      results: [{ file_id: notes, file_name: 'notes.md', score: 1 }],
    });
  });

  it('leaves a marker the model invented as plain text', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Ishmael?' }] });
    const done = await run(thread.id, [
      search('Ishmael sea'),
      { kind: 'text', text: 'He went to sea{{cite:0}}, and invented【7:3†source】 and【0:99†source】.' },
    ]);
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    const text = (message!.content[0] as TextContentBlock).text;
    expect(text.value).toBe('He went to sea【0:0†source】, and invented【7:3†source】 and【0:99†source】.');
    expect(text.annotations).toEqual([
      expect.objectContaining({ text: '【0:0†source】', start_index: 14, end_index: 26 }),
    ]);
  });

  it('numbers a second search of the run after the first, so each marker resolves to its own call', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Two searches' }] });
    const done = await run(thread.id, [
      search('Ishmael'),
      search('unscrew lamp base'),
      { kind: 'text', text: 'Unscrew it{{cite:0}}.' },
    ]);
    expect(done.status).toBe('completed');
    expect(model.requests[1]!.body.messages.at(-1)!.content).toContain('【0:0†source】 file: moby.txt');
    expect(model.requests[2]!.body.messages.at(-1)!.content).toContain('【1:0†source】 file: lamp-manual.txt');
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    const text = (message!.content[0] as TextContentBlock).text;
    expect(text.value).toBe('Unscrew it【1:0†source】.');
    expect(text.annotations).toEqual([expect.objectContaining({ file_citation: { file_id: manual } })]);
  });

  it("waits for a file of the run's stores that is still being ingested, then finds it", async () => {
    const [late] = await seedVectorStore(
      svc,
      'vs_fsrun_late',
      [{ filename: 'late.txt', chunks: ['Starbuck was the first mate of the Pequod.'] }],
      'in_progress',
    );
    const thread = await svc.openai.beta.threads.create({
      messages: [{ role: 'user', content: 'Who was first mate?' }],
      tool_resources: { file_search: { vector_store_ids: ['vs_fsrun_late'] } },
    });
    model.script(search('Starbuck first mate'), { kind: 'text', text: 'Starbuck{{cite:0}}.' });
    const started = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistantId });
    await model.waitForRequests(1);
    // Ingestion finishes while the search waits for it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await svc.running.db
      .updateTable('vector_store_files')
      .set({ status: 'completed' })
      .where('vector_store_id', '=', 'vs_fsrun_late')
      .execute();
    const done = await svc.openai.beta.threads.runs.poll(started.id, { thread_id: thread.id }, { pollIntervalMs: 50 });
    expect(done.status).toBe('completed');
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    expect((message!.content[0] as TextContentBlock).text.annotations).toEqual([
      expect.objectContaining({ file_citation: { file_id: late } }),
    ]);
  });

  it('streams the call as OpenAI did, and the citation as an annotation delta the SDK shows', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Stream it' }] });
    model.script(search('white whale Ahab'), { kind: 'text', text: 'Captain Ahab{{cite:0}} hunted it.' });
    const stream = svc.openai.beta.threads.runs.stream(thread.id, { assistant_id: assistantId, include: [CONTENT] });
    const created: unknown[] = [];
    const toolDeltas: unknown[] = [];
    const text: string[] = [];
    const annotations: unknown[] = [];
    const stepsDone: RunStep[] = [];
    stream.on('toolCallCreated', (call) => created.push(call));
    stream.on('toolCallDelta', (delta) => toolDeltas.push(delta));
    stream.on('textDelta', (delta) => {
      text.push(delta.value ?? '');
      annotations.push(...(delta.annotations ?? []));
    });
    stream.on('runStepDone', (step) => stepsDone.push(step));
    const final = await stream.finalRun();
    expect(final.status).toBe('completed');
    expect(created).toEqual([{ index: 0, id: expect.stringMatching(/^call_/), type: 'file_search', file_search: {} }]);
    for (const delta of toolDeltas) expect(delta).toMatchObject({ index: 0, type: 'file_search', file_search: {} });
    expect(text.join('')).toBe('Captain Ahab【0:0†source】 hunted it.');
    expect(annotations).toEqual([
      {
        index: 0,
        type: 'file_citation',
        text: '【0:0†source】',
        file_citation: { file_id: whales },
        start_index: 12,
        end_index: 24,
      },
    ]);
    const [message] = await stream.finalMessages();
    expect((message!.content[0] as TextContentBlock).text.annotations).toEqual([
      expect.objectContaining({ type: 'file_citation', file_citation: { file_id: whales } }),
    ]);
    // include[] on run create: the completed step in the stream carries the results' text.
    const [call] = searchCalls(stepsDone.filter((s) => s.step_details.type === 'tool_calls'));
    expect(call!.file_search.results![0]!.content).toEqual([
      { type: 'text', text: 'The white whale, Moby Dick, was hunted by Captain Ahab.' },
    ]);
  });

  it('sends the file_search step and the citation in the exact wire shapes (raw SSE)', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Raw' }] });
    model.script(search('white whale Ahab'), { kind: 'text', text: 'Ahab{{cite:0}}' });
    const res = await readSse(`${svc.baseURL}/threads/${thread.id}/runs`, {
      method: 'POST',
      body: { assistant_id: assistantId, stream: true },
    });
    const frames = res.frames
      .filter((f) => f.event !== 'done')
      .map((f) => ({ event: f.event, data: JSON.parse(f.data) as Record<string, unknown> }));
    const toolStepId = frames.find(
      (f) => f.event === 'thread.run.step.created' && (f.data.step_details as { type: string }).type === 'tool_calls',
    )!.data.id as string;
    const ofToolStep = frames.filter((f) => f.event.startsWith('thread.run.step.') && f.data.id === toolStepId);
    expect(ofToolStep.map((f) => f.event)).toEqual([
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.step.delta',
      'thread.run.step.completed',
    ]);
    expect(ofToolStep[0]!.data.step_details).toEqual({ type: 'tool_calls', tool_calls: [] });
    expect(ofToolStep[2]!.data).toEqual({
      id: toolStepId,
      object: 'thread.run.step.delta',
      delta: {
        step_details: {
          type: 'tool_calls',
          tool_calls: [{ index: 0, id: expect.stringMatching(/^call_/), type: 'file_search', file_search: {} }],
        },
      },
    });
    const completed = ofToolStep[3]!.data.step_details as { tool_calls: FileSearchToolCall[] };
    expect(completed.tool_calls[0]!.file_search.results![0]).toEqual({
      file_id: whales,
      file_name: 'moby.txt',
      score: 1,
    });
    const annotationDelta = frames.find(
      (f) => f.event === 'thread.message.delta' && JSON.stringify(f.data).includes('"annotations":[{'),
    )!;
    expect(annotationDelta.data.delta).toEqual({
      content: [
        {
          index: 0,
          type: 'text',
          text: {
            annotations: [
              {
                index: 0,
                type: 'file_citation',
                text: '【0:0†source】',
                file_citation: { file_id: whales },
                start_index: 4,
                end_index: 16,
              },
            ],
          },
        },
      ],
    });
    const order = frames.map((f) => f.event);
    expect(order.indexOf('thread.message.completed')).toBeGreaterThan(frames.indexOf(annotationDelta));
  });

  it('streams results without their text when run create did not ask for it', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Stream it' }] });
    model.script(search('whale'), { kind: 'text', text: 'Whales{{cite:0}}.' });
    const stream = svc.openai.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
    const stepsDone: RunStep[] = [];
    stream.on('runStepDone', (step) => stepsDone.push(step));
    expect((await stream.finalRun()).status).toBe('completed');
    const [call] = searchCalls(stepsDone);
    expect(call!.file_search.results!.length).toBeGreaterThan(0);
    for (const result of call!.file_search.results!) expect(result).not.toHaveProperty('content');
  });
});

/**
 * A run's own tool outputs are never truncated from its prompt, so a search must not hand a small local model
 * more than its window holds: each call's results take at most a quarter of the model's context window.
 */
describe('file_search on a small context window', () => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL, THREADLINE_MODEL_CONTEXT_TOKENS: '2048' });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });

  it('gives the model only the best results that fit, and the step shows the same ones', async () => {
    // Six chunks of about 150 tokens, all matching: 20 would be ~900 tokens, over 2048 / 4.
    const chunk = (n: number) =>
      `Lighthouse ${n}. ` + 'The lamp turns all night over the rocks and the sea. '.repeat(12);
    await seedVectorStore(svc, 'vs_small_window', [
      { filename: 'lights.txt', chunks: Array.from({ length: 6 }, (_, i) => chunk(i)) },
    ]);
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: ['vs_small_window'] } },
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Lamps?' }] });
    model.script(search('lighthouse lamp'), { kind: 'text', text: 'They turn{{cite:0}}.' });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    const [call] = searchCalls((await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data);
    const kept = call!.file_search.results!.length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(6);
    const output = model.requests[1]!.body.messages.at(-1)!.content as string;
    expect(output).toContain(`【0:${kept - 1}†source】`);
    expect(output).not.toContain(`【0:${kept}†source】`);
  });
});
