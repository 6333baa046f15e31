import { Context } from '@temporalio/activity';
import { executeCode, type ExecutorDeps } from '../src/sandbox/executor';
import type { SandboxActivities, SandboxRoutingActivities } from '../src/sandbox/shared';
import type { Store } from '../src/store';

const HEARTBEAT_MS = 1_000;

/**
 * The code interpreter's execution, served by sandbox workers only (`threadline sandbox`, or the sandbox role
 * of `threadline start`) on their shared task queue and on each worker's own queue.
 */
export function sandboxActivities(deps: ExecutorDeps): SandboxActivities {
  return {
    /**
     * Runs one code_interpreter call in the thread's session. Heartbeats all along, so a dead sandbox worker
     * is noticed within the heartbeat timeout and a cancelled run stops the code within about a second.
     */
    async executeCode(input) {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        return await executeCode(deps, input, ctx.cancellationSignal);
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/** Run-worker side of the routing: a database read, run as a local activity by `runCodeInterpreter`. */
export function sandboxRoutingActivities({ store }: { store: Store }): SandboxRoutingActivities {
  return {
    async locateSandboxSession({ projectId, threadId }) {
      const row = await store.sandboxSessions.find(projectId, threadId);
      return { known: row !== undefined, taskQueue: row?.task_queue ?? null };
    },
  };
}
