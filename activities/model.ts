import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionTool } from 'openai/resources/chat/completions';
import { randomBytes } from 'node:crypto';
import { classifyModelError, createModelClient } from '../src/model/client';
import { buildContext } from '../src/model/context';
import { tokensOf } from '../src/model/tokens';
import { fromJson, toJson } from '../src/store/json';
import type { Store } from '../src/store';
import type { RunRow } from '../src/store/repositories/runs';
import type { FunctionToolCall, Usage } from '../src/temporal/shared';
import type { ActivityDeps } from './index';

export interface CallModelInput {
  projectId: string;
  runId: string;
  threadId: string;
  assistantId: string;
  /** Ids minted by the workflow: every attempt of this step writes the same rows. */
  messageStepId: string;
  toolStepId: string;
  messageId: string;
  toolChoiceNone: boolean;
  completionTokensUsed: number;
}

export type CallModelResult =
  | { kind: 'message'; usage: Usage }
  | { kind: 'tool_calls'; stepId: string; toolCalls: FunctionToolCall[]; usage: Usage }
  | { kind: 'incomplete'; reason: 'max_completion_tokens' | 'max_prompt_tokens'; usage: Usage };

type RunTool = {
  type: string;
  function?: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
};

const ZERO: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
const HEARTBEAT_MS = 1_000;

export function modelActivities({ store, model, logger }: ActivityDeps) {
  const client = createModelClient(model.endpoint);

  return {
    /**
     * One model step: build the prompt from the database, stream a Chat Completion, and persist the result
     * as the step's assistant message or its tool_calls step. Heartbeats while streaming so a dead worker is
     * noticed within the heartbeat timeout and a cancel reaches the call within about a second.
     */
    async callModel(input: CallModelInput): Promise<CallModelResult> {
      const ctx = Context.current();
      const run = await store.runs.findById(input.projectId, input.runId);
      if (!run)
        throw ApplicationFailure.create({
          type: 'RunMissing',
          message: `Run ${input.runId} no longer exists.`,
          nonRetryable: true,
        });
      if (ctx.info.attempt > 1) {
        // An earlier attempt may have died mid-stream: start this step over on the same ids.
        await store.runSteps.delete(input.projectId, [input.messageStepId, input.toolStepId]);
        await store.messages.deleteByIds(input.projectId, [input.messageId]);
      }

      const budgetLeft =
        run.max_completion_tokens === null ? undefined : run.max_completion_tokens - input.completionTokensUsed;
      if (budgetLeft !== undefined && budgetLeft <= 0)
        return { kind: 'incomplete', reason: 'max_completion_tokens', usage: ZERO };
      const context = await buildContext(store, run, {
        contextWindowTokens: model.contextWindowTokens,
        completionReserveTokens: Math.min(budgetLeft ?? 4096, 4096),
      });
      if (!context.fits) return { kind: 'incomplete', reason: 'max_prompt_tokens', usage: ZERO };

      const request = chatRequest(run, context.messages, input.toolChoiceNone, budgetLeft);
      const writer = stepWriter(store, input, run);
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

      let text = '';
      const calls: Array<{ id: string; name: string; arguments: string }> = [];
      let finishReason: string | null = null;
      let reportedUsage: Usage | undefined;
      try {
        const stream = await client.chat.completions.create(request, { signal: abort.signal });
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
          if (delta?.content) {
            if (text === '') await writer.openMessage();
            text += delta.content;
          }
          for (const call of delta?.tool_calls ?? []) {
            const slot = (calls[call.index] ??= { id: '', name: '', arguments: '' });
            if (call.id) slot.id = call.id;
            if (call.function?.name) slot.name += call.function.name;
            if (call.function?.arguments) slot.arguments += call.function.arguments;
          }
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
        if (finishReason === null)
          throw new Error('the model stream ended before the model finished (no finish_reason)');
      } catch (error) {
        if (ctx.cancellationSignal.aborted) {
          // Keep what was said so far; the workflow marks the message incomplete (run_cancelled / run_expired).
          if (text !== '') await writer.saveText(text, 'in_progress');
          throw new CancelledFailure('model call cancelled');
        }
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

      const parallel = Boolean(run.parallel_tool_calls);
      const toolCalls = (parallel ? calls : calls.slice(0, 1)).filter(Boolean).map(
        (call): FunctionToolCall => ({
          id: call.id.startsWith('call_') ? call.id : `call_${randomBytes(12).toString('hex')}`,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        }),
      );
      const usage = reportedUsage ?? {
        prompt_tokens: context.promptTokens,
        completion_tokens: tokensOf(text) + toolCalls.reduce((n, c) => n + tokensOf(c.function.arguments), 0),
        total_tokens: 0,
      };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const truncated = finishReason === 'length';

      if (text !== '' || toolCalls.length === 0) {
        await writer.saveText(text, truncated ? 'incomplete' : 'completed', toolCalls.length === 0 ? usage : ZERO);
      }
      if (truncated) return { kind: 'incomplete', reason: 'max_completion_tokens', usage };
      if (toolCalls.length === 0) return { kind: 'message', usage };
      await writer.openToolStep(toolCalls, usage);
      return { kind: 'tool_calls', stepId: input.toolStepId, toolCalls, usage };
    },
  };
}

/** Writes the rows of one model step, by the workflow's ids, so every attempt converges on the same rows. */
function stepWriter(stores: Store, input: CallModelInput, run: RunRow) {
  const now = () => Math.floor(Date.now() / 1000);
  const base = {
    project_id: input.projectId,
    run_id: input.runId,
    thread_id: input.threadId,
    assistant_id: input.assistantId,
    metadata: '{}',
  };
  const messageRow = (text: string, status: 'in_progress' | 'completed' | 'incomplete') => {
    const at = now();
    return {
      project_id: input.projectId,
      id: input.messageId,
      thread_id: input.threadId,
      created_at: at,
      role: 'assistant',
      status,
      content: toJson(text === '' ? [] : [{ type: 'text', text: { value: text, annotations: [] } }]),
      attachments: '[]',
      metadata: '{}',
      assistant_id: input.assistantId,
      run_id: run.id,
      completed_at: status === 'completed' ? at : null,
      incomplete_at: status === 'incomplete' ? at : null,
      incomplete_details: status === 'incomplete' ? toJson({ reason: 'max_tokens' }) : null,
    };
  };
  let messageCreatedAt: number | undefined;
  return {
    async openMessage() {
      messageCreatedAt = now();
      await stores.runSteps.upsert({
        ...base,
        id: input.messageStepId,
        created_at: messageCreatedAt,
        type: 'message_creation',
        status: 'in_progress',
        step_details: toJson({ type: 'message_creation', message_creation: { message_id: input.messageId } }),
        usage: null,
      });
      await stores.messages.upsert({ ...messageRow('', 'in_progress'), created_at: messageCreatedAt });
    },
    async saveText(text: string, status: 'in_progress' | 'completed' | 'incomplete', usage?: Usage) {
      if (messageCreatedAt === undefined) await this.openMessage();
      const row = { ...messageRow(text, status), created_at: messageCreatedAt ?? now() };
      if (status === 'in_progress') {
        await stores.messages.updateIfOpen(input.projectId, input.messageId, { content: row.content });
        return;
      }
      await stores.messages.updateIfOpen(input.projectId, input.messageId, {
        status: row.status,
        content: row.content,
        completed_at: row.completed_at,
        incomplete_at: row.incomplete_at,
        incomplete_details: row.incomplete_details,
      });
      await stores.runSteps.updateIfOpen(input.projectId, input.messageStepId, {
        status: 'completed',
        completed_at: now(),
        usage: usage ? toJson(usage) : null,
      });
    },
    async openToolStep(toolCalls: FunctionToolCall[], usage: Usage) {
      await stores.runSteps.upsert({
        ...base,
        id: input.toolStepId,
        created_at: now(),
        type: 'tool_calls',
        status: 'in_progress',
        step_details: toJson({
          type: 'tool_calls',
          tool_calls: toolCalls.map((c) => ({ ...c, function: { ...c.function, output: null } })),
        }),
        usage: toJson(usage),
      });
    },
  };
}

/** The Chat Completions request for this step, from the run's effective settings. */
function chatRequest(
  run: RunRow,
  messages: ChatCompletionCreateParamsStreaming['messages'],
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

  const tools: ChatCompletionTool[] = fromJson<RunTool[]>(run.tools)
    .filter((tool) => tool.type === 'function' && tool.function)
    .map((tool) => ({ type: 'function', function: tool.function! }));
  if (tools.length > 0) {
    request.tools = tools;
    request.parallel_tool_calls = Boolean(run.parallel_tool_calls);
    const choice = fromJson<string | { type: string; function?: { name: string } }>(run.tool_choice);
    if (toolChoiceNone) request.tool_choice = 'none';
    else if (typeof choice === 'string') request.tool_choice = choice as 'auto' | 'none' | 'required';
    else if (choice.type === 'function' && choice.function)
      request.tool_choice = { type: 'function', function: { name: choice.function.name } };
  }
  return request;
}
