import { firstAt, timedStream, wallMs } from '../client';
import { cpuMs, rssMb } from '../procs';
import { pool, summarize } from '../stats';
import type { Deployment } from '../topology';
import type { Row, ScenarioContext } from '../types';
import { oneRoundResponder, processes } from './throughput';

/** A run waiting in `requires_action` for the output of its one call. */
export type Parked = { threadId: string; runId: string; callId: string };

/** Parks `count` runs of the assistant (one tool call each), 20 at a time. */
export async function park(dep: Deployment, assistantId: string, count: number): Promise<Parked[]> {
  return pool(Array.from({ length: count }), 20, async () => {
    const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'park' }] });
    const run = await dep.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 50 },
    );
    if (run.status !== 'requires_action') throw new Error(`run ${run.id} ended ${run.status}, not parked`);
    return { threadId: thread.id, runId: run.id, callId: run.required_action!.submit_tool_outputs.tool_calls[0]!.id };
  });
}

/**
 * Submits a parked run's output on a stream and returns when `thread.run.completed` arrived (wall ms), and how
 * many 503s it was answered first: a 503 says the identical retry is safe (the outputs apply once).
 */
export async function resume(dep: Deployment, r: Parked): Promise<{ completedAt: number; retried: number }> {
  for (let retried = 0; ; retried++) {
    try {
      const stream = await timedStream(`${dep.baseURL}/threads/${r.threadId}/runs/${r.runId}/submit_tool_outputs`, {
        tool_outputs: [{ tool_call_id: r.callId, output: 'ok' }],
        stream: true,
      });
      const completedAt = firstAt(stream.events, 'thread.run.completed');
      if (completedAt === undefined) throw new Error(`run ${r.runId} did not complete`);
      return { completedAt, retried };
    } catch (error) {
      if (!/stream refused: 503/.test((error as Error).message)) throw error;
    }
  }
}

/**
 * 4. Parked runs: N runs waiting in `requires_action`; memory of each process after a quiet minute and again
 * after another (settled: the target is read there), the CPU they burn idle, the latency of resuming them all at once, then how punctually a short expiry fires.
 */
export async function parked(ctx: ScenarioContext): Promise<Row[]> {
  const { dep, model } = ctx;
  const count = ctx.pick(200, 1000, 5);
  const idleMs = ctx.pick(15_000, 60_000, 1_000);
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  const assistant = await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] });
  model.setResponder(oneRoundResponder);
  const rows: Row[] = [];
  const base = { scenario: '4. parked runs', dialect: dep.dialect };
  try {
    const pids = processes(dep, ctx.temporalPid);
    const rssBefore = pids.map(([, pid]) => rssMb(pid));
    const runs = await park(dep, assistant.id, count);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the parking settle before the quiet window
    const cpuBefore = pids.map(([, pid]) => cpuMs(pid));
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const cpuAfter = pids.map(([, pid]) => cpuMs(pid));
    const rssAfter = pids.map(([, pid]) => rssMb(pid));
    // Read again after as long again: what the first reading still holds is mostly the work's high-water mark
    // (V8 garbage not yet collected, freed memory kept in malloc arenas), which an idle process gives back;
    // what the parked runs themselves hold is what remains (bench/FINDINGS.md, round 2, section 12).
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const rssSettled = pids.map(([, pid]) => rssMb(pid));
    pids.forEach(([name], i) => {
      const growthPer1000 = ((rssAfter[i]! - rssBefore[i]!) * 1000) / count;
      const settledPer1000 = ((rssSettled[i]! - rssBefore[i]!) * 1000) / count;
      const isWorker = /worker/.test(name);
      rows.push({
        ...base,
        case: `${count} runs parked, ${idleMs / 1000} s idle`,
        metric: `memory growth per 1,000 parked runs: ${name}`,
        unit: 'MB',
        value: { n: count, p50: growthPer1000, p99: NaN },
        note: `RSS ${rssBefore[i]!.toFixed(0)} → ${rssAfter[i]!.toFixed(0)} MB`,
      });
      rows.push({
        ...base,
        case: `${count} runs parked, ${(2 * idleMs) / 1000} s idle`,
        metric: `memory growth per 1,000 parked runs, settled: ${name}`,
        unit: 'MB',
        value: { n: count, p50: settledPer1000, p99: NaN },
        note: `RSS ${rssBefore[i]!.toFixed(0)} → ${rssSettled[i]!.toFixed(0)} MB`,
        ...(isWorker ? { target: '≤ 50 MB', meets: settledPer1000 <= 50 } : {}),
      });
      rows.push({
        ...base,
        case: `${count} runs parked, ${idleMs / 1000} s idle`,
        metric: `idle CPU: ${name}`,
        unit: '% of a core',
        value: { n: 1, p50: (100 * (cpuAfter[i]! - cpuBefore[i]!)) / idleMs, p99: NaN },
      });
    });

    // Every output arrives at once (50 clients); each is timed from its POST to its run's completion.
    const resumeStarted = wallMs();
    const resumed = await pool(runs, 50, async (r) => {
      const start = wallMs();
      return (await resume(dep, r)).completedAt - start;
    });
    const wall = wallMs() - resumeStarted;
    rows.push({
      ...base,
      case: `${count} parked runs resumed by 50 clients`,
      metric: 'submit → run completed',
      unit: 'ms',
      value: summarize(resumed),
      note: `all ${count} done in ${(wall / 1000).toFixed(1)} s`,
    });
    ctx.log(`parked: ${count} runs resumed, p50 ${summarize(resumed).p50.toFixed(0)} ms`);
  } finally {
    model.setResponder(undefined);
  }

  rows.push(...(await expiryAccuracy(ctx)));
  return rows;
}

/** Runs parked with a 5 s expiry: how late `thread.run.expired` reaches a watching client after `expires_at`. */
async function expiryAccuracy(ctx: ScenarioContext): Promise<Row[]> {
  const dep = await ctx.deployAnother({ THREADLINE_RUN_EXPIRY_SECONDS: '5' });
  try {
    const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
    const assistant = await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] });
    ctx.model.setResponder(oneRoundResponder);
    const count = ctx.pick(10, 30, 2);
    // Each run is watched from its requires_action on, as soon as it parks. One that expired before its client
    // saw it parked (all of them start at once: on a slow machine some take seconds to park) has no lateness
    // to measure; it is counted in the note instead of failing the scenario (and its memory rows with it).
    let expiredFirst = 0;
    const measured = await pool(Array.from({ length: count }), count, async () => {
      const [r] = await park(dep, assistant.id, 1).catch((error: unknown) => {
        if (!/ended expired, not parked/.test((error as Error).message)) throw error;
        expiredFirst++;
        return [undefined];
      });
      if (r === undefined) return undefined;
      const run = await dep.openai.beta.threads.runs.retrieve(r.runId, { thread_id: r.threadId });
      const log = await timedStream(`${dep.baseURL}/threads/${r.threadId}/runs/${r.runId}/events`);
      const requiresActionSeq = log.events.length - 1; // seqs 1..n, then `done`
      return (await expiredSeenAt(dep, r, requiresActionSeq)) - run.expires_at! * 1000;
    });
    const lateness = measured.filter((ms): ms is number => ms !== undefined);
    if (lateness.length === 0) throw new Error(`all ${count} runs expired before they were seen parked`);
    return [
      {
        scenario: '4. parked runs',
        dialect: dep.dialect,
        case: `expiry after 5 s, ${count} runs`,
        metric: 'thread.run.expired seen − expires_at',
        unit: 'ms',
        value: summarize(lateness),
        note:
          'expires_at is whole seconds; the workflow timer fires at that instant' +
          (expiredFirst > 0 ? `; ${expiredFirst} expired before they were seen parked (not measured)` : ''),
      },
    ];
  } finally {
    ctx.model.setResponder(undefined);
    await dep.stop();
  }
}

/** Follows the run's log past its requires_action (the `lastId`-th event) and returns when `expired` arrived. */
async function expiredSeenAt(dep: Deployment, r: Parked, lastId: number): Promise<number> {
  const response = await fetch(`${dep.baseURL}/threads/${r.threadId}/runs/${r.runId}/events`, {
    headers: { 'Last-Event-ID': String(lastId) },
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done) throw new Error(`stream ended without thread.run.expired: ${text}`);
    text += decoder.decode(value, { stream: true });
    if (text.includes('event: thread.run.expired')) {
      const at = wallMs();
      await reader.cancel();
      return at;
    }
  }
}
