import { countTokens } from 'gpt-tokenizer';

/**
 * Token counts for context fitting, from a real BPE tokenizer (o200k, the GPT-4o family's). Other model
 * families tokenise differently; the count is an estimate for them, which is why budgets keep a margin.
 */
export function tokensOf(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

/** Per-message overhead of the chat format (role markers and separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
