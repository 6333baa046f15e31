import type { Kysely } from 'kysely';

/**
 * What the vector index was built with. The vector table itself is created at boot (its column type depends
 * on THREADLINE_EMBEDDINGS_DIMENSIONS, see src/vectorStores/index); this row is how a later boot with another
 * model or size notices that the stored vectors no longer compare with new ones, instead of mixing them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vector_index_settings')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('model', 'text', (col) => col.notNull())
    .addColumn('dimensions', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('vector_index_settings').execute();
}
