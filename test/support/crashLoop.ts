import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema';
import type { FakeModel } from './fakeModel';

/**
 * The crash loop: `threadline api` and `threadline worker` run as child processes while concurrent clients
 * create runs (plain, create-thread-and-run, streamed) and submit tool outputs; each round the API is killed
 * with SIGKILL at a random moment, and every few rounds the worker too, then both are started again. At the
 * end every run must be accounted for: none lost (a run a client was told about but that does not exist),
 * none orphaned (still active with nothing driving it, its thread locked), none duplicated (a finished run
 * with other than one answer, a thread with two runs from one request, a create-thread-and-run thread with
 * no run). The jest suite runs a short loop; `bench/crashLoop.ts` runs a long one.
 */
export interface CrashLoopTarget {
  /** The built CLI (`dist/src/cli.js`). */
  cliPath: string;
  /** Settings of the processes: database, Temporal, task queue, model endpoint. */
  env: Record<string, string>;
  /** The same database, to check the outcome. */
  db: Kysely<Database>;
  model: FakeModel;
}

export interface CrashLoopOptions {
  rounds: number;
  /** Client operations in flight when the API is killed. */
  concurrency: number;
  /** The worker is killed too every this many rounds (0: never). */
  workerKillEvery: number;
  /**
   * The API is killed once this many of the round's operations have been answered (so the kill lands among
   * finished, half-done and unanswered requests however fast the machine is), plus a random delay up to
   * `killJitterMs`.
   */
  killAfterAnswers: number;
  killJitterMs: number;
  /** How long runs may take to settle after the last round before the ones still active count as orphaned. */
  settleMs: number;
  log?: (message: string) => void;
  /** Where to write the history and database rows of each orphaned run (for a post-mortem). */
  dumpDir?: string;
}

export interface CrashLoopReport {
  rounds: number;
  requests: number;
  /** Runs a client was told were created (a 200, or `thread.run.created` on a stream). */
  accepted: number;
  /** Runs in the database at the end (accepted ones, and ones whose answer the kill swallowed). */
  runs: number;
  lost: string[];
  orphaned: string[];
  duplicated: string[];
  threadsWithoutRun: string[];
  /** From the final restart until every run had ended (ms). */
  settledInMs: number;
}

/** A run's workflow as Temporal sees it: its status and its last few history events. */
async function describeWorkflow(env: Record<string, string>, runId: string, dumpDir?: string): Promise<string> {
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  try {
    const handle = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default' }).workflow.getHandle(runId);
    const { status } = await handle.describe();
    const history = await handle.fetchHistory();
    if (dumpDir) fs.writeFileSync(path.join(dumpDir, `${runId}.history.json`), JSON.stringify(history, null, 1));
    const events = (history.events ?? []).map(
      (e) => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType),
    );
    return `workflow ${status.name}, last events ${events.slice(-4).join(' ')}`;
  } catch (error) {
    return `workflow: ${(error as Error).message}`;
  } finally {
    await connection.close();
  }
}

/** What the database holds of a run (row, event log, steps), next to its history, for a post-mortem. */
async function dumpRun(db: Kysely<Database>, runId: string, dir: string): Promise<void> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
  const events = await db
    .selectFrom('run_events')
    .select(['seq', 'event', 'dedupe_key', 'created_at'])
    .where('run_id', '=', runId)
    .orderBy('seq')
    .execute();
  const steps = await db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).execute();
  fs.writeFileSync(path.join(dir, `${runId}.db.json`), JSON.stringify({ row, events, steps }, null, 1));
}

const TOOL = { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };
const ACTIVE = ['queued', 'in_progress', 'requires_action', 'cancelling'];

interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

export async function runCrashLoop(target: CrashLoopTarget, options: CrashLoopOptions): Promise<CrashLoopReport> {
  const log = options.log ?? (() => undefined);
  const accepted = new Set<string>();
  const children = new Set<Child>();
  let requests = 0;
  let answered = 0;
  let api: { child: Child; baseURL: string } | undefined;
  let worker: Child | undefined;

  const spawnRole = (role: 'api' | 'worker'): Child => {
    const proc = spawn(process.execPath, [target.cliPath, role], {
      env: { PATH: process.env.PATH ?? '', ...target.env, PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const child: Child = {
      proc,
      output: () => out,
      exited: new Promise((resolve) => proc.once('exit', () => resolve())),
    };
    children.add(child);
    void child.exited.then(() => children.delete(child));
    return child;
  };
  const waitForLine = async (child: Child, pattern: RegExp): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const match = pattern.exec(child.output());
      if (match) return match;
      if (child.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} from the child process:\n${child.output().slice(-4000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const startApi = async () => {
    const child = spawnRole('api');
    const [, url] = await waitForLine(child, /"url":"(http:\/\/[^"]+\/v1)"[^\n]*"msg":"API listening"/);
    api = { child, baseURL: url! };
  };
  const startWorker = async () => {
    worker = spawnRole('worker');
    await waitForLine(worker, /worker polling/);
  };
  const kill = async (child: Child | undefined) => {
    if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    child.proc.kill('SIGKILL');
    await child.exited;
  };

  type Answer = { status: number; json: { id?: unknown } | undefined };
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${api!.baseURL}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'OpenAI-Beta': 'assistants=v2' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as Answer['json'];
    answered++;
    return { status: response.status, json };
  };

  // The model answers "tool please" threads with a function call first, everything else with streamed text.
  target.model.setResponder((req) => {
    const text = JSON.stringify(req.body.messages);
    if (text.includes('tool please') && !req.body.messages.some((m) => m.role === 'tool')) {
      return { kind: 'tool_calls', calls: [{ id: 'call_crash', name: 'lookup', arguments: '{}' }] };
    }
    return { kind: 'text', text: 'steady answer in a few chunks', chunkSize: 6, interChunkMs: 15 };
  });

  try {
    await Promise.all([startApi(), startWorker()]);
    const assistant = await call('POST', '/assistants', { model: 'gpt-4o', tools: [TOOL] });
    const assistantId = String(assistant.json?.id);
    const remember = (run: Answer) => {
      if (run.status === 200 && typeof run.json?.id === 'string') accepted.add(run.json.id);
    };

    /** One client operation; a kill makes it fail part-way, which is fine: what it was told is what counts. */
    const operation = async (i: number): Promise<void> => {
      const tag = { crash_loop: i % 4 === 0 ? 'thread_and_run' : 'run' };
      const content = i % 3 === 0 ? 'tool please' : 'plain please';
      requests++;
      switch (i % 4) {
        case 0: {
          remember(
            await call('POST', '/threads/runs', {
              assistant_id: assistantId,
              thread: { messages: [{ role: 'user', content }], metadata: tag },
            }),
          );
          return;
        }
        case 1: {
          const thread = await call('POST', '/threads', { messages: [{ role: 'user', content }], metadata: tag });
          if (thread.status !== 200) return;
          requests++;
          remember(await call('POST', `/threads/${String(thread.json?.id)}/runs`, { assistant_id: assistantId }));
          return;
        }
        case 2: {
          const response = await fetch(`${api!.baseURL}/threads/runs`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'OpenAI-Beta': 'assistants=v2' },
            body: JSON.stringify({
              assistant_id: assistantId,
              stream: true,
              thread: { messages: [{ role: 'user', content }], metadata: { crash_loop: 'thread_and_run' } },
            }),
          });
          let text = '';
          try {
            for await (const chunk of response.body!) text += Buffer.from(chunk as Uint8Array).toString();
          } finally {
            const created = /event: thread\.run\.created\ndata: (.*)\n/.exec(text);
            if (created) accepted.add((JSON.parse(created[1]!) as { id: string }).id);
          }
          return;
        }
        default: {
          // Tool outputs for a run parked in requires_action (identical bodies: a retry is safe).
          const parked = await target.db
            .selectFrom('runs')
            .select(['id', 'thread_id'])
            .where('status', '=', 'requires_action')
            .limit(1)
            .offset(i % 3)
            .executeTakeFirst();
          if (!parked) return;
          await call('POST', `/threads/${parked.thread_id}/runs/${parked.id}/submit_tool_outputs`, {
            tool_outputs: [{ tool_call_id: 'call_crash', output: 'looked up' }],
          });
        }
      }
    };

    let next = 0;
    for (let round = 1; round <= options.rounds; round++) {
      // Each client issues operations one after another until its request fails (the API died under it).
      let alive = true;
      const ops = Array.from({ length: options.concurrency }, async () => {
        while (alive) await operation(next++).catch(() => (alive = false));
      });
      const answeredBefore = answered;
      const deadline = Date.now() + 20_000;
      while (answered - answeredBefore < options.killAfterAnswers && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * options.killJitterMs));
      const killWorker = options.workerKillEvery > 0 && round % options.workerKillEvery === 0;
      await Promise.all([kill(api?.child), killWorker ? kill(worker) : Promise.resolve()]);
      alive = false;
      await Promise.all(ops);
      const t = Date.now();
      await Promise.all([startApi(), killWorker ? startWorker() : Promise.resolve()]);
      log(
        `round ${round}: API killed${killWorker ? ' with the worker' : ''}; ${accepted.size} runs accepted so far; restarted in ${Date.now() - t} ms`,
      );
    }

    // Settle: answer the runs waiting for tool outputs until nothing is active any more.
    const settleStart = Date.now();
    let active: Array<{ id: string; thread_id: string; status: string }> = [];
    while (Date.now() - settleStart < options.settleMs) {
      active = await target.db
        .selectFrom('runs')
        .select(['id', 'thread_id', 'status'])
        .where('status', 'in', ACTIVE)
        .execute();
      if (active.length === 0) break;
      for (const run of active.filter((r) => r.status === 'requires_action')) {
        await call('POST', `/threads/${run.thread_id}/runs/${run.id}/submit_tool_outputs`, {
          tool_outputs: [{ tool_call_id: 'call_crash', output: 'looked up' }],
        }).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const settledInMs = Date.now() - settleStart;
    // What Temporal says about each run still active, so an orphan report says where it got stuck.
    const stuck = await Promise.all(active.map((run) => describeWorkflow(target.env, run.id, options.dumpDir)));
    if (options.dumpDir) for (const run of active) await dumpRun(target.db, run.id, options.dumpDir);

    const runs = await target.db.selectFrom('runs').select(['id', 'thread_id', 'status']).execute();
    const ids = new Set(runs.map((r) => r.id));
    const answers = await target.db
      .selectFrom('messages')
      .select(['run_id'])
      .where('role', '=', 'assistant')
      .where('run_id', 'is not', null)
      .execute();
    const answersPerRun = new Map<string, number>();
    for (const m of answers) answersPerRun.set(m.run_id!, (answersPerRun.get(m.run_id!) ?? 0) + 1);
    const runsPerThread = new Map<string, number>();
    for (const r of runs) runsPerThread.set(r.thread_id, (runsPerThread.get(r.thread_id) ?? 0) + 1);
    const threads = await target.db.selectFrom('threads').select(['id', 'metadata']).execute();

    return {
      rounds: options.rounds,
      requests,
      accepted: accepted.size,
      runs: runs.length,
      lost: [...accepted].filter((id) => !ids.has(id)),
      orphaned: runs
        .filter((r) => ACTIVE.includes(r.status))
        .map((r) => `${r.id} (${r.status}; ${stuck[active.findIndex((a) => a.id === r.id)] ?? 'ended meanwhile'})`),
      duplicated: [
        ...runs.filter((r) => r.status === 'completed' && answersPerRun.get(r.id) !== 1).map((r) => r.id),
        ...[...runsPerThread].filter(([, n]) => n > 1).map(([thread]) => thread),
      ],
      threadsWithoutRun: threads
        .filter((t) => t.metadata.includes('thread_and_run') && !runsPerThread.has(t.id))
        .map((t) => t.id),
      settledInMs,
    };
  } finally {
    target.model.setResponder(undefined);
    await Promise.all([...children].map((child) => kill(child)));
  }
}
