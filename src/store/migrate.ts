import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './db';
import * as m001 from './migrations/001_initial';
import * as m002 from './migrations/002_runs';
import * as m003 from './migrations/003_run_events';
import * as m005 from './migrations/005_hardening';

// Listed in code rather than read from a folder so the compiled build and the tests see the same set.
const migrations: Record<string, Migration> = {
  '001_initial': m001,
  '002_runs': m002,
  '003_run_events': m003,
  '005_hardening': m005,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'threadline_migrations',
    migrationLockTableName: 'threadline_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
