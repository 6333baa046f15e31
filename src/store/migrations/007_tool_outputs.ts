import type { Kysely } from 'kysely';

/**
 * Results of tool calls, kept apart from the step row that shows them:
 * - outputs a client submits, stored by the API under the submission's key (`source`) before the run's
 *   workflow is told about them, so outputs of any size never travel in a Temporal payload;
 * - results of built-in tools (`source = 'server'`), written by the activity that ran the call.
 * The step's `tool_calls` are filled in from here when the step completes; the prompt reads from here too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tool_outputs')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text')
    .addColumn('output', 'text', (c) => c.notNull())
    .addColumn('call', 'text')
    .addColumn('arguments', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tool_outputs_pk', ['run_id', 'source', 'call_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('tool_outputs').execute();
}
