import { sql, type Kysely } from 'kysely';

/**
 * Runs and run steps. The run row is written by the API at creation (the request's effective settings) and
 * then only by the run workflow, whose every write carries a higher `version` than the last (version-guarded
 * upserts make retried or reordered writes harmless).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('thread_id', 'text', (c) => c.notNull().references('threads.id').onDelete('cascade'))
    .addColumn('assistant_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('required_action', 'text')
    .addColumn('last_error', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('started_at', 'bigint')
    .addColumn('cancelled_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('incomplete_details', 'text')
    .addColumn('usage', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('instructions', 'text', (c) => c.notNull())
    .addColumn('additional_instructions', 'text')
    .addColumn('tools', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('temperature', 'double precision')
    .addColumn('top_p', 'double precision')
    .addColumn('reasoning_effort', 'text')
    .addColumn('max_prompt_tokens', 'bigint')
    .addColumn('max_completion_tokens', 'bigint')
    .addColumn('truncation_strategy', 'text', (c) => c.notNull())
    .addColumn('tool_choice', 'text', (c) => c.notNull())
    .addColumn('parallel_tool_calls', 'integer', (c) => c.notNull())
    .addColumn('response_format', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('runs_page').on('runs').columns(['thread_id', 'created_at', 'id']).execute();
  // One active run per thread, enforced by the database itself: a second insert of an active run for the
  // same thread fails atomically, however many API replicas race.
  await db.schema
    .createIndex('runs_one_active_per_thread')
    .on('runs')
    .column('thread_id')
    .unique()
    .where(sql.ref('status'), 'in', ['queued', 'in_progress', 'requires_action', 'cancelling'])
    .execute();

  await db.schema
    .createTable('run_steps')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('assistant_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('step_details', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('expired_at', 'bigint')
    .addColumn('cancelled_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('usage', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('run_steps_page').on('run_steps').columns(['run_id', 'created_at', 'id']).execute();
  await addAttemptToMessages(db);
}

/**
 * Which attempt of the model activity wrote a run's message or step. A superseded attempt that is still
 * running (its heartbeats lost, a newer attempt already started) must not overwrite the newer one's rows.
 */
async function addAttemptToMessages(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('attempt', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('attempt').execute();
  await db.schema.dropTable('run_steps').execute();
  await db.schema.dropTable('runs').execute();
}
