import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { capped, checkKey, type ByteRange, type FileStorage, type StorageKey } from './storage';

/**
 * Files as plain files in a directory: `<root>/<project id>/<file id>`. An upload is written to
 * `<root>/<project id>/.incoming/<file id>/<random>` and renamed into place only once it is complete and
 * flushed, so a reader never sees half a file and a cut upload leaves nothing under the file's name. A process
 * that dies mid-upload leaves its `.incoming` entry, which `delete` of that key (the sweep's job) removes.
 *
 * Only for one host, or for a directory every API and worker host mounts: a worker on another host could not
 * read what the API wrote.
 */
export function localStorage(root: string): FileStorage {
  const projectDir = (key: StorageKey) => path.join(root, checkKey(key).projectId);
  const finalPath = (key: StorageKey) => path.join(projectDir(key), key.fileId);
  const incomingDir = (key: StorageKey) => path.join(projectDir(key), '.incoming', key.fileId);

  return {
    kind: 'local',

    async put(key, body, maxBytes) {
      const dir = incomingDir(key);
      await fs.promises.mkdir(dir, { recursive: true });
      const partial = path.join(dir, randomBytes(8).toString('hex'));
      const handle = await fs.promises.open(partial, 'wx');
      let written = 0;
      try {
        for await (const chunk of capped(body, maxBytes)) {
          let offset = 0;
          while (offset < chunk.length) {
            const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
            offset += bytesWritten;
          }
          written += chunk.length;
        }
        // Flushed before the rename, so a crash right after it cannot leave a complete name with missing bytes.
        await handle.sync();
        await handle.close();
        await fs.promises.rename(partial, finalPath(key));
      } catch (error) {
        await handle.close().catch(() => undefined);
        await fs.promises.rm(partial, { force: true });
        throw error;
      } finally {
        // Empty unless another attempt at the same key is writing too; then it is that attempt's to remove.
        await fs.promises.rmdir(dir).catch(() => undefined);
      }
      return written;
    },

    async get(key, range?: ByteRange): Promise<Readable | undefined> {
      let handle: fs.promises.FileHandle;
      try {
        handle = await fs.promises.open(finalPath(key), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      // Opened first, then streamed from the handle: a delete in between cannot turn into a missing-file error
      // halfway through a download.
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async delete(key) {
      await fs.promises.rm(finalPath(key), { force: true });
      await fs.promises.rm(incomingDir(key), { recursive: true, force: true });
    },
  };
}
