import fs from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system) a process has used so far, in ms (10 ms resolution). */
export function cpuMs(pid: number): number {
  return statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** The CPU time (user + system, ms) in a process's or a thread's `stat` line. */
function statCpuMs(stat: string): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Resident memory of a process, in MB. */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/**
 * Samples a process's resident memory every `intervalMs` until `stop()`, which returns the largest sample (MB).
 * RSS is what the operating system charges the process, so a server that buffered an upload shows it here.
 */
export function sampleRss(pid: number, intervalMs = 25): { stop(): { peakMb: number; samples: number } } {
  let peakMb = rssMb(pid);
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peakMb = Math.max(peakMb, rssMb(pid));
      samples += 1;
    } catch {
      // The process is gone; the caller finds out from its own request.
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { peakMb, samples };
    },
  };
}

/** What a process's threads are, by name: the figures per thread group in scenarios 0 and 3. */
export type ThreadGroup = 'main thread' | 'other JS threads and V8 helpers' | 'Temporal core threads';

/**
 * CPU time (ms) so far of a process's threads, by group. Linux names a thread in `/proc/<pid>/task/<tid>/comm`:
 * Node's main thread is the one whose tid is the pid; the Temporal SDK's Rust core runs on `tokio-runtime-w…`
 * and `workflow-proces…` threads; every other thread is named `node` (the SDK's workflow thread, Threadline's
 * token-counting thread, V8's GC and compiler helpers, libuv's pool), so they can only be counted together.
 */
export function threadGroupCpuMs(pid: number): Map<ThreadGroup, number> {
  const out = new Map<ThreadGroup, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // not Linux, or the process is gone: no breakdown
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const group: ThreadGroup =
        tid === String(pid)
          ? 'main thread'
          : /^(tokio-runtime|workflow-proces)/.test(name)
            ? 'Temporal core threads'
            : 'other JS threads and V8 helpers';
      out.set(group, (out.get(group) ?? 0) + statCpuMs(stat));
    } catch {
      // The thread ended between the listing and the read: its time is lost from both readings alike.
    }
  }
  return out;
}

/** This process's own CPU time so far (ms): the benchmark's client and, in process, its fake model. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
