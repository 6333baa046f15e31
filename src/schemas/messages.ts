import { z } from 'zod';
import { OptionalMetadata } from './common';

const Detail = z.enum(['auto', 'low', 'high']).optional();

export const ContentPart = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string() }),
  z.strictObject({
    type: z.literal('image_file'),
    image_file: z.strictObject({ file_id: z.string().startsWith('file-'), detail: Detail }),
  }),
  z.strictObject({
    type: z.literal('image_url'),
    image_url: z.strictObject({ url: z.url({ protocol: /^https?$|^data$/ }), detail: Detail }),
  }),
]);
export type ContentPart = z.infer<typeof ContentPart>;

export const Attachment = z.strictObject({
  file_id: z.string().startsWith('file-'),
  tools: z.array(
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('code_interpreter') }),
      z.strictObject({ type: z.literal('file_search') }),
    ]),
  ),
});
export type Attachment = z.infer<typeof Attachment>;

export const CreateMessageBody = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string().max(256_000), z.array(ContentPart).min(1).max(100)]),
  attachments: z.array(Attachment).max(10).nullable().optional(),
  metadata: OptionalMetadata,
});
export type CreateMessageBody = z.infer<typeof CreateMessageBody>;

export const ModifyMessageBody = z.strictObject({ metadata: OptionalMetadata });
export type ModifyMessageBody = z.infer<typeof ModifyMessageBody>;
