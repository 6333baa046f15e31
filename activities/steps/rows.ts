import type { MessageRow } from '../../src/store/repositories/messages';
import type { RunStepRow } from '../../src/store/repositories/runSteps';
import type { Usage } from '../../src/temporal/shared';

/** The ids the workflow minted for one model step: every attempt writes the same rows and events. */
export interface StepIds {
  projectId: string;
  runId: string;
  threadId: string;
  assistantId: string;
  messageStepId: string;
  toolStepId: string;
  messageId: string;
}

export const ZERO: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An open step of this model step (message_creation or tool_calls), written by attempt `attempt`. */
export function stepRow(
  ids: StepIds,
  attempt: number,
  fields: Pick<RunStepRow, 'id' | 'type' | 'step_details'> & Partial<RunStepRow>,
): RunStepRow {
  return {
    project_id: ids.projectId,
    run_id: ids.runId,
    thread_id: ids.threadId,
    assistant_id: ids.assistantId,
    created_at: nowSeconds(),
    status: 'in_progress',
    last_error: null,
    expired_at: null,
    cancelled_at: null,
    failed_at: null,
    completed_at: null,
    metadata: '{}',
    usage: null,
    attempt,
    ...fields,
  };
}

/** The step's assistant message, open and empty, written by attempt `attempt`. */
export function messageRow(ids: StepIds, attempt: number, at: number): MessageRow {
  return {
    project_id: ids.projectId,
    id: ids.messageId,
    thread_id: ids.threadId,
    created_at: at,
    role: 'assistant',
    status: 'in_progress',
    content: '[]',
    attachments: '[]',
    metadata: '{}',
    assistant_id: ids.assistantId,
    run_id: ids.runId,
    completed_at: null,
    incomplete_at: null,
    incomplete_details: null,
    attempt,
  };
}
