import { firstAt, timedStream, wallMs } from '../client';
import { pool, summarize } from '../stats';
import type { Row, ScenarioContext } from '../types';

const BODY = 'A message of ordinary length in a long conversation, about two hundred characters: '.padEnd(200, 'x');

/**
 * 5. Thread length: listing messages (first page, and a page deep in the thread) and starting a run, at
 * 10, 1,000 and 10,000 messages; and the bytes sent to the model under each truncation strategy.
 */
export async function threadLength(ctx: ScenarioContext): Promise<Row[]> {
  const { dep, model } = ctx;
  const assistant = await dep.openai.beta.assistants.create({ model: 'bench' });
  model.setDefault({ kind: 'text', text: 'ok', ttftMs: 0 });
  const rows: Row[] = [];
  const firstPages: Record<number, number> = {};
  for (const size of ctx.pick([10, 1000], [10, 1000, 10_000], [10])) {
    const thread = await dep.openai.beta.threads.create();
    await pool(Array.from({ length: size }), 8, (_, i) =>
      dep.openai.beta.threads.messages.create(thread.id, { role: i % 2 ? 'assistant' : 'user', content: BODY }),
    );
    const base = { scenario: '5. thread length', dialect: dep.dialect, case: `${size} messages`, unit: 'ms' };
    const samples = ctx.pick(30, 100, 2);
    const timed = async (fn: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i <= samples; i++) {
        const start = wallMs();
        await fn();
        if (i > 0) times.push(wallMs() - start);
      }
      return summarize(times);
    };
    const first = await timed(() => dep.openai.beta.threads.messages.list(thread.id, { limit: 20 }));
    firstPages[size] = first.p50;
    rows.push({ ...base, metric: 'list messages: first page', value: first });
    // A cursor half way down the thread (ids sort by time, so this is a real deep keyset page).
    let cursor: string | undefined;
    let seen = 0;
    const pages = await dep.openai.beta.threads.messages.list(thread.id, { limit: 100 });
    for await (const page of pages.iterPages()) {
      seen += page.data.length;
      cursor = page.data.at(-1)?.id;
      if (page.data.length === 0 || seen >= size / 2) break;
    }
    rows.push({
      ...base,
      metric: 'list messages: deep page',
      value: await timed(() => dep.openai.beta.threads.messages.list(thread.id, { limit: 20, after: cursor })),
    });

    for (const [strategy, truncation] of [
      ['auto', { type: 'auto' as const }],
      ['last_messages 20', { type: 'last_messages' as const, last_messages: 20 }],
    ] as const) {
      const starts: number[] = [];
      const bytes: number[] = [];
      for (let i = 0; i < ctx.pick(3, 10, 1); i++) {
        const before = model.requests.length;
        const stream = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs`, {
          assistant_id: assistant.id,
          stream: true,
          truncation_strategy: truncation,
        });
        if (firstAt(stream.events, 'thread.run.completed') === undefined) throw new Error('run did not complete');
        const request = model.requests[before]!;
        starts.push(request.receivedAt - stream.start);
        bytes.push(Buffer.byteLength(JSON.stringify(request.body)));
      }
      rows.push({ ...base, metric: `run start → model request (truncation ${strategy})`, value: summarize(starts) });
      rows.push({
        ...base,
        metric: `bytes sent to the model (truncation ${strategy})`,
        unit: 'bytes',
        value: summarize(bytes),
      });
    }
    ctx.log(`thread length: ${size}: first page p50 ${first.p50.toFixed(1)} ms`);
  }
  const largest = Math.max(...Object.keys(firstPages).map(Number));
  const ratio = firstPages[largest]! / firstPages[10]!;
  rows.push({
    scenario: '5. thread length',
    dialect: dep.dialect,
    case: `${largest} vs 10 messages`,
    metric: 'list messages first page, ratio of p50s',
    unit: '×',
    value: { n: 2, p50: ratio, p99: NaN },
    target: '≤ 1.2× at 10,000',
    meets: largest === 10_000 ? ratio <= 1.2 : undefined,
  });
  return rows;
}
