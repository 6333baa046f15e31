import type { Run } from 'openai/resources/beta/threads/runs/runs';
import type { RunStep } from 'openai/resources/beta/threads/runs/steps';
import { fromJson } from '../store/json';
import type { RunStepRow } from '../store/repositories/runSteps';
import type { RunRow } from '../store/repositories/runs';
import type { RunState } from '../temporal/shared';

/**
 * A run row as OpenAI's Run object (all 25 required fields). `state`, when given and newer than the row,
 * is the workflow's own snapshot (e.g. an Update's result), so a response never shows a stale status.
 */
export function runObject(row: RunRow, state?: RunState): Run {
  const s: RunState =
    state && state.version > row.version
      ? state
      : {
          status: row.status as RunState['status'],
          version: row.version,
          required_action: fromJson<RunState['required_action']>(row.required_action),
          last_error: fromJson<RunState['last_error']>(row.last_error),
          expires_at: row.expires_at,
          started_at: row.started_at,
          cancelled_at: row.cancelled_at,
          failed_at: row.failed_at,
          completed_at: row.completed_at,
          incomplete_details: fromJson<RunState['incomplete_details']>(row.incomplete_details),
          usage: fromJson<RunState['usage']>(row.usage),
        };
  return {
    id: row.id,
    object: 'thread.run',
    created_at: row.created_at,
    thread_id: row.thread_id,
    assistant_id: row.assistant_id,
    status: s.status,
    required_action: s.required_action,
    last_error: s.last_error,
    expires_at: s.expires_at,
    started_at: s.started_at,
    cancelled_at: s.cancelled_at,
    failed_at: s.failed_at,
    completed_at: s.completed_at,
    model: row.model,
    instructions: row.instructions,
    tools: fromJson<Run['tools']>(row.tools),
    metadata: fromJson<Record<string, string>>(row.metadata),
    usage: s.usage,
    incomplete_details: s.incomplete_details,
    max_prompt_tokens: row.max_prompt_tokens,
    max_completion_tokens: row.max_completion_tokens,
    truncation_strategy: fromJson<Run.TruncationStrategy>(row.truncation_strategy),
    tool_choice: fromJson<Run['tool_choice']>(row.tool_choice),
    parallel_tool_calls: Boolean(row.parallel_tool_calls),
    response_format: fromJson<Run['response_format']>(row.response_format),
    temperature: row.temperature ?? 1,
    top_p: row.top_p ?? 1,
  };
}

/** The run as of exactly this snapshot, whatever the row holds now (an event reports its own moment). */
export function runObjectAt(row: RunRow, state: RunState): Run {
  return runObject({ ...row, version: Math.min(row.version, state.version - 1) }, state);
}

export function runStepObject(row: RunStepRow): RunStep {
  return {
    id: row.id,
    object: 'thread.run.step',
    created_at: row.created_at,
    assistant_id: row.assistant_id,
    thread_id: row.thread_id,
    run_id: row.run_id,
    type: row.type as RunStep['type'],
    status: row.status as RunStep['status'],
    step_details: fromJson<RunStep['step_details']>(row.step_details),
    last_error: fromJson<RunStep.LastError>(row.last_error),
    expired_at: row.expired_at,
    cancelled_at: row.cancelled_at,
    failed_at: row.failed_at,
    completed_at: row.completed_at,
    metadata: fromJson<Record<string, string>>(row.metadata),
    // OpenAI reports a step's usage only once the step is over.
    usage: row.status === 'in_progress' ? null : fromJson<RunStep.Usage>(row.usage),
  };
}
