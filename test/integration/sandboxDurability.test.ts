import fs from 'node:fs';
import { temporal } from '@temporalio/proto';
import { killLeftoverCliProcesses, spawnCli, type CliProcess } from '../support/cli';
import { eventually } from '../support/service';
import { startSandboxHarness, type SandboxHarness } from '../support/sandbox';

/**
 * Sandbox workers are real `threadline sandbox` child processes, SIGKILLed while they execute code. The call
 * must be retried on another worker, in a fresh session that says so when there was state to lose, and the
 * workflow must get exactly one result for it.
 */
jest.setTimeout(120_000);

const { EventType } = temporal.api.enums.v1;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

describe('a sandbox worker killed mid-execution', () => {
  let h: SandboxHarness;

  beforeAll(async () => {
    h = await startSandboxHarness({}, { sandbox: false });
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await h?.stop();
  });
  afterEach(() => killLeftoverCliProcesses());

  async function sandboxWorker(): Promise<CliProcess> {
    const child = spawnCli(['sandbox'], { ...h.env, LOG_LEVEL: 'info' });
    await child.waitFor(/sandbox ready/);
    return child;
  }

  /** Waits until the workflow's code_interpreter attempt is running on `worker`. */
  async function runningOn(workflowId: string, worker: CliProcess): Promise<void> {
    await eventually(
      async () => {
        const { raw } = await h.client.workflow.getHandle(workflowId).describe();
        const running = raw.pendingActivities?.some(
          (a) => a.state === STARTED && a.lastWorkerIdentity?.startsWith(`${worker.child.pid}@`),
        );
        return running ? true : undefined;
      },
      30_000,
      'the execution to start on the worker',
    );
  }

  /** Host pids of a process's descendants (its bwrap sandboxes and their Python interpreters). */
  function descendants(pid: number): number[] {
    const parents = new Map<number, number>();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // exited meanwhile
      }
    }
    const found: number[] = [];
    const walk = (parent: number) => {
      for (const [child, ppid] of parents) {
        if (ppid === parent) {
          found.push(child);
          walk(child);
        }
      }
    };
    walk(pid);
    return found;
  }

  async function activityEvents(workflowId: string) {
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const count = (type: temporal.api.enums.v1.EventType) =>
      (history.events ?? []).filter((e) => e.eventType === type).length;
    return {
      scheduled: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      completed: count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
      timedOut: count(EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT),
    };
  }

  it('retries a call whose session’s worker died on another worker, says the state was reset, and returns once', async () => {
    const a = await sandboxWorker();
    const threadId = h.thread();
    expect((await h.exec({ threadId, code: 'x = 41' })).outcome).toBe('completed');
    const b = await sandboxWorker();

    const call = await h.start([
      { threadId, code: 'import time\nprint("started", flush=True)\ntime.sleep(4)\nprint(x + 1)' },
    ]);
    await runningOn(call.workflowId, a);
    const sandboxProcesses = descendants(a.child.pid!);
    expect(sandboxProcesses.length).toBeGreaterThanOrEqual(3); // bwrap, its init, Python
    a.child.kill('SIGKILL');
    await a.exited;

    const outputs = await call.result();
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toMatchObject({
      sessionReset: { reason: 'worker_lost', message: expect.stringMatching(/host that held it is gone/) },
      outcome: 'error',
    });
    // The code ran again from the start in the fresh session, where x never existed; once, not twice.
    expect(outputs[0]!.logs).toMatch(/^started\nTraceback[\s\S]*NameError: name 'x' is not defined$/);
    // On its worker's queue first (timed out: the worker was gone), then on any worker: one completion.
    expect(await activityEvents(call.workflowId)).toEqual({ scheduled: 2, completed: 1, timedOut: 1 });
    // The dead worker's sandboxes died with it.
    await eventually(
      () => Promise.resolve(sandboxProcesses.every((pid) => !fs.existsSync(`/proc/${pid}`)) ? true : undefined),
      10_000,
      'the killed worker’s sandboxes to be gone',
    );
    // The session now lives on the other worker, and carries on there.
    const after = await h.exec({ threadId, code: 'x = 1\nprint("on", x)' });
    expect(after).toMatchObject({ logs: 'on 1', sessionReset: null });
    expect(b.child.exitCode).toBeNull();
  });

  it('retries a thread’s first call on another worker when its worker died, and returns once', async () => {
    const a = await sandboxWorker();
    const threadId = h.thread();
    const call = await h.start([
      { threadId, code: 'import time\nprint("started", flush=True)\ntime.sleep(4)\nprint("done")' },
    ]);
    await runningOn(call.workflowId, a);
    await sandboxWorker();
    a.child.kill('SIGKILL');
    await a.exited;

    const outputs = await call.result();
    expect(outputs).toHaveLength(1);
    // Nothing existed before this call, so nothing was lost: no reset to announce.
    expect(outputs[0]).toMatchObject({ logs: 'started\ndone', sessionReset: null, outcome: 'completed' });
    expect(await activityEvents(call.workflowId)).toEqual({ scheduled: 1, completed: 1, timedOut: 0 });
  });
});
