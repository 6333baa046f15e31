import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { sandboxActivities } from '../../activities/codeInterpreter';
import type { SandboxConfig } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { SandboxCgroups } from './cgroups';
import { SandboxUnavailable } from './dependencies';
import type { SandboxFiles } from './files';
import { createInstance, type SandboxInstance } from './instance';
import { launchSpec, sandboxIdentity } from './launch';
import { SandboxProcess } from './process';
import { seccompFilter } from './seccomp';
import { SessionManager } from './sessions';
import { workerTaskQueue } from './shared';

export interface RunningSandbox {
  /** This worker's own task queue: the calls for the sessions it holds come here. */
  taskQueue: string;
  sessions: SessionManager;
  /** Whether sessions get memory and process cgroups on this host (see cgroups.ts). */
  cgroups: boolean;
  /** Settles with the boot check's verdict: null when the sandbox works, else why it cannot. */
  check: Promise<SandboxUnavailable | null>;
  stop(): Promise<void>;
}

/**
 * A sandbox worker: polls the shared sandbox task queue (new sessions) and a queue of its own (sessions it
 * holds), executing code_interpreter calls in bubblewrap'd Python sessions. It starts even when the sandbox
 * cannot run on this host: every call then gets the reason as its failure result instead of waiting for a
 * worker that never comes, and the reason is logged at boot.
 */
export async function startSandboxWorker(opts: {
  address: string;
  namespace: string;
  config: SandboxConfig;
  store: Store;
  files: SandboxFiles;
  logger: Logger;
}): Promise<RunningSandbox> {
  const { config, store, logger } = opts;
  const instance = await createInstance(config.dir, logger);
  const cgroups = config.cgroups === 'auto' ? await SandboxCgroups.detect(instance.id, logger) : null;
  const sessions = new SessionManager(config, instance, logger, cgroups);
  const taskQueue = workerTaskQueue(config.taskQueue, instance.id);
  const activities = sandboxActivities({
    config,
    sessions,
    files: opts.files,
    logger,
    placeSession: (projectId, threadId) => store.sandboxSessions.place(projectId, threadId, taskQueue),
  });
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect({ address: opts.address });
    const common: Pick<
      WorkerOptions,
      'connection' | 'namespace' | 'activities' | 'shutdownGraceTime' | 'maxHeartbeatThrottleInterval'
    > = {
      connection,
      namespace: opts.namespace,
      activities,
      // Executions stopped by a deploy are cancelled after this and retried elsewhere (with a fresh session).
      shutdownGraceTime: '10s',
      maxHeartbeatThrottleInterval: '1s',
    };
    const shared = await Worker.create({
      ...common,
      taskQueue: config.taskQueue,
      maxConcurrentActivityTaskExecutions: config.concurrency,
    });
    // Calls for sessions held here must never wait behind new sessions' work: a call that waits too long
    // for this queue gives up on its session. Its own slots cover every session it may hold.
    const own = await Worker.create({
      ...common,
      taskQueue,
      maxConcurrentActivityTaskExecutions: config.maxSessions + config.concurrency,
    });
    const finished = Promise.all([shared.run(), own.run()]);
    const check = checkSandbox(config, instance).then((problem) => {
      if (problem) logger.error({ err: problem }, problem.message);
      else
        logger.info(
          { taskQueue: config.taskQueue, cgroups: cgroups !== null, seccomp: seccompFilter() !== null },
          'sandbox ready',
        );
      return problem;
    });
    const conn = connection;
    return {
      taskQueue,
      sessions,
      cgroups: cgroups !== null,
      check,
      async stop() {
        shared.shutdown();
        own.shutdown();
        await finished;
        await check;
        await sessions.closeAll();
        await store.sandboxSessions.vacate(taskQueue);
        await instance.remove();
        await conn.close();
      },
    };
  } catch (error) {
    await sessions.closeAll();
    await instance.remove();
    await connection?.close();
    throw error;
  }
}

/**
 * Starts one throwaway session and imports the data libraries, so a host that cannot run the sandbox says so
 * at boot (what to install, or what to allow) rather than at the first call.
 */
async function checkSandbox(config: SandboxConfig, instance: SandboxInstance): Promise<SandboxUnavailable | null> {
  const dir = path.join(instance.sessionsDir, `check-${randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(dir, { mode: 0o700 });
  const owner = sandboxIdentity(config);
  if (owner.uid !== undefined && owner.gid !== undefined) await fs.promises.chown(dir, owner.uid, owner.gid);
  let proc: SandboxProcess | undefined;
  try {
    proc = await SandboxProcess.start(launchSpec({ config, instanceDir: instance.dir, sessionDir: dir }), 4096);
    const result = await proc.execute('import numpy, pandas, matplotlib.pyplot', {
      timeoutMs: Math.max(config.timeoutMs, 60_000),
      cpuSeconds: config.cpuSeconds,
    });
    if (result.status !== 'completed' || result.error) {
      const said = result.output.trim().split('\n').pop() ?? result.status;
      return new SandboxUnavailable(
        `importing numpy, pandas and matplotlib failed in the sandbox (${said}). Install the Debian packages python3-numpy, python3-pandas and python3-matplotlib.`,
      );
    }
    return null;
  } catch (error) {
    if (error instanceof SandboxUnavailable) return error;
    return new SandboxUnavailable(error instanceof Error ? error.message : String(error));
  } finally {
    proc?.kill();
    await proc?.exited;
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
