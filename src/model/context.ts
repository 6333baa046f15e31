import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Store } from '../store';
import { fromJson } from '../store/json';
import type { MessageRow } from '../store/repositories/messages';
import type { RunRow } from '../store/repositories/runs';
import type { RunStepRow } from '../store/repositories/runSteps';
import { SERVER_SOURCE, type ToolOutputRow } from '../store/repositories/toolOutputs';
import { kindOf, type Toolbox } from '../tools';
import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import { memoryWindow } from './memory';
import { inlineStoredImages, storedImagePart } from './images';
import { newestThatFit } from './threadWindow';
import type { TokenCounter } from './tokenPool';

export interface ContextLimits {
  /** The model's context window; `auto` truncation fits the prompt into it, less the completion reserve. */
  contextWindowTokens: number;
  completionReserveTokens: number;
  /** What is left of the run's `max_prompt_tokens` (a budget for the whole run, not per call). */
  promptTokensLeft: number | undefined;
}

export type BuiltContext =
  | { fits: true; messages: ChatCompletionMessageParam[]; promptTokens: number }
  | { fits: false };

type TruncationStrategy = { type: 'auto' | 'last_messages'; last_messages: number | null };

const IMAGE_TOKENS = 85;
/**
 * Per-message overhead of the chat format (role markers and separators). Defined here rather than beside the
 * tokenizer: this module runs on the main thread, which must not load the tokenizer (tokenPool.ts).
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * The prompt for one model step: the run's instructions, then as much of the thread as the truncation
 * strategy and the token budget allow (newest kept, oldest dropped), then this run's own exchange so far
 * (its tool calls with their outputs), which is never truncated.
 */
export async function buildContext(
  store: Store,
  run: RunRow,
  limits: ContextLimits,
  tools: Toolbox,
  tokens: TokenCounter,
  exchange?: RunExchangeRows,
): Promise<BuiltContext> {
  const system = [run.instructions, run.additional_instructions].filter((part) => part && part.length > 0).join('\n\n');
  const head: ChatCompletionMessageParam[] = system ? [{ role: 'system', content: system }] : [];
  const tail = runExchange(exchange ?? (await readRunExchange(store, run)), tools);
  const fixed = (await messageCosts(head.concat(tail), tokens)).reduce((sum, cost) => sum + cost, 0);

  const windowBudget = limits.contextWindowTokens - limits.completionReserveTokens;
  const budget = Math.min(windowBudget, limits.promptTokensLeft ?? Number.POSITIVE_INFINITY);
  if (fixed > budget) return { fits: false };

  const strategy = fromJson<TruncationStrategy>(run.truncation_strategy);
  // Extension: the run's memory window bounds the thread first (see model/memory.ts).
  const memory = memoryWindow(run.memory);
  const maxMessages = Math.min(
    memory.maxMessages,
    strategy.type === 'last_messages' ? (strategy.last_messages ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY,
  );
  const thread = await newestThatFit(store, run, { budget: budget - fixed, maxMessages, memory }, (rows) =>
    messageCosts(rows.map(toChatMessage), tokens),
  );
  // Nothing of the thread fits: answering without the user's last message would be answering nothing.
  if (thread.sawAny && thread.rows.length === 0 && tail.length === 0) return { fits: false };
  return {
    fits: true,
    // Stored images are read only now, for the messages that made it into the prompt.
    messages: await inlineStoredImages(store.files, run.project_id, head.concat(thread.rows.map(toChatMessage), tail)),
    promptTokens: fixed + thread.tokens,
  };
}

/** What the run itself has said so far, as rows: its steps, the messages they wrote, what the server ran. */
export interface RunExchangeRows {
  /** The results of the calls the server ran (`SERVER_SOURCE`). */
  recorded: ToolOutputRow[];
  steps: RunStepRow[];
  messages: ReadonlyMap<string, MessageRow>;
}

/**
 * Reads the run's exchange: the steps and the server's results at once (unless the caller has just read the
 * latter: `known`), then the messages in one query.
 */
export async function readRunExchange(store: Store, run: RunRow, known?: ToolOutputRow[]): Promise<RunExchangeRows> {
  const [recorded, steps] = await Promise.all([
    known ?? store.toolOutputs.forSource(run.project_id, run.id, SERVER_SOURCE),
    store.runSteps.listForRun(run.project_id, run.id),
  ]);
  const ids = steps.flatMap((step) => writtenMessageId(step) ?? []);
  const messages = new Map((await store.messages.byIds(run.project_id, ids)).map((row) => [row.id, row]));
  return { recorded, steps, messages };
}

/** The message a completed message_creation step wrote; undefined for any other step. */
function writtenMessageId(step: RunStepRow): string | undefined {
  if (step.type !== 'message_creation' || step.status !== 'completed') return undefined;
  return fromJson<{ message_creation: { message_id: string } }>(step.step_details).message_creation.message_id;
}

/**
 * This run's own exchange so far: each message it wrote, and each completed tool_calls step as the
 * assistant's calls followed by one tool message per call, each kind of tool in its own words.
 */
function runExchange({ recorded, steps, messages }: RunExchangeRows, tools: Toolbox): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  const results = new Map(
    recorded.map((row) => [row.call_id, { output: row.output, arguments: row.arguments ?? undefined }]),
  );
  for (const step of steps) {
    const messageId = writtenMessageId(step);
    if (messageId !== undefined) {
      const row = messages.get(messageId);
      if (row) out.push(toChatMessage(row));
    }
    if (step.type === 'tool_calls' && step.status === 'completed') {
      const calls = fromJson<{ tool_calls: ToolCall[] }>(step.step_details).tool_calls.map((call) => {
        const name = tools.nameOf(call);
        return { id: call.id, name, ...kindOf(call.type).toPrompt(call, name, results.get(call.id)) };
      });
      out.push({
        role: 'assistant',
        content: null,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        })),
      });
      for (const call of calls) out.push({ role: 'tool', tool_call_id: call.id, content: call.output });
    }
  }
  return out;
}

function toChatMessage(row: MessageRow): ChatCompletionMessageParam {
  const content = fromJson<Message['content']>(row.content);
  const text = content
    .map((part) => (part.type === 'text' ? part.text.value : part.type === 'refusal' ? part.refusal : ''))
    .filter((value) => value.length > 0)
    .join('\n');
  const hasImages = content.some((part) => part.type === 'image_url' || part.type === 'image_file');
  if (row.role === 'assistant' || !hasImages)
    return { role: row.role === 'assistant' ? 'assistant' : 'user', content: text };
  // Parts keep their order: "the first image" and "the second" must mean the same to the model as to the user.
  const parts: ChatCompletionContentPart[] = [];
  for (const part of content) {
    if (part.type === 'text' && part.text.value) parts.push({ type: 'text', text: part.text.value });
    if (part.type === 'image_url') {
      parts.push({
        type: 'image_url',
        image_url: { url: part.image_url.url, detail: part.image_url.detail ?? 'auto' },
      });
    }
    if (part.type === 'image_file') parts.push(storedImagePart(part.image_file.file_id, part.image_file.detail));
  }
  return { role: 'user', content: parts };
}

/** What each message costs in a prompt, its texts counted together in one request to the counting thread. */
async function messageCosts(messages: ChatCompletionMessageParam[], tokens: TokenCounter): Promise<number[]> {
  const parts = messages.map(costParts);
  const counts = await tokens.count(parts.flatMap((p) => p.texts));
  let next = 0;
  return parts.map((p) => p.texts.reduce((sum) => sum + counts[next++]!, p.fixed));
}

/** A message's texts to tokenise, and the tokens it costs besides (the chat format's overhead, images). */
function costParts(message: ChatCompletionMessageParam): { texts: string[]; fixed: number } {
  const texts: string[] = [];
  let fixed = MESSAGE_OVERHEAD_TOKENS;
  const content = 'content' in message ? message.content : null;
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part.type === 'text') texts.push(part.text);
      else fixed += IMAGE_TOKENS;
    }
  }
  if (message.role === 'assistant' && message.tool_calls) {
    for (const call of message.tool_calls) {
      if (call.type === 'function') texts.push(call.function.name, call.function.arguments);
    }
  }
  return { texts, fixed };
}
