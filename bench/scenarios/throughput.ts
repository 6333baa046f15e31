import type { RecordedRequest } from '../../test/support/fakeModel';
import { directCall, firstAt, lastOf, timedStream, wallMs } from '../client';
import { measureCpu, type Measured } from '../cpuShare';
import { pool, summarize } from '../stats';
import type { Deployment } from '../topology';
import { compared, type Row, type ScenarioContext } from '../types';

const PACING = { ttftMs: 50, interChunkMs: 5 };

/**
 * One run with one tool round, streamed both ways; resolves with its latency and how many times its outputs
 * were answered 503 first (a worker too busy to take the Update within the API's deadline): like the official
 * SDKs, which retry a 503 carrying `x-should-retry`, the identical submission is sent again (it applies once).
 */
export async function oneToolRound(dep: Deployment, assistantId: string): Promise<{ ms: number; retried: number }> {
  const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] });
  const start = wallMs();
  const first = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs`, {
    assistant_id: assistantId,
    stream: true,
  });
  const paused = lastOf(first.events, 'thread.run.requires_action');
  if (!paused) throw new Error(`no requires_action: ${first.events.map((e) => e.name).join(', ')}`);
  const run = JSON.parse(paused.data) as {
    id: string;
    required_action: { submit_tool_outputs: { tool_calls: Array<{ id: string }> } };
  };
  const outputs = run.required_action.submit_tool_outputs.tool_calls.map((c) => ({ tool_call_id: c.id, output: 'ok' }));
  for (let retried = 0; ; retried++) {
    let second: Awaited<ReturnType<typeof timedStream>>;
    try {
      second = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
        tool_outputs: outputs,
        stream: true,
      });
    } catch (error) {
      if (retried < 3 && /stream refused: 503/.test((error as Error).message)) continue;
      throw error;
    }
    const end = firstAt(second.events, 'thread.run.completed');
    if (end === undefined) throw new Error(`run did not complete: ${second.events.map((e) => e.name).join(', ')}`);
    return { ms: end - start, retried };
  }
}

/** A responder for one tool round: a call first, text once the thread has an output. */
export const oneRoundResponder = (req: RecordedRequest) =>
  req.body.messages.some((m) => m.role === 'tool')
    ? { kind: 'text' as const, text: 'tok '.repeat(10), ...PACING }
    : { kind: 'tool_calls' as const, calls: [{ name: 'lookup', arguments: '{"q":1}' }], ...PACING };

/**
 * 3. Throughput: runs of one tool round at fixed concurrency; runs per second against the Little's-law
 * bound (concurrency ÷ the latency of the same two model calls made directly), latency, and the CPU each
 * process spends per run.
 */
export async function throughput(ctx: ScenarioContext): Promise<Row[]> {
  const { dep, model } = ctx;
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  const assistant = await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] });
  model.setResponder(oneRoundResponder);
  const rows: Row[] = [];
  try {
    for (const concurrency of ctx.pick([1, 10], [1, 10, 100], [2])) {
      const total = ctx.pick(Math.max(20, concurrency * 3), Math.max(60, concurrency * 6), 2);
      await pool(Array.from({ length: concurrency }), concurrency, () => oneToolRound(dep, assistant.id)); // warm-up
      // The physical limit: the same two model calls, directly, at the same concurrency.
      const directs = await pool(Array.from({ length: Math.max(concurrency, 10) }), concurrency, async () => {
        const a = await directCall(model.baseURL);
        const b = await directCall(model.baseURL);
        return a.total + b.total;
      });
      const cpu = measureCpu(processes(dep, ctx.temporalPid));
      const started = wallMs();
      const runs = await pool(Array.from({ length: total }), concurrency, () => oneToolRound(dep, assistant.id));
      const seconds = (wallMs() - started) / 1000;
      const latencies = runs.map((r) => r.ms);
      const retried = runs.reduce((sum, r) => sum + r.retried, 0);

      const direct = summarize(directs);
      const achieved = total / seconds;
      const bound = concurrency / (direct.p50 / 1000);
      const base = { scenario: '3. throughput', dialect: dep.dialect, case: `concurrency ${concurrency}` };
      rows.push(
        compared({ ...base, metric: 'run latency (one tool round)', unit: 'ms' }, summarize(latencies), direct),
      );
      rows.push({
        ...base,
        metric: 'runs per second',
        unit: 'runs/s',
        value: { n: total, p50: achieved, p99: NaN },
        ...(retried > 0 ? { note: `${retried} submissions answered 503 first and sent again` } : {}),
      });
      const share = (100 * achieved) / bound;
      rows.push({
        ...base,
        metric: "share of the Little's-law bound",
        unit: '%',
        value: { n: total, p50: share, p99: NaN },
        note: `bound ${bound.toFixed(1)} runs/s`,
        ...(concurrency === 10 ? { target: '≥ 95 %', meets: share >= 95 } : {}),
      });
      rows.push(...cpu.rows(base, total));
      ctx.log(`throughput: c=${concurrency}: ${achieved.toFixed(1)} runs/s (${share.toFixed(0)} % of bound)`);
    }
  } finally {
    model.setResponder(undefined);
  }
  return rows;
}

/** The processes whose CPU and memory are reported, by role. */
export function processes(dep: Deployment, temporalPid: number | undefined): Measured[] {
  const list: Measured[] =
    dep.shape === 'all-in-one'
      ? [['threadline start (API + worker)', dep.api.pid, true]]
      : [
          ['threadline api', dep.api.pid, true],
          ['threadline worker', dep.workers[0]!.pid, true],
        ];
  // `threadline start` on glibc runs its service in a child; the launcher only waits, and is shown on its own.
  if (dep.api.child.pid !== dep.api.pid) list.push(['threadline start: its launcher', dep.api.child.pid!, false]);
  if (temporalPid !== undefined) list.push(['Temporal server', temporalPid, false]);
  return list;
}
