import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxConfig } from '../config';
import type { Logger } from '../logger';
import type { SandboxCgroups, SessionCgroup } from './cgroups';
import { SandboxUnavailable } from './dependencies';
import type { SandboxInstance } from './instance';
import { launchSpec, sandboxIdentity } from './launch';
import { SandboxProcess } from './process';
import type { SessionExpectation, SessionResetReason } from './shared';

/** What a session remembers of an execution, so a retried activity does not run the same code twice. */
export interface Remembered<T> {
  callId: string;
  result: T;
}

/** One thread's interpreter on this worker: its process, its /mnt/data, what was staged and executed. */
export class Session {
  /** Stored files copied into /mnt/data: file id → the name it got there. */
  readonly staged = new Map<string, string>();
  lastUsed = Date.now();
  /** Executions in flight or queued; the idle sweep and eviction leave busy sessions alone. */
  busy = 0;
  /** Whether the database already routes the thread's calls to this worker. */
  placed = false;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly remembered: Array<Remembered<unknown>> = [];

  constructor(
    readonly key: string,
    readonly dir: string,
    readonly process: SandboxProcess,
    readonly cgroup: SessionCgroup | undefined,
  ) {}

  /** Runs `fn` when every earlier execution of this session has finished: one at a time, in arrival order. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  recall<T>(callId: string): T | undefined {
    return this.remembered.find((r) => r.callId === callId)?.result as T | undefined;
  }

  remember<T>(callId: string, result: T): void {
    this.remembered.push({ callId, result });
    if (this.remembered.length > 16) this.remembered.shift();
  }
}

const TOMBSTONES = 100_000;

/**
 * The sessions one sandbox worker holds, by thread. A session ends when it idles past the timeout, when a
 * limit stops its process, or when room is needed; what ended it is remembered (a tombstone), so the next
 * execution for that thread can say why its state is gone.
 */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly starting = new Map<string, Promise<Session>>();
  private readonly tombstones = new Map<string, SessionResetReason>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly config: SandboxConfig,
    private readonly instance: SandboxInstance,
    private readonly logger: Logger,
    private readonly cgroups: SandboxCgroups | null = null,
  ) {
    const every = Math.max(250, Math.min(30_000, Math.floor(config.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
  }

  static keyOf(projectId: string, threadId: string): string {
    return `${projectId}/${threadId}`;
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * The thread's live session here, or a new one. `reset` says why earlier state is gone when the caller
   * expected a session (or this worker ended one for the thread); null for a session that simply continues
   * or for the thread's first. Throws SandboxUnavailable when no interpreter can be started.
   */
  async acquire(
    key: string,
    expectation: SessionExpectation,
  ): Promise<{ session: Session; reset: SessionResetReason | null }> {
    const live = this.sessions.get(key);
    if (live?.process.alive) return { session: live, reset: null };
    const pending = this.starting.get(key);
    if (pending) return { session: await pending, reset: null };

    const tombstone = this.tombstones.get(key);
    const reset = tombstone ?? (expectation === 'new' ? null : 'worker_lost');
    const start = this.start(key);
    this.starting.set(key, start);
    try {
      const session = await start;
      this.tombstones.delete(key);
      return { session, reset };
    } finally {
      this.starting.delete(key);
    }
  }

  /** Ends a session whose process a limit stopped (or that is no longer trustworthy). */
  async end(session: Session, reason: SessionResetReason): Promise<void> {
    if (this.sessions.get(session.key) !== session) return;
    this.sessions.delete(session.key);
    this.bury(session.key, reason);
    session.process.kill();
    await session.process.exited;
    await session.cgroup?.remove();
    await fs.promises.rm(session.dir, { recursive: true, force: true });
  }

  /** Stops every session (worker shutdown). */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of all) session.process.kill();
    await Promise.all(all.map((s) => s.process.exited));
    for (const session of all) await session.cgroup?.remove();
    await this.cgroups?.close();
  }

  private async start(key: string): Promise<Session> {
    await this.makeRoom();
    const name = createHash('sha256').update(key).digest('hex').slice(0, 32);
    const dir = path.join(this.instance.sessionsDir, name);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(dir, { mode: 0o700 });
    const owner = sandboxIdentity(this.config);
    if (owner.uid !== undefined && owner.gid !== undefined) await fs.promises.chown(dir, owner.uid, owner.gid);
    let proc: SandboxProcess;
    try {
      proc = await SandboxProcess.start(
        launchSpec({ config: this.config, instanceDir: this.instance.dir, sessionDir: dir }),
        this.config.maxOutputBytes,
      );
    } catch (error) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw error;
    }
    let cgroup: SessionCgroup | undefined;
    try {
      cgroup = await this.cgroups?.forSession(name, {
        memoryBytes: this.config.memoryBytes,
        processes: this.config.maxProcesses,
      });
      // Before any code runs, the sandbox's init and its interpreter are all its processes.
      await cgroup?.join(await proc.sandboxPids());
    } catch (error) {
      proc.kill();
      await proc.exited;
      await cgroup?.remove();
      await fs.promises.rm(dir, { recursive: true, force: true });
      const why = error instanceof Error ? error.message : String(error);
      throw new SandboxUnavailable(
        `the session could not be put in its cgroup (${why}); THREADLINE_SANDBOX_CGROUPS=off runs sessions with per-process limits only.`,
      );
    }
    const session = new Session(key, dir, proc, cgroup);
    this.sessions.set(key, session);
    // A process that dies between executions (its hard CPU limit, the kernel's OOM killer) ends the session.
    void proc.exited.then(() => {
      if (session.busy === 0) void this.end(session, 'limit_exceeded');
    });
    this.logger.debug({ session: key, pid: proc.pid }, 'sandbox session started');
    return session;
  }

  /** Keeps at most THREADLINE_SANDBOX_MAX_SESSIONS: the least recently used idle session makes room. */
  private async makeRoom(): Promise<void> {
    while (this.sessions.size >= this.config.maxSessions) {
      const idle = [...this.sessions.values()].filter((s) => s.busy === 0);
      if (idle.length === 0) return;
      const oldest = idle.reduce((a, b) => (a.lastUsed <= b.lastUsed ? a : b));
      this.logger.info({ session: oldest.key }, 'sandbox session evicted to make room');
      await this.end(oldest, 'evicted');
    }
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const session of [...this.sessions.values()]) {
      if (session.busy === 0 && now - session.lastUsed >= this.config.idleTimeoutMs) {
        this.logger.debug({ session: session.key }, 'sandbox session idle: stopped');
        await this.end(session, 'idle_timeout');
      }
    }
  }

  private bury(key: string, reason: SessionResetReason): void {
    this.tombstones.delete(key);
    this.tombstones.set(key, reason);
    if (this.tombstones.size > TOMBSTONES) this.tombstones.delete(this.tombstones.keys().next().value!);
  }
}
