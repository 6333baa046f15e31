import { z } from 'zod';
import { Metadata } from './common';

/**
 * Extension: `metadata.memory` on an assistant, a run or a template version bounds how much of the thread
 * the model sees (the memory types of open-assistant-api's runner):
 * - `window`: the newest `window_size` thread messages, at most `max_token_size` tokens of them (the newest
 *   message is always kept);
 * - `zero`: the thread from its newest user message on;
 * - `naive`: the whole thread (the default without `memory`).
 * OpenAI's metadata values are strings of at most 512 characters, so the value is a JSON string; an object is
 * accepted too (open-assistant-api clients send one) and stored as its JSON text. A bad shape is a 400 when it
 * is written, never a failed run later.
 */
export const MemoryConfig = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('window'),
    window_size: z.number().int().min(1).max(10_000).default(20),
    max_token_size: z.number().int().min(1).max(10_000_000).default(4000),
  }),
  z.strictObject({ type: z.literal('zero') }),
  z.strictObject({ type: z.literal('naive') }),
]);
export type MemoryConfig = z.infer<typeof MemoryConfig>;

const SHAPES =
  'expected a JSON object {"type": "window", "window_size": <1-10000>, "max_token_size": <1-10000000>}, ' +
  '{"type": "zero"} or {"type": "naive"}';

/** Why a `metadata.memory` value is not a memory config, or undefined when it is one. */
export function memoryProblem(value: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return `not JSON; ${SHAPES}.`;
  }
  const result = MemoryConfig.safeParse(parsed);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : '';
  return `${issue?.message ?? 'invalid'}${where}; ${SHAPES}.`;
}

/** The memory config in a metadata record, or null when there is none (or a stored one no longer parses). */
export function memoryOf(metadata: Record<string, string> | null | undefined): MemoryConfig | null {
  const value = metadata?.memory;
  if (value === undefined) return null;
  try {
    const result = MemoryConfig.safeParse(JSON.parse(value));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `metadata` of the objects that may carry a memory window: OpenAI's metadata rules, plus `memory` given as an
 * object stored as its JSON text, and checked.
 */
export const MetadataWithMemory = z
  .preprocess(
    (value) =>
      isPlainObject(value) && isPlainObject(value.memory) ? { ...value, memory: JSON.stringify(value.memory) } : value,
    Metadata,
  )
  .superRefine((value, ctx) => {
    const memory: unknown = value.memory;
    if (typeof memory !== 'string') return; // absent, or already reported by Metadata
    const problem = memoryProblem(memory);
    if (problem) {
      ctx.addIssue({ code: 'custom', path: ['memory'], message: problem, params: { openaiCode: 'invalid_value' } });
    }
  });

export const OptionalMetadataWithMemory = MetadataWithMemory.nullable().optional();
