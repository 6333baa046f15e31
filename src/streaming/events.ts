import type { Message } from 'openai/resources/beta/threads/messages';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import type { RunStep, ToolCallDelta } from 'openai/resources/beta/threads/runs/steps';
import type { Thread } from 'openai/resources/beta/threads/threads';
import type { NewRunEvent } from '../store/repositories/runEvents';
import type { TextAnnotation } from '../tools/annotations';

/**
 * The events of a run's log, shaped exactly as the Assistants stream sends them (reference §4.2–4.3). The
 * keys say what each event reports, so the same fact is never logged twice (see migration 003).
 */

/** A stream ends after one of these (and `done`): the run stopped for the client or for good. */
export const FINAL_RUN_EVENTS: ReadonlySet<string> = new Set(
  ['requires_action', 'completed', 'incomplete', 'failed', 'cancelled', 'expired'].map((s) => `thread.run.${s}`),
);

export function threadCreated(thread: Thread): NewRunEvent {
  return { event: 'thread.created', data: thread, key: 'thread.created' };
}

export function runCreated(run: Run): NewRunEvent {
  return { event: 'thread.run.created', data: run, key: 'run.created' };
}

/** `thread.run.<status>` for the run's snapshot number `version`. */
export function runStatus(run: Run, version: number): NewRunEvent {
  return { event: `thread.run.${run.status}`, data: run, key: `run.v${version}` };
}

export function stepStatus(step: RunStep, status: RunStep['status'] | 'created' = step.status): NewRunEvent {
  return { event: `thread.run.step.${status}`, data: step, key: `${step.id}:${status}` };
}

export function messageStatus(message: Message, status: Message['status'] | 'created' = message.status): NewRunEvent {
  return { event: `thread.message.${status}`, data: message, key: `${message.id}:${status}` };
}

/** Key prefix of a message's text deltas; the suffix is the offset where the fragment starts. */
export const textKeyPrefix = (messageId: string) => `${messageId}:text:`;

/**
 * A fragment of the message's text content (the part at `index`: after any images) starting at `offset`; the
 * first one opens the part.
 */
export function textDelta(messageId: string, offset: number, value: string, index = 0): NewRunEvent {
  const text = offset === 0 ? { value, annotations: [] } : { value };
  return messageDelta(messageId, [{ index, type: 'text', text }], `${textKeyPrefix(messageId)}${offset}`);
}

/** The images a message shows before its text (code_interpreter's charts), as one delta when it opens. */
export function imageFilesDelta(messageId: string, fileIds: string[]): NewRunEvent {
  const content = fileIds.map((file_id, index) => ({ index, type: 'image_file', image_file: { file_id } }));
  return messageDelta(messageId, content, `${messageId}:images`);
}

/** The text's annotations, each once and complete under its own index, once the text is final. */
export function annotationsDelta(messageId: string, index: number, annotations: TextAnnotation[]): NewRunEvent {
  const text = { annotations: annotations.map((annotation, i) => ({ index: i, ...annotation })) };
  return messageDelta(messageId, [{ index, type: 'text', text }], `${messageId}:annotations`);
}

function messageDelta(messageId: string, content: object[], key: string): NewRunEvent {
  return {
    event: 'thread.message.delta',
    data: { id: messageId, object: 'thread.message.delta', delta: { content } },
    key,
  };
}

/** Key prefix of all of a tool_calls step's deltas, and of those for call `index`. */
export const callsKeyPrefix = (stepId: string) => `${stepId}:call`;
export const callKeyPrefix = (stepId: string, index: number) => `${callsKeyPrefix(stepId)}${index}:`;

function stepDelta(stepId: string, call: ToolCallDelta): Record<string, unknown> {
  return {
    id: stepId,
    object: 'thread.run.step.delta',
    delta: { step_details: { type: 'tool_calls', tool_calls: [call] } },
  };
}

/** A tool call's first delta: the only one carrying its id, type and identity (the SDKs concatenate strings). */
export function toolCallStarted(stepId: string, index: number, delta: ToolCallDelta): NewRunEvent {
  return {
    event: 'thread.run.step.delta',
    data: stepDelta(stepId, delta),
    key: `${callKeyPrefix(stepId, index)}start`,
  };
}

/** A fragment of what a call streams (a function's arguments, code_interpreter's input) starting at `offset`. */
export function toolCallText(stepId: string, index: number, offset: number, delta: ToolCallDelta): NewRunEvent {
  return {
    event: 'thread.run.step.delta',
    data: stepDelta(stepId, delta),
    key: `${callKeyPrefix(stepId, index)}${offset}`,
  };
}

/** A built-in call's results (code_interpreter's outputs), once they are known. */
export function toolCallResult(stepId: string, index: number, delta: ToolCallDelta): NewRunEvent {
  return {
    event: 'thread.run.step.delta',
    data: stepDelta(stepId, delta),
    key: `${callKeyPrefix(stepId, index)}result`,
  };
}
