import type { FunctionToolCall, FunctionToolCallDelta } from 'openai/resources/beta/threads/runs/steps';
import type { ToolKind } from './types';

/** The client's own functions: offered as declared, answered through `requires_action`. */
export const functionTool: ToolKind<FunctionToolCall> = {
  type: 'function',
  executor: 'client',
  nameFor: (declared) => (declared.type === 'function' ? declared.function.name : declared.type),
  offer: (declared) => (declared.type === 'function' ? { type: 'function', function: declared.function } : undefined),
  streamedText: (args) => args,
  startDelta: (index, id, name) => ({ index, id, type: 'function', function: { name, arguments: '', output: null } }),
  textDelta: (index, fragment) => ({ index, type: 'function', function: { arguments: fragment } }),
  readDelta: (delta) => {
    const fn = (delta as FunctionToolCallDelta).function;
    return { name: fn?.name ?? undefined, text: fn?.arguments ?? undefined };
  },
  // Only calls the server answers (server-side functions) stream their output: once, when it is known.
  resultDelta: (index, call) =>
    call.function.output === null ? undefined : { index, type: 'function', function: { output: call.function.output } },
  stored: (call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments, output: null },
  }),
  toPrompt: (call, _name, result) => ({
    arguments: call.function.arguments,
    output: call.function.output ?? result?.output ?? '',
  }),
};
