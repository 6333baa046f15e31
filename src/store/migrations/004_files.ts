import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Files. A `files` row is written before the first byte is stored and names every byte that exists: its
 * `state` is `uploading` while the bytes arrive, `ready` once the upload is complete (the only state the API
 * shows), and `deleting` while its bytes are being removed. A process that dies mid-upload or mid-delete leaves
 * a row saying so, and the sweep finishes the job; bytes without a row never exist.
 *
 * `file_chunks` holds the bytes when THREADLINE_FILE_STORAGE=postgres (see src/files/postgresStorage.ts). It has
 * no foreign key to `files`: the storage layer only knows keys, so it can be swapped without touching the rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('files_page').on('files').columns(['project_id', 'created_at', 'id']).execute();
  await db.schema
    .createIndex('files_purpose_page')
    .on('files')
    .columns(['project_id', 'purpose', 'created_at', 'id'])
    .execute();
  // The sweep's two questions: what has expired, and what was left half-done.
  await db.schema.createIndex('files_expiry').on('files').column('expires_at').execute();
  await db.schema
    .createIndex('files_unfinished')
    .on('files')
    .columns(['state', 'created_at'])
    .where(sql.ref('state'), '<>', 'ready')
    .execute();

  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('file_chunks')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('file_id', 'text', (c) => c.notNull())
    .addColumn('start_byte', 'bigint', (c) => c.notNull())
    .addColumn('data', sql.raw(binary), (c) => c.notNull())
    .addPrimaryKeyConstraint('file_chunks_pk', ['file_id', 'start_byte'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('file_chunks').execute();
  await db.schema.dropTable('files').execute();
}
