import { Readable } from 'node:stream';
import type { Db } from '../store/db';
import { capped, checkKey, type ByteRange, type FileStorage, type StorageKey } from './storage';

/** Bytes per row: large enough that a 512 MB file is 512 rows, small enough to hold one per upload in memory. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * Files as rows of `file_chunks` in the PostgreSQL database, so every API and worker process that reaches the
 * database reaches the bytes, on whatever host it runs.
 *
 * Why a chunk table rather than PostgreSQL large objects: large objects are not deleted with anything (an
 * orphan needs `lo_unlink` or `vacuumlo`), logical replication does not carry them, they have their own
 * permission system, and reading one through a descriptor needs a transaction held open for the whole
 * download. Chunks are ordinary rows: scoped by `project_id` like every other row, removed with a `DELETE`,
 * backed up and replicated with the rest, and each read or write is one short statement, so a slow upload or
 * download never pins a pooled connection. A byte range reads only the chunks it covers.
 *
 * Chunks are written as they arrive (each insert commits alone); the `files` row, written before the first
 * chunk and finished after the last, is what makes an upload visible, and what the sweep uses to find the
 * chunks of an upload a dead process left behind. A file always has a chunk at offset 0 (empty for a 0-byte
 * file), so "no chunk at 0" means "no file".
 */
export function postgresStorage(db: Db): FileStorage {
  const removeChunks = (key: StorageKey) =>
    db.deleteFrom('file_chunks').where('project_id', '=', key.projectId).where('file_id', '=', key.fileId).execute();

  return {
    kind: 'postgres',

    async put(key, body, maxBytes) {
      checkKey(key);
      // Replacing: an earlier attempt at this key (a retried tool activity) may have left chunks behind.
      await removeChunks(key);
      let written = 0;
      // One staging buffer per upload, reused for every chunk: pg copies a parameter into its own message
      // buffer before the insert resolves, so the next chunk may overwrite it. Fresh 1 MiB buffers per chunk
      // would leave hundreds of MB of garbage behind a large upload and inflate the API's memory until collected.
      const staging = Buffer.allocUnsafe(CHUNK_BYTES);
      let filled = 0;
      const flush = async () => {
        await db
          .insertInto('file_chunks')
          .values({
            project_id: key.projectId,
            file_id: key.fileId,
            start_byte: written,
            data: staging.subarray(0, filled),
          })
          .execute();
        written += filled;
        filled = 0;
      };
      try {
        for await (const chunk of capped(body, maxBytes)) {
          let offset = 0;
          while (offset < chunk.length) {
            const copied = chunk.copy(staging, filled, offset);
            filled += copied;
            offset += copied;
            if (filled === CHUNK_BYTES) await flush();
          }
        }
        if (filled > 0 || written === 0) await flush();
      } catch (error) {
        await removeChunks(key);
        throw error;
      }
      return written;
    },

    async get(key, range?: ByteRange) {
      checkKey(key);
      const scoped = () =>
        db.selectFrom('file_chunks').where('project_id', '=', key.projectId).where('file_id', '=', key.fileId);
      const first = await scoped().select('start_byte').where('start_byte', '=', 0).executeTakeFirst();
      if (!first) return undefined;
      const start = range?.start ?? 0;
      const end = range?.end ?? Number.POSITIVE_INFINITY;
      // The chunk holding `start`, then every following one, one row per read.
      const opening = await scoped()
        .select('start_byte')
        .where('start_byte', '<=', start)
        .orderBy('start_byte', 'desc')
        .limit(1)
        .executeTakeFirst();
      async function* chunks(): AsyncGenerator<Buffer> {
        let next = opening?.start_byte ?? 0;
        for (;;) {
          const row = await scoped()
            .select(['start_byte', 'data'])
            .where('start_byte', '>=', next)
            .orderBy('start_byte', 'asc')
            .limit(1)
            .executeTakeFirst();
          if (!row || row.start_byte > end) return;
          const from = Math.max(start - row.start_byte, 0);
          const to = Math.min(end - row.start_byte + 1, row.data.length);
          if (to > from) yield row.data.subarray(from, to);
          next = row.start_byte + Math.max(row.data.length, 1);
        }
      }
      return Readable.from(chunks(), { objectMode: false });
    },

    async delete(key) {
      checkKey(key);
      await removeChunks(key);
    },
  };
}
