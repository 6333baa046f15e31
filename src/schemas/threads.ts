import { z } from 'zod';
import { CreateToolResources, OptionalMetadata, ToolResources } from './common';
import { CreateMessageBody } from './messages';

export const CreateThreadBody = z.strictObject({
  messages: z.array(CreateMessageBody).max(32).optional(),
  tool_resources: CreateToolResources.nullable().optional(),
  metadata: OptionalMetadata,
});
export type CreateThreadBody = z.infer<typeof CreateThreadBody>;

export const ModifyThreadBody = z.strictObject({
  tool_resources: ToolResources.nullable().optional(),
  metadata: OptionalMetadata,
});
export type ModifyThreadBody = z.infer<typeof ModifyThreadBody>;
