import type { Kysely } from 'kysely';
import { DEFAULT_PROJECT_ID } from '../projects';

// Types chosen to mean the same in SQLite and PostgreSQL: BIGINT seconds, DOUBLE PRECISION samplers
// (PostgreSQL's REAL would turn 0.7 into 0.699999988), TEXT for ids and JSON.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('assistants')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('instructions', 'text')
    .addColumn('tools', 'text', (c) => c.notNull())
    .addColumn('tool_resources', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('temperature', 'double precision')
    .addColumn('top_p', 'double precision')
    .addColumn('response_format', 'text')
    .addColumn('reasoning_effort', 'text')
    .execute();
  await db.schema.createIndex('assistants_page').on('assistants').columns(['project_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('threads')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('tool_resources', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('threads_page').on('threads').columns(['project_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('thread_id', 'text', (c) => c.notNull().references('threads.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('attachments', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('assistant_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('completed_at', 'bigint')
    .addColumn('incomplete_at', 'bigint')
    .addColumn('incomplete_details', 'text')
    .execute();
  await db.schema.createIndex('messages_page').on('messages').columns(['thread_id', 'created_at', 'id']).execute();
  await db.schema
    .createIndex('messages_run_page')
    .on('messages')
    .columns(['thread_id', 'run_id', 'created_at', 'id'])
    .execute();

  await db
    .insertInto('projects' as never)
    .values({ id: DEFAULT_PROJECT_ID, name: 'Default project', created_at: Math.floor(Date.now() / 1000) } as never)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['messages', 'threads', 'assistants', 'projects']) {
    await db.schema.dropTable(table).execute();
  }
}
