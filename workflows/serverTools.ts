import { ActivityFailure, isCancellation } from '@temporalio/workflow';
import type { RunWorkflowInput, ServerToolCall } from '../src/temporal/shared';
import { runActivities } from './proxies';

/**
 * Runs one built-in tool call the model made, to a result recorded on its step. A tool that keeps failing
 * after its retries gives the model an error to read and never fails the run; a cancelled run stops it.
 */
export async function runServerCall(input: RunWorkflowInput, stepId: string, call: ServerToolCall): Promise<void> {
  const { tools, db } = runActivities(input);
  const target = {
    projectId: input.projectId,
    runId: input.runId,
    threadId: input.threadId,
    assistantId: input.assistantId,
    stepId,
    callId: call.id,
    type: call.type,
    arguments: call.arguments,
  };
  try {
    await tools.runServerTool(target);
  } catch (error) {
    if (isCancellation(error)) throw error;
    const cause = error instanceof ActivityFailure ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    await db.recordToolFailure({ ...target, message });
  }
}
