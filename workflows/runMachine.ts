import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import {
  TERMINAL_STATUSES,
  type FunctionToolCall,
  type RunError,
  type RunState,
  type RunStatus,
  type ToolOutputsPayload,
  type Usage,
} from '../src/temporal/shared';

/**
 * The run's state machine as pure functions: what each thing that happens to a run does to its wire-visible
 * snapshot, whether a tool-output submission or a cancel can be taken, and how an ending maps to OpenAI's
 * statuses and error codes. The workflow (`run.ts`) only sequences activities around it; these functions are
 * unit-tested on their own and hold no Temporal state.
 */

export interface RunMachine {
  /** The snapshot the database and the API show; every change that shows bumps `version`. */
  run: RunState;
  /** Token use of the whole run so far (reported on the run only when it ends). */
  usage: Usage;
  /** Function calls the run waits on in `requires_action`. */
  pending: FunctionToolCall[];
  /** The outputs a submission delivered, until the workflow has recorded them. */
  outputs: AcceptedOutputs | null;
  cancelRequested: boolean;
  expired: boolean;
}

/** What a submission handed over: outputs inline (the Signal), or the key under which the API stored them. */
export interface AcceptedOutputs {
  outputs: Array<{ tool_call_id: string; output: string }>;
  storedAs: string | undefined;
}

export type RunEvent =
  /** A model step begins; a run already in progress (between server-side tool rounds) stays as it is. */
  | { type: 'model_step_started'; at: number }
  | { type: 'usage_reported'; usage: Usage }
  | { type: 'tool_calls_pending'; calls: FunctionToolCall[] }
  | { type: 'outputs_accepted'; payload: ToolOutputsPayload }
  | { type: 'outputs_recorded' }
  | { type: 'completed'; at: number }
  | { type: 'incomplete'; reason: 'max_completion_tokens' | 'max_prompt_tokens' }
  | { type: 'cancel_requested' }
  | { type: 'expiry_reached' }
  | { type: 'cancelled'; at: number }
  | { type: 'expired' }
  | { type: 'failed'; at: number; error: RunError };

const CANCELLABLE: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action'];

export function initialMachine(expiresAt: number): RunMachine {
  return {
    run: {
      status: 'queued',
      version: 1,
      required_action: null,
      last_error: null,
      expires_at: expiresAt,
      started_at: null,
      cancelled_at: null,
      failed_at: null,
      completed_at: null,
      incomplete_details: null,
      usage: null,
    },
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    pending: [],
    outputs: null,
    cancelRequested: false,
    expired: false,
  };
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The next machine after `event`. Never mutates its input. */
export function reduce(m: RunMachine, event: RunEvent): RunMachine {
  const show = (status: RunStatus, changes: Partial<RunState> = {}): RunMachine => ({
    ...m,
    run: { ...m.run, ...changes, status, version: m.run.version + 1 },
  });
  const ended = () => ({ required_action: null, usage: { ...m.usage }, expires_at: null });
  switch (event.type) {
    case 'model_step_started':
      return m.run.status === 'in_progress' ? m : show('in_progress', { started_at: event.at });
    case 'usage_reported': {
      const usage = {
        prompt_tokens: m.usage.prompt_tokens + event.usage.prompt_tokens,
        completion_tokens: m.usage.completion_tokens + event.usage.completion_tokens,
        total_tokens: m.usage.total_tokens + event.usage.total_tokens,
      };
      return { ...m, usage };
    }
    case 'tool_calls_pending': {
      const next = show('requires_action', {
        required_action: { type: 'submit_tool_outputs', submit_tool_outputs: { tool_calls: event.calls } },
      });
      return { ...next, pending: event.calls, outputs: null };
    }
    case 'outputs_accepted': {
      const outputs: AcceptedOutputs = {
        outputs: event.payload.tool_outputs.flatMap((o) =>
          o.output === undefined ? [] : [{ tool_call_id: o.tool_call_id, output: o.output }],
        ),
        storedAs: event.payload.stored_as,
      };
      return { ...show('queued', { required_action: null }), outputs };
    }
    case 'outputs_recorded':
      return { ...m, pending: [], outputs: null };
    case 'completed':
      return show('completed', { completed_at: event.at, usage: { ...m.usage }, expires_at: null });
    case 'incomplete':
      return show('incomplete', {
        incomplete_details: { reason: event.reason },
        usage: { ...m.usage },
        expires_at: null,
      });
    case 'cancel_requested':
      // A cancelling run no longer waits on the client, whichever way the cancel came.
      return { ...show('cancelling', { required_action: null }), cancelRequested: true };
    case 'expiry_reached':
      return { ...m, expired: true };
    case 'cancelled':
      return show('cancelled', { ...ended(), cancelled_at: event.at });
    case 'expired':
      return show('expired', ended());
    case 'failed':
      return show('failed', { ...ended(), failed_at: event.at, last_error: event.error });
  }
}

/**
 * Why a tool-output submission cannot be taken now, or undefined. Safe on any payload: signals arrive
 * unchecked from any Temporal client.
 */
export function outputsProblem(m: RunMachine, payload: unknown, nowMs: number): string | undefined {
  const { status } = m.run;
  if (status !== 'requires_action' || (m.run.expires_at !== null && nowMs >= m.run.expires_at * 1000)) {
    return `Runs in status "${status === 'requires_action' ? 'expired' : status}" do not accept tool outputs.`;
  }
  const body = payload as Partial<ToolOutputsPayload> | null | undefined;
  const outputs: unknown = body?.tool_outputs;
  if (!Array.isArray(outputs)) return "Missing required parameter: 'tool_outputs'.";
  const stored = typeof body?.stored_as === 'string';
  const wellFormed = outputs.every((o) => {
    const item = o as { tool_call_id?: unknown; output?: unknown } | null;
    return typeof item?.tool_call_id === 'string' && (typeof item.output === 'string' || stored);
  });
  if (!wellFormed) {
    return "Invalid 'tool_outputs': every item needs a string 'tool_call_id' and a string 'output'.";
  }
  const given = (outputs as Array<{ tool_call_id: string }>).map((o) => o.tool_call_id);
  const pending = new Set(m.pending.map((c) => c.id));
  const unknown = given.find((id) => !pending.has(id));
  if (unknown !== undefined) return `No tool call found with id '${unknown}'.`;
  const duplicate = given.find((id, i) => given.indexOf(id) !== i);
  if (duplicate !== undefined) return `Duplicate tool_call_id '${duplicate}' in tool_outputs.`;
  const missing = [...pending].filter((id) => !given.includes(id));
  if (missing.length > 0)
    return `Expected tool outputs for call_ids ${JSON.stringify([...pending])}, got ${JSON.stringify(given)}.`;
  return undefined;
}

/** Why the run cannot be cancelled now, or undefined. */
export function cancelProblem(m: RunMachine): string | undefined {
  return CANCELLABLE.includes(m.run.status) ? undefined : `Cannot cancel run with status '${m.run.status}'.`;
}

/**
 * How a run whose loop stopped early ends. What was asked decides, not what the error looks like: a cancel
 * or the expiry that raced a model failure (or a dead worker) still ends the run cancelled or expired.
 * `already-ended`: the run had reached its end and only the write of it was cut short.
 */
export function endingOf(
  m: RunMachine,
  stopped: { cancellation: boolean },
): 'already-ended' | 'cancelled' | 'expired' | 'failed' {
  if (isTerminal(m.run.status)) return 'already-ended';
  if (m.cancelRequested || (!m.expired && stopped.cancellation)) return 'cancelled';
  if (m.expired) return 'expired';
  return 'failed';
}

/** Maps what ended the loop to OpenAI's `last_error` codes. */
export function toRunError(error: unknown): RunError {
  const failure = error instanceof ActivityFailure ? error.cause : error;
  if (failure instanceof ApplicationFailure) {
    if (failure.type === 'ModelRateLimited') return { code: 'rate_limit_exceeded', message: failure.message };
    if (failure.type === 'ModelRejectedRequest') return { code: 'invalid_prompt', message: failure.message };
    return { code: 'server_error', message: failure.message };
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  return { code: 'server_error', message: `The run failed: ${message}` };
}
