import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { startFakeModel } from '../test/support/fakeModel';
import { POSTGRES_ADMIN_URL } from '../test/support/postgres';
import { describeMachine, writeReport, type Report } from './report';
import { ROOT } from './root';
import { crash } from './scenarios/crash';
import { extensions } from './scenarios/extensions';
import { fileUpload } from './scenarios/fileUpload';
import { firstToken } from './scenarios/firstToken';
import { attachFloor, floor } from './scenarios/floor';
import { parked } from './scenarios/parked';
import { perStep } from './scenarios/perStep';
import { threadLength } from './scenarios/threadLength';
import { throughput } from './scenarios/throughput';
import { deploy, startTemporal, type Dialect } from './topology';
import type { Row, ScenarioContext } from './types';

export const SCENARIOS = {
  0: floor,
  1: firstToken,
  2: perStep,
  3: throughput,
  4: parked,
  5: threadLength,
  6: crash,
  7: extensions,
  8: fileUpload,
} as const;
type ScenarioId = keyof typeof SCENARIOS;
const SCENARIO_NAMES: Record<ScenarioId, string> = {
  0: '0. Temporal floor',
  1: '1. first token',
  2: '2. per step',
  3: '3. throughput',
  4: '4. parked runs',
  5: '5. thread length',
  6: '6. crash recovery',
  7: '7. extensions',
  8: '8. file upload',
};

export interface BenchOptions {
  mode: 'quick' | 'full' | 'smoke';
  only: ScenarioId[];
  dialects: Dialect[];
  /** Where BENCHMARKS.md and BENCHMARKS.json go. */
  outDir: string;
  log(message: string): void;
}

/** Runs the selected scenarios on each database and writes the report; returns it too. */
export async function runBenchmarks(options: BenchOptions): Promise<Report> {
  const started = Date.now();
  const temporal = await startTemporal();
  const model = await startFakeModel();
  const rows: Row[] = [];
  try {
    for (const dialect of options.dialects) {
      const shape = dialect === 'sqlite' ? 'all-in-one' : 'split';
      for (const id of options.only) {
        // A fresh deployment per scenario: no scenario measures what an earlier one left behind.
        const dep = await deploy(temporal.address, dialect, shape, model.baseURL);
        const ctx: ScenarioContext = {
          dep,
          model,
          temporalPid: temporal.pid,
          pick: (quick, full, smoke) => (options.mode === 'full' ? full : options.mode === 'smoke' ? smoke : quick),
          deployAnother: (env, otherShape) =>
            deploy(temporal.address, dialect, otherShape ?? shape, model.baseURL, env),
          log: (message) => options.log(`[${dialect}] ${message}`),
        };
        try {
          options.log(`[${dialect}] scenario ${id}…`);
          rows.push(...(await SCENARIOS[id](ctx)));
        } catch (error) {
          // One scenario failing must not lose the others' figures: it is reported as a failure instead.
          if (options.mode === 'smoke') throw error;
          const message = (error as Error).message.split('\n')[0] ?? String(error);
          options.log(`[${dialect}] scenario ${id} FAILED: ${message}`);
          // The processes' own account (what a 500 was, say) is in their error lines; the output goes with `dep`.
          for (const proc of [dep.api, ...dep.workers.filter((w) => w !== dep.api)]) {
            const errors = proc
              .output()
              .split('\n')
              .filter((line) => /"level":(50|60)/.test(line));
            for (const line of errors.slice(-3))
              options.log(`[${dialect}]   threadline ${proc.role}: ${line.slice(0, 2000)}`);
          }
          rows.push({
            scenario: SCENARIO_NAMES[id],
            dialect,
            case: 'scenario failed',
            metric: 'error',
            unit: '',
            value: { n: 0, p50: NaN, p99: NaN },
            note: message,
          });
        } finally {
          model.reset();
          await dep.stop();
        }
      }
    }
    attachFloor(rows);
    const report: Report = {
      mode: options.mode === 'full' ? 'full' : 'quick',
      startedAt: new Date(started).toISOString(),
      minutes: (Date.now() - started) / 60_000,
      machine: describeMachine(temporal.cliPath, await postgresVersion(), sqliteVersion()),
      rows,
      notes: findings(),
    };
    fs.mkdirSync(options.outDir, { recursive: true });
    writeReport(report, path.join(options.outDir, 'BENCHMARKS.md'), path.join(options.outDir, 'BENCHMARKS.json'));
    return report;
  } finally {
    await model.close();
    await temporal.stop();
  }
}

/** The hand-written analysis (what the numbers led to change, before and after), kept in bench/FINDINGS.md. */
function findings(): string[] {
  const file = path.join(ROOT, 'bench', 'FINDINGS.md');
  return fs.existsSync(file) ? [fs.readFileSync(file, 'utf8').trim()] : [];
}

async function postgresVersion(): Promise<string> {
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('show server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

function parseArgs(argv: string[]): BenchOptions {
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const only = (flag('only') ?? '0,1,2,3,4,5,6,7,8').split(',').map((s) => Number(s) as ScenarioId);
  for (const id of only) if (!(id in SCENARIOS)) throw new Error(`--only: no scenario ${id} (0–8)`);
  const dialects = (flag('db') ?? 'sqlite,postgres').split(',') as Dialect[];
  return {
    mode: argv.includes('--full') ? 'full' : argv.includes('--smoke') ? 'smoke' : 'quick',
    only,
    dialects,
    outDir: flag('out') ?? ROOT,
    log: (message) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`),
  };
}

/**
 * `--refresh-notes`: writes the last report again with bench/FINDINGS.md as it is now, the measurements
 * untouched (the analysis is written after the pass it analyses).
 */
function refreshNotes(outDir: string): void {
  const jsonPath = path.join(outDir, 'BENCHMARKS.json');
  const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as Report;
  writeReport({ ...report, notes: findings() }, path.join(outDir, 'BENCHMARKS.md'), jsonPath);
}

if (require.main === module && process.argv.includes('--refresh-notes')) {
  refreshNotes(parseArgs(process.argv.slice(2)).outDir);
} else if (require.main === module) {
  runBenchmarks(parseArgs(process.argv.slice(2))).then(
    (report) => {
      const missed = report.rows.filter((r) => r.meets === false).length;
      process.stdout.write(
        `\nWrote BENCHMARKS.md and BENCHMARKS.json (${report.rows.length} figures, ${missed} targets missed).\n`,
      );
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
