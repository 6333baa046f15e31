import { createHash } from 'node:crypto';
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { ApiError, badRequest } from '../errors';
import {
  AssistantIdKey,
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

/**
 * How the API drives run workflows: start one per run, and send it the two Updates. Temporal's errors are
 * translated here into what the API answers (400 with the validator's text, 503 when no worker answers).
 */
export function runEngine(client: Client, taskQueue: string) {
  async function update(runId: string, send: () => Promise<RunState>): Promise<RunState> {
    try {
      return await client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, send);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        throw badRequest(error.cause.message);
      }
      if (error instanceof WorkflowNotFoundError) throw new RunWorkflowClosed(runId);
      if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw new ApiError(503, 'No worker answered for this run in time. Please retry.', 'server_error');
      }
      // A closed workflow rejects updates with a gRPC NOT_FOUND that some paths surface unwrapped.
      if (/workflow execution already completed|not found/i.test((error as Error)?.message ?? ''))
        throw new RunWorkflowClosed(runId);
      throw error;
    }
  }

  return {
    async start(input: RunWorkflowInput): Promise<void> {
      await client.workflow.start(RUN_WORKFLOW, {
        workflowId: input.runId,
        taskQueue,
        args: [input],
        // Run ids are never reused; a duplicate start is a bug, not a retry to absorb.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: ThreadIdKey, value: input.threadId },
          { key: AssistantIdKey, value: input.assistantId },
          { key: RunStatusKey, value: 'queued' },
        ],
        staticSummary: `Assistants run ${input.runId} · ${input.assistantId} on ${input.threadId}`,
      });
    },

    /**
     * The update id is derived from the body, so a client retrying the very same submission after a timeout
     * gets the first submission's result instead of resuming the run twice.
     */
    submitToolOutputs(runId: string, payload: ToolOutputsPayload): Promise<RunState> {
      const updateId = `submit-${createHash('sha256').update(runId).update(JSON.stringify(payload.tool_outputs)).digest('hex').slice(0, 32)}`;
      return update(runId, () =>
        client.workflow.getHandle(runId).executeUpdate(submitToolOutputsUpdate, { args: [payload], updateId }),
      );
    },

    cancel(runId: string): Promise<RunState> {
      return update(runId, () => client.workflow.getHandle(runId).executeUpdate(cancelRunUpdate, { args: [] }));
    },
  };
}

export type RunEngine = ReturnType<typeof runEngine>;
