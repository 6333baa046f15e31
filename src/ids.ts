import { randomBytes } from 'node:crypto';
import { formatId, ID_PREFIX, millisFromId, type IdKind } from './idFormat';

export { ID_PREFIX, millisFromId, type IdKind } from './idFormat';

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

/**
 * A fresh id and the `created_at` (unix seconds) that goes with it, both from one clock reading, so a cursor
 * whose object has been deleted can still be placed exactly by its id.
 */
export function newObjectId(kind: IdKind): { id: string; createdAt: number } {
  const id = newId(kind);
  return { id, createdAt: Math.floor((millisFromId(id, ID_PREFIX[kind]) ?? Date.now()) / 1000) };
}
