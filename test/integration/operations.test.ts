import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startThreadline } from '../../src/runtime';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { parsePrometheus, total, type Sample } from '../support/prometheus';
import {
  DIALECTS,
  capturingLogger,
  eventually,
  rawRequest,
  startTestService,
  type TestService,
} from '../support/service';
import { ADMIN_KEY } from '../support/tenants';

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

describe.each(DIALECTS)('health checks, metrics and logs (%s)', (dialect) => {
  let model: FakeModel;
  let svc: TestService;
  let logs: Array<Record<string, unknown>>;

  beforeAll(async () => {
    model = await startFakeModel();
    const capture = capturingLogger('info');
    logs = capture.lines;
    svc = await startTestService(
      dialect,
      {
        OPENAI_BASE_URL: model.baseURL,
        THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
        // The readiness test closes the API's own Temporal connection to play an unreachable server; with eager
        // start the API rides on the worker's connection, which cannot be closed under a running worker.
        THREADLINE_EAGER_START: 'false',
      },
      { logger: capture.logger },
    );
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  it('answers /healthz and /readyz outside /v1 and without a key', async () => {
    const health = await rawRequest(svc.url, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await rawRequest(svc.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, temporal: { ok: true }, worker: { ok: true } },
    });
  });

  it('exposes Prometheus metrics whose values follow the runs', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const before = await scrape(svc.url);
    const usage = { prompt_tokens: 11, completion_tokens: 7 };
    model.script({ kind: 'text', text: 'one', usage }, { kind: 'text', text: 'two', usage });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
    await svc.openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 50 });
    const streamed = svc.openai.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    expect((await streamed.finalRun()).status).toBe('completed');

    const after = await eventually(async () => {
      const samples = await scrape(svc.url);
      return total(samples, 'threadline_event_streams_open') === 0 ? samples : undefined;
    });
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    const createRun = { method: 'POST', route: '/v1/threads/:thread_id/runs', status: '200' };
    expect(delta('threadline_http_requests_total', createRun)).toBe(2);
    expect(delta('threadline_http_request_duration_seconds_count', createRun)).toBe(2);
    expect(delta('threadline_http_request_duration_seconds_bucket', { ...createRun, le: '+Inf' })).toBe(2);
    expect(delta('threadline_http_requests_total', { route: '/v1/threads/:thread_id/runs/:run_id' })).toBeGreaterThan(
      0,
    );
    expect(delta('threadline_runs', { status: 'completed' })).toBe(2);
    expect(delta('threadline_model_time_to_first_token_seconds_count', { model: 'gpt-4o' })).toBe(2);
    expect(delta('threadline_model_call_duration_seconds_count', { model: 'gpt-4o', outcome: 'ok' })).toBe(2);
    expect(delta('threadline_tokens_total', { project: 'proj_default', model: 'gpt-4o', type: 'prompt' })).toBe(22);
    expect(delta('threadline_tokens_total', { project: 'proj_default', model: 'gpt-4o', type: 'completion' })).toBe(14);
    expect(delta('threadline_event_streams_total')).toBe(1);
    // Temporal's own worker metrics, from the SDK runtime, on the same page.
    expect(total(after, 'temporal_num_pollers')).toBeGreaterThan(0);
    expect(delta('temporal_activity_execution_latency_count')).toBeGreaterThanOrEqual(2);
    // A workflow completes (and counts) just after it wrote its run's final state.
    await eventually(async () => {
      const samples = await scrape(svc.url);
      return total(samples, 'temporal_workflow_completed') - total(before, 'temporal_workflow_completed') >= 2
        ? true
        : undefined;
    });
    // Default process metrics, prefixed.
    expect(total(after, 'threadline_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts failed model calls and tool executions by outcome', async () => {
    const before = await scrape(svc.url);
    model.script({ kind: 'error', status: 400 });
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o-mini' });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('failed');
    svc.running.metrics.recordToolExecution('file_search', 'completed');
    const after = await scrape(svc.url);
    const delta = (name: string, labels: Record<string, string>) =>
      total(after, name, labels) - total(before, name, labels);
    expect(delta('threadline_model_call_duration_seconds_count', { model: 'gpt-4o-mini', outcome: 'error' })).toBe(1);
    expect(delta('threadline_runs', { status: 'failed' })).toBe(1);
    expect(delta('threadline_tool_executions_total', { tool: 'file_search', outcome: 'completed' })).toBe(1);
  });

  it('logs through pino: service lines carry the request id, and the Temporal SDK’s lines come through too', async () => {
    // A run that failed logs from inside its workflow (Temporal's workflow logger).
    await eventually(() =>
      Promise.resolve(
        logs.find((l) => l.component === 'temporal' && l.msg === 'run failed' && l.sdkComponent === 'workflow'),
      ),
    );
    // A run whose workflow was terminated from outside is reconciled by the service under the request.
    model.setDefault({ kind: 'hang' });
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create();
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await svc.running.client!.workflow.getHandle(run.id).terminate('test');
    const res = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/cancel`);
    expect(res.status).toBe(400);
    const requestId = res.headers.get('x-request-id');
    const line = logs.find((l) => l.msg === 'run workflow closed without finishing the run; marked failed');
    expect(line).toMatchObject({ runId: run.id, requestId });
    expect(logs.find((l) => l.msg === 'request' && l.requestId === requestId)).toMatchObject({ status: 400 });
  });

  it('reports not ready, naming the check, when Temporal is out of reach', async () => {
    await svc.running.client!.connection.close();
    const ready = await rawRequest(svc.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'not_ready',
      checks: { database: { ok: true }, temporal: { ok: false, detail: expect.any(String) } },
    });
  });
});

describe('where /metrics is served', () => {
  it('asks for the admin key on the API port once one is set (or keys are required)', async () => {
    const guarded = await startTestService('sqlite', { THREADLINE_ADMIN_KEY: ADMIN_KEY }, { worker: false });
    const required = await startTestService('sqlite', { THREADLINE_REQUIRE_KEYS: 'true' }, { worker: false });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      await scrape(guarded.url, { authorization: `Bearer ${ADMIN_KEY}` });
      const refused = await rawRequest(required.url, 'GET', '/metrics');
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).toMatch(/THREADLINE_METRICS_PORT/);
      // Health checks never need a key.
      expect((await rawRequest(required.url, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await guarded.stop();
      await required.stop();
    }
  });

  it('serves /metrics, /healthz and /readyz on their own port, also from a worker process', async () => {
    const api = await startTestService(
      'sqlite',
      { THREADLINE_METRICS_PORT: '0', THREADLINE_REQUIRE_KEYS: 'true' },
      { worker: false },
    );
    const worker = await startThreadline(
      loadConfig({ ...api.env, THREADLINE_METRICS_PORT: '0' }),
      { api: false, worker: true, embedTemporal: false },
      pino({ level: 'warn' }),
    );
    try {
      expect(api.running.operatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await scrape(api.running.operatorUrl!);
      expect((await rawRequest(api.running.operatorUrl!, 'GET', '/readyz')).body).toEqual({
        status: 'ready',
        checks: { database: { ok: true }, temporal: { ok: true } },
      });
      expect(worker.url).toBeUndefined();
      const ready = await rawRequest(worker.operatorUrl!, 'GET', '/readyz');
      expect(ready.body).toEqual({
        status: 'ready',
        checks: { database: { ok: true }, temporal: { ok: true }, worker: { ok: true } },
      });
      expect(total(await scrape(worker.operatorUrl!), 'temporal_num_pollers')).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await api.stop();
    }
  });
});
