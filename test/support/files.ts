import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { toFile } from 'openai';
import type { FileObject } from 'openai/resources/files';
import { DIALECTS, startTestService, type Dialect, type TestService } from './service';

export type StorageDriver = 'local' | 'postgres';

/** Every database with every storage driver it can run: SQLite keeps files in a directory, PostgreSQL either way. */
export const STORAGE_CASES: Array<[Dialect, StorageDriver]> = DIALECTS.flatMap((dialect) =>
  dialect === 'postgres'
    ? ([
        ['postgres', 'postgres'],
        ['postgres', 'local'],
      ] as Array<[Dialect, StorageDriver]>)
    : ([['sqlite', 'local']] as Array<[Dialect, StorageDriver]>),
);

export function startFileService(
  dialect: Dialect,
  storage: StorageDriver,
  env: Record<string, string> = {},
  options: { worker?: boolean } = {},
): Promise<TestService> {
  return startTestService(dialect, { THREADLINE_FILE_STORAGE: storage, ...env }, options);
}

/** Uploads `content` under `name` through the official SDK. */
export async function upload(
  svc: TestService,
  name: string,
  content: string | Buffer,
  purpose: 'assistants' | 'vision' | 'user_data' | 'batch' = 'assistants',
): Promise<FileObject> {
  return svc.openai.files.create({ file: await toFile(Buffer.from(content), name), purpose });
}

/** How many files rows exist, in any state (an unfinished upload's row counts too). */
export async function fileRowCount(svc: TestService): Promise<number> {
  const row = await svc.running.db
    .selectFrom('files')
    .select(sql<number>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * How many stored byte sequences exist in the service's storage, finished or not: regular files anywhere under
 * the `local` directory (the `.incoming` area included), or distinct files in `file_chunks`.
 */
export async function storedFileCount(svc: TestService): Promise<number> {
  if (svc.running.store.files.storage.kind === 'postgres') {
    const row = await svc.running.db
      .selectFrom('file_chunks')
      .select(sql<number>`count(distinct file_id)`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  return regularFiles(path.join(svc.env.THREADLINE_DATA_DIR!, 'files')).length;
}

export function regularFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The bytes storage holds for a file, read past the API; undefined when storage has none. */
export async function storedBytes(svc: TestService, fileId: string): Promise<Buffer | undefined> {
  const stream = await svc.running.store.files.storage.get({ projectId: 'proj_default', fileId });
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A digest to compare bytes with: jest's deep equality walks a Buffer byte by byte and takes seconds per MB. */
export function sha256(bytes: Buffer | undefined): string | undefined {
  return bytes && createHash('sha256').update(bytes).digest('hex');
}
