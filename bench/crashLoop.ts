import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb } from '../src/store/db';
import { runCrashLoop, type CrashLoopReport } from '../test/support/crashLoop';
import { startFakeModel } from '../test/support/fakeModel';
import { createThrowawayDatabase } from '../test/support/postgres';
import { ROOT } from './root';
import { startTemporal, type Dialect } from './topology';

/**
 * The long crash loop (the jest suite runs a short one): `threadline api` and `threadline worker` killed with
 * SIGKILL, round after round, under concurrent run creation, tool-output submission and streaming.
 *
 *   npm run bench:crash                                   # 20 rounds, concurrency 32, both databases
 *   npm run bench:crash -- --rounds=100 --concurrency=48 --worker-kill-every=3 --db=postgres
 *   npm run bench:crash -- --dump=/tmp/orphans            # history and rows of any orphaned run
 *
 * Exits 1 if any run was lost, orphaned or duplicated.
 */
const CLI = process.env.BENCH_THREADLINE_CLI ?? path.join(ROOT, 'dist', 'src', 'cli.js');

function migrate(env: Record<string, string>): void {
  const result = spawnSync(process.execPath, [CLI, 'migrate'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`threadline migrate failed:\n${result.stdout}${result.stderr}`);
}

function flag(name: string, fallback: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
}

async function main(): Promise<number> {
  const rounds = Number(flag('rounds', '20'));
  const concurrency = Number(flag('concurrency', '32'));
  const workerKillEvery = Number(flag('worker-kill-every', '2'));
  const dialects = flag('db', 'sqlite,postgres').split(',') as Dialect[];
  const dumpDir = process.argv.find((a) => a.startsWith('--dump='))?.split('=')[1];
  const log = (message: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

  const temporal = await startTemporal();
  const model = await startFakeModel();
  const reports: Array<{ dialect: Dialect; report: CrashLoopReport; minutes: number }> = [];
  try {
    for (const dialect of dialects) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-crash-'));
      const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
      const env = {
        THREADLINE_DATA_DIR: dataDir,
        THREADLINE_DATABASE_URL: pg?.url ?? path.join(dataDir, 'threadline.db'),
        TEMPORAL_ADDRESS: temporal.address,
        THREADLINE_TASK_QUEUE: `crash-${path.basename(dataDir)}`,
        OPENAI_BASE_URL: model.baseURL,
        OPENAI_API_KEY: 'bench',
        HOST: '127.0.0.1',
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: '2',
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
        THREADLINE_RUN_EXPIRY_SECONDS: '600',
      };
      // Migrated by the build under test (BENCH_THREADLINE_CLI may be an older one, with fewer migrations).
      migrate(env);
      const db = createDb(
        dialect === 'postgres'
          ? { dialect, connectionString: pg!.url }
          : { dialect, filename: env.THREADLINE_DATABASE_URL },
      );
      const started = Date.now();
      try {
        log(`${dialect}: ${rounds} rounds at concurrency ${concurrency}`);
        const report = await runCrashLoop(
          { cliPath: CLI, env, db, model },
          {
            rounds,
            concurrency,
            workerKillEvery,
            killAfterAnswers: Math.max(2, Math.floor(concurrency / 4)),
            killJitterMs: 400,
            settleMs: 120_000,
            dumpDir,
            log: (message) => log(`${dialect}: ${message}`),
          },
        );
        reports.push({ dialect, report, minutes: (Date.now() - started) / 60_000 });
      } finally {
        await db.destroy();
        await pg?.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await model.close();
    await temporal.stop();
  }

  const lines = [
    '| database | rounds | requests | runs accepted | runs in the database | lost | orphaned | duplicated | threads without their run | settled after the last kill | minutes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...reports.map(
      ({ dialect, report: r, minutes }) =>
        `| ${dialect} | ${r.rounds} | ${r.requests} | ${r.accepted} | ${r.runs} | ${r.lost.length} | ${r.orphaned.length} | ${r.duplicated.length} | ${r.threadsWithoutRun.length} | ${(r.settledInMs / 1000).toFixed(1)} s | ${minutes.toFixed(1)} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  const bad = reports.flatMap(({ report: r }) => [...r.lost, ...r.orphaned, ...r.duplicated, ...r.threadsWithoutRun]);
  if (bad.length > 0) process.stdout.write(`\nNot accounted for:\n${bad.join('\n')}\n`);
  return bad.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
