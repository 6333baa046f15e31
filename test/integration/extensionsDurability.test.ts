import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { ServerToolInvocation } from '../../src/temporal/shared';
import { upgradeProgressQuery } from '../../src/temporal/templateShared';
import type { templateUpgradeObject } from '../../src/wire/templates';
import { killLeftoverCliProcesses, spawnWorkerFor, type CliProcess } from '../support/cli';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startOperatorWorker, type OperatorWorker } from '../support/operatorWorker';
import { DIALECTS, eventually, startTestService, waitForRunStatus, type TestService } from '../support/service';
import { dataOf } from '../support/sse';
import { gate, startToolEndpoint, type ToolEndpoint } from '../support/toolEndpoint';

/**
 * The extensions' durable work, proven with a real `threadline worker` child process killed with SIGKILL: a
 * template's upgrade walk resumes where it stopped and counts every assistant once; a server-side tool call
 * cut short by the kill ends with exactly one output.
 */
jest.setTimeout(180_000);

type Upgrade = ReturnType<typeof templateUpgradeObject>;

describe.each(DIALECTS)('extensions surviving worker crashes (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let endpoint: ToolEndpoint;
  let temporal: Client;
  let operator: OperatorWorker;
  const operatorQueue = `operator-crash-${dialect}-${process.pid}`;
  let operatorGate = gate();
  const invocations: ServerToolInvocation[] = [];

  beforeAll(async () => {
    model = await startFakeModel();
    endpoint = await startToolEndpoint();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-crash-tools-'));
    const file = path.join(dir, 'tools.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        tools: [
          { function: { name: 'charge' }, executor: { type: 'http', url: `${endpoint.origin}/charge` } },
          {
            function: { name: 'ship' },
            executor: { type: 'temporal_activity', activity: 'ship', task_queue: operatorQueue },
          },
        ],
      }),
    );
    svc = await startTestService(
      dialect,
      {
        OPENAI_BASE_URL: model.baseURL,
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: '2',
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
        THREADLINE_SERVER_TOOLS_FILE: file,
        THREADLINE_SERVER_TOOL_HOSTS: endpoint.host,
        THREADLINE_TEMPLATE_UPGRADE_PAGE_SIZE: '4',
        THREADLINE_TEMPLATE_UPGRADE_PAGES_PER_RUN: '3',
        THREADLINE_TEMPLATE_UPGRADE_PAUSE_MS: '300',
      },
      { worker: false },
    );
    const address = process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!;
    temporal = new Client({ connection: await Connection.connect({ address }) });
    operator = await startOperatorWorker(operatorQueue, {
      ship: async (input) => {
        invocations.push(input);
        await operatorGate.promise;
        return `shipped ${(input.arguments as { order: string }).order}`;
      },
    });
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await operator?.stop();
    await temporal?.connection.close();
    await svc?.stop();
    await endpoint?.close();
    await model?.close();
  });
  beforeEach(() => {
    model.reset();
    endpoint.requests.length = 0;
    invocations.length = 0;
  });
  afterEach(() => killLeftoverCliProcesses());

  const startWorker = (): Promise<CliProcess> => spawnWorkerFor(svc, 30_000);
  async function crash(child: CliProcess): Promise<void> {
    child.child.kill('SIGKILL');
    await child.exited;
  }
  async function ok<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await svc.http(method, route, body);
    if (response.status !== 200) throw new Error(`${method} ${route} → ${response.status}: ${response.text}`);
    return response.body as T;
  }

  it('resumes a template upgrade walk after the worker is killed, counting every assistant once', async () => {
    const template = await ok<{ id: string }>('POST', '/assistant_templates', { model: 'gpt-4o', instructions: 'v1' });
    const made = (body: object) => ok<{ id: string }>('POST', '/assistants', { template_id: template.id, ...body });
    const autos: string[] = [];
    for (let i = 0; i < 30; i++) autos.push((await made({ name: `user ${i}` })).id);
    const manual = await made({ upgrade_policy: 'manual' });
    const failing = await made({ instructions_addendum: 'x'.repeat(250_000) });

    let worker = await startWorker();
    const { upgrade_id: upgradeId } = await ok<{ upgrade_id: string }>(
      'POST',
      `/assistant_templates/${template.id}/versions`,
      { model: 'gpt-4o', instructions: 'v2 '.repeat(5_000) },
    );
    const progressUrl = `/assistant_templates/${template.id}/upgrades/${upgradeId}`;
    const midway = await eventually(
      async () => {
        const progress = await ok<Upgrade>('GET', progressUrl);
        return progress.processed >= 8 ? progress : undefined;
      },
      60_000,
      'two pages of the walk',
    );
    // The workflow answers its progress as a Temporal query while it runs (as of the last page it heard of:
    // a page's activity writes the database just before the workflow hears back).
    const queried = await temporal.workflow.getHandle(upgradeId).query(upgradeProgressQuery);
    expect(queried).toMatchObject({ status: 'in_progress', failures: [] });
    expect(queried.processed).toBeGreaterThanOrEqual(midway.processed - 4);
    await crash(worker);
    const stopped = await ok<Upgrade>('GET', progressUrl);
    expect(queried.processed).toBeLessThanOrEqual(stopped.processed);
    expect(stopped.status).toBe('in_progress');
    expect(stopped.processed).toBeLessThan(32);

    worker = await startWorker();
    const report = await eventually(
      async () => {
        const progress = await ok<Upgrade>('GET', progressUrl);
        return progress.status === 'completed' ? progress : undefined;
      },
      90_000,
      'the walk to finish',
    );
    expect(report).toMatchObject({ processed: 31, upgraded: 30, already_current: 0, failed: 1 });
    expect(report.failures).toEqual([{ assistant_id: failing.id, message: expect.stringMatching(/addendum/) }]);
    for (const id of autos) {
      expect(await ok('GET', `/assistants/${id}`)).toMatchObject({ template: { version: 2 } });
    }
    expect(await ok('GET', `/assistants/${manual.id}`)).toMatchObject({
      template: { version: 1, upgrade_available: true },
    });
    expect(await ok('GET', `/assistants/${failing.id}`)).toMatchObject({ template: { version: 1 } });
    // 8 pages, 3 per workflow run: the walk continued as new twice (bounded history however many assistants).
    const runs = await eventually(
      async () => {
        let count = 0;
        for await (const _ of temporal.workflow.list({ query: `WorkflowId = "${upgradeId}"` })) count++;
        return count >= 3 ? count : undefined;
      },
      30_000,
      'the continued runs to be listed',
    );
    expect(runs).toBe(3);
    // Readable from the database after the workflow closed, and the query answers from the final run too.
    expect((await temporal.workflow.getHandle(upgradeId).query(upgradeProgressQuery)).processed).toBe(31);
    await crash(worker);
  });

  /** The single step of a run, and how many deltas carried an output for its calls. */
  async function toolStepOf(threadId: string, runId: string) {
    const steps = (await svc.openai.beta.threads.runs.steps.list(runId, { thread_id: threadId, order: 'asc' })).data;
    const events = await svc.http('GET', `/threads/${threadId}/runs/${runId}/events`);
    const outputDeltas = events.text
      .split('\n\n')
      .filter((block) => block.includes('event: thread.run.step.delta'))
      .map((block) =>
        dataOf<{ delta: { step_details: { tool_calls: Array<{ function?: { output?: string } }> } } }>({
          event: 'thread.run.step.delta',
          data: block
            .split('\n')
            .find((line) => line.startsWith('data: '))!
            .slice(6),
        }),
      )
      .filter((delta) => typeof delta.delta.step_details.tool_calls[0]?.function?.output === 'string');
    return { steps, outputDeltas: outputDeltas.length };
  }

  it('ends an HTTP tool call cut short by a worker kill with exactly one output', async () => {
    let first = true;
    endpoint.on('/charge', () => {
      if (!first) return { body: 'charged once' };
      first = false;
      return new Promise(() => undefined); // the worker dies while this call is in flight
    });
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'function', function: { name: 'charge' } }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'charge me' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_charge', name: 'charge', arguments: '{"cents":500}' }] },
      { kind: 'text', text: 'Charged.' },
    );
    let worker = await startWorker();
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await eventually(() => Promise.resolve(endpoint.requestsTo('/charge').length > 0 || undefined), 30_000, 'the call');
    await crash(worker);
    worker = await startWorker();
    const done = await waitForRunStatus(svc, thread.id, run.id, 'completed');
    expect(done.last_error).toBeNull();
    const calls = endpoint.requestsTo('/charge');
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([`${run.id}:call_charge`]));
    const { steps, outputDeltas } = await toolStepOf(thread.id, run.id);
    expect(steps.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ]);
    expect((steps[0]!.step_details as { tool_calls: ToolCall[] }).tool_calls).toEqual([
      {
        id: 'call_charge',
        type: 'function',
        function: { name: 'charge', arguments: '{"cents":500}', output: 'charged once' },
      },
    ]);
    expect(outputDeltas).toBe(1);
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]!.body.messages.filter((m) => m.role === 'tool')).toEqual([
      { role: 'tool', tool_call_id: 'call_charge', content: 'charged once' },
    ]);
    await crash(worker);
  });

  it("records a Temporal-activity tool's output once when the run's worker died while it ran", async () => {
    operatorGate = gate();
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'function', function: { name: 'ship' } }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'ship it' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_ship', name: 'ship', arguments: '{"order":"B-2"}' }] },
      { kind: 'text', text: 'Shipped.' },
    );
    let worker = await startWorker();
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await eventually(() => Promise.resolve(invocations.length > 0 || undefined), 30_000, 'the operator activity');
    await crash(worker);
    operatorGate.open(); // the operator's activity completes while no run worker is up
    worker = await startWorker();
    const done = await waitForRunStatus(svc, thread.id, run.id, 'completed');
    expect(done.last_error).toBeNull();
    expect(invocations).toHaveLength(1);
    const { steps, outputDeltas } = await toolStepOf(thread.id, run.id);
    expect((steps[0]!.step_details as { tool_calls: ToolCall[] }).tool_calls).toEqual([
      {
        id: 'call_ship',
        type: 'function',
        function: { name: 'ship', arguments: '{"order":"B-2"}', output: 'shipped B-2' },
      },
    ]);
    expect(outputDeltas).toBe(1);
    await crash(worker);
  });

  it('refuses the admin API when no admin key is set', async () => {
    const response = await svc.http('GET', '/../admin/v1/server_tools', undefined, {
      authorization: 'Bearer anything',
    });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: { code: 'admin_key_not_configured' } });
  });
});
