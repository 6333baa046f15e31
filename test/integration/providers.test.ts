import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError } from 'openai';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, capturingLogger, eventually, startTestService, type TestService } from '../support/service';
import { ADMIN_KEY, admin, createTenant, type Tenant } from '../support/tenants';

const ALPHA_KEY = 'alpha-secret-key-0001';
const BETA_KEY = 'beta-secret-key-0002';
const OVERRIDE_KEY = 'override-secret-key-0003';

describe.each(DIALECTS)('model provider table (%s)', (dialect) => {
  let alpha: FakeModel;
  let beta: FakeModel;
  let svc: TestService;
  let tenant: Tenant;
  let logs: Array<Record<string, unknown>>;
  let dir: string;

  beforeAll(async () => {
    alpha = await startFakeModel({ models: ['alpha-1', 'alpha-2', 'shared', 'beta-large'] });
    beta = await startFakeModel({ models: ['beta-large', 'shared'] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-providers-'));
    const file = path.join(dir, 'providers.yaml');
    fs.writeFileSync(
      file,
      [
        '# no catch-all: a model no entry serves fails its run',
        'default: null',
        'providers:',
        '  - name: alpha',
        '    model: "alpha-*"',
        `    base_url: ${alpha.baseURL}`,
        '    api_key_env: ALPHA_KEY',
        '    context_window: 4096',
        '  - name: beta',
        '    model: beta-large',
        `    base_url: ${beta.baseURL}`,
        `    api_key: ${BETA_KEY}`,
        '    vision: false',
        '    embeddings_model: beta-embed',
      ].join('\n'),
    );
    const capture = capturingLogger('info');
    logs = capture.lines;
    svc = await startTestService(
      dialect,
      {
        THREADLINE_PROVIDERS_FILE: file,
        ALPHA_KEY,
        THREADLINE_ADMIN_KEY: ADMIN_KEY,
        THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
      },
      { logger: capture.logger },
    );
    tenant = await createTenant(svc, 'routing');
  });
  afterAll(async () => {
    await svc?.stop();
    await alpha?.close();
    await beta?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    alpha.reset();
    beta.reset();
  });

  async function runOn(model: string, content: string | Array<object> = 'hello', client = tenant.openai) {
    const assistant = await client.beta.assistants.create({ model });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: content as string }],
    });
    return client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 50 });
  }

  it('probes every provider once at boot and logs which are reachable, never their keys', async () => {
    await eventually(() =>
      Promise.resolve(logs.filter((l) => l.msg === 'model provider reachable').length >= 2 ? true : undefined),
    );
    const reachable = logs.filter((l) => l.msg === 'model provider reachable').map((l) => l.provider);
    expect(reachable.sort()).toEqual(['alpha', 'beta']);
    expect(JSON.stringify(logs)).not.toContain(ALPHA_KEY);
    expect(JSON.stringify(logs)).not.toContain(BETA_KEY);
  });

  it('sends each run to the endpoint whose entry matches its model, with that entry’s key', async () => {
    beta.script({ kind: 'text', text: 'from beta' });
    alpha.script({ kind: 'text', text: 'from alpha' });
    const onAlpha = await runOn('alpha-2');
    const onBeta = await runOn('beta-large');
    expect(onAlpha.status).toBe('completed');
    expect(onBeta.status).toBe('completed');
    expect(alpha.requests.map((r) => r.body.model)).toEqual(['alpha-2']);
    expect(beta.requests.map((r) => r.body.model)).toEqual(['beta-large']);
    expect(alpha.requests[0]!.headers.authorization).toBe(`Bearer ${ALPHA_KEY}`);
    expect(beta.requests[0]!.headers.authorization).toBe(`Bearer ${BETA_KEY}`);
    const reply = await tenant.openai.beta.threads.messages.list(onBeta.thread_id, { run_id: onBeta.id });
    expect(reply.data[0]!.content[0]).toMatchObject({ text: { value: 'from beta' } });
  });

  it('fails a run whose model no entry serves at once, with a last_error that says what to configure', async () => {
    const run = await runOn('gamma-7');
    expect(run.status).toBe('failed');
    expect(run.last_error).toEqual({
      code: 'server_error',
      message: expect.stringMatching(/^No model provider serves the model 'gamma-7' for this project\./),
    });
    expect(alpha.requests).toHaveLength(0);
    expect(beta.requests).toHaveLength(0);
  });

  it('never shows a provider key in a run’s error, even when the endpoint echoes it', async () => {
    beta.script({
      kind: 'error',
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${BETA_KEY}.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    });
    const run = await runOn('beta-large');
    expect(run.status).toBe('failed');
    expect(run.last_error!.message).toMatch(/refused the provider's credentials \(HTTP 401\)/);
    expect(JSON.stringify(run)).not.toContain(BETA_KEY);
    expect(JSON.stringify(logs)).not.toContain(BETA_KEY);
  });

  it('leaves images out of prompts for a provider without vision', async () => {
    beta.script({ kind: 'text', text: 'no eyes' });
    await runOn('beta-large', [
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
    ]);
    alpha.script({ kind: 'text', text: 'sees' });
    await runOn('alpha-1', [
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
    ]);
    const toBeta = beta.requests[0]!.body.messages.at(-1)!;
    expect(toBeta.content).toBe('what is this?\n[image omitted: this model does not accept images]');
    const toAlpha = alpha.requests[0]!.body.messages.at(-1)!;
    expect(JSON.stringify(toAlpha.content)).toContain('https://example.com/cat.png');
  });

  it('lists what the project can use with models.list() and models.retrieve(), in OpenAI’s shape', async () => {
    const page = await tenant.openai.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['alpha-1', 'alpha-2', 'beta-large']);
    for (const model of page.data) {
      expect(model).toEqual({
        id: model.id,
        object: 'model',
        created: expect.any(Number),
        owned_by: expect.any(String),
      });
    }
    expect(await tenant.openai.models.retrieve('beta-large')).toMatchObject({ id: 'beta-large', owned_by: 'beta' });
    const missing = await tenant.openai.models.retrieve('shared').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).code).toBe('model_not_found');
    expect((missing as NotFoundError).message).toContain(
      'The model `shared` does not exist or you do not have access to it.',
    );
  });

  it('routes one project’s model elsewhere with an override from the admin API, leaving other projects alone', async () => {
    const special = await createTenant(svc, 'special');
    const created = await admin(svc, 'POST', '/providers', {
      project_id: special.projectId,
      name: 'special-beta',
      model: 'beta-large',
      base_url: alpha.baseURL,
      api_key: OVERRIDE_KEY,
    });
    expect(created.status).toBe(200);
    expect(created.text).not.toContain(OVERRIDE_KEY);
    expect(created.body).toMatchObject({ object: 'model_provider', source: 'admin', has_api_key: true });
    const providerId = (created.body as { id: string }).id;

    alpha.script({ kind: 'text', text: 'overridden' });
    beta.script({ kind: 'text', text: 'as before' });
    await runOn('beta-large', 'hi', special.openai);
    await runOn('beta-large');
    expect(alpha.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${OVERRIDE_KEY}`]);
    expect(beta.requests).toHaveLength(1);
    expect((await special.openai.models.retrieve('beta-large')).owned_by).toBe('special-beta');
    expect((await tenant.openai.models.retrieve('beta-large')).owned_by).toBe('beta');

    const listed = await admin(svc, 'GET', '/providers');
    expect(listed.text).not.toContain(OVERRIDE_KEY);
    expect(listed.text).not.toContain(ALPHA_KEY);
    expect(listed.text).not.toContain(BETA_KEY);
    const entries = (listed.body as { data: Array<{ id: string; source: string; has_api_key: boolean }> }).data;
    expect(entries.map((e) => [e.source, e.has_api_key])).toEqual([
      ['admin', true],
      ['file', true],
      ['file', true],
    ]);
    const fileEntry = await admin(svc, 'POST', `/providers/${entries[1]!.id}`, { model: 'x' });
    expect(fileEntry.status).toBe(400);

    const edited = await admin(svc, 'POST', `/providers/${providerId}`, { api_key: null, vision: false });
    expect(edited.body).toMatchObject({ has_api_key: false, vision: false });
    expect((await admin(svc, 'DELETE', `/providers/${providerId}`)).body).toEqual({
      id: providerId,
      object: 'model_provider.deleted',
      deleted: true,
    });
    beta.script({ kind: 'text', text: 'back to beta' });
    await runOn('beta-large', 'hi', special.openai);
    expect(beta.requests).toHaveLength(2);
  });

  it('offers the first embeddings model of a project’s table (for file search)', async () => {
    const found = await svc.running.providers.embeddingsFor(tenant.projectId);
    expect(found).toMatchObject({ model: 'beta-embed', spec: { name: 'beta' } });
  });
});

describe('the provider table’s defaults', () => {
  it('with OPENAI_BASE_URL set, serves every model from it and lists what it lists', async () => {
    const model = await startFakeModel({ models: ['llama3.2', 'meta-llama/Llama-3.1-8B'] });
    const svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL }, { worker: false });
    try {
      expect((await svc.openai.models.list()).data.map((m) => m.id)).toEqual(['llama3.2', 'meta-llama/Llama-3.1-8B']);
      // Names with slashes, encoded by the SDK or not.
      expect((await svc.openai.models.retrieve('meta-llama/Llama-3.1-8B')).owned_by).toBe('fake');
      expect((await svc.http('GET', '/models/meta-llama/Llama-3.1-8B')).status).toBe(200);
    } finally {
      await svc.stop();
      await model.close();
    }
  });

  it('says plainly at start that runs will fail when nothing is configured, and how to fix it', async () => {
    const capture = capturingLogger('info');
    const svc = await startTestService('sqlite', {}, { worker: false, logger: capture.logger });
    try {
      const banner = await eventually(() =>
        Promise.resolve(capture.lines.find((l) => String(l.msg).startsWith('No model provider is configured'))),
      );
      expect(banner.msg).toMatch(/every run will fail until one is/);
      expect(banner.msg).toMatch(/OPENAI_API_KEY=sk-/);
      expect(banner.msg).toMatch(/OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:11434\/v1/);
      expect(banner.level).toBe(40);
    } finally {
      await svc.stop();
    }
  });

  it('refuses a providers file it cannot use, naming the problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-providers-'));
    const file = path.join(dir, 'providers.json');
    fs.writeFileSync(file, JSON.stringify({ providers: [{ model: 'm', base_url: 'not a url' }] }));
    await expect(startTestService('sqlite', { THREADLINE_PROVIDERS_FILE: file })).rejects.toThrow(
      /THREADLINE_PROVIDERS_FILE=.*providers\[0\]\.base_url/s,
    );
    fs.writeFileSync(
      file,
      JSON.stringify({ providers: [{ model: 'm', base_url: 'http://x/v1', api_key_env: 'NOPE' }] }),
    );
    await expect(startTestService('sqlite', { THREADLINE_PROVIDERS_FILE: file })).rejects.toThrow(
      /reads its key from NOPE, which is not set/,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
