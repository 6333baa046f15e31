import { createHash, randomBytes } from 'node:crypto';

const BOUNDARY = 'threadline-bench-boundary';
const BLOCK = 1024 * 1024;

/**
 * `size` bytes generated block by block, so a client can send hundreds of MB without holding them; every block
 * differs (its index is written into it), so a misplaced block changes the digest.
 */
export function* patternBytes(size: number): Generator<Buffer> {
  const seed = randomBytes(BLOCK);
  for (let offset = 0, index = 0; offset < size; offset += BLOCK, index++) {
    const block = Buffer.from(seed.subarray(0, Math.min(BLOCK, size - offset)));
    if (block.length >= 4) block.writeUInt32BE(index, 0);
    yield block;
  }
}

/** Passes `chunks` through, hashing them on the way; `digest()` once they have all gone by. */
export function hashing(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): {
  chunks: AsyncGenerator<Buffer>;
  digest(): string;
} {
  const hash = createHash('sha256');
  async function* pass(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      yield chunk;
    }
  }
  return { chunks: pass(), digest: () => hash.digest('hex') };
}

export async function digestOf(chunks: AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * POST /files with a multipart body streamed from `content` (chunked, never held whole by this client either),
 * as curl or a browser would send it.
 */
export async function streamUpload(
  baseURL: string,
  content: Iterable<Buffer> | AsyncIterable<Buffer>,
  filename: string,
  purpose: string,
): Promise<{ id: string; bytes: number }> {
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    yield* content;
    yield Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  }
  const response = await fetch(`${baseURL}/files`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: ReadableStream.from(body()),
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
  const text = await response.text();
  if (!response.ok) throw new Error(`upload refused: ${response.status} ${text}`);
  return JSON.parse(text) as { id: string; bytes: number };
}

/** Streams a file's content through a hash; nothing is kept. */
export async function downloadDigest(baseURL: string, fileId: string): Promise<{ sha256: string; bytes: number }> {
  const response = await fetch(`${baseURL}/files/${fileId}/content`);
  if (!response.ok || !response.body) throw new Error(`download refused: ${response.status}`);
  return digestOf(response.body as unknown as AsyncIterable<Uint8Array>);
}
