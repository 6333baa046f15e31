import { z } from 'zod';
import type { Filter } from '../vectorStores/types';
import { ChunkingStrategy, Metadata, OptionalMetadata } from './common';
import { ListQuery } from './list';

/**
 * Request bodies of the vector store endpoints, with the spec's limits (reference §1.7–1.9, §5). Strict like
 * every other body: an unknown field is a 400.
 */

/** The one chunking schema, shared with inline stores on assistants and threads. */
export const ChunkingStrategyParam = ChunkingStrategy;
export type ChunkingStrategyParam = z.infer<typeof ChunkingStrategyParam>;

const AttributeValue = z.union([z.string().max(512), z.number(), z.boolean()]);

/** At most 16 keys of at most 64 characters; values strings (≤ 512), numbers or booleans. */
export const Attributes = z
  .record(z.string().max(64), AttributeValue)
  .refine((value) => Object.keys(value).length <= 16, {
    message: 'too many properties. Expected an object with at most 16 properties.',
    params: { openaiCode: 'object_above_max_properties' },
  });

const FileId = z.string().min(1).max(128);

const ExpiresAfter = z.strictObject({
  anchor: z.literal('last_active_at'),
  days: z.number().int().min(1).max(365),
});

export const CreateVectorStoreBody = z.strictObject({
  name: z.string().max(256).nullable().optional(),
  description: z.string().max(512).nullable().optional(),
  file_ids: z.array(FileId).max(500).optional(),
  expires_after: ExpiresAfter.nullable().optional(),
  chunking_strategy: ChunkingStrategyParam.optional(),
  metadata: OptionalMetadata,
});
export type CreateVectorStoreBody = z.infer<typeof CreateVectorStoreBody>;

export const UpdateVectorStoreBody = z.strictObject({
  name: z.string().max(256).nullable().optional(),
  expires_after: ExpiresAfter.nullable().optional(),
  metadata: Metadata.nullable().optional(),
});
export type UpdateVectorStoreBody = z.infer<typeof UpdateVectorStoreBody>;

export const FILE_STATUSES = ['in_progress', 'completed', 'failed', 'cancelled'] as const;

export const ListVectorStoreFilesQuery = ListQuery.extend({ filter: z.enum(FILE_STATUSES).optional() });
export type ListVectorStoreFilesQuery = z.infer<typeof ListVectorStoreFilesQuery>;

export const CreateVectorStoreFileBody = z.strictObject({
  file_id: FileId,
  chunking_strategy: ChunkingStrategyParam.optional(),
  attributes: Attributes.nullable().optional(),
});
export type CreateVectorStoreFileBody = z.infer<typeof CreateVectorStoreFileBody>;

export const UpdateVectorStoreFileBody = z.strictObject({ attributes: Attributes.nullable() });

export const CreateFileBatchBody = z
  .strictObject({
    file_ids: z.array(FileId).min(1).max(2000).optional(),
    files: z.array(CreateVectorStoreFileBody).min(1).max(2000).optional(),
    chunking_strategy: ChunkingStrategyParam.optional(),
    attributes: Attributes.nullable().optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.file_ids === undefined) === (value.files === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [value.file_ids === undefined ? 'file_ids' : 'files'],
        message: 'exactly one of file_ids and files must be given.',
        params: { openaiCode: 'invalid_value' },
      });
    }
  });
export type CreateFileBatchBody = z.infer<typeof CreateFileBatchBody>;

const ComparisonType = z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']);

const FilterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.union([
    z.strictObject({ type: ComparisonType, key: z.string().min(1).max(64), value: AttributeValue }),
    z.strictObject({
      type: z.enum(['in', 'nin']),
      key: z.string().min(1).max(64),
      value: z.array(AttributeValue).max(100),
    }),
    z.strictObject({
      type: z.enum(['and', 'or']),
      filters: z.array(FilterSchema).max(32),
    }),
  ]),
) as z.ZodType<Filter>;

/** A query string is bounded; so is a list of them (each list item costs a search). */
const Query = z.string().min(1).max(4096);

export const SearchBody = z.strictObject({
  query: z.union([Query, z.array(Query).min(1).max(10)]),
  rewrite_query: z.boolean().optional(),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: FilterSchema.nullable().optional(),
  ranking_options: z
    .strictObject({
      ranker: z.enum(['none', 'auto', 'default-2024-11-15']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
});
export type SearchBody = z.infer<typeof SearchBody>;
