import { countTokens, setMergeCacheSize } from 'gpt-tokenizer';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/cjs/encodingParams/constants';

/**
 * Token counts for context fitting, from a real BPE tokenizer (o200k, the GPT-4o family's). Other model
 * families tokenise differently; the count is an estimate for them, which is why budgets keep a margin.
 *
 * This module does the CPU work and runs only on the token-counting thread (see tokenPool.ts): a count can
 * take a while on a long text and must never hold up an event loop that serves HTTP or heartbeats runs.
 */

/**
 * Why pieces are bounded: gpt-tokenizer first splits text with the o200k regex, then merges each piece's bytes
 * pair by pair (`BytePairEncodingCore.bytePairMerge`). Every merge rescans the piece's remaining ranks and
 * splices two arrays, so a piece of n bytes costs O(n²), and an unbroken run of one letter class ("ooo…",
 * "中中中…") is a single piece: 100,000 × "o" took 6 s, 100,000 × "中" 56 s. Cutting a long piece into
 * chunks of at most this many UTF-16 units bounds each merge to O(MAX_PIECE²) and the whole count to
 * O(MAX_PIECE × length). Pieces this long are rare in real text (runs of dashes, whitespace padding, long
 * identifiers), and a cut changes their count by about one token, so ordinary text counts exactly as before.
 */
export const MAX_PIECE_CHARS = 256;

// Special-token text such as "<|endoftext|>" in a user's message is counted as the ordinary text it is
// (gpt-tokenizer's default throws on it, which failed every run of a thread that quoted one).
const AS_TEXT = { disallowedSpecial: new Set<string>() };

// The default cache of 100,000 merged pieces could hold 100,000 × 256-character keys on hostile input.
setMergeCacheSize(20_000);

function countRaw(text: string): number {
  return text.length === 0 ? 0 : countTokens(text, AS_TEXT);
}

/** A slice of text counted, and where it ended (always on a piece boundary, so the next slice starts clean). */
export interface SliceCount {
  tokens: number;
  end: number;
}

/**
 * Counts `text` from `start` (a piece boundary) up to the first piece boundary at or after `start + maxChars`.
 * Linear in the characters covered, whatever they are. Counting a long text slice by slice lets the counting
 * thread interleave several requests fairly.
 */
export function countSlice(text: string, start: number, maxChars: number): SliceCount {
  const split = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);
  split.lastIndex = start;
  let tokens = 0;
  let from = start; // start of the pieces not counted yet (short pieces are counted together)
  for (let match = split.exec(text); match !== null; match = split.exec(text)) {
    const piece = match[0];
    const pieceEnd = match.index + piece.length;
    if (piece.length === 0) {
      split.lastIndex++; // never loops on an empty match (the o200k pattern has none; cheap insurance)
      continue;
    }
    if (piece.length > MAX_PIECE_CHARS) {
      tokens += countRaw(text.slice(from, match.index)) + countLongPiece(piece);
      from = pieceEnd;
    }
    if (pieceEnd - start >= maxChars) {
      return { tokens: tokens + countRaw(text.slice(from, pieceEnd)), end: pieceEnd };
    }
  }
  return { tokens: tokens + countRaw(text.slice(from)), end: text.length };
}

/** The whole text, in one go (the counting thread uses slices; tests and the benchmark use this). */
export function countText(text: string): number {
  return countSlice(text, 0, Number.POSITIVE_INFINITY).tokens;
}

function countLongPiece(piece: string): number {
  let tokens = 0;
  for (let at = 0; at < piece.length; ) {
    let end = Math.min(at + MAX_PIECE_CHARS, piece.length);
    // Never split a surrogate pair: half a character would count as replacement bytes.
    const last = piece.charCodeAt(end - 1);
    if (end < piece.length && last >= 0xd800 && last <= 0xdbff) end--;
    tokens += countRaw(piece.slice(at, end));
    at = end;
  }
  return tokens;
}
