import { Client, Connection } from '@temporalio/client';
import type { RecordedRequest } from '../../test/support/fakeModel';
import { wallMs } from '../client';
import { summarize } from '../stats';
import type { Deployment, ThreadlineProcess } from '../topology';
import type { Row, ScenarioContext } from '../types';

export const HEARTBEAT_TIMEOUT_S = 2;
export type Kind = 'while streaming' | 'between steps' | 'while parked';

/**
 * 6. Crash recovery: two workers; SIGKILL the one holding the run while the model streams, right after tool
 * outputs were accepted (between steps), and while the run waits in requires_action. Time from the kill to
 * the run's completion, and any duplicate message or step left behind (there must be none).
 */
export async function crash(ctx: ScenarioContext): Promise<Row[]> {
  const dep = await ctx.deployAnother(
    {
      THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S),
      THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
    },
    'split',
  );
  const connection = await Connection.connect({ address: dep.env.TEMPORAL_ADDRESS! });
  const temporal = new Client({ connection });
  try {
    await dep.startWorker();
    const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
    const assistant = await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] });
    const rows: Row[] = [];
    for (const kind of ['while streaming', 'between steps', 'while parked'] as Kind[]) {
      const recoveries: number[] = [];
      let duplicates = 0;
      for (let trial = 0; trial < ctx.pick(3, 20, 1); trial++) {
        const result = await crashOnce(ctx, dep, temporal, assistant.id, kind);
        recoveries.push(result.recoveryMs);
        duplicates += result.duplicates;
      }
      const value = summarize(recoveries);
      const base = { scenario: '6. crash recovery', dialect: dep.dialect, case: `SIGKILL ${kind}`, unit: 'ms' };
      rows.push({
        ...base,
        metric: 'kill → run completed',
        value,
        note:
          kind === 'while streaming'
            ? 'includes the model call starting over (0.5 s stream)'
            : 'a run cached on the dead worker moves after 1 s (sticky timeout); a task it held, after the workflow task timeout (2 s by default)',
        target: `≤ heartbeat timeout + 1.5 s = ${HEARTBEAT_TIMEOUT_S * 1000 + 1500}`,
        meets: value.p50 <= HEARTBEAT_TIMEOUT_S * 1000 + 1500,
      });
      rows.push({
        ...base,
        metric: 'duplicate messages or steps',
        unit: 'count',
        value: { n: recoveries.length, p50: duplicates, p99: NaN },
        target: '0',
        meets: duplicates === 0,
      });
      ctx.log(`crash ${kind}: p50 ${value.p50.toFixed(0)} ms, duplicates ${duplicates}`);
    }
    return rows;
  } finally {
    ctx.model.setResponder(undefined);
    await connection.close();
    await dep.stop();
  }
}

export async function crashOnce(
  ctx: Pick<ScenarioContext, 'model'>,
  dep: Deployment,
  temporal: Client,
  assistantId: string,
  kind: Kind,
  /** Called right after the kill (the trace mode watches the run with it); not awaited. */
  afterKill?: (runId: string, killedAt: number) => void,
): Promise<{ recoveryMs: number; duplicates: number; runId: string; killedAt: number }> {
  const withTool = kind !== 'while streaming';
  ctx.model.setResponder((req: RecordedRequest) =>
    withTool && !req.body.messages.some((m) => m.role === 'tool')
      ? { kind: 'tool_calls', calls: [{ name: 'lookup', arguments: '{}' }] }
      : { kind: 'text', text: 'tok '.repeat(20), interChunkMs: 25 },
  );
  const thread = await dep.openai.beta.threads.create({ messages: [{ role: 'user', content: 'crash me' }] });
  const run = await dep.openai.beta.threads.runs.create(thread.id, { assistant_id: assistantId });
  const retrieve = () => dep.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
  const until = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`crash ${kind}: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  let killedAt: number;
  if (kind === 'while streaming') {
    await until('the message to stream', async () => {
      const [m] = (await dep.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
      return m?.status === 'in_progress';
    });
    killedAt = await killHolder(dep, temporal, run.id, 'activity');
    afterKill?.(run.id, killedAt);
  } else {
    await until('requires_action', async () => (await retrieve()).status === 'requires_action');
    const callId = (await retrieve()).required_action!.submit_tool_outputs.tool_calls[0]!.id;
    const submit = () =>
      dep.openai.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: callId, output: 'ok' }],
      });
    if (kind === 'between steps') {
      await submit();
      killedAt = await killHolder(dep, temporal, run.id, 'workflow');
      afterKill?.(run.id, killedAt);
    } else {
      killedAt = await killHolder(dep, temporal, run.id, 'workflow');
      afterKill?.(run.id, killedAt);
      await submit();
    }
  }
  await until('completion', async () => (await retrieve()).status === 'completed');
  const recoveryMs = wallMs() - killedAt;
  // Keep two workers for the next trial.
  await dep.startWorker();

  const messages = (await dep.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  const steps = (await dep.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
  const expectedSteps = withTool ? 2 : 1;
  const duplicates = Math.max(0, messages.length - 1) + Math.max(0, steps.length - expectedSteps);
  return { recoveryMs, duplicates, runId: run.id, killedAt };
}

/**
 * SIGKILLs the worker that holds the run: the one running its model call (`activity`), or the one that has
 * it cached, i.e. completed its last workflow task (`workflow`). Worker identities are `pid@host`.
 */
async function killHolder(
  dep: Deployment,
  temporal: Client,
  runId: string,
  what: 'activity' | 'workflow',
): Promise<number> {
  const handle = temporal.workflow.getHandle(runId);
  let identity: string | undefined;
  if (what === 'activity') {
    const described = await handle.describe();
    identity = described.raw.pendingActivities?.[0]?.lastWorkerIdentity ?? undefined;
  } else {
    const history = await handle.fetchHistory();
    identity =
      [...(history.events ?? [])].reverse().find((e) => e.workflowTaskCompletedEventAttributes)
        ?.workflowTaskCompletedEventAttributes?.identity ?? undefined;
  }
  const pid = Number(identity?.split('@')[0]);
  const victim: ThreadlineProcess | undefined = dep.workers.find((w) => w.pid === pid && w.child.exitCode === null);
  if (!victim) throw new Error(`no live worker with identity ${identity}`);
  const at = wallMs();
  await victim.kill('SIGKILL');
  dep.workers.splice(dep.workers.indexOf(victim), 1);
  return at;
}
