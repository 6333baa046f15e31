import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { classifyModelError } from '../src/model/client';
import { allInOrder } from '../src/settled';
import type { FunctionToolCall, ServerToolCall, Usage } from '../src/temporal/shared';
import type { ActivityDeps } from './index';
import { beginStep, preparePrompt, type CallModelInput } from './stepStart';
import { openStepStream, type MadeCall } from './stepStream';
import { ZERO } from './steps/rows';

export type { CallModelInput } from './stepStart';

export type CallModelResult =
  | { kind: 'message'; usage: Usage }
  | {
      kind: 'tool_calls';
      stepId: string;
      /** Function calls, for the client (`required_action`); may be empty when only built-ins were called. */
      toolCalls: FunctionToolCall[];
      /** Built-in calls the server runs before the client is asked (absent in runs recorded before them). */
      serverCalls?: ServerToolCall[];
      usage: Usage;
    }
  | { kind: 'incomplete'; reason: 'max_completion_tokens' | 'max_prompt_tokens'; usage: Usage };

const HEARTBEAT_MS = 1_000;

export function modelActivities(deps: ActivityDeps) {
  const { store, model, logger, tokens } = deps;
  return {
    /**
     * One model step: build the prompt from the database, stream a Chat Completion, and persist the result
     * as the step's assistant message or its tool_calls step. Heartbeats while streaming so a dead worker is
     * noticed within the heartbeat timeout and a cancel reaches the call within about a second.
     */
    async callModel(input: CallModelInput): Promise<CallModelResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const { run, logged, recorded } = await beginStep(deps, input);
      // The run's new state is logged while the prompt is read; the step's own events come after both.
      const [, prepared] = await allInOrder([logged, preparePrompt(deps, run, input, attempt, recorded)]);
      if (prepared.kind === 'incomplete') return prepared;
      const { request, provider, offered, extras } = prepared;
      const step = await openStepStream(store, logger, input, attempt, {
        parallelToolCalls: Boolean(run.parallel_tool_calls),
        tools: offered,
        message: extras,
      });
      const abort = new AbortController();
      let stalled = false;
      let lastChunkAt = Date.now();
      const onCancel = () => abort.abort();
      ctx.cancellationSignal.addEventListener('abort', onCancel);
      const ticker = setInterval(() => {
        ctx.heartbeat();
        if (Date.now() - lastChunkAt > model.idleTimeoutMs) {
          stalled = true;
          abort.abort();
        }
      }, HEARTBEAT_MS);

      let finishReason: string | null = null;
      let reportedUsage: Usage | undefined;
      try {
        const stream = await provider.client.chat.completions.create(request, { signal: abort.signal });
        for await (const chunk of stream) {
          lastChunkAt = Date.now();
          if (chunk.usage)
            reportedUsage = {
              prompt_tokens: chunk.usage.prompt_tokens,
              completion_tokens: chunk.usage.completion_tokens,
              total_tokens: chunk.usage.total_tokens,
            };
          const choice = chunk.choices[0];
          if (!choice) continue;
          const delta = choice.delta;
          if (delta?.content) step.text(delta.content);
          for (const call of delta?.tool_calls ?? []) {
            step.toolCall(call.index, {
              id: call.id,
              name: call.function?.name,
              arguments: call.function?.arguments,
            });
          }
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
        if (finishReason === null)
          throw new Error('the model stream ended before the model finished (no finish_reason)');
      } catch (error) {
        // Keep what was said so far (and streamed): a cancel or expiry marks the message incomplete, a retry
        // starts the step over on the same rows.
        step.savePartial();
        await step.settle().catch(() => undefined);
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('model call cancelled');
        const failure = stalled
          ? ApplicationFailure.create({
              type: 'ModelStalled',
              message: `The model stream was silent for ${model.idleTimeoutMs} ms.`,
            })
          : classifyModelError(error);
        logger.warn({ runId: input.runId, attempt: ctx.info.attempt, err: failure.message }, 'model call failed');
        throw failure;
      } finally {
        clearInterval(ticker);
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
      }

      await step.settle();
      const text = step.textSoFar();
      const toolCalls = step.toolCalls();
      const usage = reportedUsage ?? {
        prompt_tokens: prepared.promptTokens,
        completion_tokens: (await tokens.count([text, ...toolCalls.map((c) => c.arguments)])).reduce(
          (sum, n) => sum + n,
          0,
        ),
        total_tokens: 0,
      };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const truncated = finishReason === 'length';

      if (text !== '' || toolCalls.length === 0) {
        step.closeMessage(truncated ? 'incomplete' : 'completed', toolCalls.length === 0 ? usage : ZERO);
      }
      if (truncated) {
        step.closeToolStep(usage);
        await step.settle();
        return { kind: 'incomplete', reason: 'max_completion_tokens', usage };
      }
      if (toolCalls.length === 0) {
        await step.settle();
        return { kind: 'message', usage };
      }
      step.finishToolStep(toolCalls, usage);
      await step.settle();
      return { kind: 'tool_calls', stepId: input.toolStepId, ...routeCalls(toolCalls), usage };
    },
  };
}

/** Who answers each call: client functions go to the client, the rest to the server's executors. */
function routeCalls(calls: MadeCall[]): { toolCalls: FunctionToolCall[]; serverCalls: ServerToolCall[] } {
  const toolCalls: FunctionToolCall[] = [];
  const serverCalls: ServerToolCall[] = [];
  for (const call of calls) {
    if (call.kind.executor === 'client') {
      toolCalls.push({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } });
    } else {
      const builtin = () => ({
        id: call.id,
        type: call.kind.type as 'code_interpreter' | 'file_search',
        arguments: call.arguments,
      });
      serverCalls.push(call.kind.serverCall?.(call) ?? builtin());
    }
  }
  return { toolCalls, serverCalls };
}
