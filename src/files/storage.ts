import type { Readable } from 'node:stream';

/**
 * Where a file's bytes live, behind the smallest interface the API and the tools need. A key is always a
 * project id and a file id that Threadline minted (never a name a client sent), so no request can steer
 * a driver to a path or a row of its choosing.
 */
export interface StorageKey {
  projectId: string;
  fileId: string;
}

/** Inclusive byte offsets, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface FileStorage {
  readonly kind: 'local' | 'postgres';
  /**
   * Stores `body` under `key`, replacing whatever was there, and resolves to the bytes written. Past `maxBytes`
   * it stops reading and rejects with FileTooLargeError. On any failure (the cap, a source that errors because
   * its client went away, a full disk) nothing is left under the key.
   */
  put(key: StorageKey, body: AsyncIterable<Buffer> | Iterable<Buffer>, maxBytes: number): Promise<number>;
  /** The bytes under `key` (or a range of them), or undefined when there are none. */
  get(key: StorageKey, range?: ByteRange): Promise<Readable | undefined>;
  /** Removes the bytes under `key`; removing what is not there is not an error. */
  delete(key: StorageKey): Promise<void>;
}

export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError';

  constructor(readonly maxBytes: number) {
    super(`File is too large: the limit is ${maxBytes} bytes.`);
  }
}

const SAFE_PART = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Both parts of a key are ids Threadline minted; refusing anything else here means a bug upstream can never turn
 * into a path outside the storage root.
 */
export function checkKey(key: StorageKey): StorageKey {
  if (!SAFE_PART.test(key.projectId) || !SAFE_PART.test(key.fileId)) {
    throw new Error(`invalid storage key ${JSON.stringify(key)}`);
  }
  return key;
}

/** Counts bytes as they pass and throws FileTooLargeError the moment the total crosses `maxBytes`. */
export async function* capped(
  body: AsyncIterable<Buffer> | Iterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw new FileTooLargeError(maxBytes);
    yield chunk;
  }
}
