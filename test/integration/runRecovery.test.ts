import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startThreadline, type Running } from '../../src/runtime';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, eventually, rawRequest, startTestService, type TestService } from '../support/service';

/**
 * Every accepted run ends up driven by its workflow, whatever failed between writing it and starting that
 * workflow, and no thread stays held by a run nothing drives.
 */
jest.setTimeout(90_000);

describe.each(DIALECTS)('run recovery (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o' })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  const launches = () => svc.running.db.selectFrom('run_launches').select('run_id').execute();

  it('starts the workflow of a run its API accepted but could not start', async () => {
    // This API process reaches the database but not a usable Temporal namespace: each workflow start fails
    // after the run is written, as it would if Temporal were down, or the process died right after the write.
    const cutOff: Running = await startThreadline(
      loadConfig({ ...svc.env, PORT: '0', TEMPORAL_NAMESPACE: 'no-such-namespace' }),
      { api: true, worker: false, embedTemporal: false },
      pino({ level: 'silent' }),
    );
    let accepted: { id: string; status: string; thread_id: string };
    try {
      const res = await rawRequest(`${cutOff.url!}/v1`, 'POST', '/threads/runs', {
        assistant_id: assistantId,
        thread: { messages: [{ role: 'user', content: 'still answered?' }] },
      });
      expect(res.status).toBe(200);
      accepted = res.body as typeof accepted;
      expect(accepted.status).toBe('queued');
    } finally {
      await cutOff.stop();
    }
    expect((await launches()).map((l) => l.run_id)).toContain(accepted.id);
    // Held by a run nothing drives yet: the thread is locked …
    const blocked = await svc.http('POST', `/threads/${accepted.thread_id}/messages`, { role: 'user', content: 'x' });
    expect(blocked.status).toBe(400);

    // … until the healthy API's sweeper starts its workflow, which runs it to the end.
    const done = await eventually(
      async () => {
        const run = await svc.openai.beta.threads.runs.retrieve(accepted.id, { thread_id: accepted.thread_id });
        return run.status === 'completed' ? run : undefined;
      },
      30_000,
      'the swept run to complete',
    );
    expect(done.status).toBe('completed');
    expect(model.requests).toHaveLength(1);
    expect(
      (await svc.openai.beta.threads.messages.list(accepted.thread_id, { run_id: accepted.id })).data,
    ).toHaveLength(1);
    expect((await launches()).map((l) => l.run_id)).not.toContain(accepted.id);
  });

  it('frees a thread for new messages when its run lost its workflow', async () => {
    model.script({ kind: 'tool_calls', calls: [{ id: 'call_x', name: 'lookup', arguments: '{}' }] });
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'park' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    await svc.running.client!.workflow.getHandle(run.id).terminate('operator pressed Terminate');

    const added = await svc.http('POST', `/threads/${thread.id}/messages`, { role: 'user', content: 'free again' });
    expect(added.status).toBe(200);
    const failed = await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'server_error' } });
  });
});
