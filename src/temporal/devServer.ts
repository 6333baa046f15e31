import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logger';
import { SEARCH_ATTRIBUTES } from './shared';

export interface DevServerOptions {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  logger: Logger;
  /** `false` runs without the Web UI (tests). */
  ui?: boolean;
  /**
   * `tuned` (the default): WAL with `synchronous=NORMAL` and raised queue poll rates (see `devServerTuning`).
   * `stock`: the CLI's own settings; only the benchmark uses it, to measure what the tuning buys.
   */
  tuning?: 'tuned' | 'stock';
  /** More `start-dev` flags after these (the benchmark tries variants). */
  extraArgs?: string[];
}

/**
 * Why each flag (bench/FINDINGS.md, round 2, section 1; `npm run bench:floor` measures them apart):
 * - SQLite in WAL mode with `synchronous=NORMAL` syncs at checkpoints instead of on every commit (several per
 *   task): an activity round trip fell from about 53 to about 17 ms, and the server's CPU per workflow halved.
 *   A crash of the server process loses nothing; a power loss or kernel crash can lose the last transactions
 *   before a checkpoint. The embedded server is for one machine; production points TEMPORAL_ADDRESS at a
 *   cluster with its own durability.
 * - The history service reads new tasks (transfer, timer, visibility) from its queues at most 20 times a second
 *   per shard, and the dev server has one shard. Raising that made no measurable difference on the development
 *   machine (the readers are woken by new tasks); it is raised so the cap cannot bind under bursts, at no idle
 *   cost measured.
 * - The timer queue reads ahead `history.timerProcessorMaxTimeShift` (1 s by default) past now, and a timer
 *   created due inside what it has read is pushed to just after it (server 1.32:
 *   service/history/shard/task_key_manager.go `getExclusiveReaderHighWatermark` and task_key_generator.go
 *   `setTaskKeys`). So a timer shorter than 1 s could fire up to 1 s late: an activity retry due 100 ms after
 *   a heartbeat timeout started 460-880 ms after it was due (the persistence activities' 200 ms retries are
 *   such timers too). At 50 ms it starts 2-5 ms after (`node dist/bench/ab.js crashtrace`); ordinary latency,
 *   CPU per run and the server's idle CPU with 400 parked runs did not change measurably (`ab.js serverargs`).
 */
export function devServerTuning(tuning: 'tuned' | 'stock'): string[] {
  // Lets the worker that schedules an activity take it straight away, skipping a round trip per step.
  const always = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];
  if (tuning === 'stock') return always;
  const pollRps = [
    'history.transferProcessorMaxPollRPS',
    'history.timerProcessorMaxPollRPS',
    'history.visibilityProcessorMaxPollRPS',
  ];
  return [
    ...always,
    ...pollRps.flatMap((key) => ['--dynamic-config-value', `${key}=${DEV_POLL_RPS}`]),
    '--dynamic-config-value',
    `history.timerProcessorMaxTimeShift="${DEV_TIMER_MAX_TIME_SHIFT}"`,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
  ];
}

/** Queue reads per second per shard the tuned dev server allows (the CLI's default is 20). */
export const DEV_POLL_RPS = 1000;

/** How far ahead of now the tuned dev server's timer queue reads, the most a timer can fire late (default 1 s). */
export const DEV_TIMER_MAX_TIME_SHIFT = '50ms';

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /** The server's process id (benchmarks read its CPU and memory). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` as a child process with its state in `<data dir>/temporal.db`, so runs,
 * histories and registered search attributes survive a restart. Resolves once the frontend accepts gRPC.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const address = `127.0.0.1:${opts.port}`;
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(opts.dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--log-level',
    'warn',
    ...devServerTuning(opts.tuning ?? 'tuned'),
    ...(opts.extraArgs ?? []),
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    ...(opts.namespace === 'default' ? [] : ['--namespace', opts.namespace]),
    ...(opts.ui === false ? ['--headless'] : ['--ui-port', String(opts.uiPort)]),
  ];
  opts.logger.info({ cli: opts.cliPath, address }, 'starting embedded Temporal dev server');
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitUntilReady(address, exited);
  } catch (error) {
    await stopChild(child, exited);
    throw new Error(`Temporal dev server did not start: ${(error as Error).message}\n${output.join('').slice(-4000)}`);
  }
  const uiUrl = opts.ui === false ? undefined : `http://127.0.0.1:${opts.uiPort}`;
  opts.logger.info({ address, ui: uiUrl }, 'Temporal dev server ready');
  return { address, uiUrl, pid: child.pid, stop: () => stopChild(child, exited) };
}

async function waitUntilReady(address: string, exited: Promise<number | null>): Promise<void> {
  const deadline = Date.now() + 60_000;
  let processEnded: number | null | undefined;
  void exited.then((code) => (processEnded = code));
  for (;;) {
    if (processEnded !== undefined) throw new Error(`the process exited with code ${processEnded}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`not reachable at ${address} after 60 s: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}
