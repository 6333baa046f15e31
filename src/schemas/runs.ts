import { z } from 'zod';
import { CreateToolResources, ReasoningEffort, ResponseFormat, Temperature, Tool, TopP } from './common';
import { OptionalMetadataWithMemory } from './memory';
import { CreateMessageBody } from './messages';
import { CreateThreadBody } from './threads';

export const TruncationStrategy = z.strictObject({
  type: z.enum(['auto', 'last_messages']),
  last_messages: z.number().int().min(1).nullable().optional(),
});
export type TruncationStrategy = z.infer<typeof TruncationStrategy>;

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z
    .strictObject({
      type: z.enum(['function', 'code_interpreter', 'file_search']),
      function: z.strictObject({ name: z.string().min(1) }).optional(),
    })
    .superRefine((value, ctx) => {
      if (value.type === 'function' && !value.function) {
        ctx.addIssue({ code: 'invalid_type', expected: 'object', path: ['function'], input: undefined, message: '' });
      }
    }),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

const TokenBudget = z.number().int().min(256).nullable().optional();

/** Settings a run may override; shared by create-run and create-thread-and-run. */
const runSettings = {
  assistant_id: z.string().startsWith('asst_'),
  model: z.string().min(1).nullable().optional(),
  instructions: z.string().max(256_000).nullable().optional(),
  // The Run object allows 20 tools (assistants 128); a run's own override is held to the run's limit.
  tools: z.array(Tool).max(20).nullable().optional(),
  metadata: OptionalMetadataWithMemory,
  temperature: Temperature,
  top_p: TopP,
  stream: z.boolean().nullable().optional(),
  max_prompt_tokens: TokenBudget,
  max_completion_tokens: TokenBudget,
  truncation_strategy: TruncationStrategy.nullable().optional(),
  tool_choice: ToolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormat.nullable().optional(),
  reasoning_effort: ReasoningEffort,
};

export const CreateRunBody = z.strictObject({
  ...runSettings,
  additional_instructions: z.string().max(256_000).nullable().optional(),
  additional_messages: z.array(CreateMessageBody).max(32).nullable().optional(),
});
export type CreateRunBody = z.infer<typeof CreateRunBody>;

export const CreateThreadAndRunBody = z.strictObject({
  ...runSettings,
  thread: CreateThreadBody.optional(),
  tool_resources: CreateToolResources.nullable().optional(),
});
export type CreateThreadAndRunBody = z.infer<typeof CreateThreadAndRunBody>;

export const ModifyRunBody = z.strictObject({ metadata: OptionalMetadataWithMemory });
export type ModifyRunBody = z.infer<typeof ModifyRunBody>;

/**
 * The most output characters one submission may carry. Outputs never travel in Temporal payloads (the API
 * stores them and the workflow gets their ids), so this bounds what one step row, one prompt and one SSE
 * event (`thread.run.step.completed` repeats them; 1.5 M characters of 3-byte UTF-8 stay under the SDK's
 * 8 MiB frame cap) have to hold.
 */
export const MAX_TOOL_OUTPUT_CHARS = 1_500_000;

export const SubmitToolOutputsBody = z.strictObject({
  tool_outputs: z
    .array(z.strictObject({ tool_call_id: z.string().min(1), output: z.string() }))
    .min(1)
    .max(128)
    .superRefine((outputs, ctx) => {
      const total = outputs.reduce((sum, o) => sum + o.output.length + o.tool_call_id.length, 0);
      if (total > MAX_TOOL_OUTPUT_CHARS) {
        ctx.addIssue({
          code: 'custom',
          message: `tool outputs too large. Expected at most ${MAX_TOOL_OUTPUT_CHARS} characters in all, but got ${total}.`,
          params: { openaiCode: 'string_above_max_length' },
        });
      }
    }),
  stream: z.boolean().nullable().optional(),
});
export type SubmitToolOutputsBody = z.infer<typeof SubmitToolOutputsBody>;

const INCLUDE_VALUE = 'step_details.tool_calls[*].file_search.results[*].content';

/** `include[]` as the SDKs send it (bracket encoding); its only allowed value asks for file_search results' text. */
export const IncludeQuery = z.object({
  'include[]': z.union([z.literal(INCLUDE_VALUE), z.array(z.literal(INCLUDE_VALUE))]).optional(),
});

/** Whether a parsed `include[]` asks for the text of file_search results on run steps. */
export function includesResultContent(query: z.infer<typeof IncludeQuery>): boolean {
  return query['include[]'] !== undefined;
}
