import type { TextDelta } from 'openai/resources/beta/threads/messages';
import { createStore } from '../../src/store';
import { RunEventBus, type LoggedEvent } from '../../src/streaming/bus';
import { listenForRunEvents } from '../../src/streaming/pgListener';
import { killLeftoverCliProcesses, spawnWorkerFor } from '../support/cli';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startTestService, type TestService } from '../support/service';
import { names, readSse } from '../support/sse';
import pino from 'pino';

/**
 * The production shape: the API and the worker are separate processes sharing PostgreSQL. The worker
 * appends events in its process; they reach the API's streams through the database (NOTIFY at commit,
 * the log rows themselves), not through memory.
 */
jest.setTimeout(120_000);

describe('streaming with the API and a worker in separate processes (postgres)', () => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService('postgres', { OPENAI_BASE_URL: model.baseURL }, { worker: false });
    await spawnWorkerFor(svc);
    const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [tool] })).id;
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  it('streams a tool round trip through the SDK with the worker in another process', async () => {
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_split', name: 'lookup', arguments: '{"q":"split"}' }] },
      { kind: 'text', text: 'Answered from another process.', interChunkMs: 5 },
    );
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
    const created: string[] = [];
    const paused = await svc.openai.beta.threads.runs
      .stream(thread.id, { assistant_id: assistantId })
      .on('toolCallCreated', (call) => created.push(call.id))
      .finalRun();
    expect(paused.status).toBe('requires_action');
    expect(created).toEqual(['call_split']);

    const pieces: string[] = [];
    const resumed = svc.openai.beta.threads.runs
      .submitToolOutputsStream(paused.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: 'call_split', output: 'found' }],
      })
      .on('textDelta', (delta: TextDelta) => pieces.push(delta.value ?? ''));
    expect((await resumed.finalRun()).status).toBe('completed');
    expect(pieces.join('')).toBe('Answered from another process.');

    // A watcher on the API replays the whole log the worker wrote.
    const replay = await readSse(`${svc.baseURL}/threads/${thread.id}/runs/${paused.id}/events`);
    expect(names(replay.frames).at(-2)).toBe('thread.run.requires_action');
  });

  /**
   * A run parked in requires_action, a bus fed only by a LISTEN connection of its own and a store appending
   * through another bus: two buses that share nothing but the database, as two processes would.
   */
  async function parkedRunAndTwoBuses(callId: string) {
    model.script({ kind: 'tool_calls', calls: [{ id: callId, name: 'lookup', arguments: '{}' }] });
    const thread = await svc.openai.beta.threads.create();
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 20 },
    );
    const listening = new RunEventBus();
    const listener = await listenForRunEvents(svc.env.THREADLINE_DATABASE_URL!, listening, pino({ level: 'silent' }));
    const writer = createStore(svc.running.db, new RunEventBus(), svc.running.store.files);
    return { run, listening, listener, writer };
  }

  it('wakes a listening process when another process appends, through NOTIFY', async () => {
    const { run, listening, listener, writer } = await parkedRunAndTwoBuses('call_notify');
    const woken = new Promise<void>((resolve) => listening.subscribe(run.id, () => resolve()));
    try {
      await writer.runEvents.append(run.id, [{ event: 'test.ping', data: {}, key: 'test.notify' }]);
      await woken;
    } finally {
      await listener.close();
    }
  });

  it('carries the appended events in the notification when they fit, and only the seq when they do not', async () => {
    const { run, listening, listener, writer } = await parkedRunAndTwoBuses('call_payload');
    const heard: Array<{ events?: LoggedEvent[]; upTo?: number }> = [];
    let onHeard = () => undefined as void;
    listening.subscribe(run.id, (events, upTo) => {
      heard.push(events ? { events, upTo } : { upTo });
      onHeard();
    });
    const hear = (count: number) =>
      new Promise<void>((resolve) => {
        onHeard = () => heard.length >= count && resolve();
        onHeard();
      });
    try {
      // Two events in one append: both ride in the notification, exactly as logged (no read needed).
      const small = await writer.runEvents.append(run.id, [
        { event: 'test.small', data: { n: 1, text: 'quotes " and \\ backslashes' }, key: 'test.small.1' },
        { event: 'test.small', data: { n: 2 }, key: 'test.small.2' },
      ]);
      await hear(1);
      expect(small).toHaveLength(2);
      expect(heard[0]).toEqual({ events: small, upTo: small[1]!.seq });
      expect(await svc.running.store.runEvents.after(run.id, small[0]!.seq - 1, 10)).toEqual(small);

      // Too large for a payload (PostgreSQL refuses 8,000 bytes): the seq alone, and the listener reads the log.
      const big = await writer.runEvents.append(run.id, [
        { event: 'test.big', data: { text: 'x'.repeat(9_000) }, key: 'test.big' },
      ]);
      await hear(2);
      expect(heard[1]).toEqual({ upTo: big[0]!.seq });
    } finally {
      await listener.close();
    }
  });
});
