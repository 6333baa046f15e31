import { randomBytes } from 'node:crypto';

/**
 * Object ids are a prefix plus 24 lowercase base-36 characters: 9 of milliseconds, 3 of a per-millisecond
 * counter, 12 random. They sort by creation time as plain strings in both SQLite and PostgreSQL (one case,
 * fixed width), so `(created_at, id)` orders objects made in the same second the way they were made —
 * a thread's messages must never come back shuffled.
 */
export const ID_PREFIX = {
  assistant: 'asst_',
  thread: 'thread_',
  message: 'msg_',
  run: 'run_',
  step: 'step_',
  toolCall: 'call_',
  request: 'req_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function formatId(prefix: string, millis: number, counter: number, random: Uint8Array): string {
  let tail = '';
  for (let i = 0; i < 12; i++) tail += ALPHABET[(random[i] ?? 0) % 36];
  return prefix + millis.toString(36).padStart(9, '0') + (counter % 46656).toString(36).padStart(3, '0') + tail;
}

let lastMillis = 0;
let counter = 0;

export function newId(kind: IdKind): string {
  const now = Date.now();
  // A clock that steps back must not reorder ids: keep counting from the last millisecond seen.
  if (now > lastMillis) {
    lastMillis = now;
    counter = 0;
  } else {
    counter += 1;
  }
  return formatId(ID_PREFIX[kind], lastMillis, counter, randomBytes(12));
}

/** The creation millisecond encoded in an id made by `newId`, or null for an id of another shape. */
export function millisFromId(id: string, prefix: string): number | null {
  const match = /^([0-9a-z]{9})[0-9a-z]{15}$/.exec(id.slice(prefix.length));
  if (!id.startsWith(prefix) || !match?.[1]) return null;
  return parseInt(match[1], 36);
}

/**
 * A fresh id and the `created_at` (unix seconds) that goes with it, both from one clock reading, so a cursor
 * whose object has been deleted can still be placed exactly by its id.
 */
export function newObjectId(kind: IdKind): { id: string; createdAt: number } {
  const id = newId(kind);
  return { id, createdAt: Math.floor((millisFromId(id, ID_PREFIX[kind]) ?? Date.now()) / 1000) };
}
