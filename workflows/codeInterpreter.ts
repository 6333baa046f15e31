import {
  ActivityFailure,
  TimeoutFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  FILE_ID_PREFIX,
  type CodeInterpreterInput,
  type CodeInterpreterOutput,
  type CodeInterpreterSettings,
  type SandboxActivities,
  type SandboxRoutingActivities,
} from '../src/sandbox/shared';
import { mintId } from './ids';

/** Attempts on the session's own worker before it counts as gone (storage hiccups retry there). */
const AFFINITY_ATTEMPTS = 3;
/** Attempts on any sandbox worker: enough to outlast a crashed worker or two, not a broken storage. */
const SHARED_ATTEMPTS = 5;
/**
 * A call no sandbox worker picks up in this long finds none running (e.g. a `threadline worker` deployed
 * without `threadline sandbox`): it fails, and the model reads why, instead of waiting until the run expires.
 */
const NO_SANDBOX_WORKER_MS = 2 * 60 * 1000;

/**
 * Executes one code_interpreter call in the thread's sandbox session, from workflow code (deterministic: only
 * Temporal APIs). The session lives on one sandbox worker; the call goes to that worker's own task queue, so
 * variables, imports and files carry over between calls and runs. If that worker does not pick the call up
 * within `affinityWaitMs` (it is gone), or none is known, the call goes to the shared queue, where any sandbox
 * worker starts a fresh session — and the output says the state was reset when there had been one.
 *
 * Requires the run worker to serve `locateSandboxSession` (activities/codeInterpreter.ts, part of
 * `createActivities`) and sandbox workers on `settings.taskQueue`. Exactly one result comes back per call: a
 * retried attempt is recognised by the call id, and the ids of produced files derive from an id minted here.
 */
export async function runCodeInterpreter(
  input: CodeInterpreterInput,
  settings: CodeInterpreterSettings,
): Promise<CodeInterpreterOutput> {
  const routing = proxyLocalActivities<SandboxRoutingActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
  });
  const where = await routing.locateSandboxSession({ projectId: input.projectId, threadId: input.threadId });
  const outputIdBase = mintId(FILE_ID_PREFIX);
  const options: ActivityOptions = {
    startToCloseTimeout: settings.attemptTimeoutMs,
    heartbeatTimeout: settings.heartbeatTimeoutMs,
    summary: `code_interpreter ${input.callId}`,
  };

  if (where.taskQueue !== null) {
    const onItsWorker = proxyActivities<SandboxActivities>({
      ...options,
      taskQueue: where.taskQueue,
      // The worker that holds the session gets this long to pick the call up; a live one does at once.
      scheduleToStartTimeout: settings.affinityWaitMs,
      retry: { initialInterval: '1 second', maximumAttempts: AFFINITY_ATTEMPTS },
    });
    try {
      return await onItsWorker.executeCode({ ...input, session: 'existing', outputIdBase });
    } catch (error) {
      if (isCancellation(error) || !workerGone(error)) throw error;
    }
  }

  const anyWorker = proxyActivities<SandboxActivities>({
    ...options,
    taskQueue: settings.taskQueue,
    scheduleToStartTimeout: NO_SANDBOX_WORKER_MS,
    retry: { initialInterval: '1 second', maximumAttempts: SHARED_ATTEMPTS },
  });
  return anyWorker.executeCode({ ...input, session: where.known ? 'lost' : 'new', outputIdBase });
}

/** The session's worker never picked the call up, or stopped heartbeating: it is gone, and the session with it. */
function workerGone(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof TimeoutFailure;
}
