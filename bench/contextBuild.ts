import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Insertable } from 'kysely';
import { loadConfig } from '../src/config';
import { fileStoreOptions } from '../src/files';
import { buildContext } from '../src/model/context';
import { createTokenCounter } from '../src/model/tokenPool';
import { createStore, type Store } from '../src/store';
import { toolbox } from '../src/tools';
import { createDb, type Db } from '../src/store/db';
import { migrateToLatest } from '../src/store/migrate';
import { DEFAULT_PROJECT_ID } from '../src/store/projects';
import type { RunRow } from '../src/store/repositories/runs';
import type { MessageTable, RunTable } from '../src/store/schema';
import { createThrowawayDatabase } from '../test/support/postgres';
import { summarize } from './stats';

/**
 * Building a run's prompt on a long thread (`truncation_strategy: auto`), in-process, without Temporal or
 * HTTP: what bench scenario 5's "run start" figure spends in the context builder, measured apart from the
 * task-dispatch noise around it. `--against=<checkout>` (with its `dist/` built) measures that build's
 * context builder on the same database, interleaved with this one's.
 *
 *   npm run bench:context -- --against=/tmp/before --db=sqlite,postgres --messages=10000 --samples=15
 *
 * Message bodies are 200 characters of pseudo-random words (`--same-body` repeats one body instead, which
 * the tokenizer's cache makes cheap to count).
 */
type Build = (store: unknown, run: RunRow) => Promise<{ fits: boolean }>;

function flag(name: string, fallback: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
}

function bodies(count: number, same: boolean): string[] {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const body = () => {
    let text = '';
    while (text.length < 200) {
      let word = '';
      for (let i = 2 + (next() % 7); i > 0; i--) word += String.fromCharCode(97 + (next() % 26));
      text += `${word} `;
    }
    return text.slice(0, 200);
  };
  const one = body();
  return Array.from({ length: count }, () => (same ? one : body()));
}

/** A thread of `count` messages and a queued run on it, written straight to the database. */
async function seed(db: Db, count: number, same: boolean): Promise<RunRow> {
  const at = Math.floor(Date.now() / 1000) - count;
  const threadId = 'thread_bench';
  await db
    .insertInto('threads')
    .values({ project_id: DEFAULT_PROJECT_ID, id: threadId, created_at: at, tool_resources: null, metadata: '{}' })
    .execute();
  const rows: Array<Insertable<MessageTable>> = bodies(count, same).map((text, i) => ({
    project_id: DEFAULT_PROJECT_ID,
    id: `msg_bench${String(i).padStart(8, '0')}`,
    thread_id: threadId,
    created_at: at + i,
    role: i % 2 ? 'assistant' : 'user',
    status: 'completed',
    content: JSON.stringify([{ type: 'text', text: { value: text, annotations: [] } }]),
    attachments: '[]',
    metadata: '{}',
    assistant_id: null,
    run_id: null,
    completed_at: at + i,
    incomplete_at: null,
    incomplete_details: null,
  }));
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('messages')
      .values(rows.slice(i, i + 500))
      .execute();
  const run: Insertable<RunTable> = {
    project_id: DEFAULT_PROJECT_ID,
    id: 'run_bench',
    thread_id: threadId,
    assistant_id: 'asst_bench',
    created_at: at + count,
    version: 0,
    status: 'queued',
    expires_at: at + count + 600,
    model: 'gpt-4o',
    instructions: 'You are a helpful assistant.',
    additional_instructions: null,
    tools: '[]',
    metadata: '{}',
    temperature: null,
    top_p: null,
    reasoning_effort: null,
    max_prompt_tokens: null,
    max_completion_tokens: null,
    truncation_strategy: JSON.stringify({ type: 'auto', last_messages: null }),
    tool_choice: '"auto"',
    parallel_tool_calls: 1,
    response_format: '"auto"',
  };
  await db.insertInto('runs').values(run).execute();
  return (await db.selectFrom('runs').selectAll().where('id', '=', 'run_bench').executeTakeFirstOrThrow()) as RunRow;
}

async function measure(dialect: 'sqlite' | 'postgres', against: string | undefined): Promise<string[]> {
  const messages = Number(flag('messages', '10000'));
  const samples = Number(flag('samples', '15'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-context-'));
  const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
  const db = createDb(
    pg
      ? { dialect: 'postgres', connectionString: pg.url }
      : { dialect: 'sqlite', filename: path.join(dir, 'bench.db') },
  );
  const tokens = createTokenCounter();
  try {
    await migrateToLatest(db);
    await tokens.count(['warm up']); // as the worker does at boot: the thread's start is not the build's
    const run = await seed(db, messages, process.argv.includes('--same-body'));
    const limits = { contextWindowTokens: 128_000, completionReserveTokens: 4_096, promptTokensLeft: undefined };
    const store: Store = createStore(db, undefined, fileStoreOptions(loadConfig({}).files, db));
    const builds: Array<{ name: string; build: Build }> = [
      { name: 'this build', build: (_s, r) => buildContext(store, r, limits, toolbox([], new Set()), tokens) },
    ];
    if (against) {
      // An earlier build's context builder over its own store, on the same rows (its columns are a subset).
      /* eslint-disable @typescript-eslint/no-require-imports */
      const old = require(path.join(against, 'dist/src/model/context.js')) as {
        buildContext: (store: unknown, run: RunRow, limits: unknown) => Promise<{ fits: boolean }>;
      };
      const oldStore = (
        require(path.join(against, 'dist/src/store/index.js')) as { createStore: (db: Db) => unknown }
      ).createStore(db);
      /* eslint-enable @typescript-eslint/no-require-imports */
      builds.push({ name: `${path.basename(against)}`, build: (_s, r) => old.buildContext(oldStore, r, limits) });
    }
    const times = builds.map(() => [] as number[]);
    const first: number[] = [];
    for (const [i, { build }] of builds.entries()) {
      const start = performance.now();
      await build(store, run);
      first[i] = performance.now() - start;
    }
    for (let s = 0; s < samples; s++) {
      for (const [i, { build }] of builds.entries()) {
        const start = performance.now();
        if (!(await build(store, run)).fits) throw new Error('the prompt did not fit');
        times[i]!.push(performance.now() - start);
      }
    }
    return builds.map(({ name }, i) => {
      const { p50, p99 } = summarize(times[i]!);
      return `| ${dialect} | ${messages} | ${name} | ${first[i]!.toFixed(0)} ms | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms |`;
    });
  } finally {
    await tokens.close();
    await db.destroy();
    await pg?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const against = process.argv.find((a) => a.startsWith('--against='))?.split('=')[1];
  const lines = [
    '| database | messages | context builder | first build | p50 | p99 |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const dialect of flag('db', 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>) {
    lines.push(...(await measure(dialect, against)));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
