import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Vector stores (issue 10). What the API shows about a store (`file_counts`, `usage_bytes`, `status`) is
 * computed from its files' rows on read, so no counter can drift from the rows it counts.
 *
 * - `vector_store_files`: one row per file in a store; its `id` is the File's id (as OpenAI's objects). The
 *   `ingestion_id` names the workflow that owns the row's ingestion: a file removed and added again gets a new
 *   one, so a late activity of the old ingestion can never write into the new one.
 * - `vector_store_file_contents`: the text extracted from the file (the `/content` endpoint).
 * - `vector_store_chunks`: the indexed chunks, with deterministic ids `<store>:<file>:<index>` so a retried
 *   ingestion replaces rather than duplicates. `seq` is an integer key for the keyword index: SQLite FTS5
 *   (an external-content table kept in step by triggers) or a PostgreSQL tsvector column with a GIN index.
 *   Vector tables are another migration's (012).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('vector_stores')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('expires_after_days', 'integer')
    .addColumn('expires_at', 'bigint')
    .addColumn('last_active_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('vector_stores_page')
    .on('vector_stores')
    .columns(['project_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('vector_store_files')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('vector_store_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('attributes', 'text')
    .addColumn('chunking_strategy', 'text', (c) => c.notNull())
    .addColumn('usage_bytes', 'bigint', (c) => c.notNull())
    .addColumn('batch_id', 'text')
    .addColumn('ingestion_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('vector_store_files_pk', ['vector_store_id', 'id'])
    .execute();
  await db.schema
    .createIndex('vector_store_files_page')
    .on('vector_store_files')
    .columns(['vector_store_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('vector_store_files_batch')
    .on('vector_store_files')
    .columns(['batch_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('vector_store_file_batches')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('vector_store_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('vector_store_file_batches_store')
    .on('vector_store_file_batches')
    .column('vector_store_id')
    .execute();

  await db.schema
    .createTable('vector_store_file_contents')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('vector_store_id', 'text', (c) => c.notNull())
    .addColumn('file_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('vector_store_file_contents_pk', ['vector_store_id', 'file_id'])
    .execute();

  if (postgres) {
    await sql`
      CREATE TABLE vector_store_chunks (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        project_id text NOT NULL,
        vector_store_id text NOT NULL,
        file_id text NOT NULL,
        chunk_index integer NOT NULL,
        text text NOT NULL,
        token_count integer NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
      )`.execute(db);
    await sql`CREATE INDEX vector_store_chunks_tsv ON vector_store_chunks USING gin (tsv)`.execute(db);
  } else {
    await sql`
      CREATE TABLE vector_store_chunks (
        seq integer PRIMARY KEY,
        id text NOT NULL UNIQUE,
        project_id text NOT NULL,
        vector_store_id text NOT NULL,
        file_id text NOT NULL,
        chunk_index integer NOT NULL,
        text text NOT NULL,
        token_count integer NOT NULL
      )`.execute(db);
    // External content: the text is stored once (in vector_store_chunks); the triggers keep the index in step.
    await sql`
      CREATE VIRTUAL TABLE vector_store_chunks_fts USING fts5(
        text, content='vector_store_chunks', content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2'
      )`.execute(db);
    await sql`
      CREATE TRIGGER vector_store_chunks_ai AFTER INSERT ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts(rowid, text) VALUES (new.seq, new.text);
      END`.execute(db);
    await sql`
      CREATE TRIGGER vector_store_chunks_ad AFTER DELETE ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts(vector_store_chunks_fts, rowid, text) VALUES ('delete', old.seq, old.text);
      END`.execute(db);
    await sql`
      CREATE TRIGGER vector_store_chunks_au AFTER UPDATE ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts(vector_store_chunks_fts, rowid, text) VALUES ('delete', old.seq, old.text);
        INSERT INTO vector_store_chunks_fts(rowid, text) VALUES (new.seq, new.text);
      END`.execute(db);
  }
  await db.schema
    .createIndex('vector_store_chunks_file')
    .on('vector_store_chunks')
    .columns(['vector_store_id', 'file_id', 'chunk_index'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (!postgres) await sql`DROP TABLE IF EXISTS vector_store_chunks_fts`.execute(db);
  await db.schema.dropTable('vector_store_chunks').execute();
  await db.schema.dropTable('vector_store_file_contents').execute();
  await db.schema.dropTable('vector_store_file_batches').execute();
  await db.schema.dropTable('vector_store_files').execute();
  await db.schema.dropTable('vector_stores').execute();
}
