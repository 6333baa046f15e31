import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const CLI_PATH = path.resolve(__dirname, '../../dist/src/cli.js');

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();

/** Kills every CLI process a test left running (a failed assertion must not leave servers behind). */
export function killLeftoverCliProcesses(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** `threadline worker` as a child process on a test service's settings, once it polls. */
export async function spawnWorkerFor(svc: { env: Record<string, string> }, timeoutMs = 60_000): Promise<CliProcess> {
  const { PORT: _port, ...env } = svc.env;
  const child = spawnCli(['worker'], { ...env, LOG_LEVEL: 'info' });
  await child.waitFor(/worker polling/, timeoutMs);
  return child;
}

/** `threadline api` as a child process on a test service's settings (a free port), once it listens. */
export async function spawnApiFor(
  svc: { env: Record<string, string> },
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliProcess & { baseURL: string }> {
  const child = spawnCli(['api'], { ...svc.env, PORT: '0', ...env, LOG_LEVEL: 'info' });
  await child.waitFor(/"msg":"API listening"/, timeoutMs);
  const baseURL = /"url":"(http:\/\/[^"]+\/v1)"[^\n]*"msg":"API listening"/.exec(child.output())![1]!;
  return { ...child, baseURL };
}

/** Runs the built `threadline` CLI as a real child process, as a user would. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  if (!fs.existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in CLI output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(({ code }) => {
          if (!pattern.test(out)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`CLI exited (${code}) before ${pattern}:\n${out.slice(-4000)}`));
          }
        });
        check();
      });
    },
  };
}
