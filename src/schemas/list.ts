import { z } from 'zod';

/**
 * The standard list query. Unknown query parameters are ignored (SDKs add their own); the known ones are
 * checked. `limit` arrives as a string and is coerced.
 */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
  before: z.string().min(1).optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const ListMessagesQuery = ListQuery.extend({ run_id: z.string().min(1).optional() });
export type ListMessagesQuery = z.infer<typeof ListMessagesQuery>;
