import { directCall, firstAt, timedStream } from '../client';
import { pool, summarize } from '../stats';
import { compared, type Row, type ScenarioContext } from '../types';

/**
 * 1. Overhead to first token: a streamed run's first `thread.message.delta` after the POST, against the fake
 * model's own first token called directly, interleaved round by round at the same concurrency.
 */
export async function firstToken(ctx: ScenarioContext): Promise<Row[]> {
  const { dep, model } = ctx;
  const assistant = await dep.openai.beta.assistants.create({ model: 'bench' });
  const rows: Row[] = [];
  for (const ttftMs of ctx.pick([0, 50], [0, 50, 500], [0])) {
    model.setDefault({ kind: 'text', text: 'tok '.repeat(20), chunkSize: 4, ttftMs, interChunkMs: 2 });
    for (const concurrency of [1, 10]) {
      const samples = ctx.pick(30, ttftMs >= 500 ? 60 : 200, 2);
      const rounds = Math.max(ctx.pick(3, 3, 1), Math.ceil(samples / concurrency)) + 1; // the first round warms up, not counted
      const direct: number[] = [];
      const delta: number[] = [];
      const created: number[] = [];
      const added: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const threads = await pool(Array.from({ length: concurrency }), concurrency, () =>
          dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] }),
        );
        const d = await pool(threads, concurrency, () => directCall(model.baseURL));
        const runs = await pool(threads, concurrency, (thread) =>
          timedStream(`${dep.baseURL}/threads/${thread.id}/runs`, { assistant_id: assistant.id, stream: true }),
        );
        if (round === 0) continue;
        runs.forEach((run, i) => {
          const first = firstAt(run.events, 'thread.message.delta')! - run.start;
          delta.push(first);
          created.push(firstAt(run.events, 'thread.run.created')! - run.start);
          direct.push(d[i]!.firstToken);
          added.push(first - d[i]!.firstToken);
        });
      }
      const label = `fake TTFT ${ttftMs} ms, concurrency ${concurrency}`;
      const base = { scenario: '1. first token', dialect: dep.dialect, case: label, unit: 'ms' };
      rows.push(compared({ ...base, metric: 'first thread.message.delta' }, summarize(delta), summarize(direct)));
      const extra = summarize(added);
      rows.push({
        ...base,
        metric: 'added to first token',
        value: extra,
        ...(concurrency === 1 ? { target: 'p50 ≤ 10, p99 ≤ 30', meets: extra.p50 <= 10 && extra.p99 <= 30 } : {}),
      });
      rows.push({ ...base, metric: 'thread.run.created', value: summarize(created) });
      ctx.log(`first token: ${label}: added p50 ${extra.p50.toFixed(1)} p99 ${extra.p99.toFixed(1)} ms`);
    }
  }
  return rows;
}
