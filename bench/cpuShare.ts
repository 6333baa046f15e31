import { cpuMs, ownCpuMs, threadGroupCpuMs, type ThreadGroup } from './procs';
import type { Row } from './types';

/** A process whose CPU is reported: its role, its pid, and whether it is a Node process (broken down by thread). */
export type Measured = [name: string, pid: number, node: boolean];

interface Reading {
  processes: number[];
  threads: Array<Map<ThreadGroup, number> | undefined>;
  /** This benchmark process: the client driving the runs and the fake model answering them. */
  own: number;
}

const THREAD_GROUPS: ThreadGroup[] = ['main thread', 'other JS threads and V8 helpers', 'Temporal core threads'];

/**
 * Starts measuring the CPU the given processes spend; `rows(base, total)` then gives their CPU-ms per run, each Node
 * process's split by thread group, and the benchmark's own (client and fake model). The benchmark shares the
 * machine's cores with what it measures, so its own CPU per run is part of what bounds the runs per second: for
 * Threadline it reads two SSE streams and three HTTP answers per run, for the floor one HTTP answer.
 */
export function measureCpu(measured: Measured[]): {
  rows(base: Omit<Row, 'metric' | 'unit' | 'value'>, total: number): Row[];
} {
  const read = (): Reading => ({
    processes: measured.map(([, pid]) => cpuMs(pid)),
    threads: measured.map(([, pid, node]) => (node ? threadGroupCpuMs(pid) : undefined)),
    own: ownCpuMs(),
  });
  const before = read();
  return {
    rows(base, total) {
      const after = read();
      const row = (metric: string, ms: number): Row => ({
        ...base,
        metric,
        unit: 'cpu-ms',
        value: { n: total, p50: ms / total, p99: NaN },
      });
      const rows = measured.map(([name], i) => row(`CPU per run: ${name}`, after.processes[i]! - before.processes[i]!));
      measured.forEach(([name], i) => {
        const [from, to] = [before.threads[i], after.threads[i]];
        if (!from || !to || to.size === 0) return;
        for (const group of THREAD_GROUPS) {
          rows.push(row(`CPU per run: ${name}, ${group}`, (to.get(group) ?? 0) - (from.get(group) ?? 0)));
        }
      });
      rows.push(row('CPU per run: the benchmark (client and fake model)', after.own - before.own));
      return rows;
    },
  };
}
