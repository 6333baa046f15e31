/**
 * A/B of Threadline settings, interleaved in one run against one Temporal dev server (this machine is shared
 * and noisy: separate runs are not comparable). Each variant is its own `threadline start` (SQLite).
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/ab.js eager [--samples=40]
 *   node dist/bench/ab.js cache [--parked=1000] [--warm=0]
 *   node dist/bench/ab.js alloc [--parked=1000] [--warm=0]  (glibc malloc settings, jemalloc)
 *   node dist/bench/ab.js launcher [--parked=1000] [--warm=0]  (threadline start's relaunch with 2 arenas)
 *   node dist/bench/ab.js server [--samples=30]    (the stock dev server against the tuned one)
 *   node dist/bench/ab.js crash [--trials=5]       (workflow task timeout 4 s against 2 s; scenario 6's kills)
 *   node dist/bench/ab.js databases [--samples=40] (SQLite start, PostgreSQL start, PostgreSQL api + worker)
 *   node dist/bench/ab.js crashtrace [--trials=1]  (each kill's history, as ms after the kill)
 *     ["--server-args=..."] ["--server-args-b=..."]   (dev server flags; with -b, two servers, trials alternating)
 *   node dist/bench/ab.js serverargs ["--server-args=..."] "--server-args-b=..." [--samples=40] [--parked]
 *     (latency, or with --parked 1,000 parked runs, on two tuned servers given different flags)
 *   node dist/bench/ab.js history [--sequence]     (events per run shape: one step; one tool round)
 *   node dist/bench/ab.js env "--env-b=KEY=VALUE ..." (this build, variant B with the settings given)
 *   Latency modes (eager, server, databases, shape, env) take --throughput[=rounds]: one-tool-round runs at
 *   concurrency 10, 30 a round per variant, rounds alternating; runs/s and CPU-ms per run per process.
 */
import os from 'node:os';
import path from 'node:path';
import { startFakeModel, type FakeModel } from '../test/support/fakeModel';
import { startScratchTemporal, type ScratchTemporal } from '../test/support/temporal';
import { directCall, firstAt, lastOf, timedStream, wallMs } from './client';
import { cpuMs, rssMb } from './procs';
import { ROOT } from './root';
import { crashOnce, HEARTBEAT_TIMEOUT_S, type Kind } from './scenarios/crash';
import { park, resume, type Parked } from './scenarios/parked';
import { oneRoundResponder, oneToolRound } from './scenarios/throughput';
import { Client, Connection } from '@temporalio/client';
import { pool, summarize, type Summary } from './stats';
import { deploy, type Deployment } from './topology';

interface Variant {
  name: string;
  env: Record<string, string>;
  temporal: ScratchTemporal;
  /** SQLite `threadline start` unless given. */
  dialect?: 'sqlite' | 'postgres';
  shape?: 'all-in-one' | 'split';
  dep?: Deployment;
}

/** CPU-ms so far of a deployment's Threadline processes (API and workers; one pid when all-in-one). */
const threadlineCpu = (v: Variant) =>
  [...new Set([v.dep!.api.pid, ...v.dep!.workers.map((w) => w.pid)])].reduce((sum, pid) => sum + cpuMs(pid), 0);

/** CPU-ms so far of a deployment's Threadline processes and its Temporal server. */
const deploymentCpu = (v: Variant) => threadlineCpu(v) + cpuMs(v.temporal.pid!);

/** `--postgres` and `--split`: the database and process topology both variants of `shape` and `env` run on. */
const topologyFlags = () => ({
  dialect: process.argv.includes('--postgres') ? ('postgres' as const) : ('sqlite' as const),
  shape: process.argv.includes('--split') ? ('split' as const) : ('all-in-one' as const),
});

const flag = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const fmt = (s: Summary) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`;
const out = (line: string) => process.stdout.write(`${line}\n`);

/** Time to first token added over the direct model call, c = 1; and a one-tool-round run end to end. */
async function latency(variants: Variant[], model: FakeModel, samples: number) {
  const added = new Map<string, number[]>();
  const roundTrip = new Map<string, number[]>();
  const whole = new Map<string, number[]>();
  const cpu = new Map<string, number>();
  const assistants = new Map<string, string>();
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  for (const v of variants) {
    assistants.set(v.name, (await v.dep!.openai.beta.assistants.create({ model: 'bench', tools: [tool] })).id);
    cpu.set(v.name, 0);
  }
  model.setResponder(oneRoundResponder);
  for (let i = 0; i <= samples; i++) {
    const order = variants.map((_, k) => variants[(k + i) % variants.length]!);
    for (const v of order) {
      const dep = v.dep!;
      const direct = await directCall(model.baseURL);
      const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
      const cpu0 = deploymentCpu(v);
      const first = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs`, {
        assistant_id: assistants.get(v.name),
        stream: true,
      });
      const paused = lastOf(first.events, 'thread.run.requires_action');
      if (!paused) throw new Error(`${v.name}: run did not park: ${first.events.map((e) => e.name).join(',')}`);
      const run = JSON.parse(paused.data) as {
        id: string;
        required_action: { submit_tool_outputs: { tool_calls: Array<{ id: string }> } };
      };
      const requestsBefore = model.requests.length;
      const sent = wallMs();
      const second = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
        tool_outputs: run.required_action.submit_tool_outputs.tool_calls.map((c) => ({
          tool_call_id: c.id,
          output: 'ok',
        })),
        stream: true,
      });
      const done = firstAt(second.events, 'thread.run.completed');
      if (done === undefined) throw new Error(`${v.name}: run did not complete`);
      if (i === 0) continue; // warm-up
      cpu.set(v.name, cpu.get(v.name)! + deploymentCpu(v) - cpu0);
      // The first model request's first token is the tool call's: the fake's own TTFT is the direct call's.
      const firstDelta =
        firstAt(first.events, 'thread.run.step.delta') ?? firstAt(first.events, 'thread.run.step.created')!;
      (added.get(v.name) ?? added.set(v.name, []).get(v.name)!).push(firstDelta - first.start - direct.firstToken);
      const nextRequest = model.requests[requestsBefore]?.receivedAt;
      if (nextRequest !== undefined) {
        (roundTrip.get(v.name) ?? roundTrip.set(v.name, []).get(v.name)!).push(nextRequest - sent);
      }
      (whole.get(v.name) ?? whole.set(v.name, []).get(v.name)!).push(done - first.start);
    }
  }
  model.setResponder(undefined);
  out(`\n${samples} runs per variant (one tool round, fake TTFT 20 ms), interleaved; p50 / p99 ms\n`);
  out(`| measure | ${variants.map((v) => v.name).join(' | ')} |`);
  out(`|---|${variants.map(() => '---').join('|')}|`);
  out(
    `| run POST → first step delta, minus the direct call's first token | ${variants.map((v) => fmt(summarize(added.get(v.name)!))).join(' | ')} |`,
  );
  out(
    `| outputs POST → next model request | ${variants.map((v) => fmt(summarize(roundTrip.get(v.name) ?? []))).join(' | ')} |`,
  );
  out(`| whole run (POST → completed) | ${variants.map((v) => fmt(summarize(whole.get(v.name)!))).join(' | ')} |`);
  out(
    `| CPU-ms per run, Threadline + its Temporal server | ${variants.map((v) => (cpu.get(v.name)! / samples).toFixed(0)).join(' | ')} |`,
  );
}

/**
 * Throughput, interleaved: each round runs 30 one-tool-round runs at concurrency 10 on each variant in turn
 * (scenario 3's runs), so a variant is never measured alone on a quieter or busier stretch of the machine.
 */
async function throughputRounds(variants: Variant[], model: FakeModel, rounds: number) {
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  const assistants = new Map<string, string>();
  const perSecond = new Map<string, number[]>();
  const cpu = new Map<string, { threadline: number; temporal: number; runs: number }>();
  for (const v of variants) {
    assistants.set(v.name, (await v.dep!.openai.beta.assistants.create({ model: 'bench', tools: [tool] })).id);
    perSecond.set(v.name, []);
    cpu.set(v.name, { threadline: 0, temporal: 0, runs: 0 });
  }
  model.setResponder(oneRoundResponder);
  const RUNS = 30;
  const CONCURRENCY = 10;
  try {
    for (let round = 0; round <= rounds; round++) {
      const order = variants.map((_, k) => variants[(k + round) % variants.length]!);
      for (const v of order) {
        const [t0, s0, w0] = [threadlineCpu(v), cpuMs(v.temporal.pid!), wallMs()];
        await pool(Array.from({ length: RUNS }), CONCURRENCY, () => oneToolRound(v.dep!, assistants.get(v.name)!));
        if (round === 0) continue; // warm-up
        perSecond.get(v.name)!.push(RUNS / ((wallMs() - w0) / 1000));
        const c = cpu.get(v.name)!;
        c.threadline += threadlineCpu(v) - t0;
        c.temporal += cpuMs(v.temporal.pid!) - s0;
        c.runs += RUNS;
      }
    }
  } finally {
    model.setResponder(undefined);
  }
  out(`\n${rounds} rounds of ${RUNS} runs (one tool round) at concurrency ${CONCURRENCY} per variant, interleaved\n`);
  out(`| measure | ${variants.map((v) => v.name).join(' | ')} |`);
  out(`|---|${variants.map(() => '---').join('|')}|`);
  const spread = (xs: number[]) =>
    `${summarize(xs).p50.toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  out(`| runs/s, p50 of rounds (min–max) | ${variants.map((v) => spread(perSecond.get(v.name)!)).join(' | ')} |`);
  const per = (v: Variant, k: 'threadline' | 'temporal') => (cpu.get(v.name)![k] / cpu.get(v.name)!.runs).toFixed(1);
  out(`| CPU-ms per run, Threadline | ${variants.map((v) => per(v, 'threadline')).join(' | ')} |`);
  out(`| CPU-ms per run, its Temporal server | ${variants.map((v) => per(v, 'temporal')).join(' | ')} |`);
}

/** 1,000 runs parked in requires_action per variant: memory growth, idle CPU, then all resumed at once. */
async function parked(variants: Variant[], model: FakeModel, count: number) {
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  model.setResponder(oneRoundResponder);
  const rows: string[] = [];
  const results = new Map<
    string,
    { growth: number; idle: number; resume: Summary; wall: number; rss: string; retried?: number; later?: string }
  >();
  const state = new Map<string, { before: number; runs: Parked[] }>();
  const assistants = new Map<string, string>();
  for (const v of variants)
    assistants.set(v.name, (await v.dep!.openai.beta.assistants.create({ model: 'bench', tools: [tool] })).id);
  // --warm=N: each variant first parks and resumes N runs (20 at a time), so the growth below is what the parked
  // runs hold rather than the high-water mark of the process's first thousand runs (bench/memprobe.ts).
  const warm = flag('warm', 0);
  for (let done = 0; done < warm; done += 20) {
    for (const v of variants) {
      const dep = v.dep!;
      const runs = await park(dep, assistants.get(v.name)!, Math.min(20, warm - done));
      await pool(runs, 20, (r) => resume(dep, r));
    }
  }
  if (warm > 0) await new Promise((resolve) => setTimeout(resolve, 5_000));
  for (const v of variants) state.set(v.name, { before: rssMb(v.dep!.api.pid), runs: [] });
  // Parked in slices, alternating between the variants, so both see the same load while they park.
  for (let slice = 0; slice < count; slice += 100) {
    for (const v of variants) {
      const dep = v.dep!;
      const parkedNow = await park(dep, assistants.get(v.name)!, Math.min(100, count - slice));
      state.get(v.name)!.runs.push(...parkedNow);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const cpu0 = variants.map((v) => cpuMs(v.dep!.api.pid));
  const serverCpu0 = variants.map((v) => cpuMs(v.temporal.pid!));
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  const idle = variants.map((v, i) => (100 * (cpuMs(v.dep!.api.pid) - cpu0[i]!)) / 20_000);
  const serverIdle = variants.map((v, i) => (100 * (cpuMs(v.temporal.pid!) - serverCpu0[i]!)) / 20_000);
  variants.forEach((v, i) => {
    const s = state.get(v.name)!;
    const now = rssMb(v.dep!.api.pid);
    results.set(v.name, {
      growth: ((now - s.before) * 1000) / count,
      idle: idle[i]!,
      resume: { n: 0, p50: NaN, p99: NaN },
      wall: 0,
      rss: `${s.before.toFixed(0)} → ${now.toFixed(0)}`,
    });
  });
  // A minute more idle: does V8 (memory reducer) or malloc give any of it back without work?
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  for (const v of variants) {
    const s = state.get(v.name)!;
    const now = rssMb(v.dep!.api.pid);
    results.get(v.name)!.later = `${(((now - s.before) * 1000) / count).toFixed(0)} (${now.toFixed(0)})`;
  }
  // Resumes one variant at a time (all its runs at once, 50 clients), alternating which goes first is moot
  // with two; the first goes while the other's runs stay parked, as in production.
  for (const v of variants) {
    const dep = v.dep!;
    const started = wallMs();
    let retried = 0;
    const times = await pool(state.get(v.name)!.runs, 50, async (p) => {
      const start = wallMs();
      try {
        const done = await resume(dep, p);
        retried += done.retried;
        return done.completedAt - start; // timed from the first try
      } catch (error) {
        process.stderr.write(`${v.name}: ${(error as Error).message}\n${dep.api.output().slice(-6000)}\n`);
        throw error;
      }
    });
    results.get(v.name)!.retried = retried;
    const r = results.get(v.name)!;
    r.resume = summarize(times);
    r.wall = (wallMs() - started) / 1000;
  }
  model.setResponder(undefined);
  out(
    `\n${count} runs parked per variant (threadline start, SQLite${warm > 0 ? `, after ${warm} runs parked and resumed` : ''}), then all resumed by 50 clients\n`,
  );
  out(`| measure | ${variants.map((v) => v.name).join(' | ')} |`);
  out(`|---|${variants.map(() => '---').join('|')}|`);
  out(
    `| RSS growth per 1,000 parked runs (MB) | ${variants.map((v) => `${results.get(v.name)!.growth.toFixed(0)} (${results.get(v.name)!.rss})`).join(' | ')} |`,
  );
  out(`| the same after 60 s more idle | ${variants.map((v) => results.get(v.name)!.later).join(' | ')} |`);
  out(
    `| idle CPU with them parked (% of a core, 20 s) | ${variants.map((v) => results.get(v.name)!.idle.toFixed(2)).join(' | ')} |`,
  );
  if (new Set(variants.map((v) => v.temporal)).size === variants.length) {
    // Only when each variant has its own server (ab.js serverargs --parked); a shared one would count twice.
    out(
      `| its Temporal server's idle CPU (% of a core, same 20 s) | ${serverIdle.map((x) => x.toFixed(2)).join(' | ')} |`,
    );
  }
  out(
    `| resume: submit → completed, p50 / p99 ms | ${variants.map((v) => fmt(results.get(v.name)!.resume)).join(' | ')} |`,
  );
  out(`| resume: all done in (s) | ${variants.map((v) => results.get(v.name)!.wall.toFixed(1)).join(' | ')} |`);
  out(`| resume: 503s retried | ${variants.map((v) => results.get(v.name)!.retried ?? 0).join(' | ')} |`);
  return rows;
}

/** Scenario 6's three kills, alternating between the variants (each `threadline api` + two workers, SQLite). */
async function crashes(variants: Variant[], model: FakeModel, trials: number) {
  const temporal = new Client({ connection: await Connection.connect({ address: variants[0]!.temporal.address }) });
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  const assistants = new Map<string, string>();
  for (const v of variants) {
    await v.dep!.startWorker();
    assistants.set(v.name, (await v.dep!.openai.beta.assistants.create({ model: 'bench', tools: [tool] })).id);
  }
  const kinds: Kind[] = ['while streaming', 'between steps', 'while parked'];
  const times = new Map<string, number[]>();
  let duplicates = 0;
  try {
    for (let trial = 0; trial < trials; trial++) {
      for (const kind of kinds) {
        const order = trial % 2 === 0 ? variants : [...variants].reverse();
        for (const v of order) {
          const r = await crashOnce({ model }, v.dep!, temporal, assistants.get(v.name)!, kind);
          const key = `${kind}|${v.name}`;
          (times.get(key) ?? times.set(key, []).get(key)!).push(r.recoveryMs);
          duplicates += r.duplicates;
        }
      }
    }
  } finally {
    model.setResponder(undefined);
    await temporal.connection.close();
  }
  out(
    `\n${trials} trials per case and variant, kill → run completed (heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s, target ${HEARTBEAT_TIMEOUT_S * 1000 + 1500} ms), p50 / p99 (max) ms; duplicates ${duplicates}\n`,
  );
  out(`| SIGKILL | ${variants.map((v) => v.name).join(' | ')} |`);
  out(`|---|${variants.map(() => '---').join('|')}|`);
  for (const kind of kinds) {
    out(`| ${kind} | ${variants.map((v) => fmt(summarize(times.get(`${kind}|${v.name}`)!))).join(' | ')} |`);
  }
}

/**
 * Where a recovery's time goes: one kill of each kind, then the run's history as ms after the kill, so the gap
 * between the heartbeat timeout and the completion shows which event waited. With two variants (two servers,
 * `--server-args-b`), the trials alternate between them and a summary compares them: kill → completed per
 * kind, and how long each retried activity attempt waited after the time its retry was due.
 */
async function crashTrace(variants: Variant[], model: FakeModel, trials: number) {
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  const clients = new Map<string, Client>();
  const assistants = new Map<string, string>();
  for (const v of variants) {
    clients.set(v.name, new Client({ connection: await Connection.connect({ address: v.temporal.address }) }));
    await v.dep!.startWorker();
    assistants.set(v.name, (await v.dep!.openai.beta.assistants.create({ model: 'bench', tools: [tool] })).id);
  }
  const kinds: Kind[] = ['while streaming', 'between steps', 'while parked'];
  const recovery = new Map<string, number[]>();
  const retryWait = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, key: string, x: number) => m.set(key, [...(m.get(key) ?? []), x]);
  try {
    for (let trial = 0; trial < trials; trial++) {
      const order = variants.map((_, k) => variants[(k + trial) % variants.length]!);
      for (const v of order) {
        const temporal = clients.get(v.name)!;
        for (const kind of kinds) {
          const seen: string[] = [];
          // When each attempt's retry was due (ms after the kill), from the pending activity's nextAttemptScheduleTime.
          const due = new Map<number, number>();
          let watching = true;
          const watch = async (runId: string, killedAt: number) => {
            let last = '';
            while (watching) {
              const d = await temporal.workflow.getHandle(runId).describe();
              const a = d.raw.pendingActivities?.[0];
              const at = (t?: { seconds?: unknown; nanos?: number | null } | null) =>
                t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 - killedAt : undefined;
              const ms = (t?: { seconds?: unknown; nanos?: number | null } | null) => at(t)?.toFixed(0) ?? '-';
              const next = at(a?.nextAttemptScheduleTime);
              if (a?.attempt && next !== undefined) due.set(a.attempt, next);
              const line = a
                ? `state ${a.state} attempt ${a.attempt} lastHeartbeat ${ms(a.lastHeartbeatTime)} lastStarted ${ms(a.lastStartedTime)} nextAttempt ${ms(a.nextAttemptScheduleTime)} failure ${a.lastFailure?.message ?? ''}`
                : 'no pending activity';
              if (line !== last) seen.push(`  ${(wallMs() - killedAt).toFixed(0).padStart(6)}  describe: ${line}`);
              last = line;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          };
          const r = await crashOnce(
            { model },
            v.dep!,
            temporal,
            assistants.get(v.name)!,
            kind,
            (id, at) => void watch(id, at),
          );
          watching = false;
          push(recovery, `${v.name}|${kind}`, r.recoveryMs);
          out(`\n[${v.name}] ${kind}: kill → completed ${r.recoveryMs.toFixed(0)} ms`);
          out(seen.join('\n'));
          const history = await temporal.workflow.getHandle(r.runId).fetchHistory();
          for (const e of history.events ?? []) {
            const at = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6 - r.killedAt;
            const started = e.activityTaskStartedEventAttributes;
            if (started && (started.attempt ?? 1) > 1 && due.has(started.attempt!)) {
              const wait = at - due.get(started.attempt!)!;
              push(retryWait, v.name, wait);
              out(`  retried attempt ${started.attempt} started ${wait.toFixed(0)} ms after its retry was due`);
            }
            if (at < -300) continue;
            const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
            const attrs = type ? ((e as Record<string, unknown>)[type] as Record<string, unknown>) : {};
            const failure = (attrs.failure ?? attrs.lastFailure) as { message?: string } | undefined;
            const extra = [attrs.identity, attrs.attempt, failure?.message]
              .filter((x) => x !== undefined && x !== null && x !== '')
              .join(' ');
            out(`  ${at.toFixed(0).padStart(6)}  ${(type ?? '?').replace(/EventAttributes$/, '')} ${extra}`);
          }
        }
      }
    }
    out(`\n| ms (each trial) | ${variants.map((v) => v.name).join(' | ')} |`);
    out(`|---|${variants.map(() => '---').join('|')}|`);
    const list = (xs?: number[]) => (xs ?? []).map((x) => x.toFixed(0)).join(', ') || '-';
    for (const kind of kinds) {
      out(
        `| SIGKILL ${kind}: kill → completed | ${variants.map((v) => list(recovery.get(`${v.name}|${kind}`))).join(' | ')} |`,
      );
    }
    out(`| retried attempt: due → started | ${variants.map((v) => list(retryWait.get(v.name))).join(' | ')} |`);
  } finally {
    model.setResponder(undefined);
    for (const c of clients.values()) await c.connection.close();
  }
}

/** The history of a one-step run and of a one-tool-round run: events by type, and the tasks they imply. */
async function histories(variants: Variant[], model: FakeModel) {
  const temporal = new Client({ connection: await Connection.connect({ address: variants[0]!.temporal.address }) });
  const dep = variants[0]!.dep!;
  const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
  const assistant = await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] });
  try {
    for (const shape of ['one step (text answer)', 'one tool round']) {
      model.setResponder(shape === 'one tool round' ? oneRoundResponder : () => ({ kind: 'text', text: 'ok' }));
      const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
      let run = await dep.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 20 },
      );
      if (run.status === 'requires_action') {
        run = await dep.openai.beta.threads.runs.submitToolOutputsAndPoll(
          run.id,
          {
            thread_id: thread.id,
            tool_outputs: [{ tool_call_id: run.required_action!.submit_tool_outputs.tool_calls[0]!.id, output: 'ok' }],
          },
          { pollIntervalMs: 20 },
        );
      }
      // The API answers `completed` as soon as the last activity wrote it; the workflow closes a task later.
      const handle = temporal.workflow.getHandle(run.id);
      await handle.result();
      const history = await handle.fetchHistory();
      const counts = new Map<string, number>();
      const sequence: string[] = [];
      for (const e of history.events ?? []) {
        const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
        const name = (type ?? 'unknown').replace(/EventAttributes$/, '');
        counts.set(name, (counts.get(name) ?? 0) + 1);
        const detail =
          e.activityTaskScheduledEventAttributes?.activityType?.name ??
          e.markerRecordedEventAttributes?.markerName ??
          Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).join(',');
        sequence.push(detail ? `${name}(${detail})` : name);
      }
      const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes);
      const localActivities = markers.filter(
        (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
      ).length;
      out(
        `\n${shape}: ${history.events?.length} events, ${counts.get('workflowTaskCompleted') ?? 0} workflow tasks, ` +
          `${counts.get('activityTaskScheduled') ?? 0} activity tasks, ${localActivities} local activities, ` +
          `${counts.get('upsertWorkflowSearchAttributes') ?? 0} search-attribute upserts, ${markers.length - localActivities} other markers`,
      );
      out([...counts].map(([k, v]) => `  ${k}: ${v}`).join('\n'));
      if (process.argv.includes('--sequence')) out(`  in order: ${sequence.join(' → ')}`);
    }
  } finally {
    model.setResponder(undefined);
    await temporal.connection.close();
  }
}

async function main() {
  const which = process.argv[2];
  const model = await startFakeModel();
  const servers: ScratchTemporal[] = [];
  const variants: Variant[] = [];
  try {
    const extra = (process.argv.find((a) => a.startsWith('--server-args='))?.slice('--server-args='.length) ?? '')
      .split(' ')
      .filter(Boolean);
    const tuned = await startScratchTemporal(ROOT, 'threadline-ab-', 'tuned', extra);
    servers.push(tuned);
    if (which === 'eager') {
      variants.push({ name: 'eager start off (before)', env: { THREADLINE_EAGER_START: 'false' }, temporal: tuned });
      variants.push({ name: 'eager start on (after)', env: {}, temporal: tuned });
    } else if (which === 'cache') {
      const before = String(flag('before-cache', 5000));
      variants.push({
        name: `cache ${before} (before: SDK default, every run cached)`,
        env: { THREADLINE_WORKFLOW_CACHE_SIZE: before },
        temporal: tuned,
      });
      variants.push({ name: 'cache 100 (after)', env: {}, temporal: tuned });
    } else if (which === 'arena') {
      // Is the memory parked runs leave outside the workflow cache glibc's per-thread malloc arenas?
      variants.push({ name: 'cache 100', env: {}, temporal: tuned });
      variants.push({ name: 'cache 100, MALLOC_ARENA_MAX=2', env: { MALLOC_ARENA_MAX: '2' }, temporal: tuned });
    } else if (which === 'launcher') {
      // `threadline start` relaunches itself with MALLOC_ARENA_MAX=2 (src/launcher.ts) unless the variable is set:
      // set to glibc's own default (8 arenas per core), it runs as one process with the arenas it used to have.
      const glibcDefault = String(8 * os.cpus().length); // glibc counts online CPUs, not the affinity mask
      variants.push({
        name: `one process (before: ${glibcDefault} arenas)`,
        env: { MALLOC_ARENA_MAX: glibcDefault },
        temporal: tuned,
      });
      variants.push({ name: 'launcher, service with 2 arenas (after)', env: {}, temporal: tuned });
    } else if (which === 'alloc') {
      // Parked runs' memory is glibc's arenas holding freed memory (bench/memprobe.ts): allocator settings.
      const arena = { MALLOC_ARENA_MAX: '2' };
      variants.push({ name: 'default', env: {}, temporal: tuned });
      variants.push({ name: 'MALLOC_ARENA_MAX=2', env: arena, temporal: tuned });
      variants.push({
        name: 'MALLOC_ARENA_MAX=2, TRIM/MMAP_THRESHOLD 128 KiB',
        env: { ...arena, MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072' },
        temporal: tuned,
      });
      variants.push({
        name: 'jemalloc (LD_PRELOAD)',
        env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' },
        temporal: tuned,
      });
    } else if (which === 'server') {
      const stock = await startScratchTemporal(ROOT, 'threadline-ab-stock-', 'stock');
      servers.push(stock);
      variants.push({ name: 'stock dev server (before)', env: {}, temporal: stock });
      variants.push({ name: 'tuned dev server (after)', env: {}, temporal: tuned });
    } else if (which === 'serverargs') {
      // Two tuned servers, one with --server-args and one with --server-args-b (e.g. a dynamic config value).
      const argsB = process.argv.find((a) => a.startsWith('--server-args-b='))?.slice('--server-args-b='.length) ?? '';
      const b = await startScratchTemporal(ROOT, 'threadline-ab-b-', 'tuned', argsB.split(' ').filter(Boolean));
      servers.push(b);
      variants.push({ name: `A: ${extra.join(' ') || 'tuned'}`, env: {}, temporal: tuned });
      variants.push({ name: `B: ${argsB || 'tuned'}`, env: {}, temporal: b });
    } else if (which === 'crash') {
      const env = {
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S),
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
      };
      variants.push({
        name: 'task timeout 4 s (before)',
        env: { ...env, THREADLINE_WORKFLOW_TASK_TIMEOUT_SECONDS: '4' },
        temporal: tuned,
      });
      variants.push({ name: 'task timeout 2 s (after)', env, temporal: tuned });
    } else if (which === 'sticky') {
      const env = {
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S),
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
      };
      variants.push({ name: 'sticky timeout 1 s', env, temporal: tuned });
      variants.push({
        name: 'sticky timeout 0.5 s',
        env: { ...env, THREADLINE_STICKY_TIMEOUT_SECONDS: '0.5' },
        temporal: tuned,
      });
    } else if (which === 'databases') {
      // Where PostgreSQL's extra time goes: the database itself, or the API and worker in separate processes.
      variants.push({ name: 'sqlite, start', env: {}, temporal: tuned });
      variants.push({ name: 'postgres, start', env: {}, temporal: tuned, dialect: 'postgres' });
      variants.push({ name: 'postgres, api + worker', env: {}, temporal: tuned, dialect: 'postgres', shape: 'split' });
    } else if (which === 'shape') {
      // Two builds of Threadline: --before=<repo checkout, built> against this one (--postgres, --split).
      const before = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);
      if (!before) throw new Error('shape needs --before=<a built checkout of the earlier commit>');
      const { dialect, shape: split } = topologyFlags();
      variants.push({
        name: 'before',
        env: { BENCH_THREADLINE_CLI: path.join(before, 'dist', 'src', 'cli.js') },
        temporal: tuned,
        dialect,
        shape: split,
      });
      variants.push({ name: 'after', env: {}, temporal: tuned, dialect, shape: split });
    } else if (which === 'crashtrace') {
      const env = {
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S),
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
      };
      const argsB = process.argv.find((a) => a.startsWith('--server-args-b='))?.slice('--server-args-b='.length);
      variants.push({ name: argsB === undefined ? 'split' : `A: ${extra.join(' ') || 'tuned'}`, env, temporal: tuned });
      if (argsB !== undefined) {
        const b = await startScratchTemporal(ROOT, 'threadline-ab-b-', 'tuned', argsB.split(' ').filter(Boolean));
        servers.push(b);
        variants.push({ name: `B: ${argsB || 'tuned'}`, env, temporal: b });
      }
    } else if (which === 'history') {
      variants.push({ name: 'threadline start', env: {}, temporal: tuned });
    } else if (which === 'env') {
      // One build, two settings: --env-b="KEY=VALUE KEY2=VALUE2" for B (--postgres, --split as for shape).
      const raw = process.argv.find((a) => a.startsWith('--env-b='))?.slice('--env-b='.length);
      if (!raw) throw new Error('env needs --env-b="KEY=VALUE ..."');
      const envB = Object.fromEntries(
        raw
          .split(' ')
          .filter(Boolean)
          .map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]),
      );
      const { dialect, shape: split } = topologyFlags();
      variants.push({ name: 'A (defaults)', env: {}, temporal: tuned, dialect, shape: split });
      variants.push({ name: `B: ${raw}`, env: envB, temporal: tuned, dialect, shape: split });
    } else {
      throw new Error(
        'usage: ab.js eager|cache|arena|alloc|launcher|server|serverargs|crash|sticky|crashtrace|history|databases|shape|env',
      );
    }
    const split = which === 'crash' || which === 'sticky' || which === 'crashtrace';
    const shape = split ? 'split' : 'all-in-one';
    for (const v of variants) {
      v.dep = await deploy(v.temporal.address, v.dialect ?? 'sqlite', v.shape ?? shape, model.baseURL, v.env);
      if ((v.shape ?? shape) === 'split' && !split) await v.dep.startWorker();
    }
    const parkedToo = which === 'serverargs' && process.argv.some((a) => a === '--parked' || a.startsWith('--parked='));
    if (which === 'cache' || which === 'arena' || which === 'alloc' || which === 'launcher' || parkedToo)
      await parked(variants, model, flag('parked', 1000));
    else if (which === 'crash' || which === 'sticky') await crashes(variants, model, flag('trials', 5));
    else if (which === 'crashtrace') await crashTrace(variants, model, flag('trials', 1));
    else if (which === 'history') await histories(variants, model);
    else if (process.argv.some((a) => a === '--throughput' || a.startsWith('--throughput=')))
      await throughputRounds(variants, model, flag('throughput', 5) || 5);
    else await latency(variants, model, flag('samples', 40));
  } finally {
    for (const v of variants) await v.dep?.stop();
    await model.close();
    for (const s of servers) await s.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
