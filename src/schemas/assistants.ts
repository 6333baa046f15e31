import { z } from 'zod';
import { OptionalMetadata, ReasoningEffort, ResponseFormat, Temperature, Tool, ToolResources, TopP } from './common';

const fields = {
  name: z.string().max(256).nullable().optional(),
  description: z.string().max(512).nullable().optional(),
  instructions: z.string().max(256_000).nullable().optional(),
  reasoning_effort: ReasoningEffort,
  tools: z.array(Tool).max(128).optional(),
  tool_resources: ToolResources.nullable().optional(),
  metadata: OptionalMetadata,
  temperature: Temperature,
  top_p: TopP,
  response_format: ResponseFormat.nullable().optional(),
};

export const CreateAssistantBody = z.strictObject({ model: z.string().min(1), ...fields });
export type CreateAssistantBody = z.infer<typeof CreateAssistantBody>;

export const ModifyAssistantBody = z.strictObject({ model: z.string().min(1).optional(), ...fields });
export type ModifyAssistantBody = z.infer<typeof ModifyAssistantBody>;
