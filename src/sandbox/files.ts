import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FileLibrary } from '../files/library';

/**
 * How file bytes move between stored files (the Files API) and a sandbox session. The sandbox worker reads
 * the files a call names into `/mnt/data`, and stores what the code produced. Implemented over the files
 * module for runs; tests use a directory.
 */
export interface SandboxFiles {
  /** A stored file's name and bytes, or null when the project has no such file (it is skipped, and said so). */
  read(projectId: string, fileId: string): Promise<{ filename: string; stream: Readable } | null>;
  /**
   * Stores a file the code produced. Idempotent by `id`: a retried call writes the same id again and there is
   * still one file. Resolves to the stored file's id.
   */
  write(
    projectId: string,
    file: { id: string; filename: string; purpose: 'assistants_output'; body: Readable },
  ): Promise<string>;
}

/**
 * A name that is safe as one entry of /mnt/data: no directories, no `..`, nothing invisible. Uploads keep
 * their original names, as OpenAI's sandbox showed them.
 */
export function stagingName(filename: string, fallback: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean === '' || clean === '.' || clean === '..' ? fallback : clean.slice(0, 255);
}

/**
 * Writes a file into the session directory as `name`, owned by the sandbox user. The directory is the
 * sandbox's `/mnt/data`, where the code may have put anything, a symlink to a host path included: so the
 * bytes go to a fresh exclusive file first, which is then renamed over the name (a rename replaces a symlink;
 * it never writes through it).
 */
export async function stageFile(
  sessionDir: string,
  name: string,
  body: Readable,
  owner: { uid: number | undefined; gid: number | undefined },
): Promise<void> {
  const temp = path.join(sessionDir, `.threadline-staging-${randomBytes(8).toString('hex')}`);
  try {
    const handle = await fs.promises.open(
      temp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL,
      0o644,
    );
    try {
      if (owner.uid !== undefined && owner.gid !== undefined) await handle.chown(owner.uid, owner.gid);
      for await (const chunk of body) await handle.write(chunk as Buffer);
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, path.join(sessionDir, name));
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Opens `relPath` under the session directory for reading without following any symlink on the way: each
 * component is opened relative to the directory already opened (through /proc/self/fd, Node's openat), with
 * O_NOFOLLOW. Code in the sandbox can swap a directory for a symlink at any moment; this walk cannot be led
 * out of the session directory by that. Only regular files are returned (O_NONBLOCK keeps a FIFO from
 * blocking the open).
 */
export async function openProduced(sessionDir: string, relPath: string): Promise<fs.promises.FileHandle> {
  const parts = relPath.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`not a path inside the session: ${relPath}`);
  }
  const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = fs.constants;
  let current = await fs.promises.open(sessionDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const next = await fs.promises.open(
        `/proc/self/fd/${current.fd}/${part}`,
        O_RDONLY | O_NOFOLLOW | (last ? O_NONBLOCK : O_DIRECTORY),
      );
      await current.close();
      current = next;
    }
    const stat = await current.stat();
    if (!stat.isFile()) throw new Error(`not a regular file: ${relPath}`);
    return current;
  } catch (error) {
    await current.close();
    throw error;
  }
}

/**
 * The Files API as the sandbox's storage: files named by a call are read from it into /mnt/data, and what the
 * code produced is stored in it (purpose `assistants_output`, downloadable). A sandbox worker on another host
 * needs storage every host reaches (THREADLINE_FILE_STORAGE=postgres).
 */
export function libraryFiles(files: FileLibrary): SandboxFiles {
  return {
    async read(projectId, fileId) {
      const opened = await files.open(projectId, fileId);
      return opened ? { filename: opened.row.filename, stream: opened.stream } : null;
    },
    async write(projectId, file) {
      const row = await files.create(projectId, {
        id: file.id,
        filename: file.filename,
        purpose: file.purpose,
        body: file.body as AsyncIterable<Buffer>,
      });
      return row.id;
    },
  };
}
