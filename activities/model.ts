import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { classifyModelError } from '../src/model/client';
import { buildContext } from '../src/model/context';
import { fromJson } from '../src/store/json';
import type { RunRow } from '../src/store/repositories/runs';
import type { FunctionToolCall, ResumeRun, RunState, ServerToolCall, Usage } from '../src/temporal/shared';
import { toolbox, type DeclaredTool, type StoredToolChoice, type Toolbox } from '../src/tools';
import { availableForRun } from './fileSearch';
import type { ActivityDeps } from './index';
import { persistRunState, recordOutputs } from './persistence';
import { messageExtras } from './steps/messageExtras';
import { openStepStream, type MadeCall, type StepIds } from './stepStream';
import { unstickAfterRetry } from './unstick';

/** The step's ids (minted by the workflow: every attempt writes the same rows) and how to call the model. */
export interface CallModelInput extends StepIds {
  /** Tool outputs the workflow accepted since the last step: recorded first (the step before completes). */
  resume?: ResumeRun;
  /** The run's `in_progress` snapshot, written (with its event) before anything the step itself does. */
  runState?: RunState;
  toolChoiceNone: boolean;
  /** Token use of the run so far: `max_prompt_tokens` and `max_completion_tokens` budget the whole run. */
  promptTokensUsed: number;
  completionTokensUsed: number;
}

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

const ZERO: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
const HEARTBEAT_MS = 1_000;

export function modelActivities({ store, model, logger, tools, providers, tokens }: ActivityDeps) {
  return {
    /**
     * One model step: build the prompt from the database, stream a Chat Completion, and persist the result
     * as the step's assistant message or its tool_calls step. Heartbeats while streaming so a dead worker is
     * noticed within the heartbeat timeout and a cancel reaches the call within about a second.
     */
    async callModel(input: CallModelInput): Promise<CallModelResult> {
      const ctx = Context.current();
      const run = await store.runs.findById(input.projectId, input.runId);
      if (!run) {
        throw ApplicationFailure.create({
          type: 'RunMissing',
          message: `Run ${input.runId} no longer exists.`,
          nonRetryable: true,
        });
      }
      // Each write is idempotent (version-guarded, or only while the step is open): a retry repeats them.
      if (input.resume) await recordOutputs(store, run, input.resume);
      if (input.runState) await persistRunState(store, run, input.runState);
      const attempt = ctx.info.attempt;
      if (attempt > 1) {
        unstickAfterRetry(logger);
        // An earlier attempt may have died mid-stream: start this step over on the same ids.
        await store.runSteps.deleteEarlierAttempts(input.projectId, [input.messageStepId, input.toolStepId], attempt);
        await store.messages.deleteEarlierAttempts(input.projectId, [input.messageId], attempt);
      }

      const budgetLeft =
        run.max_completion_tokens === null ? undefined : run.max_completion_tokens - input.completionTokensUsed;
      if (budgetLeft !== undefined && budgetLeft <= 0) {
        return { kind: 'incomplete', reason: 'max_completion_tokens', usage: ZERO };
      }
      const promptTokensLeft =
        run.max_prompt_tokens === null ? undefined : run.max_prompt_tokens - input.promptTokensUsed;
      if (promptTokensLeft !== undefined && promptTokensLeft <= 0) {
        return { kind: 'incomplete', reason: 'max_prompt_tokens', usage: ZERO };
      }
      const declared = fromJson<DeclaredTool[]>(run.tools);
      const functionNames = declared.flatMap((tool) => (tool.type === 'function' ? [tool.function.name] : []));
      const serverFunctions = await tools.serverFunctions?.functionsNamed(run.project_id, functionNames);
      const offered = toolbox(declared, await availableForRun(store, tools.available, run), serverFunctions);
      const provider = await providers.forRun(run);
      const context = await buildContext(
        store,
        run,
        {
          contextWindowTokens: provider.contextWindowTokens,
          // Room for the answer, but never most of a small window (local models often have 4–8k).
          completionReserveTokens: Math.min(budgetLeft ?? 4096, 4096, Math.floor(provider.contextWindowTokens / 4)),
          promptTokensLeft,
        },
        offered,
        tokens,
      );
      if (!context.fits) return { kind: 'incomplete', reason: 'max_prompt_tokens', usage: ZERO };

      const request = provider.adapt(chatRequest(run, context.messages, offered, input.toolChoiceNone, budgetLeft));
      const step = await openStepStream(store, logger, input, attempt, {
        parallelToolCalls: Boolean(run.parallel_tool_calls),
        tools: offered,
        message: await messageExtras(store, run.project_id, run.id),
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
        prompt_tokens: context.promptTokens,
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

/** The Chat Completions request for this step, from the run's effective settings. */
function chatRequest(
  run: RunRow,
  messages: ChatCompletionCreateParamsStreaming['messages'],
  tools: Toolbox,
  toolChoiceNone: boolean,
  budgetLeft: number | undefined,
): ChatCompletionCreateParamsStreaming {
  const request: ChatCompletionCreateParamsStreaming = {
    model: run.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (run.temperature !== null) request.temperature = run.temperature;
  if (run.top_p !== null) request.top_p = run.top_p;
  if (budgetLeft !== undefined) request.max_completion_tokens = budgetLeft;
  if (run.reasoning_effort)
    request.reasoning_effort = run.reasoning_effort as ChatCompletionCreateParamsStreaming['reasoning_effort'];
  const format = fromJson<'auto' | ChatCompletionCreateParamsStreaming['response_format']>(run.response_format);
  if (format !== 'auto' && format) request.response_format = format;

  // Built-in tools this server cannot run are simply not offered: the run is a plain chat without them.
  if (tools.chatTools.length > 0) {
    request.tools = tools.chatTools;
    request.parallel_tool_calls = Boolean(run.parallel_tool_calls);
    request.tool_choice = toolChoiceNone ? 'none' : tools.toolChoice(fromJson<StoredToolChoice>(run.tool_choice));
  }
  return request;
}
