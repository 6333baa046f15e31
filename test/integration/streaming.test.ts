import type { Message, TextDelta } from 'openai/resources/beta/threads/messages';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import type { FunctionToolCall, RunStep } from 'openai/resources/beta/threads/runs/steps';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { dataOf, names, readSse, type SseFrame } from '../support/sse';
import { DIALECTS, eventually, startTestService, type TestService } from '../support/service';

/**
 * `stream: true` as the official SDKs consume it (reference §4 and §6): exact event orders, delta shapes,
 * the `id:` sequence, resuming with Last-Event-ID, and streams that outlive neither their run nor their
 * client. The SDK is the judge where it can be; raw frames are checked where the SDK would hide a defect.
 */
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const clock = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
};

const OPENING = ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress'];
const MESSAGE_STEP = [
  'thread.run.step.created',
  'thread.run.step.in_progress',
  'thread.message.created',
  'thread.message.in_progress',
  'thread.message.delta',
  'thread.message.completed',
  'thread.run.step.completed',
];
/** A message step whose message ends `incomplete` (cut by the token limit, or left by a failed attempt). */
const INCOMPLETE_MESSAGE_STEP = [
  'thread.run.step.created',
  'thread.run.step.in_progress',
  'thread.message.created',
  'thread.message.in_progress',
  'thread.message.delta',
  'thread.message.incomplete',
  'thread.run.step.completed',
];
/** What a stream sends after `submit_tool_outputs`: the answered step completes, then the run goes on. */
const RESUMED_TO_COMPLETION = [
  'thread.run.step.completed',
  'thread.run.queued',
  'thread.run.in_progress',
  ...MESSAGE_STEP,
  'thread.run.completed',
  'done',
];

/** Event names with runs of the same delta event collapsed to one (their count depends on timing). */
const shape = (frames: SseFrame[]) =>
  names(frames).filter((name, i, all) => !(name.endsWith('.delta') && all[i - 1] === name));

/** The text a client assembles from the message deltas. */
const streamedText = (frames: SseFrame[]) =>
  frames
    .filter((f) => f.event === 'thread.message.delta')
    .map((f) => dataOf<{ delta: { content: Array<{ text: { value: string } }> } }>(f).delta.content[0]!.text.value)
    .join('');

const idsOf = (frames: SseFrame[]) => frames.filter((f) => f.event !== 'done').map((f) => Number(f.id));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(DIALECTS)('streaming runs (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_MODEL_MAX_ATTEMPTS: '2',
      THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
      THREADLINE_SSE_KEEPALIVE_SECONDS: '0.2',
    });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [weather, clock] })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  const newThread = async () =>
    (await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] })).id;
  const streamRun = (threadId: string, body: Record<string, unknown> = {}, stopWhen?: (f: SseFrame[]) => boolean) =>
    readSse(
      `${svc.baseURL}/threads/${threadId}/runs`,
      { method: 'POST', body: { assistant_id: assistantId, stream: true, ...body } },
      stopWhen,
    );
  const watch = (
    threadId: string,
    runId: string,
    lastEventId?: string,
    stopWhen?: (f: SseFrame[], c: string[]) => boolean,
  ) =>
    readSse(
      `${svc.baseURL}/threads/${threadId}/runs/${runId}/events`,
      { headers: lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId } },
      stopWhen,
    );
  /** Streams leave the bus once their client is gone (the server keeps nothing for them). */
  const noFollowersLeft = () =>
    eventually(() => Promise.resolve(svc.running.bus.followers === 0 ? true : undefined), 10_000, 'streams to let go');

  describe('wire format and event order (raw SSE)', () => {
    it('streams a text reply in the reference order, numbered 1..n, ending with done / [DONE]', async () => {
      const text = 'Hello world, streamed to you in several pieces.';
      model.script({ kind: 'text', text, chunkSize: 4 });
      const res = await streamRun(await newThread());

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(shape(res.frames)).toEqual([...OPENING, ...MESSAGE_STEP, 'thread.run.completed', 'done']);
      expect(res.frames.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
      expect(res.text.endsWith('event: done\ndata: [DONE]\n\n')).toBe(true);
      expect(idsOf(res.frames)).toEqual(range(1, res.frames.length - 1));

      const [created, queued, inProgress] = res.frames.map((f) => (f.event === 'done' ? {} : dataOf(f)));
      expect(created).toMatchObject({ object: 'thread.run', status: 'queued', started_at: null, usage: null });
      expect(queued).toMatchObject({ status: 'queued' });
      expect(inProgress).toMatchObject({ status: 'in_progress', started_at: expect.any(Number) });

      const byName = (name: string) => res.frames.filter((f) => f.event === name).map((f) => dataOf(f));
      const [step] = byName('thread.run.step.created');
      const [message] = byName('thread.message.created');
      expect(step).toMatchObject({ type: 'message_creation', status: 'in_progress', usage: null });
      expect(step).toMatchObject({ step_details: { message_creation: { message_id: message!.id } } });
      expect(message).toMatchObject({ role: 'assistant', status: 'in_progress', content: [], run_id: created!.id });

      // Every content delta carries index and type; only the first opens the part with annotations.
      const deltas = byName('thread.message.delta') as Array<{ id: string; delta: { content: unknown[] } }>;
      expect(deltas[0]!.delta.content[0]).toEqual({
        index: 0,
        type: 'text',
        text: { value: expect.any(String), annotations: [] },
      });
      for (const d of deltas.slice(1)) {
        expect(d).toMatchObject({ id: message!.id, object: 'thread.message.delta' });
        expect(d.delta.content[0]).toEqual({ index: 0, type: 'text', text: { value: expect.any(String) } });
      }
      // Coalesced to the model's tokens or larger: never split below the fake's 4-character chunks.
      const values = deltas.map((d) => (d.delta.content[0] as { text: { value: string } }).text.value);
      for (const value of values.slice(0, -1)) expect(value.length).toBeGreaterThanOrEqual(4);
      expect(streamedText(res.frames)).toBe(text);

      const [completed] = byName('thread.message.completed');
      expect(completed).toMatchObject({
        status: 'completed',
        content: [{ type: 'text', text: { value: text, annotations: [] } }],
      });
      const [run] = byName('thread.run.completed');
      expect(run).toMatchObject({ status: 'completed', expires_at: null, usage: { total_tokens: expect.any(Number) } });
      const [stepDone] = byName('thread.run.step.completed');
      expect(stepDone).toMatchObject({ id: step!.id, usage: { total_tokens: expect.any(Number) } });
    });

    it('streams a function call to requires_action, then the resumed stream after submit_tool_outputs', async () => {
      const args = '{"city":"Paris","unit":"celsius"}';
      model.script(
        { kind: 'tool_calls', calls: [{ id: 'call_w1', name: 'get_weather', arguments: args }], argumentChunkSize: 5 },
        { kind: 'text', text: 'It is 20 degrees in Paris.' },
      );
      const threadId = await newThread();
      const first = await streamRun(threadId);
      expect(shape(first.frames)).toEqual([
        ...OPENING,
        'thread.run.step.created',
        'thread.run.step.in_progress',
        'thread.run.step.delta',
        'thread.run.requires_action',
        'done',
      ]);
      const step = dataOf(first.frames[3]!);
      expect(step).toMatchObject({ type: 'tool_calls', status: 'in_progress', step_details: { tool_calls: [] } });
      const deltas = first.frames
        .filter((f) => f.event === 'thread.run.step.delta')
        .map((f) => dataOf<{ id: string; delta: { step_details: { tool_calls: unknown[] } } }>(f));
      expect(deltas[0]).toEqual({
        id: step.id,
        object: 'thread.run.step.delta',
        delta: {
          step_details: {
            type: 'tool_calls',
            tool_calls: [
              {
                index: 0,
                id: 'call_w1',
                type: 'function',
                function: { name: 'get_weather', arguments: '', output: null },
              },
            ],
          },
        },
      });
      let assembled = '';
      for (const d of deltas.slice(1)) {
        const [call] = d.delta.step_details.tool_calls as Array<Record<string, unknown>>;
        // id, type and name are sent once: the SDKs would concatenate a repeat into "call_w1call_w1".
        expect(Object.keys(call!).sort()).toEqual(['function', 'index', 'type']);
        expect(Object.keys(call!.function as object)).toEqual(['arguments']);
        assembled += (call!.function as { arguments: string }).arguments;
      }
      expect(assembled).toBe(args);
      const paused = dataOf(first.frames.at(-2)!);
      expect(paused).toMatchObject({
        status: 'requires_action',
        required_action: {
          type: 'submit_tool_outputs',
          submit_tool_outputs: {
            tool_calls: [{ id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: args } }],
          },
        },
      });

      const second = await readSse(
        `${svc.baseURL}/threads/${threadId}/runs/${paused.id as string}/submit_tool_outputs`,
        {
          method: 'POST',
          body: { tool_outputs: [{ tool_call_id: 'call_w1', output: '20C' }], stream: true },
        },
      );
      expect(shape(second.frames)).toEqual(RESUMED_TO_COMPLETION);
      expect(dataOf(second.frames[0]!)).toMatchObject({
        id: step.id,
        status: 'completed',
        usage: { total_tokens: expect.any(Number) },
        step_details: { tool_calls: [{ id: 'call_w1', function: { output: '20C' } }] },
      });
      expect(dataOf(second.frames[1]!)).toMatchObject({ status: 'queued', required_action: null });
      // The same log continues: the second stream's ids pick up where the first stopped.
      expect(idsOf(second.frames)).toEqual(
        range(Number(first.frames.at(-2)!.id) + 1, Number(second.frames.at(-2)!.id)),
      );
      expect(streamedText(second.frames)).toBe('It is 20 degrees in Paris.');
    });

    it('starts create-thread-and-run with thread.created', async () => {
      model.script({ kind: 'text', text: 'Fresh thread.' });
      const res = await readSse(`${svc.baseURL}/threads/runs`, {
        method: 'POST',
        body: { assistant_id: assistantId, stream: true, thread: { messages: [{ role: 'user', content: 'hi' }] } },
      });
      expect(shape(res.frames)).toEqual([
        'thread.created',
        ...OPENING,
        ...MESSAGE_STEP,
        'thread.run.completed',
        'done',
      ]);
      const thread = dataOf(res.frames[0]!);
      expect(thread).toMatchObject({ object: 'thread' });
      expect(dataOf(res.frames[1]!)).toMatchObject({ thread_id: thread.id });
    });

    it('ends a reply cut by the token limit message → step → run, as incomplete', async () => {
      model.script({ kind: 'text', text: 'This reply runs into the limit', finishReason: 'length' });
      const res = await streamRun(await newThread());
      expect(shape(res.frames)).toEqual([...OPENING, ...INCOMPLETE_MESSAGE_STEP, 'thread.run.incomplete', 'done']);
      const byName = (name: string) => dataOf(res.frames.find((f) => f.event === name)!);
      expect(byName('thread.message.incomplete')).toMatchObject({ incomplete_details: { reason: 'max_tokens' } });
      expect(byName('thread.run.incomplete')).toMatchObject({
        incomplete_details: { reason: 'max_completion_tokens' },
      });
    });

    it('ends a run the model refused before any token with thread.run.failed alone', async () => {
      model.script({ kind: 'error', status: 400 });
      const res = await streamRun(await newThread());
      expect(shape(res.frames)).toEqual([...OPENING, 'thread.run.failed', 'done']);
      expect(dataOf(res.frames.at(-2)!)).toMatchObject({
        status: 'failed',
        failed_at: expect.any(Number),
        last_error: { code: 'invalid_prompt' },
      });
    });

    it('tells a stream whose run was deleted with its thread, in the error shape every SDK raises', async () => {
      model.script({ kind: 'tool_calls', calls: [{ id: 'call_gone', name: 'get_weather', arguments: '{}' }] });
      const threadId = await newThread();
      const first = await streamRun(threadId);
      const runId = dataOf(first.frames[0]!).id as string;
      const waiting = watch(threadId, runId, first.frames.at(-2)!.id);
      await eventually(() => Promise.resolve(svc.running.bus.followers > 0 ? true : undefined), 10_000, 'a follower');
      await svc.openai.beta.threads.delete(threadId);
      const res = await waiting;
      expect(names(res.frames)).toEqual(['error', 'done']);
      expect(dataOf(res.frames[0]!)).toEqual({
        error: {
          message: `Run ${runId} was deleted with its thread.`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });

    it('answers errors found before the stream starts as ordinary JSON errors', async () => {
      const missing = await svc.http('POST', '/threads/thread_missing/runs', {
        assistant_id: assistantId,
        stream: true,
      });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/application\/json/);
      expect(missing.body).toMatchObject({ error: { message: "No thread found with id 'thread_missing'." } });

      const threadId = await newThread();
      const invalid = await svc.http('POST', `/threads/${threadId}/runs`, { stream: true });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ error: { param: 'assistant_id' } });

      model.script({ kind: 'tool_calls', calls: [{ id: 'call_busy', name: 'get_weather', arguments: '{}' }] });
      await streamRun(threadId);
      const busy = await svc.http('POST', `/threads/${threadId}/runs`, { assistant_id: assistantId, stream: true });
      expect(busy.status).toBe(400);
      expect(busy.headers.get('content-type')).toMatch(/application\/json/);
      expect(busy.body).toMatchObject({ error: { message: expect.stringContaining('already has an active run') } });

      const badOutputs = await svc.http('POST', `/threads/${threadId}/runs/run_nope/submit_tool_outputs`, {
        tool_outputs: [{ tool_call_id: 'call_busy', output: 'x' }],
        stream: true,
      });
      expect(badOutputs.status).toBe(404);
      expect(badOutputs.body).toMatchObject({ error: { message: "No run found with id 'run_nope'." } });
    });
  });

  describe('the official Node SDK', () => {
    it('runs.stream: textDelta pieces, finalMessages, finalRun and finalRunSteps', async () => {
      const text = 'The SDK assembles these deltas into one message.';
      model.script({ kind: 'text', text });
      const threadId = await newThread();
      const pieces: string[] = [];
      const done: Message[] = [];
      const stream = svc.openai.beta.threads.runs
        .stream(threadId, { assistant_id: assistantId })
        .on('textDelta', (delta: TextDelta) => pieces.push(delta.value ?? ''))
        .on('messageDone', (message) => done.push(message));
      const messages = await stream.finalMessages();
      const run = await stream.finalRun();
      const steps = await stream.finalRunSteps();

      expect(pieces.join('')).toBe(text);
      expect(run).toMatchObject({ status: 'completed', thread_id: threadId });
      // The SDK's snapshot is assembled from the deltas; messageDone hands over the completed message.
      expect(messages).toHaveLength(1);
      // (The SDK keeps the delta's `index` key in its snapshot, hence toMatchObject.)
      expect(messages[0]!.content).toMatchObject([{ type: 'text', text: { value: text, annotations: [] } }]);
      expect(done).toEqual([expect.objectContaining({ id: messages[0]!.id, status: 'completed' })]);
      expect(steps).toEqual([expect.objectContaining({ type: 'message_creation', status: 'completed' })]);
      // What the stream delivered is what the REST API stores.
      const stored = await svc.openai.beta.threads.messages.retrieve(messages[0]!.id, { thread_id: threadId });
      expect(stored).toEqual(done[0]);
    });

    it('parallel tool calls: toolCallCreated / toolCallDelta / toolCallDone, then submitToolOutputsStream', async () => {
      const calls = [
        { id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_clock', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ];
      model.script({ kind: 'tool_calls', calls, argumentChunkSize: 4 }, { kind: 'text', text: '20C at noon.' });
      const threadId = await newThread();
      const created: string[] = [];
      const argumentPieces = new Map<number, string>();
      const done: FunctionToolCall[] = [];
      const stream = svc.openai.beta.threads.runs
        .stream(threadId, { assistant_id: assistantId })
        .on('toolCallCreated', (call) => created.push(call.id))
        .on('toolCallDelta', (delta) => {
          if (delta.type === 'function') {
            argumentPieces.set(
              delta.index,
              (argumentPieces.get(delta.index) ?? '') + (delta.function?.arguments ?? ''),
            );
          }
        })
        .on('toolCallDone', (call) => done.push(call as FunctionToolCall));
      const paused = await stream.finalRun();

      expect(paused.status).toBe('requires_action');
      expect(created).toEqual(['call_paris', 'call_clock']);
      expect([...argumentPieces.values()]).toEqual(calls.map((c) => c.arguments));
      expect(done.map((c) => [c.id, c.function.name, c.function.arguments])).toEqual(
        calls.map((c) => [c.id, c.name, c.arguments]),
      );
      expect(paused.required_action?.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual(created);

      const resumed = svc.openai.beta.threads.runs.submitToolOutputsStream(paused.id, {
        thread_id: threadId,
        tool_outputs: [
          { tool_call_id: 'call_paris', output: '20C' },
          { tool_call_id: 'call_clock', output: '12:00' },
        ],
      });
      const completedSteps: RunStep[] = [];
      resumed.on('runStepDone', (step) => completedSteps.push(step));
      const run = await resumed.finalRun();
      expect(run.status).toBe('completed');
      expect((await resumed.finalMessages())[0]).toMatchObject({ content: [{ text: { value: '20C at noon.' } }] });
      // The resumed stream completes the tool_calls step it did not see created, with the outputs filled in.
      expect(completedSteps[0]).toMatchObject({
        type: 'tool_calls',
        step_details: { tool_calls: [{ function: { output: '20C' } }, { function: { output: '12:00' } }] },
      });
      // The second model request saw both answers.
      expect(model.requests.at(-1)!.body.messages.filter((m) => m.role === 'tool')).toHaveLength(2);
    });

    it('createAndRunStream: thread.created first, then the run to completion', async () => {
      model.script({ kind: 'text', text: 'Made a thread and answered.' });
      const stream = svc.openai.beta.threads.createAndRunStream({
        assistant_id: assistantId,
        thread: { messages: [{ role: 'user', content: 'new conversation' }] },
      });
      const events: string[] = [];
      for await (const event of stream) events.push(event.event);
      expect(events[0]).toBe('thread.created');
      expect(events.at(-1)).toBe('thread.run.completed');
      expect((await stream.finalMessages())[0]).toMatchObject({
        content: [{ text: { value: 'Made a thread and answered.' } }],
      });
    });

    it('cancel while streaming: cancelling, the message incomplete, the step cancelled, the run cancelled', async () => {
      model.script({ kind: 'text', text: 'word '.repeat(400), chunkSize: 5, interChunkMs: 10 });
      const threadId = await newThread();
      const events: string[] = [];
      let runId: string | undefined;
      let cancelled: Promise<Run> | undefined;
      const stream = svc.openai.beta.threads.runs.stream(threadId, { assistant_id: assistantId });
      stream.on('event', (event) => {
        events.push(event.event);
        if (event.event === 'thread.run.created') runId = event.data.id;
        if (event.event === 'thread.message.delta' && !cancelled) {
          cancelled = svc.openai.beta.threads.runs.cancel(runId!, { thread_id: threadId });
        }
      });
      const done: Message[] = [];
      stream.on('messageDone', (message) => done.push(message));
      const run = await stream.finalRun();
      expect((await cancelled)!.status).toBe('cancelling');
      expect(run.status).toBe('cancelled');
      expect(events.filter((e) => e !== 'thread.message.delta').slice(-4)).toEqual([
        'thread.run.cancelling',
        'thread.message.incomplete',
        'thread.run.step.cancelled',
        'thread.run.cancelled',
      ]);
      const [message] = await stream.finalMessages();
      expect(done).toEqual([
        expect.objectContaining({ status: 'incomplete', incomplete_details: { reason: 'run_cancelled' } }),
      ]);
      // The partial text kept is exactly what was streamed.
      const stored = await svc.openai.beta.threads.messages.retrieve(message!.id, { thread_id: threadId });
      expect(stored).toEqual(done[0]);
      const kept = (stored.content[0] as { text: { value: string } }).text.value;
      expect(kept.length).toBeGreaterThan(0);
      expect((message!.content[0] as { text: { value: string } }).text.value).toBe(kept);
    });

    it('a model failure mid-stream: message incomplete, step failed, run failed, and the stream still ends', async () => {
      const partial = { kind: 'cut' as const, text: 'This answer will be cut off half way through.' };
      model.script(partial, partial); // both attempts (THREADLINE_MODEL_MAX_ATTEMPTS=2)
      const threadId = await newThread();
      const events: string[] = [];
      const done: Message[] = [];
      const stream = svc.openai.beta.threads.runs.stream(threadId, { assistant_id: assistantId });
      stream.on('event', (event) => events.push(event.event)).on('messageDone', (message) => done.push(message));
      const run = await stream.finalRun();
      expect(run).toMatchObject({ status: 'failed', last_error: { code: 'server_error' } });
      // The retry continued the same message: created once, its text streamed once.
      expect(events.filter((e) => e === 'thread.message.created')).toHaveLength(1);
      expect(events.filter((e) => e !== 'thread.message.delta').slice(-3)).toEqual([
        'thread.message.incomplete',
        'thread.run.step.failed',
        'thread.run.failed',
      ]);
      expect(done).toEqual([
        expect.objectContaining({ status: 'incomplete', incomplete_details: { reason: 'run_failed' } }),
      ]);
      const streamed = (await stream.finalMessages())[0]!.content;
      expect(streamed).toMatchObject(done[0]!.content);
    });

    it('a model retried after a cut stream: one message, its text streamed exactly once', async () => {
      const text = 'Retried answers continue where the stream stopped.';
      model.script({ kind: 'cut', text }, { kind: 'text', text });
      const threadId = await newThread();
      const pieces: string[] = [];
      const created: Message[] = [];
      const stream = svc.openai.beta.threads.runs
        .stream(threadId, { assistant_id: assistantId })
        .on('messageCreated', (m) => created.push(m))
        .on('textDelta', (d) => pieces.push(d.value ?? ''));
      expect((await stream.finalRun()).status).toBe('completed');
      expect(created).toHaveLength(1);
      expect(pieces.join('')).toBe(text);
      expect(model.requests).toHaveLength(2);
    });
  });

  describe('a retried model call that answers differently', () => {
    it('closes the message the failed attempt streamed before streaming the tool call the retry made', async () => {
      model.script(
        { kind: 'cut', text: 'Let me think about this question for a moment.' },
        { kind: 'tool_calls', calls: [{ id: 'call_retry', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      );
      const res = await streamRun(await newThread());
      expect(shape(res.frames)).toEqual([
        ...OPENING,
        ...INCOMPLETE_MESSAGE_STEP,
        'thread.run.step.created',
        'thread.run.step.in_progress',
        'thread.run.step.delta',
        'thread.run.requires_action',
        'done',
      ]);
      const closed = dataOf(res.frames.find((f) => f.event === 'thread.message.incomplete')!);
      // Kept as the client saw it, in the database too.
      const stored = await svc.openai.beta.threads.messages.retrieve(closed.id as string, {
        thread_id: closed.thread_id as string,
      });
      expect(stored).toEqual(closed);
      expect((stored.content[0] as { text: { value: string } }).text.value).toBe(streamedText(res.frames));
    });
  });

  describe('the event log: resume, watch, keep-alive', () => {
    const slowText = () => {
      const text = Array.from({ length: 40 }, (_, i) => `tok${i} `).join('');
      model.script({ kind: 'text', text, chunkSize: 6, interChunkMs: 15 });
      return text;
    };

    it('resumes from Last-Event-ID mid-stream with no gap and no duplicate', async () => {
      const text = slowText();
      const threadId = await newThread();
      const first = await streamRun(threadId, {}, (frames) => frames.length >= 9);
      expect(first.frames).toHaveLength(9);
      const runId = dataOf(first.frames[0]!).id as string;
      const rest = await watch(threadId, runId, first.frames.at(-1)!.id);

      const all = [...first.frames, ...rest.frames];
      expect(idsOf(all)).toEqual(range(1, all.length - 1));
      expect(shape(all)).toEqual([...OPENING, ...MESSAGE_STEP, 'thread.run.completed', 'done']);
      expect(streamedText(all)).toBe(text);
      await noFollowersLeft();
    });

    it('a run outlives its client; another client watches it from the start, and live', async () => {
      const text = slowText();
      const threadId = await newThread();
      const gone = await streamRun(threadId, {}, (frames) => frames.length >= 1);
      const runId = dataOf(gone.frames[0]!).id as string;
      // A second client attaches while the run is still going and follows it live to the end.
      const live = await watch(threadId, runId);
      expect(shape(live.frames)).toEqual([...OPENING, ...MESSAGE_STEP, 'thread.run.completed', 'done']);
      expect(streamedText(live.frames)).toBe(text);
      const run = await svc.openai.beta.threads.runs.retrieve(runId, { thread_id: threadId });
      expect(run.status).toBe('completed');
      // Replaying a finished run gives the same stream.
      const replay = await watch(threadId, runId);
      expect(replay.frames).toEqual(live.frames);
      await noFollowersLeft();
    });

    it('sends keep-alive comments while a run waits, and lets go when the client leaves', async () => {
      model.script({ kind: 'tool_calls', calls: [{ id: 'call_wait', name: 'get_weather', arguments: '{}' }] });
      const threadId = await newThread();
      const first = await streamRun(threadId);
      const runId = dataOf(first.frames[0]!).id as string;
      const lastId = first.frames.at(-2)!.id;
      const idle = await watch(threadId, runId, lastId, (_frames, comments) => comments.length >= 2);
      expect(idle.frames).toEqual([]);
      expect(idle.comments.slice(0, 2)).toEqual([': ping', ': ping']);
      await noFollowersLeft();

      // Watching from the requires_action follows the run's next stretch after someone else submits.
      model.script({ kind: 'text', text: 'Thanks.' });
      const next = watch(threadId, runId, lastId);
      await svc.openai.beta.threads.runs.submitToolOutputs(runId, {
        thread_id: threadId,
        tool_outputs: [{ tool_call_id: 'call_wait', output: 'sunny' }],
      });
      const resumed = await next;
      expect(shape(resumed.frames)).toEqual(RESUMED_TO_COMPLETION);
    });

    it('refuses an unknown run and a malformed Last-Event-ID with JSON errors', async () => {
      const threadId = await newThread();
      const missing = await svc.http('GET', `/threads/${threadId}/runs/run_missing/events`);
      expect(missing.status).toBe(404);
      model.script({ kind: 'text', text: 'ok' });
      const run = await svc.openai.beta.threads.runs.createAndPoll(
        threadId,
        { assistant_id: assistantId },
        { pollIntervalMs: 20 },
      );
      const bad = await svc.http('GET', `/threads/${threadId}/runs/${run.id}/events`, undefined, {
        'Last-Event-ID': 'abc',
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: { param: 'last_event_id', type: 'invalid_request_error' } });
      // Past the end of a finished run there is nothing left but the terminator.
      const end = await readSse(`${svc.baseURL}/threads/${threadId}/runs/${run.id}/events?last_event_id=999`);
      expect(end.frames).toEqual([{ event: 'done', data: '[DONE]' }]);
    });
  });
});

describe('shutting down with streams open', () => {
  it('ends open event streams so the server can stop; their clients can resume elsewhere', async () => {
    const model = await startFakeModel();
    const svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL });
    try {
      const tool = { type: 'function' as const, function: { name: 'wait_here', parameters: { type: 'object' } } };
      const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [tool] });
      model.script({ kind: 'tool_calls', calls: [{ id: 'call_park', name: 'wait_here', arguments: '{}' }] });
      const thread = await svc.openai.beta.threads.create();
      const run = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 20 },
      );
      const parked = await readSse(`${svc.baseURL}/threads/${thread.id}/runs/${run.id}/events`);
      const watcher = readSse(`${svc.baseURL}/threads/${thread.id}/runs/${run.id}/events`, {
        headers: { 'Last-Event-ID': parked.frames.at(-2)!.id! },
      });
      await eventually(() => Promise.resolve(svc.running.bus.followers > 0 ? true : undefined), 10_000, 'a follower');
      await svc.stop();
      const ended = await watcher;
      // The client is told why (in the error shape SDKs raise) and where to pick the run up again.
      expect(names(ended.frames)).toEqual(['error', 'done']);
      expect(dataOf(ended.frames[0]!)).toMatchObject({
        error: { type: 'server_error', message: expect.stringContaining('Last-Event-ID') },
      });
    } finally {
      await svc.stop().catch(() => undefined);
      await model.close();
    }
  });
});
