import type { CodeInterpreterToolCall } from 'openai/resources/beta/threads/runs/steps';
import { temporal } from '@temporalio/proto';
import { killLeftoverCliProcesses, spawnCli, type CliProcess } from '../support/cli';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { eventually, startTestService, type TestService } from '../support/service';

/**
 * A run whose code is executing when its sandbox worker (a `threadline sandbox` child process) is SIGKILLed:
 * the call is retried on another sandbox worker and the run completes with exactly one result for it.
 */
jest.setTimeout(120_000);

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

describe('a run whose sandbox worker is killed mid-execution', () => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    // The API and the run worker in this process; the sandbox workers are child processes.
    svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL }, { sandbox: false });
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await svc?.stop();
    await model?.close();
  });

  async function sandboxWorker(): Promise<CliProcess> {
    const { PORT: _port, ...env } = svc.env;
    const child = spawnCli(['sandbox'], { ...env, LOG_LEVEL: 'info' });
    await child.waitFor(/sandbox ready/);
    return child;
  }

  it('completes with exactly one result for the call', async () => {
    const first = await sandboxWorker();
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'code_interpreter' }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Take your time' }] });
    const source = 'import time\nprint("started", flush=True)\ntime.sleep(4)\nprint("done")';
    model.script(
      { kind: 'tool_calls', calls: [{ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) }] },
      { kind: 'text', text: 'Finished.' },
    );
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await eventually(
      async () => {
        const { raw } = await svc.running.client!.workflow.getHandle(run.id).describe();
        const onFirst = raw.pendingActivities?.some(
          (a) => a.state === STARTED && a.lastWorkerIdentity?.startsWith(`${first.child.pid}@`),
        );
        return onFirst ? true : undefined;
      },
      30_000,
      'the code to be executing on the first sandbox worker',
    );
    await sandboxWorker();
    first.child.kill('SIGKILL');
    await first.exited;

    const done = await svc.openai.beta.threads.runs.poll(run.id, { thread_id: thread.id }, { pollIntervalMs: 100 });
    expect(done.status).toBe('completed');
    const steps = await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    const calls = steps.data.flatMap((s) => (s.step_details.type === 'tool_calls' ? s.step_details.tool_calls : []));
    expect(calls).toHaveLength(1);
    expect((calls[0] as CodeInterpreterToolCall).code_interpreter.outputs).toEqual([
      { type: 'logs', logs: 'started\ndone' },
    ]);
    // The model heard the result once, and answered once.
    expect(model.requests).toHaveLength(2);
    const toolMessages = model.requests[1]!.body.messages.filter((m) => m.role === 'tool');
    expect(toolMessages).toEqual([{ role: 'tool', tool_call_id: calls[0]!.id, content: 'started\ndone' }]);
    const messages = await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id });
    expect(messages.data).toHaveLength(1);
  });
});
