import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { RunStep, ToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { ServerToolInvocation } from '../../src/temporal/shared';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startOperatorWorker, type OperatorWorker } from '../support/operatorWorker';
import { DIALECTS, eventually, startTestService, waitForRunStatus, type TestService } from '../support/service';
import { gate, startToolEndpoint, type ToolEndpoint } from '../support/toolEndpoint';

/**
 * Extension: server-side tools. An operator registers functions the server runs itself — an HTTP endpoint
 * (here a loopback server) or a Temporal activity on the operator's own task queue (here a worker in this test
 * process) — and a run executes their calls inside its workflow, with only the client's functions going to
 * requires_action.
 */
jest.setTimeout(120_000);

const SECRET = 'tool-secret-4d9f';
const fn = (name: string) => ({ type: 'function' as const, function: { name } });
const askUser = {
  type: 'function' as const,
  function: { name: 'ask_user', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
};

describe.each(DIALECTS)('server-side tools (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let endpoint: ToolEndpoint;
  let operator: OperatorWorker;
  let temporal: Client;
  const operatorQueue = `operator-tools-${dialect}-${process.pid}`;
  const invocations: ServerToolInvocation[] = [];

  beforeAll(async () => {
    model = await startFakeModel();
    endpoint = await startToolEndpoint();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-tools-'));
    const file = path.join(dir, 'tools.json');
    const http = (route: string, extra: object = {}) => ({
      type: 'http',
      url: `${endpoint.origin}${route}?key=url-secret`,
      ...extra,
    });
    fs.writeFileSync(
      file,
      JSON.stringify({
        tools: [
          {
            function: {
              name: 'weather',
              description: 'Current weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
            executor: http('/weather', { headers: { Authorization: { env: 'WEATHER_TOOL_TOKEN' } } }),
          },
          {
            function: { name: 'lookup_order', parameters: { type: 'object', properties: { id: { type: 'string' } } } },
            executor: { type: 'temporal_activity', activity: 'lookupOrder', task_queue: operatorQueue },
          },
          {
            function: { name: 'flaky' },
            executor: http('/flaky', { max_attempts: 2, initial_retry_seconds: 0.05 }),
          },
          { function: { name: 'slow' }, executor: http('/slow', { timeout_seconds: 1, max_attempts: 1 }) },
          { function: { name: 'held' }, executor: http('/held', { timeout_seconds: 60 }) },
          {
            function: { name: 'unserved' },
            executor: {
              type: 'temporal_activity',
              activity: 'nobodyServesThis',
              task_queue: `unserved-${dialect}-${process.pid}`,
              timeout_seconds: 1,
              max_attempts: 1,
            },
          },
        ],
      }),
    );
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
      THREADLINE_SERVER_TOOLS_FILE: file,
      THREADLINE_SERVER_TOOL_HOSTS: endpoint.host,
      WEATHER_TOOL_TOKEN: `Bearer ${SECRET}`,
      THREADLINE_ADMIN_KEY: 'admin-key-0123456789',
    });
    operator = await startOperatorWorker(operatorQueue, {
      lookupOrder: (input) => {
        invocations.push(input);
        const { id } = input.arguments as { id: string };
        return Promise.resolve({ order: id, status: 'shipped' });
      },
    });
    temporal = new Client({
      connection: await Connection.connect({ address: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS! }),
    });
  });
  afterAll(async () => {
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

  const stepsOf = async (threadId: string, runId: string) =>
    (await svc.openai.beta.threads.runs.steps.list(runId, { thread_id: threadId, order: 'asc' })).data;
  const functionCalls = (step: RunStep) =>
    (step.step_details as { tool_calls: ToolCall[] }).tool_calls.map((call) =>
      call.type === 'function' ? { id: call.id, name: call.function.name, output: call.function.output } : call,
    );

  it('runs an HTTP tool and a Temporal-activity tool inside the run, and asks the client only for its own function', async () => {
    endpoint.on('/weather', (req) => ({
      body: JSON.stringify({ city: (JSON.parse(req.body) as { city: string }).city, temp_c: 21 }),
    }));
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [fn('weather'), fn('lookup_order'), askUser],
    });
    const thread = await svc.openai.beta.threads.create({
      messages: [{ role: 'user', content: 'Weather and order?' }],
    });
    model.script(
      {
        kind: 'tool_calls',
        calls: [
          { id: 'call_w', name: 'weather', arguments: '{"city":"Oslo"}' },
          { id: 'call_o', name: 'lookup_order', arguments: '{"id":"A-17"}' },
          { id: 'call_u', name: 'ask_user', arguments: '{"q":"Which order?"}' },
        ],
      },
      { kind: 'text', text: 'Oslo is 21C and A-17 has shipped.' },
    );

    // Streamed through the SDK: each server call's output arrives as one step delta.
    const outputDeltas: Array<{ index: number; output: string }> = [];
    const stream = svc.openai.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id }).on('event', (e) => {
      if (e.event !== 'thread.run.step.delta') return;
      const calls = (e.data.delta.step_details as { tool_calls?: Array<Record<string, unknown>> } | undefined)
        ?.tool_calls;
      for (const call of calls ?? []) {
        const output = (call.function as { output?: unknown } | undefined)?.output;
        if (typeof output === 'string') outputDeltas.push({ index: call.index as number, output });
      }
    });
    const paused = await stream.finalRun();
    expect(paused.status).toBe('requires_action');
    expect(paused.required_action?.submit_tool_outputs.tool_calls).toEqual([
      { id: 'call_u', type: 'function', function: { name: 'ask_user', arguments: '{"q":"Which order?"}' } },
    ]);
    expect(outputDeltas.sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, output: '{"city":"Oslo","temp_c":21}' },
      { index: 1, output: '{"order":"A-17","status":"shipped"}' },
    ]);
    // The waiting step already shows the server's answers; the client's function waits for its output.
    const [waiting] = await stepsOf(thread.id, paused.id);
    expect(waiting?.status).toBe('in_progress');
    expect(functionCalls(waiting!)).toEqual([
      { id: 'call_w', name: 'weather', output: '{"city":"Oslo","temp_c":21}' },
      { id: 'call_o', name: 'lookup_order', output: '{"order":"A-17","status":"shipped"}' },
      { id: 'call_u', name: 'ask_user', output: null },
    ]);

    // The model was offered the registered definitions, not the assistant's bare references.
    const offered = model.requests[0]!.body.tools!.map((t) => (t.type === 'function' ? t.function : undefined));
    expect(offered[0]).toEqual({
      name: 'weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    });
    // The endpoint got the arguments as JSON, the secret header, and a key that names the call.
    const [call] = endpoint.requestsTo('/weather');
    expect(call?.body).toBe('{"city":"Oslo"}');
    expect(call?.headers).toMatchObject({
      authorization: `Bearer ${SECRET}`,
      'content-type': 'application/json',
      'idempotency-key': `${paused.id}:call_w`,
      'x-threadline-tool-call-id': 'call_w',
    });
    expect(invocations).toEqual([
      {
        tool: 'lookup_order',
        arguments: { id: 'A-17' },
        call_id: 'call_o',
        run_id: paused.id,
        thread_id: thread.id,
        assistant_id: assistant.id,
        project_id: expect.any(String),
      },
    ]);

    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      paused.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_u', output: 'A-17' }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    const [toolStep] = await stepsOf(thread.id, done.id);
    expect(toolStep?.status).toBe('completed');
    expect(functionCalls(toolStep!).map((c) => ('output' in c ? c.output : null))).toEqual([
      '{"city":"Oslo","temp_c":21}',
      '{"order":"A-17","status":"shipped"}',
      'A-17',
    ]);
    expect(model.requests[1]!.body.messages.filter((m) => m.role === 'tool')).toEqual([
      { role: 'tool', tool_call_id: 'call_w', content: '{"city":"Oslo","temp_c":21}' },
      { role: 'tool', tool_call_id: 'call_o', content: '{"order":"A-17","status":"shipped"}' },
      { role: 'tool', tool_call_id: 'call_u', content: 'A-17' },
    ]);

    // Secrets stay on the server: not in the run's events, not in the workflow's history.
    const events = await svc.http('GET', `/threads/${thread.id}/runs/${done.id}/events`);
    const history = JSON.stringify(await temporal.workflow.getHandle(done.id).fetchHistory());
    for (const text of [events.text, history]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('url-secret');
      expect(text).not.toContain(endpoint.origin);
    }
  });

  it('gives the model an error output when a tool fails after its retries, and the run goes on', async () => {
    endpoint.on('/flaky', () => ({ status: 503, body: 'overloaded' }));
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [fn('flaky')] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Try it' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_f', name: 'flaky', arguments: '{}' }] },
      { kind: 'text', text: 'The tool is down.' },
    );
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({ status: 'completed', last_error: null, required_action: null });
    expect(endpoint.requestsTo('/flaky')).toHaveLength(2);
    const expected = 'The flaky tool failed: the endpoint answered HTTP 503 Service Unavailable.';
    expect(functionCalls((await stepsOf(thread.id, run.id))[0]!)).toEqual([
      { id: 'call_f', name: 'flaky', output: expected },
    ]);
    expect(model.requests[1]!.body.messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'call_f',
      content: expected,
    });
  });

  it('waits for a slow tool inside the run (still in progress), and times out one slower than its limit', async () => {
    const release = gate<string>();
    endpoint.on('/held', async () => ({ body: await release.promise }));
    endpoint.on('/slow', () => new Promise(() => undefined)); // never answers
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [fn('held'), fn('slow')] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Both please' }] });
    model.script(
      {
        kind: 'tool_calls',
        calls: [
          { id: 'call_h', name: 'held', arguments: '{}' },
          { id: 'call_s', name: 'slow', arguments: '{}' },
        ],
      },
      { kind: 'text', text: 'done' },
    );
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    // Both calls run at once; the run waits for them in progress, with nothing asked of the client.
    await eventually(
      () =>
        Promise.resolve(
          endpoint.requestsTo('/held').length === 1 && endpoint.requestsTo('/slow').length === 1 ? true : undefined,
        ),
      30_000,
      'both calls to reach their endpoints',
    );
    const during = await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(during).toMatchObject({ status: 'in_progress', required_action: null });
    release.open('"held result"');
    const done = await waitForRunStatus(svc, thread.id, run.id, 'completed');
    expect(done.last_error).toBeNull();
    expect(functionCalls((await stepsOf(thread.id, run.id))[0]!)).toEqual([
      { id: 'call_h', name: 'held', output: '"held result"' },
      { id: 'call_s', name: 'slow', output: 'The slow tool failed: no answer within 1 s.' },
    ]);
    expect(endpoint.requestsTo('/slow')).toHaveLength(1); // max_attempts 1
  });

  it('times out a Temporal-activity tool whose queue no worker serves, and the model reads why', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [fn('unserved')] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Anyone?' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_n', name: 'unserved', arguments: '{}' }] },
      { kind: 'text', text: 'Nobody answered.' },
    );
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({ status: 'completed', last_error: null });
    expect(functionCalls((await stepsOf(thread.id, run.id))[0]!)).toEqual([
      { id: 'call_n', name: 'unserved', output: 'The unserved tool failed: no answer within 1 s.' },
    ]);
  });

  it('cancels a run while a server-side call is in flight', async () => {
    const release = gate<string>();
    endpoint.on('/held', async () => ({ body: await release.promise }));
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [fn('held')] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Wait' }] });
    model.script({ kind: 'tool_calls', calls: [{ id: 'call_c', name: 'held', arguments: '{}' }] });
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await eventually(() => Promise.resolve(endpoint.requestsTo('/held').length > 0 || undefined), 30_000, 'the call');
    const cancelling = await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    expect(cancelling.status).toBe('cancelling');
    const cancelled = await waitForRunStatus(svc, thread.id, run.id, 'cancelled');
    expect(cancelled.cancelled_at).toEqual(expect.any(Number));
    expect((await stepsOf(thread.id, run.id)).map((s) => s.status)).toEqual(['cancelled']);
    release.open('too late');
    expect(model.requests).toHaveLength(1);
  });

  describe('admin API', () => {
    const admin = (method: string, route: string, body?: unknown, key = 'admin-key-0123456789') =>
      svc.http(method, `/../admin/v1${route}`, body, { authorization: `Bearer ${key}` });

    it('refuses requests without the admin key', async () => {
      const none = await svc.http('GET', '/../admin/v1/server_tools');
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ error: { type: 'invalid_request_error' } });
      expect((await admin('GET', '/server_tools', undefined, 'wrong')).status).toBe(401);
    });

    it('registers a tool that runs in runs, shows no secret, and deleting it hands its calls back to the client', async () => {
      endpoint.on('/translate', (req) => ({ body: `translated ${req.body}` }));
      const refused = await admin('POST', '/server_tools', {
        function: { name: 'translate' },
        executor: { type: 'http', url: 'http://198.51.100.7/translate' },
      });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { param: 'executor.url' } });
      const fileName = await admin('POST', '/server_tools', {
        function: { name: 'weather' },
        executor: { type: 'http', url: `${endpoint.origin}/x` },
      });
      expect(fileName.status).toBe(400);

      const registered = await admin('POST', '/server_tools', {
        function: { name: 'translate', description: 'Translate to French' },
        executor: {
          type: 'http',
          url: `${endpoint.origin}/translate?token=query-secret`,
          headers: { 'X-Api-Key': 'header-secret' },
          timeout_seconds: 5,
        },
      });
      expect(registered.status).toBe(200);
      expect(registered.body).toEqual({
        object: 'server_tool',
        name: 'translate',
        project_id: expect.any(String),
        source: 'admin',
        created_at: expect.any(Number),
        function: { name: 'translate', description: 'Translate to French' },
        executor: {
          type: 'http',
          url: `${endpoint.origin}/translate`,
          header_names: ['X-Api-Key'],
          timeout_seconds: 5,
          max_attempts: 3,
          initial_retry_seconds: 1,
        },
      });
      const list = await admin('GET', '/server_tools');
      const names = (list.body as { data: Array<{ name: string; source: string }> }).data.map((t) => [
        t.name,
        t.source,
      ]);
      expect(names).toEqual(
        expect.arrayContaining([
          ['weather', 'config'],
          ['lookup_order', 'config'],
          ['translate', 'admin'],
        ]),
      );
      expect(list.text).not.toContain('header-secret');
      expect(list.text).not.toContain('query-secret');
      expect(list.text).not.toContain(SECRET);

      const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [fn('translate')] });
      const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Bonjour?' }] });
      model.script(
        { kind: 'tool_calls', calls: [{ id: 'call_t', name: 'translate', arguments: '{"text":"hi"}' }] },
        { kind: 'text', text: 'salut' },
      );
      const run = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 50 },
      );
      expect(run.status).toBe('completed');
      expect(endpoint.requestsTo('/translate')[0]?.headers['x-api-key']).toBe('header-secret');
      expect(functionCalls((await stepsOf(thread.id, run.id))[0]!)).toEqual([
        { id: 'call_t', name: 'translate', output: 'translated {"text":"hi"}' },
      ]);

      expect((await admin('DELETE', '/server_tools/translate')).body).toEqual({
        name: 'translate',
        object: 'server_tool.deleted',
        deleted: true,
      });
      expect((await admin('GET', '/server_tools/translate')).status).toBe(404);
      model.script({ kind: 'tool_calls', calls: [{ id: 'call_t2', name: 'translate', arguments: '{}' }] });
      const second = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 50 },
      );
      expect(second.status).toBe('requires_action');
      expect(second.required_action?.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual(['call_t2']);
      await svc.openai.beta.threads.runs.cancel(second.id, { thread_id: thread.id });
    });
  });
});
