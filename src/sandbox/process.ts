import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import fs from 'node:fs';
import { INFO_FD, SECCOMP_FD, type LaunchSpec } from './launch';
import { OutputDemux } from './output';
import { SandboxUnavailable, missingModulesError, launchError } from './dependencies';

/** What the driver reports at the end of an execution (see driver.py). */
interface DoneMessage {
  op: 'done';
  id: number;
  error: { type: string; message: string } | null;
  images: string[];
  images_dropped: number;
  files: Array<{ path: string; size: number }>;
  files_dropped: number;
}

export interface RawExecution {
  /** `completed`: the code ran (and maybe raised, see `error`); otherwise it was stopped from outside or died. */
  status: 'completed' | 'timeout' | 'died' | 'cancelled';
  output: string;
  error: { type: string; message: string } | null;
  images: Buffer[];
  imagesDropped: number;
  files: Array<{ path: string; size: number }>;
  filesDropped: number;
  /** How the process ended, when it did. */
  exit: ProcessExit | null;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const READY_TIMEOUT_MS = 30_000;
/** A control message this big is not the driver speaking: the code is writing into the channel. */
const MAX_CONTROL_LINE = 64 * 1024 * 1024;

/**
 * One session's interpreter: a bubblewrap'd Python driver, started once and given code to execute one piece
 * at a time. Output arrives on the process's stdout, control messages on a socket (fd 4).
 */
export class SandboxProcess {
  private readonly child: ChildProcess;
  private readonly output: OutputDemux;
  private control = '';
  private waiting: ((message: Record<string, unknown>) => void) | undefined;
  private stderr = '';
  private nextId = 1;
  private exitInfo: ProcessExit | null = null;
  private spawnError: Error | undefined;
  private info = '';
  readonly exited: Promise<ProcessExit>;

  private constructor(spec: LaunchSpec, maxOutputBytes: number) {
    this.child = spawn(spec.file, spec.args, {
      // An empty environment: bwrap's own (visible inside as /proc/1/environ) must not carry our settings.
      env: {},
      uid: spec.uid,
      gid: spec.gid,
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'pipe', 'pipe', spec.seccomp ? 'pipe' : 'ignore'],
    });
    const streams = this.child.stdio as unknown as Array<(Readable & Writable) | null>;
    if (spec.seccomp) {
      // bwrap reads the filter whole before it starts the sandbox; a bwrap that died first closes the pipe.
      streams[SECCOMP_FD]?.on('error', () => undefined);
      streams[SECCOMP_FD]?.end(spec.seccomp);
    }
    this.output = new OutputDemux(maxOutputBytes);
    this.exited = new Promise((resolve) => {
      // 'close' comes after the output pipes are drained, so nothing printed before death is lost.
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.output.end();
        resolve(this.exitInfo);
      });
    });
    this.child.once('error', (error) => {
      this.spawnError = error;
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 16_384) this.stderr += chunk.toString();
    });
    streams[INFO_FD]?.on('data', (chunk: Buffer) => {
      this.info += chunk.toString();
    });
    const control = this.child.stdio[4] as Readable & Writable;
    control.on('data', (chunk: Buffer) => this.onControl(chunk));
    control.on('error', () => undefined); // a dead driver's socket errors; the exit handles it
  }

  /** Starts the interpreter and waits until it is ready; a missing dependency rejects with SandboxUnavailable. */
  static async start(spec: LaunchSpec, maxOutputBytes: number): Promise<SandboxProcess> {
    const proc = new SandboxProcess(spec, maxOutputBytes);
    // A binary that cannot be spawned emits 'error' and then 'close': the error says why.
    const died = proc.exited.then((exit) => {
      throw launchError(spec, proc.spawnError ?? exit, proc.stderr);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SandboxUnavailable(`the sandbox did not start within ${READY_TIMEOUT_MS / 1000} s`)),
        READY_TIMEOUT_MS,
      );
    });
    try {
      const ready = await Promise.race([proc.nextMessage(), died, timeout]);
      const missing = ready.missing as string[];
      if (missing.length > 0) throw missingModulesError(spec, missing);
      return proc;
    } catch (error) {
      proc.kill();
      throw error;
    } finally {
      clearTimeout(timer);
      // The loser of the race must not surface as an unhandled rejection later.
      died.catch(() => undefined);
    }
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  /** The host pid of bwrap (the sandbox's processes are its descendants). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Host pids of the sandbox's processes: its init (bwrap's `child-pid`) and the init's children (the
   * interpreter). Before any code ran, that is every process of the session.
   */
  async sandboxPids(): Promise<number[]> {
    let init = 0;
    for (let waited = 0; !init && waited < 2_000; waited += 20) {
      init = Number((/"child-pid":\s*(\d+)/.exec(this.info) ?? [])[1]);
      if (!init) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!init) throw new Error('bwrap did not report the sandbox pid');
    const children = fs.readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim();
    return [init, ...children.split(/\s+/).filter(Boolean).map(Number)];
  }

  kill(): void {
    if (this.exitInfo === null) this.child.kill('SIGKILL');
  }

  /**
   * Runs one piece of code. Never rejects for anything the code does: a timeout, a death or a cancel is a
   * status of the result. The caller treats every status but `completed` as the end of this process.
   */
  async execute(
    code: string,
    opts: { timeoutMs: number; cpuSeconds: number; signal?: AbortSignal },
  ): Promise<RawExecution> {
    if (!this.alive) throw new Error('the sandbox process has exited');
    const id = this.nextId++;
    const mark = `\u0000threadline-end-${randomBytes(12).toString('hex')}\u0000`;
    const outputDone = this.output.until(mark);
    let stoppedBy: 'timeout' | 'cancelled' | undefined;
    const stop = (why: 'timeout' | 'cancelled') => {
      stoppedBy ??= why;
      this.kill();
    };
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort);
    try {
      (this.child.stdio[4] as Writable).write(
        `${JSON.stringify({ op: 'exec', id, code, mark, cpu_seconds: opts.cpuSeconds })}\n`,
      );
      const done = await Promise.race([this.nextMessage(), this.exited.then(() => null)]);
      const output = await outputDone;
      if (done && done.op === 'done' && done.id === id && stoppedBy === undefined) {
        const message = done as unknown as DoneMessage;
        return {
          status: 'completed',
          output,
          error: message.error,
          images: message.images.map((png) => Buffer.from(png, 'base64')),
          imagesDropped: message.images_dropped,
          files: message.files,
          filesDropped: message.files_dropped,
          exit: null,
        };
      }
      // Stopped or died: make sure it is gone, and report what it printed before that.
      this.kill();
      const exit = await this.exited;
      return {
        status: stoppedBy ?? 'died',
        output,
        error: null,
        images: [],
        imagesDropped: 0,
        files: [],
        filesDropped: 0,
        exit,
      };
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private nextMessage(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.drainControl();
    });
  }

  private onControl(chunk: Buffer): void {
    this.control += chunk.toString('utf8');
    if (this.control.length > MAX_CONTROL_LINE) {
      this.kill();
      return;
    }
    this.drainControl();
  }

  private drainControl(): void {
    const newline = this.control.indexOf('\n');
    if (newline < 0 || !this.waiting) return;
    const line = this.control.slice(0, newline);
    this.control = this.control.slice(newline + 1);
    const resolve = this.waiting;
    this.waiting = undefined;
    try {
      resolve(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not the driver's JSON: the code wrote into the channel. The session cannot be trusted any more.
      this.kill();
    }
  }
}

/** `SIGKILL`, or `exit code 3`: how a process ended, for people. */
export function describeExit(exit: ProcessExit): string {
  if (exit.signal) return exit.signal;
  const code = exit.code ?? 0;
  // bwrap reports a child killed by signal N as exit code 128 + N.
  if (code > 128) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return name;
  }
  return `exit code ${code}`;
}
