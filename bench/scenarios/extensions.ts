import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordedRequest } from '../../test/support/fakeModel';
import { startToolEndpoint } from '../../test/support/toolEndpoint';
import { directCall, firstAt, lastOf, timedStream, wallMs } from '../client';
import { pool, summarize } from '../stats';
import { compared, type Row, type ScenarioContext } from '../types';

const PACING = { ttftMs: 20, interChunkMs: 2 };
const SCENARIO = '7. extensions';

/**
 * 7. The extensions: (a) what one server-side tool round costs in a run, beside the same round answered by a
 * client at once (both streamed, the same two model calls); (b) how fast a template upgrade walk moves `auto`
 * assistants (publish → the walk's record says completed), at the default page size.
 */
export async function extensions(ctx: ScenarioContext): Promise<Row[]> {
  return [...(await toolRounds(ctx)), ...(await upgradeWalk(ctx))];
}

async function toolRounds(ctx: ScenarioContext): Promise<Row[]> {
  const { model } = ctx;
  const endpoint = await startToolEndpoint();
  endpoint.on('/echo', () => ({ body: '"ok"' }));
  const toolsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-bench-tools-')), 'tools.json');
  const echo = { type: 'http', url: `${endpoint.origin}/echo` };
  fs.writeFileSync(toolsFile, JSON.stringify({ tools: [{ function: { name: 'echo' }, executor: echo }] }));
  const dep = await ctx.deployAnother({
    THREADLINE_SERVER_TOOLS_FILE: toolsFile,
    THREADLINE_SERVER_TOOL_HOSTS: endpoint.host,
  });
  const rows: Row[] = [];
  try {
    const fn = (name: string) => ({ type: 'function' as const, function: { name } });
    const server = await dep.openai.beta.assistants.create({ model: 'bench', tools: [fn('echo')] });
    const client = await dep.openai.beta.assistants.create({ model: 'bench', tools: [fn('answer')] });
    // One tool call (of whichever tool the run offers), then text.
    model.setResponder((req: RecordedRequest) => {
      if (req.body.messages.some((m) => m.role === 'tool')) return { kind: 'text', text: 'tok '.repeat(10), ...PACING };
      const tool = req.body.tools?.[0];
      const name = tool?.type === 'function' ? tool.function.name : 'echo';
      return { kind: 'tool_calls', calls: [{ name, arguments: '{}' }], ...PACING };
    });
    const runs = ctx.pick(10, 30, 1);
    for (const [label, assistantId] of [
      ['server-side HTTP tool, 1 round', server.id],
      ['client function answered at once, 1 round', client.id],
    ] as const) {
      const totals: number[] = [];
      const directs: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const toolStart = wallMs();
        if (assistantId === server.id) await fetch(`${endpoint.origin}/echo`, { method: 'POST', body: '{}' });
        const direct =
          wallMs() - toolStart + (await directCall(model.baseURL)).total + (await directCall(model.baseURL)).total;
        const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] });
        const start = wallMs();
        let stream = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs`, {
          assistant_id: assistantId,
          stream: true,
        });
        const paused = lastOf(stream.events, 'thread.run.requires_action');
        if (paused) {
          const run = JSON.parse(paused.data) as {
            id: string;
            required_action: { submit_tool_outputs: { tool_calls: Array<{ id: string }> } };
          };
          const outputs = run.required_action.submit_tool_outputs.tool_calls.map((c) => ({
            tool_call_id: c.id,
            output: '"ok"',
          }));
          stream = await timedStream(`${dep.baseURL}/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
            tool_outputs: outputs,
            stream: true,
          });
        }
        const end = firstAt(stream.events, 'thread.run.completed');
        if (end === undefined) throw new Error(`run did not complete: ${stream.events.map((e) => e.name).join(', ')}`);
        if (i === 0) continue; // warm-up
        totals.push(end - start);
        directs.push(direct);
      }
      const base = { scenario: SCENARIO, dialect: dep.dialect, case: label, unit: 'ms' };
      rows.push(compared({ ...base, metric: 'whole run' }, summarize(totals), summarize(directs)));
      rows.push({
        ...base,
        metric: 'added over the direct calls',
        value: summarize(totals.map((t, i) => t - directs[i]!)),
        note: 'direct: the two model calls (and the tool endpoint, for the server-side tool) called straight',
      });
      ctx.log(`extensions: ${label}: whole run p50 ${summarize(totals).p50.toFixed(1)} ms`);
    }
  } finally {
    model.setResponder(undefined);
    await dep.stop();
    await endpoint.close();
  }
  return rows;
}

async function upgradeWalk(ctx: ScenarioContext): Promise<Row[]> {
  const { dep } = ctx;
  const count = ctx.pick(300, 2000, 10);
  const post = async <T>(route: string, body: unknown): Promise<T> => {
    const response = await fetch(`${dep.baseURL}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const template = await post<{ id: string }>('/assistant_templates', { model: 'bench', instructions: 'v1' });
  await pool(
    Array.from({ length: count }, (_, i) => i),
    8,
    (i) => post('/assistants', { template_id: template.id, name: `user ${i}` }),
  );
  const walks: number[] = [];
  for (let version = 2; version <= ctx.pick(4, 4, 2); version++) {
    const start = wallMs();
    const published = await post<{ upgrade_id: string }>(`/assistant_templates/${template.id}/versions`, {
      model: 'bench',
      instructions: `v${version}`,
    });
    for (;;) {
      const response = await fetch(
        `${dep.baseURL}/assistant_templates/${template.id}/upgrades/${published.upgrade_id}`,
      );
      const upgrade = (await response.json()) as { status: string; upgraded: number };
      if (upgrade.status !== 'in_progress') {
        if (upgrade.upgraded !== count) throw new Error(`upgraded ${upgrade.upgraded} of ${count}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    walks.push(wallMs() - start);
  }
  const base = {
    scenario: SCENARIO,
    dialect: dep.dialect,
    case: `upgrade walk of ${count} auto assistants`,
    unit: 'ms',
  };
  const walk = summarize(walks);
  ctx.log(`extensions: upgrade walk of ${count}: p50 ${walk.p50.toFixed(0)} ms`);
  return [
    {
      ...base,
      metric: 'publish → walk completed',
      value: walk,
      note: 'page size 100 (the default), polled every 20 ms',
    },
    {
      ...base,
      metric: 'assistants upgraded per second',
      unit: '/s',
      value: summarize(walks.map((ms) => (count * 1000) / ms)),
    },
  ];
}
