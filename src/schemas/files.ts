import { z } from 'zod';

/** Purposes a client may upload with (the spec's list); `assistants_output` and the like are written by tools. */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

/**
 * The form fields of `POST /files` other than the file itself, after bracket keys are unfolded
 * (`expires_after[seconds]=3600` → `{ expires_after: { seconds: "3600" } }`). Multipart values are strings,
 * so numbers are coerced.
 */
export const CreateFileBody = z.strictObject({
  purpose: z.enum(UPLOAD_PURPOSES),
  expires_after: z
    .strictObject({
      anchor: z.literal('created_at'),
      seconds: z.coerce.number().int().min(3600).max(2_592_000),
    })
    .optional(),
});
export type CreateFileBody = z.infer<typeof CreateFileBody>;

/** `GET /files`: its own limit (1–10,000, default 10,000), a purpose filter, and no `before`. */
export const ListFilesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
  purpose: z.string().min(1).optional(),
});
export type ListFilesQuery = z.infer<typeof ListFilesQuery>;
