/**
 * The tool seam: one place per tool type says how it is offered to the model, stored and streamed in a
 * `tool_calls` step, executed (client or server), and fed back into the prompt. See `types.ts`.
 */
export { TOOL_KINDS, kindOf, messagePartsFor, toolbox, type StoredToolChoice, type Toolbox } from './registry';
export { combineAnnotators, type Annotator, type TextAnnotation } from './annotations';
export { serverFunctionKind, type ServerFunction } from './serverFunctionTool';
export type {
  DeclaredTool,
  MessageParts,
  ModelCall,
  RecordedResult,
  ServerToolExecutor,
  ServerToolRequest,
  ToolKind,
  ToolResult,
  ToolType,
} from './types';
