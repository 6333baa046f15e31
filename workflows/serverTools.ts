import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
  proxyActivities,
} from '@temporalio/workflow';
import type {
  RunWorkflowInput,
  ServerFunctionSchedule,
  ServerToolCall,
  ServerToolInvocation,
} from '../src/temporal/shared';
import { runCodeInterpreter } from './codeInterpreter';
import { runActivities, type Activities } from './proxies';

/**
 * Runs one call the model made of a tool the server answers, to a result recorded on its step. A tool that
 * keeps failing after its retries gives the model an error to read and never fails the run; a cancelled run
 * stops it.
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
    if (call.type === 'function') await runServerFunction(input, { ...target, name: call.name }, call.executor);
    else if (call.type === 'code_interpreter') await runCodeCall(input, target);
    else await tools.runServerTool(target);
  } catch (error) {
    if (isCancellation(error)) throw error;
    const name = call.type === 'function' ? { name: call.name } : {};
    await db.recordToolFailure({ ...target, ...name, message: failureText(error, call) });
  }
}

type FunctionTarget = Parameters<Activities['runHttpTool']>[0];
type CodeTarget = Parameters<Activities['prepareCodeCall']>[0];

/**
 * code_interpreter: the code and the files for /mnt/data are read from the run (a local activity), the code
 * runs in the thread's sandbox session on a sandbox worker (`runCodeInterpreter` routes it there), and what it
 * printed and produced is recorded on the step. Only runs that call it reach this, so it needs no patch.
 */
async function runCodeCall(input: RunWorkflowInput, target: CodeTarget): Promise<void> {
  const { db } = runActivities(input);
  if (!input.codeInterpreter) throw ApplicationFailure.nonRetryable('this run was started without code_interpreter');
  const { code, files } = await db.prepareCodeCall(target);
  const output = await runCodeInterpreter(
    { projectId: target.projectId, threadId: target.threadId, callId: target.callId, code, files },
    input.codeInterpreter,
  );
  await db.recordCodeResult({ ...target, output });
}

/**
 * Extension: a server-side function, with the retry policy and timeout its registration gives. Only runs
 * that call such a tool reach this (histories from before it cannot contain one), so it needs no patch.
 */
async function runServerFunction(
  input: RunWorkflowInput,
  target: FunctionTarget,
  schedule: ServerFunctionSchedule,
): Promise<void> {
  const policy = {
    startToCloseTimeout: schedule.timeoutMs,
    retry: {
      initialInterval: schedule.initialRetryMs,
      backoffCoefficient: 2,
      maximumInterval: 30_000,
      maximumAttempts: schedule.maxAttempts,
    },
  };
  if (schedule.kind === 'http') {
    const { runHttpTool } = proxyActivities<Activities>({
      ...policy,
      // A worker that dies mid-call is noticed this fast, and the call retried elsewhere.
      heartbeatTimeout: input.heartbeatTimeoutMs,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    return runHttpTool(target);
  }
  const operator = proxyActivities({
    ...policy,
    taskQueue: schedule.taskQueue,
    // With no worker serving the operator's queue the call must still end, as a timeout the model reads.
    scheduleToCloseTimeout: allAttemptsMs(schedule),
  });
  const invocation: ServerToolInvocation = {
    tool: target.name,
    arguments: parsedOrRaw(target.arguments),
    call_id: target.callId,
    run_id: target.runId,
    thread_id: target.threadId,
    assistant_id: target.assistantId,
    project_id: target.projectId,
  };
  const output: unknown = await operator[schedule.activity]!(invocation);
  await runActivities(input).db.recordServerToolOutput({ ...target, output });
}

/** Every attempt at its timeout plus the backoff between them (doubling from the initial delay, ≤ 30 s). */
function allAttemptsMs(schedule: ServerFunctionSchedule): number {
  let total = schedule.timeoutMs * schedule.maxAttempts;
  for (let i = 0; i < schedule.maxAttempts - 1; i++) total += Math.min(schedule.initialRetryMs * 2 ** i, 30_000);
  return total;
}

function parsedOrRaw(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** What the model reads about a call that failed for good. */
function failureText(error: unknown, call: ServerToolCall): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure && call.type === 'function') {
    return `no answer within ${call.executor.timeoutMs / 1000} s.`;
  }
  if (cause instanceof TimeoutFailure && call.type === 'code_interpreter') {
    return 'no sandbox worker took the code (is a `threadline sandbox` worker running for this server?).';
  }
  return cause instanceof Error ? cause.message : String(cause);
}
