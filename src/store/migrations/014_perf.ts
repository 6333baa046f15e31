import type { Kysely } from 'kysely';

/**
 * The message page index covers every equality a thread's listing filters on (thread and project), not the
 * thread alone. With the thread alone, PostgreSQL saw `project_id` as a filter outside the index, and when its
 * statistics put few rows under a thread (a thread that grew faster than the last ANALYZE, or any thread much
 * longer than the average) it chose a bitmap scan of the whole thread plus a sort over a backward index scan:
 * 20 ms for the first page of a 10,000-message thread instead of 0.04 ms (bench/FINDINGS.md). Thread first,
 * so the same index still serves the cascade from `threads` and anything else looking messages up by thread.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('messages_thread_page')
    .on('messages')
    .columns(['thread_id', 'project_id', 'created_at', 'id'])
    .execute();
  await db.schema.dropIndex('messages_page').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('messages_page').on('messages').columns(['thread_id', 'created_at', 'id']).execute();
  await db.schema.dropIndex('messages_thread_page').execute();
}
