import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { createThrowawayDatabase } from '../test/support/postgres';
import { freePort } from '../test/support/ports';
import { startScratchTemporal, type ScratchTemporal } from '../test/support/temporal';
import { ROOT } from './root';

// BENCH_THREADLINE_CLI points the harness at another build (e.g. a worktree of an earlier commit) to measure
// before and after a change with the same benchmark code.
const CLI = process.env.BENCH_THREADLINE_CLI ?? path.join(ROOT, 'dist', 'src', 'cli.js');

export type Dialect = 'sqlite' | 'postgres';

/** One Temporal dev server for the whole benchmark run, persisting to a file as `npm start` does. */
export function startTemporal(): Promise<ScratchTemporal> {
  return startScratchTemporal(ROOT, 'threadline-bench-temporal-');
}

export interface ThreadlineProcess {
  role: 'start' | 'api' | 'worker';
  /** The process spawned: for `threadline start` on glibc, the launcher that runs the service in a child. */
  child: ChildProcess;
  /** The process doing the work, whose CPU and memory are read: the launcher's child where there is one. */
  pid: number;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Threadline as its users run it, in child processes of its own so their CPU and memory can be read apart
 * from the benchmark client and the fake model: `all-in-one` is `threadline start` (API + worker, the laptop
 * shape), `split` is `threadline api` + `threadline worker` (the production shape).
 */
export interface Deployment {
  dialect: Dialect;
  shape: 'all-in-one' | 'split';
  baseURL: string;
  openai: OpenAI;
  env: Record<string, string>;
  api: ThreadlineProcess;
  /** The process running the worker (the same as `api` when all-in-one). */
  workers: ThreadlineProcess[];
  startWorker(): Promise<ThreadlineProcess>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnRole(role: ThreadlineProcess['role'], env: Record<string, string>): ThreadlineProcess {
  // A variant's own build (ab.js `shape`: the previous commit's workflow against this one's).
  const cli = env.BENCH_THREADLINE_CLI ?? CLI;
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm run bench does)`);
  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the Threadline processes.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, cli, role], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const proc: ThreadlineProcess = {
    role,
    child,
    pid: child.pid!,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // A launcher passes signals on, but SIGKILL cannot be passed on: a crash is the service's own.
      if (signal === 'SIGKILL' && proc.pid !== child.pid) process.kill(proc.pid, signal);
      else child.kill(signal);
      await exited;
    },
  };
  return proc;
}

/** The service a `threadline start` launcher runs (its child running the CLI), or the launcher itself. */
function serviceOf(proc: ThreadlineProcess): number {
  const pid = proc.child.pid!;
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return ''; // a kernel without /proc/<pid>/task/<pid>/children, or a child gone meanwhile
    }
  };
  const children = read(`/proc/${pid}/task/${pid}/children`).split(/\s+/).filter(Boolean);
  const service = children.map(Number).find((child) =>
    read(`/proc/${child}/cmdline`)
      .split('\0')
      .some((a) => a.endsWith('cli.js')),
  );
  return service ?? pid;
}

async function waitFor(what: string, check: () => Promise<boolean>, proc: ThreadlineProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${what}: the process exited\n${proc.output()}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after 60 s\n${proc.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a deployment against a fresh database of the given dialect. */
export async function deploy(
  temporalAddress: string,
  dialect: Dialect,
  shape: Deployment['shape'],
  modelBaseURL: string,
  extraEnv: Record<string, string> = {},
): Promise<Deployment> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-bench-'));
  const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
  const port = await freePort();
  const taskQueue = `bench-${path.basename(dataDir)}`;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    THREADLINE_DATA_DIR: dataDir,
    THREADLINE_DATABASE_URL: pg?.url ?? path.join(dataDir, 'threadline.db'),
    TEMPORAL_ADDRESS: temporalAddress,
    THREADLINE_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: modelBaseURL,
    OPENAI_API_KEY: 'bench',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const connection = await Connection.connect({ address: temporalAddress });
  /** Worker identities (`pid@host`) the server has seen polling the run queue recently (dead ones linger). */
  const pollers = async () => {
    const response = await connection.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    return (response.pollers ?? []).map((p) => p.identity ?? '');
  };
  const polling = async (pid: number) => (await pollers()).some((identity) => identity.startsWith(`${pid}@`));
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const apiUp = async () => (await fetch(`${baseURL}/assistants?limit=1`)).ok;

  const workers: ThreadlineProcess[] = [];
  const startWorker = async () => {
    const proc = spawnRole('worker', { ...env, PORT: '0' });
    await waitFor('threadline worker', () => polling(proc.pid), proc);
    workers.push(proc);
    return proc;
  };

  let api: ThreadlineProcess;
  if (shape === 'all-in-one') {
    api = spawnRole('start', env);
    await waitFor('threadline start', apiUp, api);
    // Once the API answers, a launcher has started its service. An older build (ab.js --before), or a set
    // MALLOC_ARENA_MAX, runs the service in the spawned process itself.
    api.pid = serviceOf(api);
    await waitFor('threadline start', () => polling(api.pid), api);
    workers.push(api);
  } else {
    api = spawnRole('api', env);
    await waitFor('threadline api', apiUp, api);
    await startWorker();
  }

  return {
    dialect,
    shape,
    baseURL,
    openai: new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 }),
    env,
    api,
    workers,
    startWorker,
    async stop() {
      await Promise.all([api, ...workers].map((p) => p.kill('SIGTERM')));
      await connection.close();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
