import { createHash } from 'node:crypto';
import type { Logger } from '../src/logger';
import type { Store } from '../src/store';
import { fromJson, toJson } from '../src/store/json';
import type { MessageRow } from '../src/store/repositories/messages';
import type { NewRunEvent } from '../src/store/repositories/runEvents';
import type { RunStepRow } from '../src/store/repositories/runSteps';
import {
  callsKeyPrefix,
  messageStatus,
  stepStatus,
  textDelta,
  textKeyPrefix,
  toolCallArguments,
  toolCallStarted,
} from '../src/streaming/events';
import type { FunctionToolCall, Usage } from '../src/temporal/shared';
import { messageObject } from '../src/wire/objects';
import { runStepObject } from '../src/wire/runs';

/** The ids the workflow minted for one model step: every attempt writes the same rows and events. */
export interface StepIds {
  projectId: string;
  runId: string;
  threadId: string;
  assistantId: string;
  messageStepId: string;
  toolStepId: string;
  messageId: string;
}

/** What earlier attempts of this step already put in the run's log (deltas cannot be taken back). */
interface AlreadyStreamed {
  text: string;
  calls: Array<{ id: string; name: string; arguments: string } | undefined>;
}

interface CallSlot {
  modelId: string;
  name: string;
  arguments: string;
  /** The id the client sees, fixed when the call's first delta is logged. */
  id: string | undefined;
  /** How much of `arguments` the log already has. */
  logged: number;
  argumentsPending: boolean;
}

type Op = () => Promise<NewRunEvent[]>;

export type StepStream = Awaited<ReturnType<typeof openStepStream>>;

/**
 * Turns one model step into rows and stream events as the model produces it: the message (or tool_calls
 * step) opens at the first token, text and arguments go out as deltas, and the closing events follow.
 *
 * Writes run in order on a single background queue, so the model stream is never held up by the database
 * and whatever arrives while a write is in flight goes out together in the next one (deltas are model
 * tokens or larger, and a slow database coalesces more). A retried attempt converges on the same rows by the
 * workflow's ids and continues the log where the earlier attempt left it: text and arguments already sent
 * are not sent again, and tool calls keep the ids clients already saw.
 */
export async function openStepStream(
  store: Store,
  logger: Logger,
  ids: StepIds,
  attempt: number,
  options: { parallelToolCalls: boolean },
) {
  const writer = { step: ids.messageStepId, attempt };
  if (attempt > 1) await store.runEvents.claim(ids.runId, writer);
  const streamed = attempt > 1 ? await alreadyStreamed(store, ids) : { text: '', calls: [] };
  // What an earlier attempt opened in clients' eyes and this attempt has not (yet) continued: if this one
  // answers the other way, those are closed first so the stream never leaves an item open.
  let orphanMessage = streamed.text !== '';
  let orphanCalls = streamed.calls.some(Boolean);
  const now = () => Math.floor(Date.now() / 1000);

  let text = '';
  let textLogged = streamed.text.length;
  let textPending = false;
  let diverged = false;
  let message: 'none' | 'open' | 'closed' = 'none';
  let messageRow: MessageRow | undefined;
  let messageStepRow: RunStepRow | undefined;
  let toolStepRow: RunStepRow | undefined;
  const calls: Array<CallSlot | undefined> = [];
  let usedCallIds: Set<string> | undefined;

  const queue: Op[] = [];
  let draining: Promise<void> | undefined;
  let failure: unknown;

  function enqueue(op: Op): void {
    if (failure !== undefined) return; // settle() reports it; nothing more is written
    queue.push(op);
    kick();
  }

  /**
   * Starts a drain unless one is running. A drain that finishes re-checks the queue itself: an op queued
   * between its last look and its end would otherwise wait for the next op, or be missed by settle().
   */
  function kick(): void {
    if (draining || failure !== undefined || queue.length === 0) return;
    draining = drain().finally(() => {
      draining = undefined;
      kick();
    });
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const events: NewRunEvent[] = [];
        for (const op of queue.splice(0)) events.push(...(await op()));
        await store.runEvents.append(ids.runId, events, { writer });
      }
    } catch (error) {
      failure = error;
      queue.length = 0;
    }
  }

  const stepBase = {
    project_id: ids.projectId,
    run_id: ids.runId,
    thread_id: ids.threadId,
    assistant_id: ids.assistantId,
    status: 'in_progress',
    last_error: null,
    expired_at: null,
    cancelled_at: null,
    failed_at: null,
    completed_at: null,
    metadata: '{}',
    usage: null,
    attempt,
  };
  const content = () => toJson(text === '' ? [] : [{ type: 'text', text: { value: text, annotations: [] } }]);

  /** The text not yet in the log, as one delta. */
  function textDeltas(): NewRunEvent[] {
    textPending = false;
    if (text.length <= textLogged) return [];
    if (!diverged && streamed.text !== '' && !text.startsWith(streamed.text.slice(0, text.length))) {
      diverged = true;
      logger.warn(
        { runId: ids.runId, messageId: ids.messageId, attempt },
        'retried model step answered differently from the text already streamed; the completed message is authoritative',
      );
    }
    const delta = textDelta(ids.messageId, textLogged, text.slice(textLogged));
    textLogged = text.length;
    return [delta];
  }

  /** The message an earlier attempt streamed, kept as it was seen and closed `incomplete`. */
  const closeOrphanMessage: Op = async () => {
    const at = now();
    const step: RunStepRow = {
      ...stepBase,
      id: ids.messageStepId,
      created_at: at,
      type: 'message_creation',
      status: 'completed',
      completed_at: at,
      usage: toJson(ZERO),
      step_details: toJson({ type: 'message_creation', message_creation: { message_id: ids.messageId } }),
    };
    const orphan: MessageRow = {
      ...messageBase(at),
      status: 'incomplete',
      content: toJson([{ type: 'text', text: { value: streamed.text, annotations: [] } }]),
      incomplete_at: at,
      incomplete_details: toJson({ reason: 'run_failed' }),
    };
    await store.runSteps.upsert({ ...step, attempt });
    await store.messages.upsert({ ...orphan, attempt });
    return [messageStatus(messageObject(orphan)), stepStatus(runStepObject(step))];
  };

  /** The tool calls an earlier attempt streamed and this one did not make: that step failed. */
  const closeOrphanCalls: Op = async () => {
    const at = now();
    const calls = streamed.calls.filter(Boolean).map((c) => ({
      id: c!.id,
      type: 'function',
      function: { name: c!.name, arguments: c!.arguments, output: null },
    }));
    const step: RunStepRow = {
      ...stepBase,
      id: ids.toolStepId,
      created_at: at,
      type: 'tool_calls',
      status: 'failed',
      failed_at: at,
      last_error: toJson({ code: 'server_error', message: 'The model call was retried and answered differently.' }),
      usage: toJson(ZERO),
      step_details: toJson({ type: 'tool_calls', tool_calls: calls }),
    };
    await store.runSteps.upsert({ ...step, attempt });
    return [stepStatus(runStepObject(step))];
  };

  function messageBase(at: number): MessageRow {
    return {
      project_id: ids.projectId,
      id: ids.messageId,
      thread_id: ids.threadId,
      created_at: at,
      role: 'assistant',
      status: 'in_progress',
      content: '[]',
      attachments: '[]',
      metadata: '{}',
      assistant_id: ids.assistantId,
      run_id: ids.runId,
      completed_at: null,
      incomplete_at: null,
      incomplete_details: null,
      attempt,
    };
  }

  /** Opening a message continues an earlier attempt's message, and ends its tool calls if it made some. */
  function beginMessage(): void {
    if (orphanCalls) enqueue(closeOrphanCalls);
    orphanCalls = false;
    orphanMessage = false;
    enqueue(openMessage);
  }

  const openMessage: Op = async () => {
    const at = now();
    messageStepRow = {
      ...stepBase,
      id: ids.messageStepId,
      created_at: at,
      type: 'message_creation',
      step_details: toJson({ type: 'message_creation', message_creation: { message_id: ids.messageId } }),
    };
    messageRow = messageBase(at);
    await store.runSteps.upsert({ ...messageStepRow, attempt });
    await store.messages.upsert({ ...messageRow, attempt });
    const step = runStepObject(messageStepRow);
    const opened = messageObject(messageRow);
    return [stepStatus(step, 'created'), stepStatus(step), messageStatus(opened, 'created'), messageStatus(opened)];
  };

  function closeMessageOp(status: 'completed' | 'incomplete', usage: Usage): Op {
    return async () => {
      const events = textDeltas();
      if (!messageRow || !messageStepRow) return events;
      const at = now();
      const changes = {
        status,
        content: content(),
        completed_at: status === 'completed' ? at : null,
        incomplete_at: status === 'incomplete' ? at : null,
        incomplete_details: status === 'incomplete' ? toJson({ reason: 'max_tokens' }) : null,
      };
      await store.messages.updateIfOpen(ids.projectId, ids.messageId, attempt, changes);
      const stepChanges = { status: 'completed', completed_at: at, usage: toJson(usage) };
      await store.runSteps.updateIfOpen(ids.projectId, ids.messageStepId, stepChanges, attempt);
      Object.assign(messageRow, changes);
      Object.assign(messageStepRow, stepChanges);
      return [...events, messageStatus(messageObject(messageRow)), stepStatus(runStepObject(messageStepRow))];
    };
  }

  const openToolStep: Op = async () => {
    usedCallIds = await callIdsUsedBefore(store, ids);
    toolStepRow = {
      ...stepBase,
      id: ids.toolStepId,
      created_at: now(),
      type: 'tool_calls',
      step_details: toJson({ type: 'tool_calls', tool_calls: [] }),
    };
    await store.runSteps.upsert({ ...toolStepRow, attempt });
    const step = runStepObject(toolStepRow);
    return [stepStatus(step, 'created'), stepStatus(step)];
  };

  function startCallOp(index: number): Op {
    return () => {
      const slot = calls[index]!;
      const earlier = streamed.calls[index];
      slot.id = earlier?.id ?? clientCallId(slot.modelId, usedCallIds ?? new Set(), ids.toolStepId, index);
      usedCallIds?.add(slot.id);
      return Promise.resolve([toolCallStarted(ids.toolStepId, index, slot.id, earlier?.name ?? slot.name)]);
    };
  }

  function argumentDeltas(index: number): NewRunEvent[] {
    const slot = calls[index];
    if (!slot?.id) return [];
    slot.argumentsPending = false;
    if (slot.arguments.length <= slot.logged) return [];
    const delta = toolCallArguments(ids.toolStepId, index, slot.logged, slot.arguments.slice(slot.logged));
    slot.logged = slot.arguments.length;
    return [delta];
  }

  return {
    /** A content fragment from the model. */
    text(fragment: string): void {
      if (fragment === '' || message === 'closed') return; // text after tool calls began is not a message
      text += fragment;
      if (message === 'none') {
        message = 'open';
        beginMessage();
      }
      if (!textPending) {
        textPending = true;
        enqueue(() => Promise.resolve(textDeltas()));
      }
    },

    /** A tool-call fragment from the model (OpenAI's streaming `delta.tool_calls[]` entry). */
    toolCall(index: number, fragment: { id?: string; name?: string; arguments?: string }): void {
      if (!options.parallelToolCalls && index > 0) return; // only the first call is answered
      const slot = (calls[index] ??= {
        modelId: '',
        name: '',
        arguments: '',
        id: undefined,
        logged: streamed.calls[index]?.arguments.length ?? 0,
        argumentsPending: false,
      });
      const starting = slot.name === '' && Boolean(fragment.name);
      if (fragment.id) slot.modelId = fragment.id;
      if (fragment.name) slot.name += fragment.name;
      if (fragment.arguments) slot.arguments += fragment.arguments;
      if (starting) {
        if (message === 'open') enqueue(closeMessageOp('completed', ZERO));
        message = 'closed';
        if (!calls.some((c, i) => i !== index && c?.name)) {
          if (orphanMessage) enqueue(closeOrphanMessage);
          orphanMessage = false;
          orphanCalls = false;
          enqueue(openToolStep);
        }
        enqueue(startCallOp(index));
      }
      if (slot.name !== '' && fragment.arguments && !slot.argumentsPending) {
        slot.argumentsPending = true;
        enqueue(() => Promise.resolve(argumentDeltas(index)));
      }
    },

    /** Everything the model has said in text so far. */
    textSoFar(): string {
      return text;
    },

    /** Ends the message (opening an empty one first if the model said nothing at all). */
    closeMessage(status: 'completed' | 'incomplete', usage: Usage): void {
      if (message === 'closed') return;
      if (message === 'none') beginMessage();
      message = 'closed';
      enqueue(closeMessageOp(status, usage));
    },

    /** Keeps the text so far in the still-open message (a cancelled or failed call); the run closes it. */
    savePartial(): void {
      if (message !== 'open') return;
      enqueue(async () => {
        const events = textDeltas();
        await store.messages.updateIfOpen(ids.projectId, ids.messageId, attempt, { content: content() });
        return events;
      });
    },

    /** The calls as answered to the client: ids fixed, in index order. Call after `settle()`. */
    toolCalls(): FunctionToolCall[] {
      return calls
        .filter((slot): slot is CallSlot => Boolean(slot?.id))
        .map((slot) => ({ id: slot.id!, type: 'function', function: { name: slot.name, arguments: slot.arguments } }));
    },

    /** Records the finished calls (outputs still null) and the step's usage; the step stays in progress. */
    finishToolStep(toolCalls: FunctionToolCall[], usage: Usage): void {
      enqueue(async () => {
        const events = calls.flatMap((_, index) => argumentDeltas(index));
        const details = {
          type: 'tool_calls',
          tool_calls: toolCalls.map((c) => ({ ...c, function: { ...c.function, output: null } })),
        };
        await store.runSteps.upsert({
          ...toolStepRow!,
          step_details: toJson(details),
          usage: toJson(usage),
          attempt,
        });
        return events;
      });
    },

    /** A tool_calls step cut short by the token limit ends with the run (reference §4.6, token limit). */
    closeToolStep(usage: Usage): void {
      if (!calls.some((slot) => slot?.name)) return;
      enqueue(async () => {
        const events = calls.flatMap((_, index) => argumentDeltas(index));
        const changes = { status: 'completed', completed_at: now(), usage: toJson(usage) };
        await store.runSteps.updateIfOpen(ids.projectId, ids.toolStepId, changes, attempt);
        return [...events, stepStatus(runStepObject({ ...toolStepRow!, ...changes }))];
      });
    },

    /** Waits until every queued write is done; rethrows the first that failed. */
    async settle(): Promise<void> {
      while (draining && failure === undefined) await draining;
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error(`event log write failed: ${JSON.stringify(failure)}`);
    },
  };
}

const ZERO: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/** Reads back the deltas earlier attempts of this step logged. */
async function alreadyStreamed(store: Store, ids: StepIds): Promise<AlreadyStreamed> {
  type TextDelta = { delta: { content: Array<{ text: { value: string } }> } };
  type CallDelta = {
    delta: {
      step_details: {
        tool_calls: Array<{ index: number; id?: string; function: { name?: string; arguments?: string } }>;
      };
    };
  };
  const text = (await store.runEvents.withKeyPrefix(ids.runId, textKeyPrefix(ids.messageId)))
    .map((e) => (JSON.parse(e.data) as TextDelta).delta.content[0]?.text.value ?? '')
    .join('');
  const calls: AlreadyStreamed['calls'] = [];
  for (const e of await store.runEvents.withKeyPrefix(ids.runId, callsKeyPrefix(ids.toolStepId))) {
    for (const call of (JSON.parse(e.data) as CallDelta).delta.step_details.tool_calls) {
      const slot = (calls[call.index] ??= { id: '', name: '', arguments: '' });
      if (call.id) slot.id = call.id;
      if (call.function.name) slot.name = call.function.name;
      if (call.function.arguments) slot.arguments += call.function.arguments;
    }
  }
  return { text, calls };
}

/** Ids of the tool calls earlier steps of this run already answered to. */
async function callIdsUsedBefore(store: Store, ids: StepIds): Promise<Set<string>> {
  const used = new Set<string>();
  for (const step of await store.runSteps.listForRun(ids.projectId, ids.runId)) {
    if (step.type !== 'tool_calls' || step.id === ids.toolStepId) continue;
    for (const call of fromJson<{ tool_calls: Array<{ id: string }> }>(step.step_details).tool_calls) used.add(call.id);
  }
  return used;
}

/**
 * Tool-call ids the client will answer to must be unique within the run: some backends number calls
 * `call_0`, `call_1`… afresh every round, and others use no `call_` prefix. The model's id is kept when it
 * is usable (the model sees the same id echoed back in the next prompt either way); otherwise one is derived
 * from the step's id, so a retried attempt would choose the same.
 */
function clientCallId(modelId: string, used: Set<string>, stepId: string, index: number): string {
  if (modelId.startsWith('call_') && !used.has(modelId)) return modelId;
  return `call_${createHash('sha256').update(`${stepId}:${index}`).digest('hex').slice(0, 24)}`;
}
