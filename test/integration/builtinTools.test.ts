import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, startTestService, type TestService } from '../support/service';
import { seedVectorStore } from '../support/vectorStores';

/**
 * Declaring a built-in tool is never fatal. When a run cannot use code_interpreter or file_search (here: the
 * code interpreter switched off, THREADLINE_CODE_INTERPRETER=off, and no vector store on the assistant or the
 * thread, so nothing for file_search to search), a run that declares them is a plain chat in which the model is
 * not offered that tool — the programs our users bring (hchatgpt's default assistant, LangChain's notebook
 * example, AutoGen's code_interpreter agent) then get their plain reply. Once a store is there, file_search is
 * offered (last test; fileSearchRuns.test.ts runs it).
 */
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe.each(DIALECTS)('runs that declare built-in tools this server cannot run (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
      THREADLINE_CODE_INTERPRETER: 'off',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  it("completes hchatgpt's default assistant (both tools, no files) with a plain reply, polled", async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      name: 'Default',
      instructions: 'You are a helpful assistant.',
      tools: [{ type: 'code_interpreter' }, { type: 'file_search' }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Hello?' }] });
    model.script({ kind: 'text', text: 'Hi! How can I help?' });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({ status: 'completed', last_error: null, tools: assistant.tools });
    const [reply] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect(reply?.content).toEqual([{ type: 'text', text: { value: 'Hi! How can I help?', annotations: [] } }]);
    // Nothing this server cannot run is offered: no tools at all, and no tool_choice without tools.
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]!.body.tools).toBeUndefined();
    expect(model.requests[0]!.body.tool_choice).toBeUndefined();
    const steps = await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    expect(steps.data.map((s) => s.type)).toEqual(['message_creation']);
  });

  it('streams the same plain reply through the SDK helper', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'code_interpreter' }, { type: 'file_search' }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Stream it' }] });
    model.script({ kind: 'text', text: 'Streaming a plain answer.' });
    const stream = svc.openai.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const deltas: string[] = [];
    stream.on('textDelta', (delta) => deltas.push(delta.value ?? ''));
    const run = await stream.finalRun();
    expect(run.status).toBe('completed');
    expect(deltas.join('')).toBe('Streaming a plain answer.');
    const [message] = await stream.finalMessages();
    expect(message?.content).toMatchObject([{ type: 'text', text: { value: 'Streaming a plain answer.' } }]);
  });

  it("runs LangChain's notebook example (createAndRun with code_interpreter) to a plain reply", async () => {
    const assistant = await svc.openai.beta.assistants.create({
      name: 'langchain assistant',
      instructions: 'You are a personal math tutor. Write and run code to answer math questions.',
      tools: [{ type: 'code_interpreter' }],
      model: 'gpt-4-1106-preview',
    });
    model.script({ kind: 'text', text: '10 - 4 ^ 2.7 is about -32.22.' });
    const run = await svc.openai.beta.threads.createAndRunPoll(
      {
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: "What's 10 - 4 raised to the 2.7" }] },
      },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(model.requests[0]!.body.messages).toEqual([
      { role: 'system', content: 'You are a personal math tutor. Write and run code to answer math questions.' },
      { role: 'user', content: "What's 10 - 4 raised to the 2.7" },
    ]);
  });

  it("runs AutoGen's code_interpreter agent (empty file list, tool_choice on the built-in) to a plain reply", async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      instructions: 'You are a data analyst.',
      tools: [{ type: 'code_interpreter' }],
      tool_resources: { code_interpreter: { file_ids: [] } },
    });
    const thread = await svc.openai.beta.threads.create();
    await svc.openai.beta.threads.messages.create(thread.id, { role: 'user', content: 'Plot something' });
    model.script({ kind: 'text', text: 'I cannot run code here, but here is how you would do it.' });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'code_interpreter' } },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({ status: 'completed', tool_choice: { type: 'code_interpreter' } });
    expect(model.requests[0]!.body.tools).toBeUndefined();
  });

  it('offers the functions beside built-ins it cannot run, and their round trip works as ever', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'file_search' }, weather, { type: 'code_interpreter' }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Weather in Oslo?' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      { kind: 'text', text: 'Cold.' },
    );
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(paused.status).toBe('requires_action');
    expect(model.requests[0]!.body.tools).toEqual([weather]);
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      paused.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_oslo', output: '-5C' }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    expect(model.requests[1]!.body.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_oslo', content: '-5C' },
    ]);
  });

  it('offers file_search once the thread has a live vector store, not for a missing or expired one', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'code_interpreter' }, { type: 'file_search' }],
    });
    const offeredWith = async (storeId: string) => {
      model.reset();
      const thread = await svc.openai.beta.threads.create({
        messages: [{ role: 'user', content: 'Search my notes' }],
        tool_resources: { file_search: { vector_store_ids: [storeId] } },
      });
      model.script({ kind: 'text', text: 'Nothing to look up.' });
      const run = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 50 },
      );
      expect(run.status).toBe('completed');
      return model.requests[0]!.body.tools;
    };
    await seedVectorStore(svc, 'vs_builtin_notes', [{ filename: 'notes.txt', chunks: ['notes'] }]);
    await seedVectorStore(svc, 'vs_builtin_expired', [{ filename: 'old.txt', chunks: ['old'] }]);
    await svc.running.db
      .updateTable('vector_stores')
      .set({ expires_after_days: 1, expires_at: Math.floor(Date.now() / 1000) - 10 })
      .where('id', '=', 'vs_builtin_expired')
      .execute();
    expect(await offeredWith('vs_builtin_notes')).toEqual([
      expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'file_search' }) }),
    ]);
    expect(await offeredWith('vs_builtin_missing')).toBeUndefined();
    expect(await offeredWith('vs_builtin_expired')).toBeUndefined();
  });
});
