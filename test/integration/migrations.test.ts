import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createDb, type Db } from '../../src/store/db';
import { migrateToLatest } from '../../src/store/migrate';
import { createThrowawayDatabase } from '../support/postgres';

/** The migrations the release before vector stores shipped with: 010 and 012–014 came later, 011 earlier. */
const PREVIOUS_RELEASE = [
  '001_initial',
  '002_runs',
  '003_run_events',
  '004_files',
  '005_hardening',
  '006_keys',
  '007_tool_outputs',
  '008_extensions',
  '009_sandbox_sessions',
  '011_tool_output_extras',
];

async function upgradesFromThePreviousRelease(db: Db): Promise<void> {
  expect(await migrateToLatest(db, PREVIOUS_RELEASE)).toEqual(PREVIOUS_RELEASE);
  // The numbers the previous release did not have run now, although 011 was applied before 010 exists.
  const applied = await migrateToLatest(db);
  expect(applied).toEqual(expect.arrayContaining(['010_vector_stores', '014_perf']));
  expect(applied).not.toEqual(expect.arrayContaining(['011_tool_output_extras']));
  const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM vector_stores`.execute(db);
  expect(Number(rows[0]!.n)).toBe(0);
  // A second boot has nothing left to do.
  expect(await migrateToLatest(db)).toEqual([]);
}

describe('migrations', () => {
  it('upgrade a SQLite database the previous release left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-migrate-'));
    const db = createDb({ dialect: 'sqlite', filename: path.join(dir, 'old.db') });
    try {
      await upgradesFromThePreviousRelease(db);
    } finally {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('upgrade a PostgreSQL database the previous release left', async () => {
    const database = await createThrowawayDatabase();
    const db = createDb({ dialect: 'postgres', connectionString: database.url });
    try {
      await upgradesFromThePreviousRelease(db);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
