/**
 * The first page of a thread's messages (the repository's keyset query, as `GET /threads/{id}/messages` runs it)
 * at 10 and at 10,000 messages on PostgreSQL, with the index before migration 014 and after it, switched back
 * and forth on the same database so the two are measured interleaved. Statistics are as a fresh thread leaves
 * them (no ANALYZE since its messages arrived), which is when the old index went wrong; `--analyze` runs one.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/messagePage.js [--analyze]
 */
import { sql } from 'kysely';
import { createDb, type Db } from '../src/store/db';
import { migrateToLatest } from '../src/store/migrate';
import { messagesRepository } from '../src/store/repositories/messages';
import { createThrowawayDatabase } from '../test/support/postgres';
import { summarize } from './stats';

const BODY = 'A message of ordinary length in a long conversation, about two hundred characters: '.padEnd(200, 'x');

async function fill(db: Db, projectId: string, threadId: string, count: number) {
  const now = Math.floor(Date.now() / 1000);
  await sql`insert into threads (project_id, id, created_at, metadata) values (${projectId}, ${threadId}, ${now}, '{}')`.execute(
    db,
  );
  for (let i = 0; i < count; i += 500) {
    const rows = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      // Ids sort by time as real ones do; a hundred messages per second of created_at.
      rows.push(
        sql`(${projectId}, ${`msg_${threadId}_${String(j).padStart(6, '0')}`}, ${threadId}, ${now + Math.floor(j / 100)}, ${j % 2 ? 'assistant' : 'user'}, 'completed', ${JSON.stringify([{ type: 'text', text: { value: BODY, annotations: [] } }])}, '[]', '{}')`,
      );
    }
    await sql`insert into messages (project_id, id, thread_id, created_at, role, status, content, attachments, metadata) values ${sql.join(rows)}`.execute(
      db,
    );
  }
}

const OLD = sql`create index messages_page on messages (thread_id, created_at, id)`;
const NEW = sql`create index messages_thread_page on messages (thread_id, project_id, created_at, id)`;

async function main() {
  const pg = await createThrowawayDatabase();
  const db = createDb({ dialect: 'postgres', connectionString: pg.url });
  try {
    await migrateToLatest(db);
    const projectId = (await sql<{ id: string }>`select id from projects limit 1`.execute(db)).rows[0]!.id;
    await fill(db, projectId, 'thread_10', 10);
    await fill(db, projectId, 'thread_10000', 10_000);
    if (process.argv.includes('--analyze')) await sql`analyze messages`.execute(db);
    const repo = messagesRepository(db);
    const times: Record<string, number[]> = {};
    const page = async (threadId: string) => {
      const start = performance.now();
      await repo.page(projectId, threadId, { limit: 20, order: 'desc' });
      return performance.now() - start;
    };
    for (let round = 0; round < 6; round++) {
      for (const variant of round % 2 === 0 ? ['before', 'after'] : ['after', 'before']) {
        await sql`drop index if exists messages_page`.execute(db);
        await sql`drop index if exists messages_thread_page`.execute(db);
        await (variant === 'before' ? OLD : NEW).execute(db);
        for (let i = 0; i < 60; i++) {
          for (const size of [10, 10_000]) {
            const t = await page(`thread_${size}`);
            if (i >= 5) (times[`${variant} ${size}`] ??= []).push(t);
          }
        }
      }
    }
    process.stdout.write(`first page (20 of desc), p50 / p99 ms, ${times['before 10']!.length} samples each\n\n`);
    process.stdout.write('| index | 10 messages | 10,000 messages | ratio of p50s |\n|---|---|---|---|\n');
    for (const variant of ['before', 'after']) {
      const a = summarize(times[`${variant} 10`]!);
      const b = summarize(times[`${variant} 10000`]!);
      process.stdout.write(
        `| ${variant === 'before' ? '(thread_id, created_at, id)' : '(thread_id, project_id, created_at, id)'} | ${a.p50.toFixed(2)} / ${a.p99.toFixed(2)} | ${b.p50.toFixed(2)} / ${b.p99.toFixed(2)} | ${(b.p50 / a.p50).toFixed(2)}× |\n`,
      );
    }
  } finally {
    await db.destroy();
    await pg.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
