import OpenAI from 'openai';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startThreadline, type Running } from '../../src/runtime';
import { killLeftoverCliProcesses, spawnWorkerFor, type CliProcess } from '../support/cli';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, eventually, startTestService, type TestService } from '../support/service';

/**
 * Durability, proven: the worker is a real child process (`threadline worker`) killed with SIGKILL at the
 * worst moments; a fresh worker must bring every run to the state it would have reached, with exactly one
 * assistant message per step and no duplicate tool calls reaching the client.
 */
jest.setTimeout(120_000);

describe.each(DIALECTS)('surviving crashes (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;
  let worker: CliProcess | undefined;

  const tool = {
    type: 'function' as const,
    function: { name: 'lookup', parameters: { type: 'object', properties: {} } },
  };

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(
      dialect,
      {
        OPENAI_BASE_URL: model.baseURL,
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: '2',
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
      },
      { worker: false },
    );
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [tool] })).id;
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());
  afterEach(() => killLeftoverCliProcesses());

  const startWorker = (): Promise<CliProcess> => spawnWorkerFor(svc, 30_000);

  async function crash(child: CliProcess | undefined): Promise<void> {
    child?.child.kill('SIGKILL');
    await child?.exited;
  }

  const runOf = (threadId: string, runId: string) =>
    svc.openai.beta.threads.runs.retrieve(runId, { thread_id: threadId });
  const waitForStatus = (threadId: string, runId: string, status: string, client = svc.openai) =>
    eventually(
      async () => {
        const run = await client.beta.threads.runs.retrieve(runId, { thread_id: threadId });
        return run.status === status ? run : undefined;
      },
      60_000,
      `run to be ${status}`,
    );

  it('finishes a run whose worker died while the model was streaming, with one assistant message', async () => {
    worker = await startWorker();
    const text = 'steady tokens '.repeat(40);
    model.script({ kind: 'text', text, chunkSize: 14, interChunkMs: 100 }, { kind: 'text', text });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'stream please' }] });
    // A client streams the run through the crash: the API is up, only the worker dies.
    let runId: string | undefined;
    const created: string[] = [];
    const pieces: string[] = [];
    const stream = svc.openai.beta.threads.runs
      .stream(thread.id, { assistant_id: assistantId })
      .on('event', (event) => {
        if (event.event === 'thread.run.created') runId = event.data.id;
      })
      .on('messageCreated', (message) => created.push(message.id))
      .on('textDelta', (delta) => pieces.push(delta.value ?? ''));
    await eventually(() => Promise.resolve(pieces.length > 0 ? true : undefined), 30_000, 'streaming to start');
    await crash(worker);
    worker = await startWorker();

    const streamed = await stream.finalRun();
    expect(streamed.status).toBe('completed');
    // The retried model call continued the same message: created once, every word streamed exactly once.
    expect(created).toHaveLength(1);
    expect(pieces.join('')).toBe(text);
    const done = await runOf(thread.id, runId!);
    expect(done.usage).not.toBeNull();
    const messages = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: runId })).data;
    expect(messages).toHaveLength(1);
    expect(messages[0]?.content).toEqual([{ type: 'text', text: { value: text, annotations: [] } }]);
    const steps = (await svc.openai.beta.threads.runs.steps.list(runId!, { thread_id: thread.id })).data;
    expect(steps.map((s) => [s.type, s.status])).toEqual([['message_creation', 'completed']]);
    expect(model.requests).toHaveLength(2);
    await crash(worker);
  });

  it('finishes a run whose worker died between steps, with no duplicate tool calls reaching the client', async () => {
    worker = await startWorker();
    // The model answers a tool call slowly, then the worker dies right after the step is written.
    model.setResponder((req) =>
      req.body.messages.some((m) => m.role === 'tool')
        ? { kind: 'text', text: 'all done' }
        : { kind: 'tool_calls', calls: [{ id: 'call_only', name: 'lookup', arguments: '{}' }] },
    );
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'use the tool' }] });
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistantId });
    await eventually(
      async () => {
        const steps = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
        return steps.length > 0 ? steps : undefined;
      },
      30_000,
      'the tool_calls step',
    );
    await crash(worker);
    worker = await startWorker();

    const paused = await waitForStatus(thread.id, run.id, 'requires_action');
    expect(paused.required_action?.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual(['call_only']);
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      run.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_only', output: 'fine' }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    const steps = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
    expect(steps.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ]);
    expect((await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data).toHaveLength(1);
    await crash(worker);
  });

  it('resumes a run parked in requires_action after the worker and the API both restarted', async () => {
    worker = await startWorker();
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_park', name: 'lookup', arguments: '{}' }] },
      { kind: 'text', text: 'resumed fine' },
    );
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'park' }] });
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistantId });
    await waitForStatus(thread.id, run.id, 'requires_action');
    await crash(worker);

    // A second API process on the same database: nothing lived only in the first one.
    const api2: Running = await startThreadline(
      loadConfig({ ...svc.env, PORT: '0' }),
      { api: true, worker: false, embedTemporal: false },
      pino({ level: 'warn' }),
    );
    try {
      const client2 = new OpenAI({ baseURL: `${api2.url!}/v1`, apiKey: 'k', maxRetries: 0 });
      expect((await client2.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status).toBe(
        'requires_action',
      );
      // Outputs sent while no worker runs: the Update waits for the next worker to take the run.
      const submitted = client2.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: 'call_park', output: 'ok' }],
      });
      worker = await startWorker();
      expect((await submitted).status).toBe('queued');
      const done = await waitForStatus(thread.id, run.id, 'completed', client2);
      expect(done.completed_at).toEqual(expect.any(Number));
      expect((await client2.beta.threads.messages.list(thread.id, { run_id: run.id })).data).toHaveLength(1);
      expect(model.requests).toHaveLength(2);
    } finally {
      await api2.stop();
      await crash(worker);
    }
    expect((await runOf(thread.id, run.id)).status).toBe('completed');
  });
});
