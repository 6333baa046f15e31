import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxConfig } from '../config';
import { seccompFilter } from './seccomp';

/** Where the driver and the sandbox's own /etc files appear inside every sandbox. */
const DRIVER_INSIDE = '/opt/threadline/driver.py';
/** The descriptor bwrap reads the seccomp filter from (SandboxProcess writes it there). */
export const SECCOMP_FD = 6;
/** The descriptor bwrap writes `{"child-pid": …}` to (see SandboxProcess). */
export const INFO_FD = 5;
/** The user the code runs as inside the sandbox (mapped to the unprivileged host uid). */
const INSIDE_UID = 1000;

/** What the driver sets on itself before any user code runs (see driver.py `set_limits`). */
export interface DriverLimits {
  memory_bytes: number;
  processes: number;
  file_bytes: number;
  cpu_seconds: number;
  /** Hard CPU limit per process over the session's life; the per-execution limit is a soft one under it. */
  cpu_seconds_lifetime: number;
  max_images: number;
  max_files: number;
}

/** How a session's interpreter is started: the bwrap command line and the host identity to run it as. */
export interface LaunchSpec {
  file: string;
  args: string[];
  /** Set when Threadline runs as root: the sandbox then runs as this unprivileged host user. */
  uid: number | undefined;
  gid: number | undefined;
  /** The compiled seccomp filter bwrap installs, or null on an architecture without one (see seccomp.ts). */
  seccomp: Buffer | null;
}

export const MAX_IMAGES_PER_EXECUTION = 10;
export const MAX_FILES_PER_EXECUTION = 20;

export function driverLimits(config: SandboxConfig): DriverLimits {
  return {
    memory_bytes: config.memoryBytes,
    processes: config.maxProcesses,
    file_bytes: config.maxFileBytes,
    cpu_seconds: config.cpuSeconds,
    cpu_seconds_lifetime: config.cpuSeconds * 10,
    max_images: MAX_IMAGES_PER_EXECUTION,
    max_files: MAX_FILES_PER_EXECUTION,
  };
}

/** The host uid/gid sandboxes run as: the configured unprivileged user when we are root, else our own. */
export function sandboxIdentity(config: SandboxConfig): { uid: number | undefined; gid: number | undefined } {
  const root = process.getuid?.() === 0;
  return root ? { uid: config.uid, gid: config.gid } : { uid: undefined, gid: undefined };
}

/**
 * The bubblewrap command for one session. Every namespace is new (user, pid, network, ipc, uts, cgroup):
 * the network namespace holds nothing but its own loopback; the user namespace maps one unprivileged uid and
 * may not create further user namespaces; a seccomp filter refuses system calls no Python code needs (see
 * seccomp.ts). The filesystem is a read-only root with `/usr` (and the few /etc
 * files Python and its libraries read) bound read-only, fresh `/proc`, minimal `/dev`, size-capped in-memory
 * `/tmp` and `/dev/shm`, and the session directory as the only writable host path, at `/mnt/data`.
 */
export function launchSpec(opts: { config: SandboxConfig; instanceDir: string; sessionDir: string }): LaunchSpec {
  const { config, instanceDir, sessionDir } = opts;
  const seccomp = seccompFilter();
  const threads = String(Math.max(1, Math.min(4, os.availableParallelism())));
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    USER: 'sandbox',
    LOGNAME: 'sandbox',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    MPLBACKEND: 'module://threadline_backend',
    MPLCONFIGDIR: '/tmp/matplotlib',
    // BLAS starts a thread per core by default, and threads count against the process limit.
    OPENBLAS_NUM_THREADS: threads,
    OMP_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
  };
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--uid',
    String(INSIDE_UID),
    '--gid',
    String(INSIDE_UID),
    '--hostname',
    'sandbox',
    // bwrap reports the sandbox's host pid here (SandboxProcess.sandboxPids), for its cgroups.
    '--info-fd',
    String(INFO_FD),
    ...(seccomp ? ['--seccomp', String(SECCOMP_FD)] : []),
    '--clearenv',
    ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--ro-bind',
    '/usr',
    '/usr',
    ...systemLinks(),
    ...ETC_FILES.flatMap((file) => ['--ro-bind-try', file, file]),
    '--ro-bind',
    path.join(instanceDir, 'etc', 'passwd'),
    '/etc/passwd',
    '--ro-bind',
    path.join(instanceDir, 'etc', 'group'),
    '/etc/group',
    '--ro-bind',
    path.join(instanceDir, 'driver.py'),
    DRIVER_INSIDE,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(config.tmpBytes),
    '--tmpfs',
    '/dev/shm',
    '--remount-ro',
    '/dev',
    '--size',
    String(config.tmpBytes),
    '--tmpfs',
    '/tmp',
    '--bind',
    sessionDir,
    '/mnt/data',
    '--chdir',
    '/mnt/data',
    '--remount-ro',
    '/',
    config.pythonPath,
    '-I',
    '-B',
    DRIVER_INSIDE,
    JSON.stringify(driverLimits(config)),
  ];
  return { file: config.bwrapPath, args, ...sandboxIdentity(config), seccomp };
}

/** What /etc/passwd and /etc/group say inside (some libraries look the current user up). */
export const PASSWD = `sandbox:x:${INSIDE_UID}:${INSIDE_UID}:sandbox:/tmp:/usr/sbin/nologin\n`;
export const GROUP = `sandbox:x:${INSIDE_UID}:\n`;

/**
 * System files Python, BLAS (Debian picks it through /etc/alternatives), the dynamic loader, matplotlib and
 * fontconfig read. Nothing with secrets: no passwd/shadow of the host, no ssl keys, no hosts or resolv.conf.
 */
const ETC_FILES = [
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/matplotlibrc',
  '/etc/fonts',
  '/etc/python3',
  ...pythonEtcDirs(),
];

function pythonEtcDirs(): string[] {
  try {
    return fs
      .readdirSync('/etc')
      .filter((name) => /^python3\.\d+$/.test(name))
      .map((name) => `/etc/${name}`);
  } catch {
    return [];
  }
}

/** `/bin`, `/lib`… are symlinks into /usr on merged-/usr systems (Debian 12); otherwise bound read-only. */
function systemLinks(): string[] {
  const args: string[] = [];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    try {
      const stat = fs.lstatSync(dir);
      if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir);
      else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
    } catch {
      // absent on this system
    }
  }
  return args;
}
