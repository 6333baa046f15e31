import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  RunStatusKey,
  TERMINAL_STATUSES as TERMINAL,
  cancelRunUpdate,
  getRunQuery,
  submitToolOutputsUpdate,
  toolOutputsSignal,
  type FunctionToolCall,
  type RunError,
  type RunState,
  type RunStatus,
  type RunWorkflowInput,
  type ToolOutputsPayload,
  type Usage,
} from '../src/temporal/shared';
import { mintId } from './ids';

type Activities = ReturnType<typeof createActivities>;

const CANCELLABLE: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action'];

/**
 * The first write after an Update (tool outputs, cancel) is a regular activity, not a local one. An Update is
 * accepted only when the workflow task that ran its handler is committed; a local activity runs before that,
 * so when the task was lost (its worker killed, or timed out) together with the Update, the database already
 * said `queued` (or `cancelled`) for a run whose workflow, replayed, was still waiting for its outputs. The
 * crash loop (test/integration/crashLoop.test.ts) found such runs. Runs started before this marker replay as
 * they ran.
 */
const UPDATE_EFFECTS_AFTER_COMMIT = 'update-effects-after-commit';

const seconds = () => Math.floor(Date.now() / 1000);

/**
 * One Assistants run, start to end: call the model, hand function calls to the client through
 * `requires_action`, loop until the model answers in text, the step budget is spent, the run is cancelled,
 * or it expires. The workflow only sequences steps and holds the run's state; every read and write of
 * messages, steps and the run row is an activity keyed by ids minted here.
 */
export async function runWorkflow(input: RunWorkflowInput): Promise<RunState> {
  const model = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: input.heartbeatTimeoutMs,
    // Wait for the model call to stop (and save what it had) before cleaning up, so the partial message
    // is written once, by the call that produced it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: input.modelRetry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: input.modelRetry.maximumAttempts,
    },
  });
  const db = proxyLocalActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
  });
  // A local activity writes before its workflow task is committed, so the database can run ahead of the
  // history. For `requires_action` that is not harmless: a client that reads it and submits outputs while a
  // new worker is still replaying would be refused. A regular activity only runs once the task that decided
  // it is in the history, so the write never gets ahead of what the workflow's validators will see.
  const durableDb = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
  });

  const state: RunState = {
    status: 'queued',
    version: 1,
    required_action: null,
    last_error: null,
    expires_at: input.expiresAt,
    started_at: null,
    cancelled_at: null,
    failed_at: null,
    completed_at: null,
    incomplete_details: null,
    usage: null,
  };
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let pendingCalls: FunctionToolCall[] = [];
  let outputs: ToolOutputsPayload['tool_outputs'] | null = null;
  let cancelRequested = false;
  let expired = false;
  const loop = new CancellationScope();

  /**
   * Applies a change and bumps the version, without side effects: Update and Signal handlers use this alone
   * and stay synchronous (no commands issued from handlers), the API writes an Update's returned snapshot
   * itself, and the main flow persists it too with `persistCurrent()`.
   */
  function mutate(status: RunStatus, changes: Partial<RunState> = {}): RunState {
    Object.assign(state, changes, { status, version: state.version + 1 });
    return { ...state };
  }

  /** Mirrors the status into the Temporal UI (commands only, no round trip). */
  function showStatus(): void {
    upsertSearchAttributes([{ key: RunStatusKey, value: state.status }]);
    setCurrentDetails(`**${state.status}** · ${input.runId} on ${input.threadId}`);
  }

  /**
   * Writes the current snapshot (version-guarded) and mirrors the status into the Temporal UI. `durable`: the
   * change came from an Update, whose acceptance is only committed with the workflow task (see
   * UPDATE_EFFECTS_AFTER_COMMIT).
   */
  async function persistCurrent(durable = false): Promise<void> {
    showStatus();
    const writer = durable || state.status === 'requires_action' ? durableDb : db;
    await writer.persistRun({ projectId: input.projectId, runId: input.runId, state: { ...state } });
  }

  async function transition(status: RunStatus, changes: Partial<RunState> = {}): Promise<void> {
    // A step that finished just as a cancel or the expiry arrived must not move the run on (to completed, or
    // requires_action) on its way out: the cleanup in finish() decides how the run ends.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('run loop cancelled');
    mutate(status, changes);
    await persistCurrent();
  }

  /** Why a tool-output submission cannot be taken now, or undefined. Safe on any payload (signals are unchecked). */
  function outputsProblem(payload: ToolOutputsPayload): string | undefined {
    if (state.status !== 'requires_action' || Date.now() >= input.expiresAt * 1000) {
      return `Runs in status "${state.status === 'requires_action' ? 'expired' : state.status}" do not accept tool outputs.`;
    }
    const outputs: unknown = (payload as Partial<ToolOutputsPayload> | null | undefined)?.tool_outputs;
    if (!Array.isArray(outputs)) return "Missing required parameter: 'tool_outputs'.";
    if (
      !outputs.every(
        (o) =>
          typeof (o as { tool_call_id?: unknown })?.tool_call_id === 'string' &&
          typeof (o as { output?: unknown }).output === 'string',
      )
    ) {
      return "Invalid 'tool_outputs': every item needs a string 'tool_call_id' and a string 'output'.";
    }
    const given = (outputs as ToolOutputsPayload['tool_outputs']).map((o) => o.tool_call_id);
    const pending = new Set(pendingCalls.map((c) => c.id));
    const unknown = given.find((id) => !pending.has(id));
    if (unknown !== undefined) return `No tool call found with id '${unknown}'.`;
    const duplicate = given.find((id, i) => given.indexOf(id) !== i);
    if (duplicate !== undefined) return `Duplicate tool_call_id '${duplicate}' in tool_outputs.`;
    const missing = [...pending].filter((id) => !given.includes(id));
    if (missing.length > 0)
      return `Expected tool outputs for call_ids ${JSON.stringify([...pending])}, got ${JSON.stringify(given)}.`;
    return undefined;
  }

  function acceptOutputs(payload: ToolOutputsPayload): RunState {
    outputs = payload.tool_outputs.map((o) => ({ tool_call_id: o.tool_call_id, output: o.output }));
    return mutate('queued', { required_action: null });
  }

  setHandler(getRunQuery, () => ({ ...state }));
  setHandler(submitToolOutputsUpdate, acceptOutputs, {
    validator: (payload: ToolOutputsPayload) => {
      const problem = outputsProblem(payload);
      if (problem)
        throw ApplicationFailure.create({ type: 'InvalidToolOutputs', message: problem, nonRetryable: true });
    },
  });
  setHandler(toolOutputsSignal, (payload: ToolOutputsPayload) => {
    // A signal cannot be refused like an update, and a throw here would fail every workflow task from now
    // on: whatever arrives, a bad one is logged and ignored.
    const problem = outputsProblem(payload);
    if (problem) {
      log.warn('ignored invalid submit_tool_outputs signal', { runId: input.runId, problem });
      return;
    }
    acceptOutputs(payload);
  });
  setHandler(
    cancelRunUpdate,
    () => {
      cancelRequested = true;
      loop.cancel();
      return mutate('cancelling');
    },
    {
      validator: () => {
        if (!CANCELLABLE.includes(state.status)) {
          throw ApplicationFailure.create({
            type: 'RunNotCancellable',
            message: `Cannot cancel run with status '${state.status}'.`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  async function agentLoop(): Promise<void> {
    if (input.unsupportedTools.length > 0) {
      throw ApplicationFailure.create({
        type: 'UnsupportedTool',
        message: `This server cannot run the ${input.unsupportedTools.join(' and ')} tool yet; remove it from the assistant or the run's tools.`,
        nonRetryable: true,
      });
    }
    // Runs started before this patch wrote `in_progress` with a local activity of its own and completed the
    // tool step and re-queued with two more; they replay that way. New runs save those round trips: the model
    // call writes `in_progress` as its first act, and one local activity resumes the run after outputs.
    const fewerRoundTrips = patched('model-call-writes-in-progress');
    for (let step = 1; ; step++) {
      let startState: RunState | undefined;
      if (fewerRoundTrips) {
        if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('run loop cancelled');
        startState = mutate('in_progress', { started_at: seconds() });
        showStatus();
      } else {
        await transition('in_progress', { started_at: seconds() });
      }
      const result = await model.callModel({
        runState: startState,
        projectId: input.projectId,
        runId: input.runId,
        threadId: input.threadId,
        assistantId: input.assistantId,
        messageStepId: mintId('step_'),
        toolStepId: mintId('step_'),
        messageId: mintId('msg_'),
        // Past the step budget the model may only answer in text: a looping model cannot run forever.
        toolChoiceNone: step > input.maxSteps,
        promptTokensUsed: usage.prompt_tokens,
        completionTokensUsed: usage.completion_tokens,
      });
      usage.prompt_tokens += result.usage.prompt_tokens;
      usage.completion_tokens += result.usage.completion_tokens;
      usage.total_tokens += result.usage.total_tokens;

      if (result.kind === 'incomplete') {
        await transition('incomplete', {
          incomplete_details: { reason: result.reason },
          usage: { ...usage },
          expires_at: null,
        });
        return;
      }
      if (result.kind === 'message') {
        await transition('completed', { completed_at: seconds(), usage: { ...usage }, expires_at: null });
        return;
      }
      pendingCalls = result.toolCalls;
      outputs = null;
      await transition('requires_action', {
        required_action: { type: 'submit_tool_outputs', submit_tool_outputs: { tool_calls: pendingCalls } },
      });
      await condition(() => outputs !== null);
      if (fewerRoundTrips) {
        showStatus();
        // The tool_calls step completes, then the run is queued again (the resumed stream's first events).
        const resumer = patched(UPDATE_EFFECTS_AFTER_COMMIT) ? durableDb : db;
        await resumer.resumeRun({
          projectId: input.projectId,
          runId: input.runId,
          stepId: result.stepId,
          outputs: outputs ?? [],
          completedAt: seconds(),
          state: { ...state },
        });
        pendingCalls = [];
        continue;
      }
      const completeToolStep = () =>
        db.completeToolStep({
          projectId: input.projectId,
          stepId: result.stepId,
          outputs: outputs ?? [],
          completedAt: seconds(),
        });
      // The resumed stream opens with the tool_calls step completing, then the run queued (reference §4.5).
      // Runs started before streaming persisted the other way round and must replay as they ran.
      if (patched('tool-step-completes-before-queued')) {
        await completeToolStep();
        await persistCurrent(); // 'queued', set by the handler that accepted the outputs
      } else {
        await persistCurrent();
        await completeToolStep();
      }
      pendingCalls = [];
    }
  }

  // Expiry is a durable timer racing the whole loop: at expires_at whatever the run is doing stops.
  const expiry = new CancellationScope();
  void expiry
    .run(() => sleep(Math.max(1, input.expiresAt * 1000 - Date.now())))
    .then(
      () => {
        expired = true;
        loop.cancel();
      },
      () => undefined, // the run ended first and cancelled the timer
    );

  try {
    await loop.run(agentLoop);
  } catch (error) {
    await CancellationScope.nonCancellable(() => finish(error));
  } finally {
    expiry.cancel();
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return { ...state };

  /**
   * Ends the run after the loop threw. What was asked decides, not what the error looks like: a cancel or the
   * expiry that raced a model failure (or a dead worker) still ends the run cancelled or expired.
   */
  async function finish(error: unknown): Promise<void> {
    const at = seconds();
    const close = (
      stepStatus: 'cancelled' | 'expired' | 'failed',
      messageReason: 'run_cancelled' | 'run_expired' | 'run_failed',
      lastError: RunError | null,
    ) =>
      db.closeOpenItems({ projectId: input.projectId, runId: input.runId, stepStatus, messageReason, lastError, at });
    const ended = { required_action: null, usage: { ...usage }, expires_at: null };
    if (TERMINAL.includes(state.status)) {
      // The run had already reached its end when the cancel or the expiry arrived; only the write was cut short.
      await persistCurrent();
      return;
    }
    if (cancelRequested || (!expired && (isCancellation(error) || loop.consideredCancelled))) {
      // A cancel update (its handler already moved to 'cancelling'), or a cancellation requested from the
      // Temporal UI/CLI (handle.cancel()).
      if (state.status !== 'cancelling') mutate('cancelling', { required_action: null });
      await persistCurrent(cancelRequested && patched(UPDATE_EFFECTS_AFTER_COMMIT));
      await close('cancelled', 'run_cancelled', null);
      await transition('cancelled', { ...ended, cancelled_at: at });
      return;
    }
    if (expired) {
      await close('expired', 'run_expired', null);
      await transition('expired', ended);
      return;
    }
    const lastError = toRunError(error);
    log.warn('run failed', { runId: input.runId, error: lastError.message });
    await close('failed', 'run_failed', lastError);
    await transition('failed', { ...ended, failed_at: at, last_error: lastError });
  }
}

/** Maps what ended the loop to OpenAI's `last_error` codes. */
function toRunError(error: unknown): RunError {
  const failure = error instanceof ActivityFailure ? error.cause : error;
  if (failure instanceof ApplicationFailure) {
    if (failure.type === 'ModelRateLimited') return { code: 'rate_limit_exceeded', message: failure.message };
    if (failure.type === 'ModelRejectedRequest') return { code: 'invalid_prompt', message: failure.message };
    return { code: 'server_error', message: failure.message };
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  return { code: 'server_error', message: `The run failed: ${message}` };
}
