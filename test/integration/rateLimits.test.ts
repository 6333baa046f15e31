import OpenAI, { RateLimitError } from 'openai';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startThreadline, type Running } from '../../src/runtime';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, rawRequest, startTestService, type TestService } from '../support/service';
import { ADMIN_KEY, admin, createTenant } from '../support/tenants';

const RPM = 6;

/**
 * The counts live in whole-minute windows; a test that straddles a minute boundary would see its count
 * reset halfway. Start the counting part early in a minute instead (waiting, not asserting, on the clock).
 */
async function awayFromMinuteEnd(needSeconds = 20): Promise<void> {
  const left = 60 - ((Date.now() / 1000) % 60);
  if (left < needSeconds) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 100));
}

describe.each(DIALECTS)('rate limits shared by two API processes (%s)', (dialect) => {
  let model: FakeModel;
  let svc: TestService;
  let second: Running;
  let secondURL: string;

  beforeAll(async () => {
    model = await startFakeModel({ defaultStep: { kind: 'hang' } });
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_REQUIRE_KEYS: 'true',
      THREADLINE_ADMIN_KEY: ADMIN_KEY,
      THREADLINE_RATE_LIMIT_RPM: String(RPM),
    });
    // A second API process on the same database (and Temporal), as `threadline api` replicas run.
    second = await startThreadline(
      loadConfig({ ...svc.env, PORT: '0' }),
      { api: true, worker: false, embedTemporal: false },
      pino({ level: 'warn' }),
    );
    secondURL = `${second.url!}/v1`;
  });
  afterAll(async () => {
    await second?.stop();
    await svc?.stop();
    await model?.close();
  });

  it('counts one key’s requests across both processes and answers the one over the limit with OpenAI’s 429', async () => {
    const tenant = await createTenant(svc, 'busy');
    const clients = [svc.baseURL, secondURL].map(
      (baseURL) => new OpenAI({ baseURL, apiKey: tenant.key, maxRetries: 0 }),
    );
    await awayFromMinuteEnd();
    const remaining: string[] = [];
    for (let i = 0; i < RPM; i++) {
      const { response } = await clients[i % 2]!.beta.assistants.list().withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe(String(RPM));
      remaining.push(response.headers.get('x-ratelimit-remaining-requests')!);
      expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$/);
    }
    expect(remaining).toEqual(['5', '4', '3', '2', '1', '0']);

    for (const client of clients) {
      const error = await client.beta.assistants.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      const limited = error as RateLimitError;
      expect(limited.status).toBe(429);
      expect(limited.code).toBe('rate_limit_exceeded');
      expect(limited.type).toBe('requests');
      expect(limited.message).toMatch(/Rate limit reached for requests on this API key: Limit 6 requests per minute/);
      expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(Number(limited.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    }
    // Another key of another project has its own count.
    const other = await createTenant(svc, 'quiet');
    expect((await other.openai.beta.assistants.list()).data).toHaveLength(0);
  });

  it('applies a project’s own limit over the setting, and 0 means none', async () => {
    const strict = await createTenant(svc, 'strict', { requests_per_minute: 2 });
    const free = await createTenant(svc, 'free', { requests_per_minute: 0 });
    await awayFromMinuteEnd();
    await strict.openai.beta.assistants.list();
    await strict.openai.beta.assistants.list();
    expect(await strict.openai.beta.assistants.list().catch((e: unknown) => e)).toBeInstanceOf(RateLimitError);
    for (let i = 0; i < RPM + 2; i++) {
      const res = await free.http('GET', '/assistants');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
    }
  });

  it('limits a key’s concurrently active runs, counted in the database, whichever process creates them', async () => {
    const tenant = await createTenant(svc, 'runner', { requests_per_minute: 0, active_runs: 2 });
    const viaSecond = new OpenAI({ baseURL: secondURL, apiKey: tenant.key, maxRetries: 0 });
    const assistant = await tenant.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = () => tenant.openai.beta.threads.create();
    // The model hangs, so these stay active until cancelled.
    const [t1, t2, t3] = [await thread(), await thread(), await thread()];
    const r1 = await tenant.openai.beta.threads.runs.create(t1.id, { assistant_id: assistant.id });
    const r2 = await viaSecond.beta.threads.runs.create(t2.id, { assistant_id: assistant.id });
    const refused = await viaSecond.beta.threads.runs
      .create(t3.id, { assistant_id: assistant.id })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
    expect((refused as RateLimitError).message).toMatch(
      /Rate limit reached for active runs on this API key: Limit 2, Active 2/,
    );
    expect(Number((refused as RateLimitError).headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Nothing was left behind by the refusal: the thread has no run.
    expect((await tenant.openai.beta.threads.runs.list(t3.id)).data).toHaveLength(0);
    const andRun = await tenant.http('POST', '/threads/runs', { assistant_id: assistant.id });
    expect(andRun.status).toBe(429);
    expect((await tenant.http('GET', '/threads')).body).toMatchObject({
      data: [{ id: t3.id }, { id: t2.id }, { id: t1.id }],
    });

    // Another key of the same project has its own allowance.
    const created = await admin(svc, 'POST', `/projects/${tenant.projectId}/api_keys`, {});
    const otherKey = (created.body as { value: string }).value;
    const other = new OpenAI({ baseURL: svc.baseURL, apiKey: otherKey, maxRetries: 0 });
    const r3 = await other.beta.threads.runs.create(t3.id, { assistant_id: assistant.id });

    await tenant.openai.beta.threads.runs.cancel(r1.id, { thread_id: t1.id });
    const t4 = await thread();
    const poll = async () => {
      for (;;) {
        const run = await tenant.openai.beta.threads.runs.retrieve(r1.id, { thread_id: t1.id });
        if (run.status === 'cancelled') return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await poll();
    const r4 = await tenant.openai.beta.threads.runs.create(t4.id, { assistant_id: assistant.id });
    expect(r4.status).toBe('queued');
    for (const [run, t] of [
      [r2, t2],
      [r4, t4],
    ] as const)
      await tenant.openai.beta.threads.runs.cancel(run.id, { thread_id: t.id });
    await other.beta.threads.runs.cancel(r3.id, { thread_id: t3.id });
  });

  it('keeps health checks and the admin API outside the limits', async () => {
    const strict = await createTenant(svc, 'strict-2', { requests_per_minute: 1 });
    await strict.openai.beta.assistants.list();
    expect((await rawRequest(svc.url, 'GET', '/healthz')).status).toBe(200);
    expect((await admin(svc, 'GET', `/projects/${strict.projectId}`)).status).toBe(200);
  });
});
