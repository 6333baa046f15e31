/**
 * The fake embeddings' vectors: deterministic, and carrying real lexical signal so vector search behaves like
 * a (weak) semantic model in tests and benches. Each word adds a hashed feature for itself and for each of its
 * character trigrams (with word boundaries), signed by a second hash bit so collisions cancel rather than
 * pile up; the sum is L2-normalised, so cosine similarity ≈ overlap of words and word pieces. A misspelt or
 * inflected word ("photosynthsis", "ingested") still shares most trigrams with the right one, which is where
 * vectors find what a keyword index misses.
 */
export function hashEmbedding(text: string, dimensions: number): number[] {
  const vector = new Float64Array(dimensions);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOP_WORDS.has(word)) continue;
    add(vector, `w:${word}`, 1);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(vector, `t:${padded.slice(i, i + 3)}`, 0.5);
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  // An empty text gets a fixed unit vector rather than zeros (cosine distance of a zero vector is undefined).
  if (norm === 0) return Array.from(vector, (_, i) => (i === 0 ? 1 : 0));
  return Array.from(vector, (x) => x / norm);
}

function add(vector: Float64Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  vector[h % vector.length]! += (h & 0x80000000 ? -1 : 1) * weight;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const STOP_WORDS = new Set(
  'a an and are as at be by for from has have he her his i in is it its of on or that the their them they this to was were which who will with what when where how you your'.split(
    ' ',
  ),
);
