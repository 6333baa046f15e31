/**
 * Temporal alone, stock dev server against tuned, interleaved in one run (this machine is shared and noisy):
 * start → first activity (with and without eager workflow start, and as a local activity), each further
 * activity, an Update round trip, server CPU per workflow, and each server's CPU at idle.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node dist/bench/floor/microbench.js --rounds=40
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startScratchTemporal, type ScratchTemporal } from '../../test/support/temporal';
import { DEV_POLL_RPS } from '../../src/temporal/devServer';
import { cpuMs } from '../procs';
import { ROOT } from '../root';
import { summarize, type Summary } from '../stats';
import { floorActivities, marks } from './activities';

/** The stock server with only the poll limits raised, or only WAL: to tell the two changes apart. */
type Tuning = 'stock' | 'stock+poll' | 'stock+wal' | 'tuned';
const WAL_ONLY = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];
const POLL_ONLY = ['transfer', 'timer', 'visibility'].flatMap((q) => [
  '--dynamic-config-value',
  `history.${q}ProcessorMaxPollRPS=${DEV_POLL_RPS}`,
]);

interface Side {
  tuning: Tuning;
  server: ScratchTemporal;
  client: Client;
  worker: Worker;
  running: Promise<void>;
  connection: NativeConnection;
  samples: Record<string, number[]>;
  cpu: Record<string, number[]>;
}

const TASK_QUEUE = 'floor';

async function side(tuning: Tuning): Promise<Side> {
  const server = await startScratchTemporal(
    ROOT,
    'threadline-floor-',
    tuning === 'tuned' ? 'tuned' : 'stock',
    tuning === 'stock+poll' ? POLL_ONLY : tuning === 'stock+wal' ? WAL_ONLY : [],
  );
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection,
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: floorActivities(),
    stickyQueueScheduleToStartTimeout: '1s',
  });
  const running = worker.run();
  // Built on the worker's NativeConnection: the only kind of client that can ask for eager workflow start.
  const client = new Client({ connection });
  return { tuning, server, client, worker, running, connection, samples: {}, cpu: {} };
}

function record(s: Side, name: string, value: number) {
  (s.samples[name] ??= []).push(value);
}

async function waitMark(key: string, i: number): Promise<number> {
  for (;;) {
    const t = marks.get(key)?.[i];
    if (t !== undefined) return t;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let seq = 0;
async function chain(s: Side, eager: boolean, asLocal: boolean, label: string, pauseMs = 0) {
  const key = `${label}-${s.tuning}-${seq++}`;
  const cpu0 = cpuMs(s.server.pid!);
  const t0 = performance.now();
  const handle = await s.client.workflow.start('floorChain', {
    taskQueue: TASK_QUEUE,
    workflowId: key,
    args: [key, pauseMs > 0 ? 3 : 5, asLocal, pauseMs],
    requestEagerStart: eager,
  });
  await handle.result();
  const m = marks.get(key)!;
  record(s, `${label}: start → first activity`, m[0]! - t0);
  for (let i = 1; i < m.length; i++) record(s, `${label}: each further activity`, m[i]! - m[i - 1]! - pauseMs);
  (s.cpu[label] ??= []).push(cpuMs(s.server.pid!) - cpu0);
  marks.delete(key);
}

async function toolRound(s: Side) {
  const key = `round-${s.tuning}-${seq++}`;
  const cpu0 = cpuMs(s.server.pid!);
  const t0 = performance.now();
  const handle = await s.client.workflow.start('floorToolRound', {
    taskQueue: TASK_QUEUE,
    workflowId: key,
    args: [key],
    requestEagerStart: true,
  });
  await waitMark(key, 0);
  const u0 = performance.now();
  await handle.executeUpdate('floorOutputs', { args: ['ok'] });
  const u1 = performance.now();
  await handle.result();
  const m = marks.get(key)!;
  record(s, 'tool round: Update round trip', u1 - u0);
  record(s, 'tool round: outputs sent → next model activity', m[2]! - u0);
  record(s, 'tool round: whole workflow', performance.now() - t0);
  (s.cpu['tool round'] ??= []).push(cpuMs(s.server.pid!) - cpu0);
  marks.delete(key);
}

async function main() {
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 40);
  const idleSeconds = Number(process.argv.find((a) => a.startsWith('--idle='))?.split('=')[1] ?? 20);
  Runtime.install({ telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  const sides = [await side('stock'), await side('stock+poll'), await side('stock+wal'), await side('tuned')];
  try {
    // Warm-up: the first workflow of a worker loads the bundle.
    for (const s of sides) for (let i = 0; i < 3; i++) await chain(s, false, false, 'warm');
    for (const s of sides) {
      s.samples = {};
      s.cpu = {};
    }
    for (let r = 0; r < rounds; r++) {
      // Alternate which server goes first so neither always runs after the other's burst.
      const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
      for (const s of order) {
        await chain(s, false, false, 'chain');
        await chain(s, true, false, 'chain, eager start');
        await chain(s, true, true, 'local activities, eager start');
        await toolRound(s);
        if (r % 3 === 0) await chain(s, false, false, 'chain, 300 ms inside each activity', 300);
      }
    }
    // Idle: both servers, at the same time, doing nothing.
    const idle0 = sides.map((s) => cpuMs(s.server.pid!));
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const idle = sides.map((s, i) => ((cpuMs(s.server.pid!) - idle0[i]!) / (idleSeconds * 1000)) * 100);

    const names = Object.keys(sides[0]!.samples);
    const fmt = (v: Summary) => `${v.p50.toFixed(1)} / ${v.p99.toFixed(1)}`;
    process.stdout.write(
      `\n${rounds} rounds, interleaved; p50 / p99 ms\n\n| case | stock | stock + poll limits | stock + WAL, synchronous=NORMAL | tuned (both) |\n|---|---|---|---|---|\n`,
    );
    for (const name of names) {
      process.stdout.write(`| ${name} | ${sides.map((s) => fmt(summarize(s.samples[name] ?? []))).join(' | ')} |\n`);
    }
    for (const label of Object.keys(sides[0]!.cpu)) {
      const per = sides.map((s) => {
        const v = s.cpu[label] ?? [];
        return (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1);
      });
      process.stdout.write(`| server CPU-ms per workflow: ${label} | ${per.join(' | ')} |\n`);
    }
    process.stdout.write(
      `| server CPU at idle (% of a core, ${idleSeconds} s) | ${idle.map((v) => v.toFixed(2)).join(' | ')} |\n`,
    );
  } finally {
    for (const s of sides) {
      s.worker.shutdown();
      await s.running;
      await s.connection.close();
      await s.server.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
