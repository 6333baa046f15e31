import type { Logger } from '../src/logger';
import type { Store } from '../src/store';
import type { Usage } from '../src/temporal/shared';
import type { Toolbox } from '../src/tools';
import { alreadyStreamed, NOTHING_STREAMED } from './steps/earlierAttempts';
import { MessagePart, type MessageExtras } from './steps/messagePart';
import { ZERO, type StepIds } from './steps/rows';
import { ToolCallsPart, type MadeCall } from './steps/toolCallsPart';
import { WriteQueue } from './steps/writeQueue';

export type { StepIds } from './steps/rows';
export type { MadeCall } from './steps/toolCallsPart';
export type StepStream = Awaited<ReturnType<typeof openStepStream>>;

/**
 * Turns one model step into rows and stream events as the model produces it: the message (or the tool_calls
 * step) opens at the first token, text and tool-call progress go out as deltas, and the closing events follow.
 * This function only decides the order — the message closes before a tool step opens, a retried attempt's
 * leftovers are closed before this attempt answers the other way — and hands the writes to the two parts
 * (`steps/`), which share one ordered write queue.
 */
export async function openStepStream(
  store: Store,
  logger: Logger,
  ids: StepIds,
  attempt: number,
  options: { parallelToolCalls: boolean; tools: Toolbox; message: MessageExtras },
) {
  const writer = { step: ids.messageStepId, attempt };
  // A retried attempt claims the log first, so an earlier attempt still running somewhere (its heartbeats
  // lost) cannot add to it any more; then it reads what that attempt streamed, to continue from there.
  if (attempt > 1) await store.runEvents.claim(ids.runId, writer);
  const streamed = attempt > 1 ? await alreadyStreamed(store, ids) : NOTHING_STREAMED;
  const queue = new WriteQueue((events) => store.runEvents.append(ids.runId, events, { writer }).then(() => undefined));
  const message = new MessagePart(store, logger, ids, attempt, streamed.text, options.message);
  const calls = new ToolCallsPart(store, ids, attempt, options.tools, streamed.calls);

  // What an earlier attempt opened in clients' eyes and this attempt has not (yet) continued: if this one
  // answers the other way, those are closed first so the stream never leaves an item open.
  let orphanMessage = streamed.text !== '';
  let orphanCalls = streamed.calls.some(Boolean);

  /** Opening a message continues an earlier attempt's message, and ends its tool calls if it made some. */
  function beginMessage(): void {
    if (orphanCalls) queue.enqueue(calls.closeOrphans);
    orphanCalls = orphanMessage = false;
    queue.enqueue(message.open);
  }

  return {
    /** A content fragment from the model. */
    text(fragment: string): void {
      if (fragment === '' || message.state === 'closed') return; // text after tool calls began is not a message
      const deltaDue = message.append(fragment);
      if (message.state === 'none') {
        message.state = 'open';
        beginMessage();
      }
      if (deltaDue) queue.enqueue(message.deltas);
    },

    /** A tool-call fragment from the model (OpenAI's streaming `delta.tool_calls[]` entry). */
    toolCall(index: number, fragment: { id?: string; name?: string; arguments?: string }): void {
      if (!options.parallelToolCalls && index > 0) return; // only the first call is answered
      const { start, text } = calls.add(index, fragment);
      if (start) {
        if (message.state === 'open') queue.enqueue(message.close('completed', ZERO));
        message.state = 'closed';
        if (!calls.othersStarted(index)) {
          if (orphanMessage) queue.enqueue(message.closeOrphan);
          orphanMessage = orphanCalls = false;
          queue.enqueue(calls.open);
        }
        queue.enqueue(calls.startCall(index));
      }
      if (text) queue.enqueue(calls.textDeltas(index));
    },

    /** Everything the model has said in text so far. */
    textSoFar: (): string => message.textSoFar,

    /** Ends the message (opening an empty one first if the model said nothing at all). */
    closeMessage(status: 'completed' | 'incomplete', usage: Usage): void {
      if (message.state === 'closed') return;
      if (message.state === 'none') beginMessage();
      message.state = 'closed';
      queue.enqueue(message.close(status, usage));
    },

    /** Keeps the text so far in the still-open message (a cancelled or failed call); the run closes it. */
    savePartial(): void {
      if (message.state === 'open') queue.enqueue(message.savePartial);
    },

    /** The calls as made: ids fixed, in index order. Call after `settle()`. */
    toolCalls: (): MadeCall[] => calls.calls(),

    /** Records the finished calls (results still unknown) and the step's usage; the step stays in progress. */
    finishToolStep(made: MadeCall[], usage: Usage): void {
      queue.enqueue(calls.finish(made, usage));
    },

    /** A tool_calls step cut short by the token limit ends with the run (reference §4.6, token limit). */
    closeToolStep(usage: Usage): void {
      if (calls.started) queue.enqueue(calls.close(usage));
    },

    /** Waits until every queued write is done; rethrows the first that failed. */
    settle: (): Promise<void> => queue.settle(),
  };
}
