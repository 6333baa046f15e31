import { Context } from '@temporalio/activity';
import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { Store } from '../src/store';
import { fromJson, toJson } from '../src/store/json';
import { SERVER_SOURCE } from '../src/store/repositories/toolOutputs';
import { toolCallResult } from '../src/streaming/events';
import type { ServerToolCall } from '../src/temporal/shared';
import { kindOf, type ToolResult } from '../src/tools';
import type { ActivityDeps } from './index';
import { unstickAfterRetry } from './unstick';

/** One server-run call of a run's tool_calls step, by the ids the workflow holds. */
export interface ServerCallTarget {
  projectId: string;
  runId: string;
  threadId: string;
  assistantId: string;
  stepId: string;
  callId: string;
  type: ServerToolCall['type'];
  /** A server-side function's name (built-in calls are known by their type). */
  name?: string;
  arguments: string;
}

/**
 * Calls run on the server (built-in tools; failures of server-side functions too). Each records its result by
 * (run, call): retried, it replaces its own result and never adds a second one; the step shows the results
 * when it completes.
 */
export function toolActivities({ store, tools, logger }: ActivityDeps) {
  return {
    async runServerTool(target: ServerCallTarget): Promise<void> {
      unstickAfterRetry(logger);
      const found = await findCall(store, target);
      if (!found) return; // the run was deleted with its thread
      const executor = target.type === 'function' ? undefined : tools.executors[target.type];
      const ctx = Context.current();
      const result: ToolResult = executor
        ? await executor({
            ...target,
            call: found.call,
            heartbeat: () => ctx.heartbeat(),
            signal: ctx.cancellationSignal,
          })
        : { output: `The ${target.type} tool is not available on this server.` };
      await record(store, target, found.index, result);
    },

    /** A built-in call that failed for good: the model reads why, and the run goes on. */
    async recordToolFailure(target: ServerCallTarget & { message: string }): Promise<void> {
      const found = await findCall(store, target);
      if (!found) return;
      const output = `The ${target.name ?? target.type} tool failed: ${target.message}`;
      await record(store, target, found.index, withOutput(found.call, { output }));
    },
  };
}

/** A function call's result is its `output` on the step (built-in executors fill in their own call). */
export function withOutput(call: ToolCall, result: ToolResult): ToolResult {
  if (result.call || call.type !== 'function') return result;
  return { ...result, call: { ...call, function: { ...call.function, output: result.output } } };
}

export async function findCall(
  store: Store,
  target: ServerCallTarget,
): Promise<{ call: ToolCall; index: number } | undefined> {
  const step = await store.runSteps.findById(target.projectId, target.stepId);
  if (!step) return undefined;
  const calls = fromJson<{ tool_calls: ToolCall[] }>(step.step_details).tool_calls;
  const index = calls.findIndex((call) => call.id === target.callId);
  return index < 0 ? undefined : { call: calls[index]!, index };
}

/** Stores the result (what the model reads, the call as the step will show it) and streams it. */
export async function record(store: Store, target: ServerCallTarget, index: number, result: ToolResult): Promise<void> {
  await store.toolOutputs.upsert([
    {
      project_id: target.projectId,
      run_id: target.runId,
      source: SERVER_SOURCE,
      call_id: target.callId,
      step_id: target.stepId,
      output: result.output,
      call: result.call ? toJson(result.call) : null,
      arguments: result.arguments ?? target.arguments,
      extras: result.extras === undefined ? null : toJson(result.extras),
      created_at: Math.floor(Date.now() / 1000),
    },
  ]);
  const delta = result.call ? kindOf(result.call.type).resultDelta?.(index, result.call) : undefined;
  if (delta) await store.runEvents.append(target.runId, [toolCallResult(target.stepId, index, delta)]);
}
