import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './db';
import * as m001 from './migrations/001_initial';
import * as m002 from './migrations/002_runs';
import * as m003 from './migrations/003_run_events';
import * as m004 from './migrations/004_files';
import * as m005 from './migrations/005_hardening';
import * as m006 from './migrations/006_keys';
import * as m007 from './migrations/007_tool_outputs';
import * as m008 from './migrations/008_extensions';
import * as m009 from './migrations/009_sandbox_sessions';
import * as m010 from './migrations/010_vector_stores';
import * as m011 from './migrations/011_tool_output_extras';
import * as m012 from './migrations/012_vector_index';
import * as m014 from './migrations/014_perf';
import * as m015 from './migrations/015_pg_event_append';
import * as m016 from './migrations/016_pg_event_notify_payload';

// Listed in code rather than read from a folder so the compiled build and the tests see the same set.
const migrations: Record<string, Migration> = {
  '001_initial': m001,
  '002_runs': m002,
  '003_run_events': m003,
  '004_files': m004,
  '005_hardening': m005,
  '006_keys': m006,
  '007_tool_outputs': m007,
  '008_extensions': m008,
  '009_sandbox_sessions': m009,
  '010_vector_stores': m010,
  '011_tool_output_extras': m011,
  '012_vector_index': m012,
  '014_perf': m014,
  '015_pg_event_append': m015,
  '016_pg_event_notify_payload': m016,
};

/**
 * Brings the database to the latest schema. `only` limits the set (tests use it to build a database as an
 * earlier release left it).
 *
 * Numbers were reserved per feature and landed out of order (011 shipped before 010, 014 before 013 exists), so
 * a database of an earlier release has later numbers applied than the ones it is missing. Kysely refuses that
 * by default; every migration here creates or changes only its own tables, so order among them is free.
 */
export async function migrateToLatest(db: Db, only?: readonly string[]): Promise<string[]> {
  const chosen = only ? Object.fromEntries(only.map((name) => [name, migrations[name]!])) : migrations;
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(chosen) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'threadline_migrations',
    migrationLockTableName: 'threadline_migrations_lock',
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
