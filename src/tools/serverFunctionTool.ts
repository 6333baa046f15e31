import type { FunctionToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { FunctionDefinition } from 'openai/resources/shared';
import type { ServerFunctionSchedule } from '../temporal/shared';
import { functionTool } from './functionTool';
import type { ToolKind } from './types';

/** Extension: a function an operator registered to run on the server (see `server/registry.ts`). */
export interface ServerFunction {
  /** What the model is offered: the registered definition (the executor expects its parameters). */
  definition: FunctionDefinition;
  schedule: ServerFunctionSchedule;
}

/**
 * A server-side function is a function call in every way the client sees (stored, streamed and fed back the
 * same), except who answers it: the run schedules its executor instead of asking the client, and its output
 * shows on the step once that ran.
 */
export function serverFunctionKind(fn: ServerFunction): ToolKind<FunctionToolCall> {
  return {
    ...functionTool,
    executor: 'server',
    offer: (_declared, name) => ({ type: 'function', function: { ...fn.definition, name } }),
    serverCall: (call) => ({
      id: call.id,
      type: 'function',
      name: call.name,
      arguments: call.arguments,
      executor: fn.schedule,
    }),
  };
}
