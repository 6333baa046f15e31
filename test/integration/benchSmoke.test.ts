import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBenchmarks } from '../../bench/run';
import type { Row } from '../../bench/types';

/**
 * Benchmarks never run inside `npm test`; this keeps the harness itself working: a smoke-sized pass of four
 * scenarios (Temporal's floor among them) on SQLite, through real child processes, must produce a complete report.
 */
jest.setTimeout(180_000);

it('the benchmark harness produces a report', async () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-bench-smoke-'));
  try {
    const report = await runBenchmarks({
      mode: 'smoke',
      only: [0, 1, 2, 8],
      dialects: ['sqlite'],
      outDir,
      log: () => undefined,
    });
    const metric = (name: string): Row | undefined => report.rows.find((r) => r.metric === name);
    expect(metric('first thread.message.delta')?.value.p50).toBeGreaterThan(0);
    expect(metric('first thread.message.delta')?.direct?.p50).toBeGreaterThan(0);
    expect(metric('added per model step')?.value.n).toBe(1);
    expect(metric('API RSS growth during the upload')?.value.n).toBe(1);
    expect(report.machine.cores).toBe(os.cpus().length);
    expect(report.machine.temporal).toMatch(/Server \d+\.\d+/);
    const markdown = fs.readFileSync(path.join(outDir, 'BENCHMARKS.md'), 'utf8');
    expect(markdown).toContain('## 0. Temporal floor');
    expect(markdown).toContain('## 1. first token');
    // Threadline's first-token figure is set beside the floor's, measured in the same run.
    const added = report.rows.find((r) => r.scenario === '1. first token' && r.metric === 'added to first token');
    expect(added?.floor?.n).toBeGreaterThan(0);
    expect(added?.floorRatio).toBe(added!.value.p50 / added!.floor!.p50);
    // The floor's CPU per run, split by thread group (Linux), and the benchmark's own beside it.
    const floorCpu = (name: string) =>
      report.rows.find((r) => r.scenario === '0. Temporal floor' && r.metric === `CPU per run: ${name}`)?.value.p50;
    for (const group of ['main thread', 'other JS threads and V8 helpers', 'Temporal core threads']) {
      expect(floorCpu(`floor process (worker + client), ${group}`)).toBeGreaterThanOrEqual(0);
    }
    expect(floorCpu('the benchmark (client and fake model)')).toBeGreaterThan(0);
    expect(markdown).toContain('## 2. per step');
    expect(markdown).toContain('## 8. file upload');
    const json = JSON.parse(fs.readFileSync(path.join(outDir, 'BENCHMARKS.json'), 'utf8')) as { rows: Row[] };
    expect(json.rows).toHaveLength(report.rows.length);
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
});
