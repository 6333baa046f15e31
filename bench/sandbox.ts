/**
 * Code interpreter sandbox benchmark: latency of `print(1)` cold (a new session) and warm (an existing one),
 * both for the sandbox alone and through Temporal as a run calls it, and the memory an idle session holds.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node dist/bench/sandbox.js [--sessions=20] [--rounds=30]
 *
 * Not part of `npm test`; bench/FINDINGS.md has the figures and what they mean.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createInstance } from '../src/sandbox/instance';
import { launchSpec } from '../src/sandbox/launch';
import { SandboxProcess } from '../src/sandbox/process';
import { startSandboxHarness } from '../test/support/sandbox';
import { startScratchTemporal } from '../test/support/temporal';
import { ROOT } from './root';
import { now, summarize, type Summary } from './stats';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const SESSIONS = arg('sessions', 20);
const ROUNDS = arg('rounds', 30);

const config = loadConfig({ THREADLINE_SANDBOX_DIR: path.join(os.tmpdir(), 'threadline-sandbox-bench') }).sandbox;
const logger = pino({ level: 'warn' });

async function main(): Promise<void> {
  const instance = await createInstance(config.dir, logger);
  const rows: Array<[string, string]> = [];
  try {
    const direct = await directLatency(instance.dir, instance.sessionsDir);
    rows.push(['sandbox alone, cold (start a session + `print(1)`)', fmt(direct.cold)]);
    rows.push(['sandbox alone, warm (`print(1)` in a live session)', fmt(direct.warm)]);
    rows.push(['sandbox alone, first `import numpy, pandas, matplotlib.pyplot` in a session', fmt(direct.imports)]);
    const temporal = await temporalLatency();
    rows.push(['through Temporal, cold (new thread: lookup, shared queue, new session)', fmt(temporal.cold)]);
    rows.push(['through Temporal, warm (lookup, the session worker’s own queue)', fmt(temporal.warm)]);
    for (const [label, code] of [
      ['idle session after `print(1)`', 'print(1)'],
      ['idle session after `import numpy, pandas, matplotlib.pyplot` and a plot', DATA_CODE],
    ] as const) {
      const memory = await idleMemory(instance.dir, instance.sessionsDir, code);
      rows.push([`${label}: PSS per session (MiB)`, memory.pss.toFixed(1)]);
      rows.push([`${label}: USS (private) per session (MiB)`, memory.uss.toFixed(1)]);
    }
  } finally {
    await instance.remove();
  }
  const lines = [
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.release()}`,
    `Rounds: ${ROUNDS} cold, ${ROUNDS * 5} warm; ${SESSIONS} idle sessions per memory figure. Load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
    '',
    '| measure | p50 / p99 (ms), or MiB |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const DATA_CODE = [
  'import numpy as np, pandas as pd, matplotlib.pyplot as plt',
  'df = pd.DataFrame({"x": np.arange(100), "y": np.arange(100) ** 2})',
  'df.plot(x="x", y="y")',
  'plt.show()',
].join('\n');

const fmt = (s: Summary) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} (n=${s.n})`;

async function freshSession(instanceDir: string, sessionsDir: string, name: string): Promise<SandboxProcess> {
  const dir = path.join(sessionsDir, name);
  fs.mkdirSync(dir, { mode: 0o700 });
  if (process.getuid?.() === 0) fs.chownSync(dir, config.uid, config.gid);
  return SandboxProcess.start(launchSpec({ config, instanceDir, sessionDir: dir }), config.maxOutputBytes);
}

const exec = (proc: SandboxProcess, code: string) =>
  proc.execute(code, { timeoutMs: config.timeoutMs, cpuSeconds: config.cpuSeconds });

async function directLatency(
  instanceDir: string,
  sessionsDir: string,
): Promise<{ cold: Summary; warm: Summary; imports: Summary }> {
  const cold: number[] = [];
  const warm: number[] = [];
  const imports: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = now();
    const proc = await freshSession(instanceDir, sessionsDir, `latency-${i}`);
    const result = await exec(proc, 'print(1)');
    cold.push(now() - started);
    if (result.output !== '1\n') throw new Error(`unexpected output ${JSON.stringify(result.output)}`);
    for (let j = 0; j < 5; j++) {
      const t = now();
      await exec(proc, 'print(1)');
      warm.push(now() - t);
    }
    const t = now();
    await exec(proc, 'import numpy, pandas, matplotlib.pyplot');
    imports.push(now() - t);
    proc.kill();
    await proc.exited;
  }
  return { cold: summarize(cold), warm: summarize(warm), imports: summarize(imports) };
}

async function temporalLatency(): Promise<{ cold: Summary; warm: Summary }> {
  const temporal = await startScratchTemporal(ROOT, 'threadline-bench-sandbox-temporal-');
  const h = await startSandboxHarness({ TEMPORAL_ADDRESS: temporal.address });
  try {
    await h.exec({ threadId: h.thread(), code: 'print(1)' }); // the first workflow also bundles and caches code
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const threadId = h.thread();
      let t = now();
      await h.exec({ threadId, code: 'print(1)' });
      cold.push(now() - t);
      for (let j = 0; j < 5; j++) {
        t = now();
        await h.exec({ threadId, code: 'print(1)' });
        warm.push(now() - t);
      }
    }
    return { cold: summarize(cold), warm: summarize(warm) };
  } finally {
    await h.stop();
    await temporal.stop();
  }
}

/**
 * Memory of a process and all its descendants, in MiB: PSS (shared pages split among their sharers) and USS
 * (pages no other process maps: what the session alone costs).
 */
function memoryOfTree(pid: number): { pss: number; uss: number } {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  let pss = 0;
  let uss = 0;
  const field = (rollup: string, name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  const visit = (p: number) => {
    const rollup = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
    pss += field(rollup, 'Pss');
    uss += field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty');
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return { pss: pss / 1024, uss: uss / 1024 };
}

async function idleMemory(
  instanceDir: string,
  sessionsDir: string,
  code: string,
): Promise<{ pss: number; uss: number }> {
  const procs: SandboxProcess[] = [];
  try {
    for (let i = 0; i < SESSIONS; i++) {
      const proc = await freshSession(instanceDir, sessionsDir, `memory-${code.length}-${i}`);
      procs.push(proc);
      await exec(proc, code);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const trees = procs.map((p) => memoryOfTree(p.pid!));
    const pss = trees.reduce((sum, t) => sum + t.pss, 0) / SESSIONS;
    const uss = trees.reduce((sum, t) => sum + t.uss, 0) / SESSIONS;
    return { pss, uss };
  } finally {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
