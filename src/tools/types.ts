import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import type { ToolCall, ToolCallDelta } from 'openai/resources/beta/threads/runs/steps';
import type { Tool } from '../schemas/common';
import type { ServerToolCall } from '../temporal/shared';
import type { Annotator } from './annotations';

/** A tool as an assistant or run declares it (the request's `tools[]` entry, stored as given). */
export type DeclaredTool = Tool;
export type ToolType = DeclaredTool['type'];

/** A call as the model made it: the id it chose (or ours), the function name it used, its arguments. */
export interface ModelCall {
  id: string;
  name: string;
  arguments: string;
}

/** What an executor recorded for one call: the text the model sees next, and the call's wire fields. */
export interface ToolResult {
  /** The tool message content the model receives in the next prompt. */
  output: string;
  /** The wire call with its results filled in (e.g. code_interpreter outputs, file_search results). */
  call?: ToolCall;
  /** The arguments the model sent, where the stored call does not keep them (file_search's queries). */
  arguments?: string;
  /** What the call produced beyond the wire call, for the assistant's next message (see `messageParts`). */
  extras?: unknown;
}

/** A server-run call's recorded result, as the next model step reads it back. */
export interface RecordedResult {
  call: ToolCall | undefined;
  extras: unknown;
}

/**
 * One kind of tool, declared once: how it is offered to the model, how its call is stored in a `tool_calls`
 * step and streamed as step deltas, who executes it, and how the call and its result go back into the prompt.
 * Function tools go to the client through `requires_action`; built-in tools run in activities on the server.
 */
export interface ToolKind<C extends ToolCall = ToolCall> {
  readonly type: C['type'];
  /** `client`: the run waits in `requires_action` for its output. `server`: an activity produces it. */
  readonly executor: 'client' | 'server';
  /** The name the model knows a declared tool by (a function's own name; a built-in's reserved name). */
  nameFor(declared: DeclaredTool): string;
  /** The chat tool offered to the model under `name`, or undefined when this server cannot run it. */
  offer(declared: DeclaredTool, name: string, available: ReadonlySet<ToolType>): ChatCompletionFunctionTool | undefined;
  /**
   * The part of a call that streams to clients while the model writes it: a function's raw arguments, the
   * decoded `input` of a code_interpreter call; nothing for file_search. Must only grow as `args` grows.
   */
  streamedText(args: string): string;
  /** The call's first delta, the only one carrying its id and type (the SDKs concatenate strings). */
  startDelta(index: number, id: string, name: string): ToolCallDelta;
  /** A later fragment of `streamedText`. */
  textDelta(index: number, fragment: string): ToolCallDelta;
  /** Reads back what a logged delta of this kind streamed (a retried attempt continues from there). */
  readDelta(delta: ToolCallDelta): { name?: string; text?: string };
  /** The call as stored in the step, from what the model said (results not known yet). */
  stored(call: ModelCall): C;
  /**
   * How the run workflow schedules a call of a server kind; built-ins without it are scheduled by type alone.
   * Server-side functions carry their own executor, retry policy and timeout here.
   */
  serverCall?(call: ModelCall): ServerToolCall;
  /** The delta that shows a server-run call's results once it ran (code_interpreter's outputs), if any. */
  resultDelta?(index: number, call: C): ToolCallDelta | undefined;
  /** The call and its result as the model sees them in the next prompt. */
  toPrompt(call: C, name: string, result: ToolResult | undefined): { arguments: string; output: string };
  /**
   * What this kind's results of the run give the assistant's message: annotations for its text (citations,
   * `sandbox:` links) and image files to show in it. Called with this kind's results only, oldest first.
   */
  messageParts?(results: RecordedResult[]): MessageParts;
}

export interface MessageParts {
  annotate?: Annotator;
  images?: string[];
}

/** What a built-in tool's executor gets: the run it serves and the call as the model made it. */
export interface ServerToolRequest {
  projectId: string;
  runId: string;
  threadId: string;
  assistantId: string;
  stepId: string;
  /** The call as stored in the step (results not yet filled in). */
  call: ToolCall;
  /** The model's arguments, as it wrote them. */
  arguments: string;
  /** Keeps the activity alive while a long call runs (Temporal heartbeats). */
  heartbeat(): void;
  /** Aborted when the run is cancelled or the activity times out. */
  signal: AbortSignal;
}

/** Runs calls of one built-in tool. Failures the model should read come back as a result, not a throw. */
export type ServerToolExecutor = (request: ServerToolRequest) => Promise<ToolResult>;
