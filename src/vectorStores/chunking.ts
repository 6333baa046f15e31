import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { countTokens, decode, encode } from 'gpt-tokenizer';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/cjs/encodingParams/constants';
import { MAX_PIECE_CHARS } from '../model/tokens';

/**
 * Chunking by tokens (o200k, the tokenizer the rest of Threadline counts with). The text is cut into the
 * tokenizer's own pieces (its split regex), each counted on its own, so a chunk boundary never falls inside a
 * token and the count of a chunk is the sum of its pieces'. As in src/model/tokens.ts, a piece longer than
 * MAX_PIECE_CHARS is cut first, so counting stays linear in the input however long an unbroken run is.
 */
export interface ChunkingStrategy {
  maxChunkSizeTokens: number;
  chunkOverlapTokens: number;
}

/** OpenAI's `auto`: 800-token chunks overlapping by 400. */
export const AUTO_CHUNKING: ChunkingStrategy = { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };

export interface Piece {
  start: number;
  end: number;
  tokens: number;
}

export interface Chunk {
  text: string;
  tokens: number;
}

const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** The pieces of `text` from `from` up to the first piece boundary at or after `from + maxChars`. */
export function piecesOf(
  text: string,
  from = 0,
  maxChars = Number.POSITIVE_INFINITY,
): { pieces: Piece[]; end: number } {
  const split = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);
  split.lastIndex = from;
  const pieces: Piece[] = [];
  for (let match = split.exec(text); match !== null; match = split.exec(text)) {
    const piece = match[0];
    if (piece.length === 0) {
      split.lastIndex++;
      continue;
    }
    const start = match.index;
    const end = start + piece.length;
    for (let at = start; at < end; ) {
      let cut = Math.min(at + MAX_PIECE_CHARS, end);
      // Never split a surrogate pair.
      const last = text.charCodeAt(cut - 1);
      if (cut < end && last >= 0xd800 && last <= 0xdbff) cut--;
      pieces.push({ start: at, end: cut, tokens: countTokens(text.slice(at, cut), AS_TEXT) });
      at = cut;
    }
    if (end - from >= maxChars) return { pieces, end };
  }
  return { pieces, end: text.length };
}

/**
 * Groups pieces into chunks of at most `maxChunkSizeTokens`, each next chunk starting `chunkOverlapTokens`
 * (or fewer, to keep to piece boundaries) before the previous one ended. A piece larger than a whole chunk
 * (possible only below MAX_PIECE_CHARS tokens per piece) is split on token boundaries.
 */
export function chunkPieces(text: string, pieces: Piece[], strategy: ChunkingStrategy): Chunk[] {
  const { maxChunkSizeTokens: max, chunkOverlapTokens: overlap } = strategy;
  const units = pieces.flatMap((piece) => (piece.tokens > max ? splitPiece(text, piece, max) : [piece]));
  const chunks: Chunk[] = [];
  let first = 0;
  while (first < units.length) {
    let last = first;
    let tokens = 0;
    while (last < units.length && (last === first || tokens + units[last]!.tokens <= max)) {
      tokens += units[last]!.tokens;
      last++;
    }
    const chunkText = text.slice(units[first]!.start, units[last - 1]!.end);
    if (chunkText.trim().length > 0) chunks.push({ text: chunkText, tokens });
    if (last >= units.length) break;
    // Step back over at most `overlap` tokens, always moving forward by at least one piece.
    let next = last;
    let back = 0;
    while (next - 1 > first && back + units[next - 1]!.tokens <= overlap) {
      back += units[next - 1]!.tokens;
      next--;
    }
    first = next;
  }
  return chunks;
}

/** A piece's tokens, `max` at a time, each group with the characters it decodes to. */
function splitPiece(text: string, piece: Piece, max: number): Piece[] {
  const tokens = encode(text.slice(piece.start, piece.end), AS_TEXT);
  const out: Piece[] = [];
  let at = piece.start;
  for (let i = 0; i < tokens.length; i += max) {
    const group = tokens.slice(i, i + max);
    const length = i + max >= tokens.length ? piece.end - at : decode(group).length;
    out.push({ start: at, end: at + length, tokens: group.length });
    at += length;
  }
  return out;
}

/** Characters counted between turns of the event loop: a long document never holds the worker's loop. */
const SLICE_CHARS = 32_768;

/** `chunkPieces(piecesOf(text))`, counting a slice at a time and yielding to the event loop between slices. */
export async function chunkText(text: string, strategy: ChunkingStrategy): Promise<Chunk[]> {
  const pieces: Piece[] = [];
  for (let from = 0; from < text.length; ) {
    const slice = piecesOf(text, from, SLICE_CHARS);
    pieces.push(...slice.pieces);
    if (slice.end <= from) break;
    from = slice.end;
    await yieldToLoop();
  }
  return chunkPieces(text, pieces, strategy);
}
