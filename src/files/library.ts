import type { Readable } from 'node:stream';
import { ID_PREFIX, millisFromId, newObjectId } from '../ids';
import type { Db } from '../store/db';
import type { PageRequest } from '../store/pagination';
import { filesRepository, type FileRow } from '../store/repositories/files';
import { mimeTypeFor } from './mimeTypes';
import type { ByteRange, FileStorage, StorageKey } from './storage';

export interface FileLibraryOptions {
  storage: FileStorage;
  /** The per-file cap (THREADLINE_MAX_FILE_BYTES), enforced while bytes are read. */
  maxBytes: number;
}

export type FileBody = Buffer | AsyncIterable<Buffer | string>;

/** A file whose bytes are stored but that is not visible yet (an API upload still waiting for its fields). */
export interface StagedFile {
  id: string;
  createdAt: number;
  bytes: number;
}

export interface NewFile {
  /**
   * A caller-chosen `file-…` id (e.g. minted by a workflow), so a retried activity converges on one file:
   * creating an id that already exists returns that file and stores nothing.
   */
  id?: string;
  filename: string;
  purpose: string;
  body: FileBody;
  /** What the producer says the bytes are; the file name's extension wins when it is a known one. */
  mimeType?: string;
  expiresAt?: number | null;
}

/** A row says the file exists but its storage has no bytes for it (e.g. a `local` directory on another host). */
export class MissingBytesError extends Error {
  override name = 'MissingBytesError';

  constructor(fileId: string, storage: FileStorage['kind']) {
    super(
      `${fileId} has no bytes in the ${storage} file storage` +
        (storage === 'local' ? ' (is THREADLINE_FILE_DIR shared by every API and worker host?)' : ''),
    );
  }
}

/** An upload nobody finished within a day is taken to be abandoned by a process that died. */
const ABANDONED_AFTER_SECONDS = 24 * 60 * 60;
const SWEEP_BATCH = 100;

/**
 * Files as the rest of Threadline uses them (the API, and the tools that read and write files): rows and
 * bytes kept in step. A row is written before the first byte and finished after the last, and bytes are
 * removed before their row, so every stored byte is named by a row and a crash leaves work the sweep can finish.
 * Expired files are gone: every read treats them as missing and removes them on the spot.
 */
export function fileLibrary(db: Db, { storage, maxBytes }: FileLibraryOptions) {
  const rows = filesRepository(db);
  const now = () => Math.floor(Date.now() / 1000);
  const keyOf = (projectId: string, fileId: string): StorageKey => ({ projectId, fileId });
  // A minted id carries its creation time, so list cursors place the file exactly where its id sorts.
  const createdAtOf = (id: string) => Math.floor((millisFromId(id, ID_PREFIX.file) ?? Date.now()) / 1000);
  const expired = (row: FileRow, at: number) => row.expires_at !== null && row.expires_at <= at;

  /** Out of sight first, then the bytes, then the row: a crash in between leaves a `deleting` row to sweep. */
  async function remove(row: FileRow): Promise<void> {
    await rows.markDeleting(row.project_id, row.id, ['uploading', 'ready', 'deleting']);
    await storage.delete(keyOf(row.project_id, row.id));
    await rows.remove(row.project_id, row.id);
  }

  async function find(projectId: string, id: string): Promise<FileRow | undefined> {
    const row = await rows.findReady(projectId, id);
    if (!row) return undefined;
    if (!expired(row, now())) return row;
    await remove(row);
    return undefined;
  }

  const library = {
    storage,
    maxBytes,

    /** Stores the bytes under a new (or the given) id behind an invisible row; `commit` or `discard` follows. */
    async stage(
      projectId: string,
      file: { id?: string; filename: string; mimeType?: string; body: FileBody },
    ): Promise<StagedFile> {
      const { id, createdAt } = file.id ? { id: file.id, createdAt: createdAtOf(file.id) } : newObjectId('file');
      await rows.begin({
        project_id: projectId,
        id,
        created_at: createdAt,
        bytes: 0,
        filename: file.filename,
        purpose: '',
        mime_type: mimeTypeFor(file.filename, file.mimeType),
        state: 'uploading',
        expires_at: null,
      });
      try {
        const bytes = await storage.put(keyOf(projectId, id), chunksOf(file.body), maxBytes);
        return { id, createdAt, bytes };
      } catch (error) {
        await library.discard(projectId, id);
        throw error;
      }
    },

    /** Makes a staged file visible with its purpose and expiry. */
    async commit(
      projectId: string,
      staged: StagedFile,
      meta: { purpose: string; expiresAt: number | null },
    ): Promise<FileRow> {
      const row = await rows.finish(projectId, staged.id, {
        bytes: staged.bytes,
        purpose: meta.purpose,
        expires_at: meta.expiresAt,
      });
      if (!row) throw new Error(`the upload of ${staged.id} was abandoned before it finished`);
      return row;
    },

    /** Drops a staged file, bytes and row. */
    async discard(projectId: string, id: string): Promise<void> {
      if (!(await rows.markDeleting(projectId, id, ['uploading']))) return;
      await storage.delete(keyOf(projectId, id));
      await rows.remove(projectId, id);
    },

    /** Stores a whole file in one call (what tools use); idempotent for a caller-chosen id. */
    async create(projectId: string, file: NewFile): Promise<FileRow> {
      if (file.id) {
        const existing = await rows.findAny(file.id);
        if (existing?.state === 'ready' && existing.project_id === projectId) return existing;
      }
      const staged = await library.stage(projectId, file);
      return library.commit(projectId, staged, { purpose: file.purpose, expiresAt: file.expiresAt ?? null });
    },

    /** The visible file, or undefined (missing, another project's, unfinished, or expired). */
    find,

    /** The file and a stream of its bytes (or of a range of them), or undefined when there is no such file. */
    async open(
      projectId: string,
      id: string,
      range?: ByteRange,
    ): Promise<{ row: FileRow; stream: Readable } | undefined> {
      const row = await find(projectId, id);
      if (!row) return undefined;
      const stream = await storage.get(keyOf(projectId, id), range);
      if (!stream) throw new MissingBytesError(id, storage.kind);
      return { row, stream };
    },

    /** Deletes a visible file, bytes and row; false when there was none. */
    async delete(projectId: string, id: string): Promise<boolean> {
      const row = await find(projectId, id);
      if (!row || !(await rows.markDeleting(projectId, id, ['ready']))) return false;
      await storage.delete(keyOf(projectId, id));
      await rows.remove(projectId, id);
      return true;
    },

    /** Which of `ids` name visible files of the project. */
    present(projectId: string, ids: string[]): Promise<Set<string>> {
      return rows.present(projectId, [...new Set(ids)], now());
    },

    page(projectId: string, page: PageRequest, purpose?: string) {
      return rows.page(projectId, page, now(), purpose);
    },

    position: (projectId: string, id: string) => rows.position(projectId, id),

    /**
     * Removes expired files, finishes deletes a process did not get to finish, and drops uploads abandoned a day
     * ago. Idempotent and safe to run in every process at once. Returns how many files it removed.
     */
    async sweep(at: number = now()): Promise<number> {
      let removed = 0;
      for (;;) {
        const batch = await rows.unfinished(at, at - ABANDONED_AFTER_SECONDS, SWEEP_BATCH);
        for (const row of batch) await remove(row);
        removed += batch.length;
        if (batch.length < SWEEP_BATCH) return removed;
      }
    },
  };
  return library;
}

export type FileLibrary = ReturnType<typeof fileLibrary>;

async function* chunksOf(body: FileBody): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield body;
    return;
  }
  for await (const chunk of body) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}
