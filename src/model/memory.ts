import { memoryOf, type MemoryConfig } from '../schemas/memory';
import { fromJson, toJson } from '../store/json';

/**
 * Extension: how much of the thread a run's memory window lets the model see (see `schemas/memory.ts`). It
 * bounds the thread messages before `truncation_strategy` does; both keep the newest messages, so together
 * they keep the newest messages that satisfy every bound.
 */
export interface MemoryWindow {
  maxMessages: number;
  /** Tokens of the thread's messages; the newest message is kept even if it alone is larger. */
  maxTokens: number;
  /** `zero`: the thread from its newest user message on. */
  endsAt(role: string): boolean;
}

const UNBOUNDED: MemoryWindow = {
  maxMessages: Number.POSITIVE_INFINITY,
  maxTokens: Number.POSITIVE_INFINITY,
  endsAt: () => false,
};

/**
 * The memory a new run keeps for its whole life: the run's own `metadata.memory`, else its assistant's, as
 * normalised JSON (null when neither asks for one). Later changes to either do not reach a started run.
 */
export function memoryForNewRun(
  runMetadata: Record<string, string> | null | undefined,
  assistantMetadataJson: string,
): string | null {
  const config = memoryOf(runMetadata) ?? memoryOf(fromJson<Record<string, string>>(assistantMetadataJson));
  return config ? toJson(config) : null;
}

export function memoryWindow(stored: string | null | undefined): MemoryWindow {
  const config = stored ? fromJson<MemoryConfig>(stored) : null;
  switch (config?.type) {
    case 'window':
      return { ...UNBOUNDED, maxMessages: config.window_size, maxTokens: config.max_token_size };
    case 'zero':
      return { ...UNBOUNDED, endsAt: (role) => role === 'user' };
    default:
      return UNBOUNDED;
  }
}
