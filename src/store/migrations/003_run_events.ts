import type { Kysely } from 'kysely';

/**
 * The per-run event log behind streaming: every SSE event of a run, numbered in the order it happened. The
 * `seq` is the SSE `id:` a client resumes from (Last-Event-ID). `dedupe_key` names what the event reports
 * (`run.v7`, `msg_…:completed`, a delta's offset…) so a retried or replayed writer cannot log it twice.
 * `runs.event_seq` is the run's counter: taking it row-locks the run, so sequence numbers commit in order
 * and a reader that saw seq N never later finds a smaller one appear. `runs.event_writer` names the latest retried
 * model-call attempt (`<step id>#<attempt>`): an earlier attempt of that step still running cannot add to the log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('runs')
    .addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('runs').addColumn('event_writer', 'text').execute();
  await db.schema
    .createTable('run_events')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
    .addUniqueConstraint('run_events_dedupe', ['run_id', 'dedupe_key'])
    .execute();
  // A run's ending looks up the messages it wrote; without this that is a scan of every message.
  await db.schema.createIndex('messages_run').on('messages').column('run_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_run').execute();
  await db.schema.dropTable('run_events').execute();
  await db.schema.alterTable('runs').dropColumn('event_writer').execute();
  await db.schema.alterTable('runs').dropColumn('event_seq').execute();
}
