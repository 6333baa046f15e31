import type { Kysely } from 'kysely';

/**
 * Where each thread's code interpreter session lives: the task queue of the sandbox worker that holds it, so
 * the next call for the thread (from any run, any workflow) is routed to that worker. `task_queue` is null
 * when the worker let the session go at shutdown: the row then only says a session existed (and was lost).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sandbox_sessions')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('task_queue', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_sessions_pk', ['project_id', 'thread_id'])
    .execute();
  await db.schema.createIndex('sandbox_sessions_queue').on('sandbox_sessions').column('task_queue').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sandbox_sessions').execute();
}
