import type { Question } from './corpus';

/** A retrieved unit: a range of a file's text (a chunk, or a whole file cut short). */
export interface Unit {
  file: string;
  start: number;
  end: number;
}

/**
 * A unit answers a question when it holds a real part of the answer passage: at least 200 of its characters,
 * or all of it when the passage is shorter. One rule for every strategy, so a strategy gains nothing from
 * larger units except what they truly contain.
 */
const MIN_OVERLAP_CHARS = 200;

export function answers(unit: Unit, question: Question): boolean {
  if (unit.file !== question.file) return false;
  const overlap = Math.min(unit.end, question.end) - Math.max(unit.start, question.start);
  return overlap >= Math.min(MIN_OVERLAP_CHARS, question.end - question.start);
}

/** 1-based rank of the first answering unit, or 0 when none of `ranked` answers. */
export function firstHit(ranked: Unit[], question: Question): number {
  const at = ranked.findIndex((unit) => answers(unit, question));
  return at + 1;
}

export interface QualityFigures {
  questions: number;
  /** Share of questions answered within the first 5 results. */
  recallAt5: number;
  /** Mean reciprocal rank of the first answering result within the first 20 (0 when none). */
  mrr: number;
  /** Characters of the first 5 results, averaged: what a model would be given to read. */
  charsInTop5: number;
}

export function figures(runs: Array<{ ranked: Unit[]; question: Question }>): QualityFigures {
  let found = 0;
  let reciprocal = 0;
  let chars = 0;
  for (const { ranked, question } of runs) {
    const rank = firstHit(ranked.slice(0, 20), question);
    if (rank >= 1 && rank <= 5) found++;
    if (rank >= 1) reciprocal += 1 / rank;
    chars += ranked.slice(0, 5).reduce((sum, unit) => sum + (unit.end - unit.start), 0);
  }
  const n = runs.length;
  return { questions: n, recallAt5: found / n, mrr: reciprocal / n, charsInTop5: Math.round(chars / n) };
}

/** Cosine similarity of unit vectors. */
export function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Locates chunk texts (consecutive, possibly overlapping slices of `text`) as character ranges. */
export function locate(text: string, chunks: string[]): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let from = 0;
  for (const chunk of chunks) {
    let start = text.indexOf(chunk, from);
    if (start < 0) start = text.indexOf(chunk);
    if (start < 0) throw new Error('a chunk is not a slice of its text');
    out.push({ start, end: start + chunk.length });
    from = start + 1;
  }
  return out;
}
