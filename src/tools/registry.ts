import type { ChatCompletionFunctionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import { codeInterpreterTool } from './codeInterpreterTool';
import { fileSearchTool } from './fileSearchTool';
import { functionTool } from './functionTool';
import { serverFunctionKind, type ServerFunction } from './serverFunctionTool';
import { combineAnnotators, type Annotator } from './annotations';
import type { DeclaredTool, RecordedResult, ToolKind, ToolType } from './types';

export const TOOL_KINDS: { readonly [T in ToolType]: ToolKind } = {
  function: functionTool as ToolKind,
  code_interpreter: codeInterpreterTool as ToolKind,
  file_search: fileSearchTool as ToolKind,
};

export function kindOf(type: string): ToolKind {
  return TOOL_KINDS[type as ToolType] ?? TOOL_KINDS.function;
}

/** The tool choice a run stores: OpenAI's strings, or a named tool of any type. */
export type StoredToolChoice = string | { type: string; function?: { name: string } };

/**
 * What one run offers the model: its declared tools that this server can run, each under the name the model
 * calls it by. Built-in tools take reserved names; a client function that already uses one keeps it and the
 * built-in gets a suffix, so every name maps back to exactly one kind. A declared function registered as a
 * server-side tool (extension) is offered with its registered definition. Deterministic in its inputs.
 */
export interface Toolbox {
  /** The `tools` of the Chat Completions request (empty when nothing can be offered). */
  chatTools: ChatCompletionFunctionTool[];
  /** The kind of a call the model made by name (functions for anything not a built-in's name). */
  kindOfCall(name: string): ToolKind;
  /** The name a kind was offered under (what the model used when it called it). */
  nameOf(call: ToolCall): string;
  /** The request's `tool_choice` for the run's stored choice (a built-in that is not offered means `auto`). */
  toolChoice(choice: StoredToolChoice): ChatCompletionToolChoiceOption;
}

export function toolbox(
  declared: readonly DeclaredTool[],
  available: ReadonlySet<ToolType>,
  serverFunctions: ReadonlyMap<string, ServerFunction> = new Map(),
): Toolbox {
  const taken = new Set(declared.flatMap((tool) => (tool.type === 'function' ? [tool.function.name] : [])));
  const builtinNames = new Map<ToolType, string>();
  const chatTools: ChatCompletionFunctionTool[] = [];
  // Extension: a declared function the operator registered runs on the server, under its own name.
  const serverKinds = new Map<string, ToolKind>();
  for (const tool of declared) {
    const server = tool.type === 'function' ? serverFunctions.get(tool.function.name) : undefined;
    const kind = server ? serverFunctionKind(server) : TOOL_KINDS[tool.type];
    let name = kind.nameFor(tool);
    if (tool.type !== 'function') {
      if (builtinNames.has(tool.type)) continue; // declared twice: offered once
      for (let n = 1; taken.has(name); n++) name = `${kind.nameFor(tool)}_builtin${n > 1 ? n : ''}`;
    }
    const offered = kind.offer(tool, name, available);
    if (!offered) continue;
    chatTools.push(offered);
    if (server) serverKinds.set(name, kind);
    if (tool.type !== 'function') {
      taken.add(name);
      builtinNames.set(tool.type, name);
    }
  }
  const byName = new Map([...builtinNames].map(([type, name]) => [name, TOOL_KINDS[type]]));
  for (const [name, kind] of serverKinds) byName.set(name, kind);
  return {
    chatTools,
    kindOfCall: (name) => byName.get(name) ?? TOOL_KINDS.function,
    nameOf: (call) =>
      call.type === 'function'
        ? call.function.name
        : (builtinNames.get(call.type) ?? TOOL_KINDS[call.type].nameFor({ type: call.type } as DeclaredTool)),
    toolChoice(choice) {
      if (typeof choice === 'string') return choice as 'auto' | 'none' | 'required';
      if (choice.type === 'function' && choice.function)
        return { type: 'function', function: { name: choice.function.name } };
      const name = builtinNames.get(choice.type as ToolType);
      return name ? { type: 'function', function: { name } } : 'auto';
    },
  };
}

/**
 * What the run's recorded tool results give its next assistant message, every kind's contribution combined:
 * one annotator for the text, and the images to show (oldest first).
 */
export function messagePartsFor(results: RecordedResult[]): { annotate: Annotator; images: string[] } {
  const byType = new Map<string, RecordedResult[]>();
  for (const result of results) {
    if (!result.call) continue;
    byType.set(result.call.type, [...(byType.get(result.call.type) ?? []), result]);
  }
  const annotators: Annotator[] = [];
  const images: string[] = [];
  for (const [type, ofType] of byType) {
    const parts = kindOf(type).messageParts?.(ofType);
    if (parts?.annotate) annotators.push(parts.annotate);
    images.push(...(parts?.images ?? []));
  }
  return { annotate: combineAnnotators(annotators), images };
}
