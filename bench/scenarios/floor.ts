import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { directCall } from '../client';
import { measureCpu, type Measured } from '../cpuShare';
import { ROOT } from '../root';
import { pool, summarize } from '../stats';
import type { Row, ScenarioContext } from '../types';
import { oneRoundResponder } from './throughput';

interface FloorTimings {
  firstTokenMs: number;
  roundTripMs: number;
  totalMs: number;
}

export const FLOOR_SCENARIO = '0. Temporal floor';

/**
 * The floor's service, as `npm run bench` compiled it. The smoke test under jest may find the bench not compiled
 * yet: then only the floor's three files are compiled, into a directory of their own. Compiling the whole bench
 * config there rewrote `dist/src` while other test files were starting `dist/src/cli.js` processes, and one read
 * a module half written (`createDb is not a function`).
 */
function floorService(): string {
  const built = path.join(ROOT, 'dist', 'bench', 'floor', 'service.js');
  if (fs.existsSync(built)) return built;
  const outDir = path.join(ROOT, '.threadline', 'floor-build');
  const sources = ['service.ts', 'activities.ts', 'workflows.ts'].map((f) => path.join(ROOT, 'bench', 'floor', f));
  const options = ['--outDir', outDir, '--rootDir', path.join(ROOT, 'bench', 'floor'), '--target', 'ES2022'];
  options.push('--module', 'commonjs', '--moduleResolution', 'node', '--esModuleInterop', '--skipLibCheck');
  options.push('--strict', '--types', 'node');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), ...options, ...sources], { cwd: ROOT });
  return path.join(outDir, 'service.js');
}

/**
 * 0. Temporal's floor: the shape of a one-tool-round run (model call, Update with the outputs, activity, model
 * call, activity) with no database and no HTTP inside, in a process of its own against the same Temporal
 * server with the same worker settings, eager start as `threadline start` has it (off for the split
 * deployment, which cannot). Threadline's figures in scenarios 1–3 are reported as a ratio to these.
 */
export async function floor(ctx: ScenarioContext): Promise<Row[]> {
  const { dep, model } = ctx;
  const child = spawn(process.execPath, [floorService()], {
    env: {
      PATH: process.env.PATH ?? '',
      TEMPORAL_ADDRESS: dep.env.TEMPORAL_ADDRESS!,
      MODEL_BASE_URL: model.baseURL,
      TASK_QUEUE: `floor-${dep.env.THREADLINE_TASK_QUEUE}`,
      EAGER: dep.shape === 'all-in-one' ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('exit', () => reject(new Error(`floor service exited: ${output}`)));
  });
  const runOnce = async (): Promise<FloorTimings> => {
    const response = await fetch(`http://127.0.0.1:${port}/run`, { method: 'POST' });
    if (!response.ok) throw new Error(`floor run failed: ${await response.text()}`);
    return (await response.json()) as FloorTimings;
  };
  model.setResponder(oneRoundResponder);
  const rows: Row[] = [];
  const base = { scenario: FLOOR_SCENARIO, dialect: dep.dialect, unit: 'ms' };
  try {
    // Concurrency 1, each run beside the direct call it is compared with.
    const added: number[] = [];
    const roundTrips: number[] = [];
    const totals: number[] = [];
    const directs: number[] = [];
    const samples = ctx.pick(30, 100, 2);
    for (let i = 0; i <= samples; i++) {
      const a = await directCall(model.baseURL);
      const b = await directCall(model.baseURL);
      const t = await runOnce();
      if (i === 0) continue; // warm-up (the worker bundles its workflows on the first task)
      added.push(t.firstTokenMs - a.firstToken);
      roundTrips.push(t.roundTripMs);
      totals.push(t.totalMs);
      directs.push(a.total + b.total);
    }
    rows.push({ ...base, case: 'concurrency 1', metric: 'added to first token', value: summarize(added) });
    rows.push({
      ...base,
      case: 'concurrency 1',
      metric: 'tool round trip (outputs sent → next model request)',
      value: summarize(roundTrips),
    });
    rows.push({
      ...base,
      case: 'concurrency 1',
      metric: 'run latency (one tool round)',
      value: summarize(totals),
      direct: summarize(directs),
      ratio: summarize(totals).p50 / summarize(directs).p50,
    });
    // Concurrency 10: throughput and CPU per run of the floor's process and of Temporal.
    const concurrency = 10;
    const total = ctx.pick(30, 60, 2);
    await pool(Array.from({ length: concurrency }), concurrency, runOnce);
    const measured: Measured[] = [['floor process (worker + client)', child.pid!, true]];
    if (ctx.temporalPid !== undefined) measured.push(['Temporal server', ctx.temporalPid, false]);
    const cpu = measureCpu(measured);
    const started = performance.now();
    const results = await pool(Array.from({ length: total }), concurrency, runOnce);
    const seconds = (performance.now() - started) / 1000;
    const c10 = { ...base, case: `concurrency ${concurrency}` };
    rows.push({ ...c10, metric: 'run latency (one tool round)', value: summarize(results.map((r) => r.totalMs)) });
    rows.push({
      ...c10,
      metric: 'runs per second',
      unit: 'runs/s',
      value: { n: total, p50: total / seconds, p99: NaN },
    });
    rows.push(...cpu.rows(c10, total));
    ctx.log(
      `floor: added to first token p50 ${summarize(added).p50.toFixed(1)} ms, ${(total / seconds).toFixed(1)} runs/s at c=10`,
    );
  } finally {
    model.setResponder(undefined);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  return rows;
}

/** Which floor figure each Threadline figure is compared with: [scenario, case, metric] → floor [case, metric]. */
const PAIRS: Array<[string, RegExp, string, string, string]> = [
  [
    '1. first token',
    /^fake TTFT 0 ms, concurrency 1$/,
    'added to first token',
    'concurrency 1',
    'added to first token',
  ],
  [
    '2. per step',
    /^K = 1 tool rounds$/,
    'tool round trip (requires_action seen → next model request)',
    'concurrency 1',
    'tool round trip (outputs sent → next model request)',
  ],
  ['3. throughput', /^concurrency 1$/, 'run latency (one tool round)', 'concurrency 1', 'run latency (one tool round)'],
  [
    '3. throughput',
    /^concurrency 10$/,
    'run latency (one tool round)',
    'concurrency 10',
    'run latency (one tool round)',
  ],
  ['3. throughput', /^concurrency 10$/, 'runs per second', 'concurrency 10', 'runs per second'],
  [
    '3. throughput',
    /^concurrency 10$/,
    'CPU per run: Temporal server',
    'concurrency 10',
    'CPU per run: Temporal server',
  ],
  [
    '3. throughput',
    /^concurrency 10$/,
    'CPU per run: the benchmark (client and fake model)',
    'concurrency 10',
    'CPU per run: the benchmark (client and fake model)',
  ],
  // `threadline start` against the floor's one process (worker and client), thread group by thread group.
  ...(['main thread', 'other JS threads and V8 helpers', 'Temporal core threads'] as const).map(
    (group): [string, RegExp, string, string, string] => [
      '3. throughput',
      /^concurrency 10$/,
      `CPU per run: threadline start (API + worker), ${group}`,
      'concurrency 10',
      `CPU per run: floor process (worker + client), ${group}`,
    ],
  ),
];

/** Adds the floor's figure and the ratio to it to every Threadline row that has a floor counterpart. */
export function attachFloor(rows: Row[]): void {
  for (const row of rows) {
    const pair = PAIRS.find(([s, c, m]) => s === row.scenario && c.test(row.case) && m === row.metric);
    if (!pair) continue;
    const floorRow = rows.find(
      (r) => r.scenario === FLOOR_SCENARIO && r.dialect === row.dialect && r.case === pair[3] && r.metric === pair[4],
    );
    if (!floorRow || !(floorRow.value.p50 > 0)) continue;
    row.floor = floorRow.value;
    row.floorRatio = row.value.p50 / floorRow.value.p50;
  }
}
