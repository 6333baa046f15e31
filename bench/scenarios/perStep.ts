import type { RecordedRequest } from '../../test/support/fakeModel';
import { directCall, firstAt, lastOf, timedStream, wallMs } from '../client';
import { summarize } from '../stats';
import { compared, type Row, type ScenarioContext } from '../types';

const PACING = { ttftMs: 20, interChunkMs: 2 };

/**
 * 2. Overhead per step: runs with K function-call rounds, the client answering each at once (streaming
 * both ways). Added latency per model step, and the tool round trip: `requires_action` seen by the client →
 * outputs submitted → the next model request arriving at the fake.
 */
export async function perStep(ctx: ScenarioContext): Promise<Row[]> {
  const { dep, model } = ctx;
  const tool = { type: 'function' as const, function: { name: 'step', parameters: { type: 'object' } } };
  const assistant = await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] });
  const rows: Row[] = [];
  for (const k of ctx.pick([1, 3], [1, 3, 10], [1])) {
    // Answers with a tool call until the thread has K tool outputs, then in text.
    model.setResponder((req: RecordedRequest) => {
      const answered = req.body.messages.filter((m) => m.role === 'tool').length;
      return answered < k
        ? { kind: 'tool_calls', calls: [{ name: 'step', arguments: `{"round":${answered}}` }], ...PACING }
        : { kind: 'text', text: 'tok '.repeat(10), ...PACING };
    });
    const runs = ctx.pick(6, 20, 1);
    const perStepAdded: number[] = [];
    const totals: number[] = [];
    const directs: number[] = [];
    const roundTrips: number[] = [];
    for (let i = 0; i <= runs; i++) {
      let direct = 0;
      for (let s = 0; s <= k; s++) direct += (await directCall(model.baseURL)).total;
      const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] });
      const requestsBefore = model.requests.length;
      const start = wallMs();
      let stream = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs`, {
        assistant_id: assistant.id,
        stream: true,
      });
      const pausedAt: number[] = [];
      for (;;) {
        const paused = lastOf(stream.events, 'thread.run.requires_action');
        if (!paused) break;
        pausedAt.push(paused.at);
        const run = JSON.parse(paused.data) as {
          id: string;
          required_action: { submit_tool_outputs: { tool_calls: Array<{ id: string }> } };
        };
        const outputs = run.required_action.submit_tool_outputs.tool_calls.map((c) => ({
          tool_call_id: c.id,
          output: 'ok',
        }));
        stream = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
          tool_outputs: outputs,
          stream: true,
        });
      }
      const end = firstAt(stream.events, 'thread.run.completed');
      if (end === undefined) throw new Error(`run did not complete: ${stream.events.map((e) => e.name).join(', ')}`);
      if (i === 0) continue; // warm-up
      const total = end - start;
      totals.push(total);
      directs.push(direct);
      perStepAdded.push((total - direct) / (k + 1));
      const requests = model.requests.slice(requestsBefore);
      pausedAt.forEach((at, round) => {
        const next = requests[round + 1];
        if (next) roundTrips.push(next.receivedAt - at);
      });
    }
    model.setResponder(undefined);
    const base = { scenario: '2. per step', dialect: dep.dialect, case: `K = ${k} tool rounds`, unit: 'ms' };
    rows.push(compared({ ...base, metric: 'whole run' }, summarize(totals), summarize(directs)));
    const added = summarize(perStepAdded);
    rows.push({
      ...base,
      metric: 'added per model step',
      value: added,
      target: 'p50 ≤ 5',
      meets: added.p50 <= 5,
    });
    rows.push({
      ...base,
      metric: 'tool round trip (requires_action seen → next model request)',
      value: summarize(roundTrips),
      note: 'includes the client submitting the outputs; the fake stamps arrivals with 1 ms resolution',
    });
    ctx.log(`per step: K=${k}: added per step p50 ${added.p50.toFixed(1)} ms`);
  }
  return rows;
}
