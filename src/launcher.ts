import { spawn } from 'node:child_process';
import os from 'node:os';

/**
 * `threadline start` on Linux with glibc runs its service in a child process started with
 * `MALLOC_ARENA_MAX=2`. glibc gives busy threads (the Temporal core's, V8's, libuv's) malloc arenas of their own
 * and keeps what they freed after a burst of runs; with two arenas a process settled 26 to 118 MB lower with
 * 1,000 runs parked, in five interleaved comparisons (bench/FINDINGS.md, sections 12 and 16). glibc reads the
 * variable once, when the process starts, so a process cannot set it for itself, and Node 20 cannot exec: this
 * launcher stays, waits and passes signals on. It costs about 7 MB of private memory (the Node binary's pages
 * are shared with the child).
 *
 * Only `start`, the one-command laptop shape: `api`, `worker` and `sandbox` are what process managers, crash
 * tests and the Docker image (which sets the variable itself) run, and there the pid they hold must be the
 * process doing the work. A MALLOC_ARENA_MAX already set, to any value, is left alone and nothing is relaunched.
 */
export const ARENA_MAX = '2';

/** Whether this invocation should hand over to a child started with `MALLOC_ARENA_MAX` set. */
export function relaunchWanted(command: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return command === 'start' && process.platform === 'linux' && env.MALLOC_ARENA_MAX === undefined && onGlibc();
}

/** musl (Alpine) has no arenas to cap, and ignores the variable. */
function onGlibc(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return typeof report.header?.glibcVersionRuntime === 'string';
}

/** Signals passed to the service; a hang-up becomes a graceful stop. */
const FORWARDED: Array<[NodeJS.Signals, NodeJS.Signals]> = [
  ['SIGINT', 'SIGINT'],
  ['SIGTERM', 'SIGTERM'],
  ['SIGHUP', 'SIGTERM'],
];

/**
 * One Ctrl-C under `npm start` arrives twice (from the terminal, and forwarded by npm) within a millisecond or
 * so; passed on twice, the service would take the second as "exit without waiting". A person pressing twice
 * to force that is slower than this.
 */
const SAME_SIGNAL_MS = 100;

/** Set in the service's environment: only a service this launcher started watches its IPC channel. */
const LAUNCHED = 'THREADLINE_LAUNCHED';

/**
 * Runs this same command line in a child with MALLOC_ARENA_MAX set, and ends as it ends: with its exit code,
 * or killed by the same signal.
 */
export function relaunch(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, MALLOC_ARENA_MAX: ARENA_MAX, [LAUNCHED]: '1' },
    // The IPC channel is how the service learns that this launcher died (even by SIGKILL): it stops then.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // A session and process group of its own (setsid): a terminal's Ctrl-C reaches this launcher only, which
    // passes it on once. In the same group the service would get it twice, and a second signal means "exit
    // without waiting". The service's own children (the embedded Temporal server) are in that group too.
    detached: true,
  });
  const lastSent = new Map<NodeJS.Signals, number>();
  for (const [received, sent] of FORWARDED) {
    process.on(received, () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const now = Date.now();
      if (now - (lastSent.get(sent) ?? -Infinity) < SAME_SIGNAL_MS) return;
      lastSent.set(sent, now);
      child.kill(sent);
    });
  }
  child.once('error', (error) => {
    process.stderr.write(`threadline: could not start the service process: ${error.message}\n`);
    process.exitCode = 1;
  });
  child.once('exit', (code, signal) => {
    // What the service left running in its group goes with it: the embedded Temporal server, when the service
    // did not stop it (a second Ctrl-C, a signal before it was ready, a crash). Without the launcher the
    // terminal's signal reached that server directly.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // nothing left in the group
    }
    if (signal !== null) {
      for (const [received] of FORWARDED) process.removeAllListeners(received);
      process.kill(process.pid, signal);
      // A signal this process cannot die of here (it is handled elsewhere): the shell's convention instead.
      process.exitCode = 128 + (os.constants.signals[signal] ?? 0);
      return;
    }
    process.exitCode = code ?? 1;
  });
}

let watching = false;
let launcherGone = false;
const onGone: Array<() => void> = [];

/**
 * In the service, at its start: notes when the launcher that started it is gone (its IPC channel closes, even
 * when it was killed with SIGKILL), so that a service still booting then stops as soon as it can.
 */
export function watchLauncher(): void {
  // Another parent's IPC channel (pm2, a test's fork) is none of this: only the relaunched service watches.
  if (!process.connected || process.env[LAUNCHED] !== '1') return;
  delete process.env[LAUNCHED]; // not inherited by the service's own children
  watching = true;
  process.once('disconnect', () => {
    launcherGone = true;
    for (const stop of onGone.splice(0)) stop();
  });
}

/** In the running service: stop as on SIGTERM once the launcher is gone. */
export function onLauncherGone(stop: () => void): void {
  if (launcherGone) setImmediate(stop);
  else onGone.push(stop);
}

/** In the service, once it stops: let go of the channel, which would keep the event loop alive. */
export function releaseLauncher(): void {
  onGone.length = 0;
  if (!watching) return; // another parent's channel is that parent's business
  process.removeAllListeners('disconnect');
  if (process.connected) process.disconnect();
}
