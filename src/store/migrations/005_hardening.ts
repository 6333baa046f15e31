import type { Kysely } from 'kysely';

/**
 * `messages.token_count`: what a message costs in a prompt (o200k tokens, with the chat format's overhead),
 * counted the first time a run's context needs it and kept, so a long thread is not re-tokenised on every
 * run. Null until then (and for messages still being written).
 *
 * `run_launches`: the outbox of run starts. A run is inserted together with its row here, in one transaction;
 * the row goes once the run's workflow is known to exist. Whatever dies in between (the API, the connection
 * to Temporal), a sweeper in every API process starts what is left once `due_at` (unix ms) has passed, so
 * every accepted run is driven by its workflow and no thread stays locked by a run nothing drives.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('token_count', 'integer').execute();
  await db.schema
    .createTable('run_launches')
    .addColumn('run_id', 'text', (c) => c.primaryKey().references('runs.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('run_launches_due').on('run_launches').column('due_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('run_launches').execute();
  await db.schema.alterTable('messages').dropColumn('token_count').execute();
}
