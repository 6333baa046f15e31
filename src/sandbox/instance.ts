import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';
import { GROUP, PASSWD } from './launch';

/**
 * The directory of one sandbox worker process: its copy of the driver, the sandbox's /etc/passwd and
 * /etc/group, and one directory per session. Sessions live only as long as the process, so the directory is
 * removed at shutdown, and directories of processes that died without shutting down are removed at the next
 * boot on this host.
 *
 *   <THREADLINE_SANDBOX_DIR>/            0711, so the sandbox user can reach its own session directory and
 *     <host>-<pid>-<random>/  0711       nothing else (it cannot list any of these)
 *       driver.py, etc/passwd, etc/group 0644
 *       sessions/             0711
 *         <session>/          0700, owned by the sandbox user: its /mnt/data
 */
export interface SandboxInstance {
  id: string;
  dir: string;
  sessionsDir: string;
  remove(): Promise<void>;
}

export async function createInstance(root: string, logger: Logger): Promise<SandboxInstance> {
  await fs.promises.mkdir(root, { recursive: true, mode: 0o711 });
  await removeStaleInstances(root, logger);
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'host';
  const id = `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = path.join(root, id);
  const sessionsDir = path.join(dir, 'sessions');
  await fs.promises.mkdir(path.join(dir, 'etc'), { recursive: true, mode: 0o711 });
  await fs.promises.mkdir(sessionsDir, { mode: 0o711 });
  // mkdir's mode is masked by the umask; these must be exactly traversable, not listable.
  for (const d of [root, dir, path.join(dir, 'etc'), sessionsDir]) await fs.promises.chmod(d, 0o711);
  await fs.promises.writeFile(path.join(dir, 'driver.py'), await fs.promises.readFile(driverSource()), { mode: 0o644 });
  await fs.promises.writeFile(path.join(dir, 'etc', 'passwd'), PASSWD, { mode: 0o644 });
  await fs.promises.writeFile(path.join(dir, 'etc', 'group'), GROUP, { mode: 0o644 });
  return {
    id,
    dir,
    sessionsDir,
    remove: () => fs.promises.rm(dir, { recursive: true, force: true }),
  };
}

/** The driver's source: beside this module in the source tree, or found from dist/ (tsc copies no .py). */
function driverSource(): string {
  const candidates = [
    path.join(__dirname, 'python', 'driver.py'),
    path.resolve(__dirname, '..', '..', '..', 'src', 'sandbox', 'python', 'driver.py'),
  ];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) throw new Error(`the sandbox driver is missing (looked in ${candidates.join(', ')})`);
  return found;
}

async function removeStaleInstances(root: string, logger: Logger): Promise<void> {
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'host';
  for (const name of await fs.promises.readdir(root)) {
    const match = /^(.+)-(\d+)-[0-9a-f]{6}$/.exec(name);
    if (!match || match[1] !== host || processAlive(Number(match[2]))) continue;
    logger.info({ dir: path.join(root, name) }, 'removing the sandbox directory of a worker that is gone');
    await fs.promises.rm(path.join(root, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
