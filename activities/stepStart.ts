import { ApplicationFailure } from '@temporalio/common';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { buildContext, readRunExchange } from '../src/model/context';
import type { ResolvedProvider } from '../src/model/providers';
import { allInOrder } from '../src/settled';
import { fromJson } from '../src/store/json';
import type { RunRow } from '../src/store/repositories/runs';
import { SERVER_SOURCE, type ToolOutputRow } from '../src/store/repositories/toolOutputs';
import type { ResumeRun, RunState, Usage } from '../src/temporal/shared';
import { toolbox, type DeclaredTool, type StoredToolChoice, type Toolbox } from '../src/tools';
import { availableForRun } from './fileSearch';
import type { ActivityDeps } from './index';
import { persistRunStates, toolStepCompletion } from './persistence';
import { messageExtras } from './steps/messageExtras';
import type { MessageExtras } from './steps/messagePart';
import { ZERO, type StepIds } from './steps/rows';
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

export type Incomplete = { kind: 'incomplete'; reason: 'max_completion_tokens' | 'max_prompt_tokens'; usage: Usage };

export interface PreparedStep {
  kind: 'ready';
  request: ChatCompletionCreateParamsStreaming;
  provider: ResolvedProvider;
  offered: Toolbox;
  extras: MessageExtras;
  promptTokens: number;
}

/**
 * The run's row, and the writes that open the step. The tool_calls step the outputs answer completes before
 * this returns (the prompt shows its outputs); the run's snapshots (`queued` after outputs, then
 * `in_progress`) and their events go in one append behind `logged`, which the caller awaits while it reads the
 * prompt and before the step's own first event.
 */
export async function beginStep(
  { store }: ActivityDeps,
  input: CallModelInput,
): Promise<{ run: RunRow; logged: Promise<void>; recorded?: ToolOutputRow[] }> {
  // After outputs, the server's results are read once, for the completing step and the prompt alike (the
  // step before this one ran every server call before the run asked the client).
  const recorded = input.resume ? store.toolOutputs.forSource(input.projectId, input.runId, SERVER_SOURCE) : undefined;
  const [run, completed, recordedRows] = await allInOrder([
    store.runs.findById(input.projectId, input.runId),
    input.resume ? toolStepCompletion(store, input.resume, recorded) : Promise.resolve(undefined),
    recorded ?? Promise.resolve(undefined),
  ]);
  if (!run) {
    throw ApplicationFailure.create({
      type: 'RunMissing',
      message: `Run ${input.runId} no longer exists.`,
      nonRetryable: true,
    });
  }
  const states = [input.resume?.state, input.runState].filter((state): state is RunState => state !== undefined);
  const logged = persistRunStates(store, run, states, completed?.events);
  logged.catch(() => undefined); // handled from the start; the caller awaits it and sees its failure
  return { run, logged, recorded: recordedRows };
}

/**
 * Everything the model request needs, read from the database: the run's budget, the tools it may offer, its
 * provider, and the prompt. `incomplete` when the budget is spent or the prompt cannot fit.
 */
export async function preparePrompt(
  { store, logger, tools, providers, tokens }: ActivityDeps,
  run: RunRow,
  input: CallModelInput,
  attempt: number,
  recorded?: ToolOutputRow[],
): Promise<PreparedStep | Incomplete> {
  if (attempt > 1) {
    unstickAfterRetry(logger);
    // An earlier attempt may have died mid-stream: start this step over on the same ids, before the prompt
    // is read (its partial message must not be in it).
    await store.runSteps.deleteEarlierAttempts(input.projectId, [input.messageStepId, input.toolStepId], attempt);
    await store.messages.deleteEarlierAttempts(input.projectId, [input.messageId], attempt);
  }
  const budgetLeft =
    run.max_completion_tokens === null ? undefined : run.max_completion_tokens - input.completionTokensUsed;
  if (budgetLeft !== undefined && budgetLeft <= 0) {
    return { kind: 'incomplete', reason: 'max_completion_tokens', usage: ZERO };
  }
  const promptTokensLeft = run.max_prompt_tokens === null ? undefined : run.max_prompt_tokens - input.promptTokensUsed;
  if (promptTokensLeft !== undefined && promptTokensLeft <= 0) {
    return { kind: 'incomplete', reason: 'max_prompt_tokens', usage: ZERO };
  }
  const declared = fromJson<DeclaredTool[]>(run.tools);
  const functionNames = declared.flatMap((tool) => (tool.type === 'function' ? [tool.function.name] : []));
  // Independent reads, at once (on PostgreSQL each is a round trip), failing in the order they had.
  const [serverFunctions, available, provider, exchange] = await allInOrder([
    tools.serverFunctions?.functionsNamed(run.project_id, functionNames) ?? Promise.resolve(undefined),
    availableForRun(store, tools.available, run),
    providers.forRun(run),
    readRunExchange(store, run, recorded),
  ]);
  const extras = await messageExtras(store, run.project_id, run.id, exchange.recorded);
  const offered = toolbox(declared, available, serverFunctions);
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
    exchange,
  );
  if (!context.fits) return { kind: 'incomplete', reason: 'max_prompt_tokens', usage: ZERO };
  const request = provider.adapt(chatRequest(run, context.messages, offered, input.toolChoiceNone, budgetLeft));
  return { kind: 'ready', request, provider, offered, extras, promptTokens: context.promptTokens };
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
