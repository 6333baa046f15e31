import {
  ServiceError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { ApiError, badRequest } from '../errors';
import {
  AssistantIdKey,
  ProjectIdKey,
  RUN_WORKFLOW,
  RunStatusKey,
  ThreadIdKey,
  cancelRunUpdate,
  submitToolOutputsUpdate,
  type RunState,
  type RunWorkflowInput,
  type ToolOutputsPayload,
} from './shared';

/** The run workflow has already closed: the caller answers from the database instead. */
export class RunWorkflowClosed extends Error {
  override name = 'RunWorkflowClosed';
}

const UPDATE_DEADLINE_MS = 15_000;
/** Sends of an Update that keep racing a failing workflow task: about 3 s of backing off in all. */
const RACE_ATTEMPTS = 8;
/**
 * gRPC codes with which Temporal turns a request away for now: RESOURCE_EXHAUSTED (8: a rate or in-flight
 * limit, e.g. `history.maxInFlightUpdates`) and UNAVAILABLE (14: the frontend is restarting or unreachable).
 */
const TRANSIENT_GRPC_CODES = new Set([8, 14]);
/** A start that has not answered by then is left to the launch sweeper (see services/runRecovery.ts). */
const START_DEADLINE_MS = 10_000;

/**
 * How the API drives run workflows: start one per run, and send it the two Updates. Temporal's errors are
 * translated here into what the API answers (400 with the validator's text, 503 when no worker answers).
 */
export function runEngine(
  client: Client,
  taskQueue: string,
  opts: { eagerStart?: boolean; workflowTaskTimeoutMs?: number } = {},
) {
  async function update(runId: string, send: () => Promise<RunState>): Promise<RunState> {
    const deadline = Date.now() + UPDATE_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.withDeadline(deadline, send);
      } catch (error) {
        // The server aborts an update when the workflow task carrying it fails for a reason that has nothing
        // to do with the update, typically UnhandledCommand (a new event raced the worker's reply). The
        // workflow retries that task; the update just has to be sent again (safe either way: both Updates
        // have fixed ids). Backing off, a few times: a task that fails for good (a workflow bug) must not
        // turn each request into dozens of failing tasks.
        if (isRaceWithWorkflowTask(error) && attempt < RACE_ATTEMPTS && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** (attempt - 1), 1_000)));
          continue;
        }
        throw translate(runId, error);
      }
    }
  }

  function translate(runId: string, error: unknown): unknown {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      return badRequest(error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError) return new RunWorkflowClosed(runId);
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      // Temporal holds the Update until a worker takes the run, so it may still be applied after this answer.
      // That is safe to retry because both Updates are idempotent: the same tool outputs carry the same
      // update id (the first submission's result comes back), and a second cancel finds the run cancelling.
      return retryLater(
        'No worker answered for this run in time. The request may still be applied once a worker takes the run; ' +
          'retrying the identical request is safe (it is applied at most once).',
      );
    }
    // Turned away for now (a limit, the frontend unreachable past the client's own retries), or a
    // workflow-task race that outlasted the tries above: what OpenAI answers an overloaded request, which the
    // SDKs retry, rather than a bare 500 (the same fixed update ids make the retry safe).
    const cause = error instanceof ServiceError ? error.cause : undefined;
    if ((isGrpcServiceError(cause) && TRANSIENT_GRPC_CODES.has(cause.code)) || isRaceWithWorkflowTask(error)) {
      return retryLater(
        `Temporal could not take this request for the run right now (${cause?.message ?? (error as Error).message}). ` +
          'Retrying the identical request is safe (it is applied at most once).',
      );
    }
    // An update to a closed workflow can also surface as a plain service error with this text.
    if (/workflow execution already completed/i.test((error as Error)?.message ?? ''))
      return new RunWorkflowClosed(runId);
    return error;
  }

  function startRun(input: RunWorkflowInput) {
    return client.workflow.start(RUN_WORKFLOW, {
      workflowId: input.runId,
      taskQueue,
      args: [input],
      // Run ids are never reused: a second start of the same id is rejected, even after the first has closed.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      // A workflow task handed to a worker that then died is retried elsewhere after this long, not the
      // default 10 s (bench/FINDINGS.md: crash recovery; 2 s by default). Run tasks take milliseconds; local
      // activities that run longer keep their task alive with heartbeats; a task that does time out on a
      // saturated worker is only retried (and replayed), never lost.
      workflowTaskTimeout: opts.workflowTaskTimeoutMs ?? 2_000,
      typedSearchAttributes: [
        { key: ThreadIdKey, value: input.threadId },
        { key: AssistantIdKey, value: input.assistantId },
        { key: RunStatusKey, value: 'queued' },
        { key: ProjectIdKey, value: input.projectId },
      ],
      staticSummary: `Assistants run ${input.runId} · ${input.assistantId} on ${input.threadId}`,
      // Only with a client on the worker's own NativeConnection (see runtime.ts); the SDK refuses it otherwise.
      requestEagerStart: opts.eagerStart === true,
    });
  }

  return {
    /**
     * Starts the run's workflow. Idempotent: the workflow id is the run id, and a run's workflow that already
     * exists (started by an earlier try whose answer was lost, or by the launch sweeper) counts as started.
     */
    async start(input: RunWorkflowInput): Promise<void> {
      try {
        await client.withDeadline(Date.now() + START_DEADLINE_MS, () => startRun(input));
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },

    /**
     * `updateId` is derived from the submission's body, so a client retrying the very same submission after a
     * timeout gets the first submission's result instead of resuming the run twice.
     */
    submitToolOutputs(runId: string, payload: ToolOutputsPayload, updateId: string): Promise<RunState> {
      return update(runId, () =>
        client.workflow.getHandle(runId).executeUpdate(submitToolOutputsUpdate, { args: [payload], updateId }),
      );
    },

    /**
     * Where the run's workflow stands in Temporal. `missing` means either not started yet (the run is still in
     * the start outbox) or gone past retention; callers tell the two apart by the outbox.
     */
    async workflowState(runId: string): Promise<'open' | 'closed' | 'missing'> {
      try {
        return (await client.workflow.getHandle(runId).describe()).status.name === 'RUNNING' ? 'open' : 'closed';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return 'missing';
        throw error;
      }
    },

    /**
     * One update id per run: a cancel re-sent after a lost answer (or by `update`'s retry after a workflow-task
     * race that had in fact applied it) gets the first cancel's answer, not "Cannot cancel run with status
     * 'cancelled'" for the cancel it caused.
     */
    cancel(runId: string): Promise<RunState> {
      return update(runId, () =>
        client.workflow.getHandle(runId).executeUpdate(cancelRunUpdate, { args: [], updateId: `cancel-${runId}` }),
      );
    },
  };
}

export type RunEngine = ReturnType<typeof runEngine>;

/** A 503 the official SDKs retry (`x-should-retry`). */
function retryLater(message: string): ApiError {
  return new ApiError(503, message, 'server_error', null, null, { 'x-should-retry': 'true' });
}

function isRaceWithWorkflowTask(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''} ${(error as { cause?: Error })?.cause?.message ?? ''}`;
  return /FAILED_PRECONDITION/.test(text) && /unexpected workflow task failure/i.test(text);
}
