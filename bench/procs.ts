import fs from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system) a process has used so far, in ms (10 ms resolution). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
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
