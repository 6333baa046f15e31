import { z } from 'zod';
import { CreateToolResources, ReasoningEffort, ResponseFormat, Temperature, Tool, ToolResources, TopP } from './common';
import { OptionalMetadataWithMemory } from './memory';

/** The settings an assistant has (shared with create-from-template, an extension). */
export const assistantFields = {
  name: z.string().max(256).nullable().optional(),
  description: z.string().max(512).nullable().optional(),
  instructions: z.string().max(256_000).nullable().optional(),
  reasoning_effort: ReasoningEffort,
  tools: z.array(Tool).max(128).optional(),
  tool_resources: ToolResources.nullable().optional(),
  metadata: OptionalMetadataWithMemory,
  temperature: Temperature,
  top_p: TopP,
  response_format: ResponseFormat.nullable().optional(),
};

export const CreateAssistantBody = z.strictObject({
  model: z.string().min(1),
  ...assistantFields,
  // Only create makes vector stores on the fly (the spec's ModifyAssistantRequest takes ids).
  tool_resources: CreateToolResources.nullable().optional(),
});
export type CreateAssistantBody = z.infer<typeof CreateAssistantBody>;

export const ModifyAssistantBody = z.strictObject({ model: z.string().min(1).optional(), ...assistantFields });
export type ModifyAssistantBody = z.infer<typeof ModifyAssistantBody>;
