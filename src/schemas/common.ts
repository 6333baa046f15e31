import { z } from 'zod';

/**
 * Request building blocks shared by several endpoints, with the limits of OpenAI's spec. Every object is
 * strict: an unknown field is a 400, as the spec's `additionalProperties: false` says.
 */

export const Metadata = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const entries = Object.entries(value);
    if (entries.length > 16) {
      ctx.addIssue({
        code: 'custom',
        message: `too many properties. Expected an object with at most 16 properties, but got an object with ${entries.length} properties instead.`,
        params: { openaiCode: 'object_above_max_properties' },
      });
    }
    for (const [key, item] of entries) {
      if (key.length > 64) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `key too long. Expected a key with maximum length 64, but got a key with length ${key.length} instead.`,
          params: { openaiCode: 'string_above_max_length' },
        });
      } else if (typeof item !== 'string') {
        ctx.addIssue({ code: 'invalid_type', expected: 'string', path: [key], input: item, message: '' });
      } else if (item.length > 512) {
        ctx.addIssue({
          code: 'too_big',
          origin: 'string',
          maximum: 512,
          inclusive: true,
          path: [key],
          input: item,
          message: '',
        });
      }
    }
  })
  .transform((value) => value as Record<string, string>);

/** `null` and "absent" both mean "no metadata"; the wire always shows `{}`. */
export const OptionalMetadata = Metadata.nullable().optional();

const NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;

export const FunctionDefinition = z.strictObject({
  name: z.string().min(1).max(64).regex(NAME_PATTERN),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().nullable().optional(),
});

export const Tool = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('code_interpreter') }),
  z.strictObject({
    type: z.literal('file_search'),
    file_search: z
      .strictObject({
        max_num_results: z.number().int().min(1).max(50).optional(),
        ranking_options: z
          .strictObject({
            ranker: z.enum(['auto', 'default_2024_08_21']).optional(),
            score_threshold: z.number().min(0).max(1),
          })
          .optional(),
      })
      .optional(),
  }),
  z.strictObject({ type: z.literal('function'), function: FunctionDefinition }),
]);
export type Tool = z.infer<typeof Tool>;

export const ResponseFormat = z.union([
  z.literal('auto'),
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('text') }),
    z.strictObject({ type: z.literal('json_object') }),
    z.strictObject({
      type: z.literal('json_schema'),
      json_schema: z.strictObject({
        name: z.string().min(1).max(64).regex(NAME_PATTERN),
        description: z.string().optional(),
        schema: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      }),
    }),
  ]),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

export const Temperature = z.number().min(0).max(2).nullable().optional();
export const TopP = z.number().min(0).max(1).nullable().optional();

const VectorStoreIds = z.array(z.string().startsWith('vs_')).max(1);

/** How a vector store cuts its files: OpenAI's `auto` (static 800/400) or `static` with 100–4,096 tokens per chunk
 * and an overlap of at most half of that. */
export const ChunkingStrategy = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto') }),
  z.strictObject({
    type: z.literal('static'),
    static: z
      .strictObject({
        max_chunk_size_tokens: z.number().int().min(100).max(4096),
        chunk_overlap_tokens: z.number().int().min(0),
      })
      .superRefine((value, ctx) => {
        if (value.chunk_overlap_tokens > value.max_chunk_size_tokens / 2) {
          ctx.addIssue({
            code: 'custom',
            path: ['chunk_overlap_tokens'],
            message: `chunk_overlap_tokens must not exceed half of max_chunk_size_tokens (${Math.floor(value.max_chunk_size_tokens / 2)}), but got ${value.chunk_overlap_tokens}.`,
            params: { openaiCode: 'invalid_value' },
          });
        }
      }),
  }),
]);
export type ChunkingStrategy = z.infer<typeof ChunkingStrategy>;

/** A vector store created on the fly with an assistant or a thread (`tool_resources.file_search.vector_stores[]`). */
export const InlineVectorStore = z.strictObject({
  file_ids: z.array(z.string().startsWith('file-')).max(10_000).optional(),
  chunking_strategy: ChunkingStrategy.optional(),
  metadata: OptionalMetadata,
});
export type InlineVectorStore = z.infer<typeof InlineVectorStore>;

/**
 * `tool_resources` as accepted: file ids and vector store ids, and on create (`inline`) vector stores to make
 * on the fly — `vector_store_ids` or `vector_stores`, not both (the spec's oneOf), at most one store. Modify
 * only takes ids (the spec's ModifyAssistantRequest / ModifyThreadRequest). Every level may be null: AutoGen
 * sends `{"code_interpreter": {"file_ids": [...]}, "file_search": null}` (a pydantic dump).
 */
function toolResourcesSchema(inline: boolean) {
  return z.strictObject({
    code_interpreter: z
      .strictObject({ file_ids: z.array(z.string().startsWith('file-')).max(20).nullable().optional() })
      .nullable()
      .optional(),
    file_search: z
      .strictObject({
        vector_store_ids: VectorStoreIds.nullable().optional(),
        vector_stores: z
          .array(inline ? InlineVectorStore : z.unknown())
          .max(1)
          .optional(),
      })
      .superRefine((value, ctx) => {
        if (value.vector_stores === undefined) return;
        if (!inline) {
          ctx.addIssue({
            code: 'custom',
            path: ['vector_stores'],
            message:
              'vector_stores can only be given when creating an assistant or a thread (not on modify, nor with a template); attach an existing store with vector_store_ids.',
            params: { openaiCode: 'unsupported_parameter' },
          });
        } else if (value.vector_store_ids != null) {
          ctx.addIssue({
            code: 'custom',
            path: ['vector_stores'],
            message: 'give either vector_store_ids or vector_stores, not both.',
          });
        }
      })
      .nullable()
      .optional(),
  });
}

/** `tool_resources` on modify (and templates): ids only. */
export const ToolResources = toolResourcesSchema(false);
/** `tool_resources` on create: ids, or vector stores to make with the assistant or thread. */
export const CreateToolResources = toolResourcesSchema(true);
export type ToolResources = z.infer<typeof ToolResources>;

export const ReasoningEffort = z
  .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
  .nullable()
  .optional();
