import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';

const ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['memory', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];

/** One session's control groups: the memory and process count of all its processes together. */
export interface SessionCgroup {
  /** Moves processes (the sandbox's init and interpreter, before any code runs) into the group. */
  join(pids: number[]): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Per-session cgroups (v1 `memory` and `pids` hierarchies, as mounted on this host), under this process's
 * own cgroup. The rlimits bound each process; these bound the session as a whole: memory of all its
 * processes together (page cache and its in-memory /tmp and /dev/shm included), and its process count
 * at the host level. Used when Threadline runs as root and the hierarchies are writable; null otherwise.
 */
export class SandboxCgroups {
  private constructor(private readonly bases: Record<Controller, string>) {}

  static async detect(instanceId: string, logger: Logger): Promise<SandboxCgroups | null> {
    if (process.getuid?.() !== 0) return null;
    const own = ownCgroups();
    const bases = {} as Record<Controller, string>;
    try {
      for (const controller of CONTROLLERS) {
        const mount = path.join(ROOT, controller);
        const relative = own.get(controller);
        if (relative === undefined || !fs.existsSync(path.join(mount, 'cgroup.procs'))) return null;
        bases[controller] = path.join(mount, relative, `threadline-sandbox-${instanceId}`);
        await fs.promises.mkdir(bases[controller], { recursive: true });
      }
    } catch (error) {
      logger.info({ err: error }, 'cgroups not writable: sandbox sessions are limited per process only');
      return null;
    }
    return new SandboxCgroups(bases);
  }

  async forSession(name: string, limits: { memoryBytes: number; processes: number }): Promise<SessionCgroup> {
    const dirs = CONTROLLERS.map((c) => path.join(this.bases[c], name));
    for (const dir of dirs) await fs.promises.mkdir(dir, { recursive: true });
    const [memory, pids] = dirs as [string, string];
    await fs.promises.writeFile(path.join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // Without swap accounting the file is absent; with it, swap must not extend the limit.
    await fs.promises
      .writeFile(path.join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes))
      .catch(() => undefined);
    await fs.promises.writeFile(path.join(pids, 'pids.max'), String(limits.processes));
    return {
      async join(processIds) {
        for (const dir of dirs) {
          for (const pid of processIds) await fs.promises.writeFile(path.join(dir, 'cgroup.procs'), String(pid));
        }
      },
      remove: () => removeDirs(dirs),
    };
  }

  /** Removes this worker's parent groups (its sessions' are gone by then). */
  close(): Promise<void> {
    return removeDirs(Object.values(this.bases));
  }
}

/** A group can only be removed once its last process has exited; the kernel takes a moment after a kill. */
async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.promises.rmdir(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || attempt >= 20) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

/** controller → this process's cgroup path in that v1 hierarchy (from /proc/self/cgroup). */
function ownCgroups(): Map<string, string> {
  const map = new Map<string, string>();
  try {
    for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, controllers, where] = line.split(':');
      if (!controllers || where === undefined) continue;
      for (const controller of controllers.split(',')) map.set(controller, where);
    }
  } catch {
    // not Linux, or no /proc
  }
  return map;
}
