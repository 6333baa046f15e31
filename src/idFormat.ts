/**
 * The shape of object ids, with no Node imports so workflow code can mint ids too (from workflow time and
 * the workflow's seeded randomness, which replay reproduces exactly).
 *
 * An id is a prefix plus 24 lowercase base-36 characters: 9 of milliseconds, 3 of a per-millisecond
 * counter, 12 random. They sort by creation time as plain strings in both SQLite and PostgreSQL (one case,
 * fixed width), so `(created_at, id)` orders objects made in the same second the way they were made.
 */
export const ID_PREFIX = {
  assistant: 'asst_',
  thread: 'thread_',
  message: 'msg_',
  run: 'run_',
  step: 'step_',
  toolCall: 'call_',
  // OpenAI's file ids use a hyphen, not an underscore.
  file: 'file-',
  request: 'req_',
  // Extensions (README, "Extensions").
  template: 'tmpl_',
  templateVersion: 'tmplv_',
  templateUpgrade: 'tupg_',
  project: 'proj_',
  apiKey: 'key_',
  provider: 'prov_',
  vectorStore: 'vs_',
  vectorStoreFileBatch: 'vsfb_',
  // A vector-store file ingestion (the workflow id of one file's ingestion).
  ingestion: 'vsing_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function formatId(prefix: string, millis: number, counter: number, random: ArrayLike<number>): string {
  let tail = '';
  for (let i = 0; i < 12; i++) tail += ALPHABET[(random[i] ?? 0) % 36];
  return prefix + millis.toString(36).padStart(9, '0') + (counter % 46656).toString(36).padStart(3, '0') + tail;
}

/** The creation millisecond encoded in an id, or null for an id of another shape. */
export function millisFromId(id: string, prefix: string): number | null {
  const match = /^([0-9a-z]{9})[0-9a-z]{15}$/.exec(id.slice(prefix.length));
  if (!id.startsWith(prefix) || !match?.[1]) return null;
  return parseInt(match[1], 36);
}
