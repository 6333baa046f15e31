import OpenAI, { AuthenticationError } from 'openai';
import { DIALECTS, rawRequest, startTestService, type TestService } from '../support/service';
import { ADMIN_KEY, addKey, admin, createTenant, type Tenant } from '../support/tenants';

const NO_KEY = /^You didn't provide an API key\./;

function errorOf(body: unknown) {
  return (body as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
}

describe.each(DIALECTS)('API keys and projects (%s)', (dialect) => {
  describe('with keys required', () => {
    let svc: TestService;
    let alice: Tenant;
    beforeAll(async () => {
      svc = await startTestService(
        dialect,
        { THREADLINE_REQUIRE_KEYS: 'true', THREADLINE_ADMIN_KEY: ADMIN_KEY },
        { worker: false },
      );
      alice = await createTenant(svc, 'alice');
    });
    afterAll(async () => {
      await svc?.stop();
    });

    it('serves a known key its own project through the official SDK', async () => {
      const assistant = await alice.openai.beta.assistants.create({ model: 'gpt-4o', name: 'mine' });
      expect((await alice.openai.beta.assistants.retrieve(assistant.id)).name).toBe('mine');
    });

    it('answers 401 in OpenAI shape with no key, an unknown key, or a malformed header', async () => {
      const none = await rawRequest(svc.baseURL, 'GET', '/assistants');
      expect(none.status).toBe(401);
      expect(errorOf(none.body)).toEqual({
        message: expect.stringMatching(NO_KEY),
        type: 'invalid_request_error',
        param: null,
        code: null,
      });

      const unknownKey = 'sk-tl-0000000000000000000000000000000000000abcd';
      const unknown = await rawRequest(svc.baseURL, 'GET', '/assistants', undefined, {
        authorization: `Bearer ${unknownKey}`,
      });
      expect(unknown.status).toBe(401);
      expect(errorOf(unknown.body)).toEqual({
        message: 'Incorrect API key provided: sk-tl-…abcd.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      });
      expect(unknown.headers.get('x-request-id')).toMatch(/^req_/);

      const basic = await rawRequest(svc.baseURL, 'GET', '/assistants', undefined, { authorization: 'Basic abc' });
      expect(basic.status).toBe(401);

      const sdk = new OpenAI({ baseURL: svc.baseURL, apiKey: 'test-key', maxRetries: 0 });
      const error = await sdk.beta.assistants.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).code).toBe('invalid_api_key');
      expect((error as AuthenticationError).message).toMatch(/Incorrect API key provided: …ey\./);
    });

    it('stops a revoked key at its next request, and only that key', async () => {
      const second = await addKey(svc, alice.projectId);
      const thread = await second.openai.beta.threads.create();
      const revoked = await admin(svc, 'POST', `/api_keys/${second.keyId}/revoke`);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ id: second.keyId, revoked_at: expect.any(Number) });

      const error = await second.openai.beta.threads.retrieve(thread.id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).status).toBe(401);
      expect((error as AuthenticationError).code).toBe('invalid_api_key');
      expect((error as AuthenticationError).message).toContain(
        `Incorrect API key provided: sk-tl-…${second.key.slice(-4)}.`,
      );
      // The project's other key still reaches the thread.
      expect((await alice.openai.beta.threads.retrieve(thread.id)).id).toBe(thread.id);
      // Revoking again changes nothing.
      expect((await admin(svc, 'POST', `/api_keys/${second.keyId}/revoke`)).body).toEqual(revoked.body);
    });

    it('shows a key once: creation carries it, listings only its redacted form, and nothing stores it', async () => {
      const created = await admin(svc, 'POST', `/projects/${alice.projectId}/api_keys`, { name: 'ci' });
      const key = created.body as { id: string; value: string; redacted_value: string };
      expect(key.value).toMatch(/^sk-tl-[A-Za-z0-9_-]{43}$/);
      expect(key.redacted_value).toBe(`sk-tl-…${key.value.slice(-4)}`);
      const listed = await admin(svc, 'GET', `/projects/${alice.projectId}/api_keys`);
      expect(listed.text).not.toContain(key.value);
      expect((listed.body as { data: Array<{ id: string }> }).data.map((k) => k.id)).toContain(key.id);
      const stored = await svc.running.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', key.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(key.value.slice(6));
    });

    it('accepts OpenAI-Organization and an OpenAI-Project naming the key’s project, and refuses any other project', async () => {
      const own = new OpenAI({
        baseURL: svc.baseURL,
        apiKey: alice.key,
        organization: 'org-anything',
        project: alice.projectId,
        maxRetries: 0,
      });
      expect(Array.isArray((await own.beta.assistants.list()).data)).toBe(true);

      const bob = await createTenant(svc, 'bob');
      for (const project of [bob.projectId, 'proj_doesnotexist']) {
        const res = await alice.http('GET', '/assistants', undefined, { 'OpenAI-Project': project });
        expect(res.status).toBe(401);
        expect(errorOf(res.body)).toMatchObject({
          code: 'invalid_project',
          message: `This API key does not belong to project '${project}'. A Threadline key selects its own project: leave out OpenAI-Project, or send the key's project.`,
        });
      }
    });

    it('guards the admin API with the admin key', async () => {
      expect((await rawRequest(`${svc.url}/admin/v1`, 'GET', '/projects')).status).toBe(401);
      const wrong = await rawRequest(`${svc.url}/admin/v1`, 'GET', '/projects', undefined, {
        authorization: `Bearer ${alice.key}`,
      });
      expect(wrong.status).toBe(401);
      expect(errorOf(wrong.body).code).toBe('invalid_api_key');
      // An API key is not an admin key, and the admin key is not an API key.
      expect(
        (await rawRequest(svc.baseURL, 'GET', '/assistants', undefined, { authorization: `Bearer ${ADMIN_KEY}` }))
          .status,
      ).toBe(401);
      const listed = await admin(svc, 'GET', '/projects');
      expect(listed.status).toBe(200);
      expect((listed.body as { data: Array<{ id: string }> }).data.map((p) => p.id)).toEqual(
        expect.arrayContaining(['proj_default', alice.projectId]),
      );
    });

    it('manages projects and their limits through the admin API, with OpenAI-shaped errors', async () => {
      const created = await admin(svc, 'POST', '/projects', {
        name: 'limits',
        rate_limits: { requests_per_minute: 5 },
      });
      expect(created.body).toMatchObject({
        object: 'project',
        name: 'limits',
        rate_limits: { requests_per_minute: 5, active_runs: null },
      });
      const id = (created.body as { id: string }).id;
      const modified = await admin(svc, 'POST', `/projects/${id}`, {
        rate_limits: { requests_per_minute: null, active_runs: 2 },
      });
      expect(modified.body).toMatchObject({
        name: 'limits',
        rate_limits: { requests_per_minute: null, active_runs: 2 },
      });
      expect((await admin(svc, 'GET', `/projects/${id}`)).body).toEqual(modified.body);

      const missing = await admin(svc, 'POST', '/projects/proj_nothere/api_keys', {});
      expect(missing.status).toBe(404);
      expect(errorOf(missing.body).message).toBe("No project found with id 'proj_nothere'.");
      const bad = await admin(svc, 'POST', '/projects', { name: 'x', colour: 'red' });
      expect(bad.status).toBe(400);
      expect(errorOf(bad.body).message).toBe('Unrecognized request argument supplied: colour');
      expect((await admin(svc, 'POST', '/api_keys/key_nothere/revoke')).status).toBe(404);
    });
  });

  describe('on loopback without THREADLINE_REQUIRE_KEYS', () => {
    let svc: TestService;
    let carol: Tenant;
    beforeAll(async () => {
      svc = await startTestService(dialect, { THREADLINE_ADMIN_KEY: ADMIN_KEY }, { worker: false });
      carol = await createTenant(svc, 'carol');
    });
    afterAll(async () => {
      await svc?.stop();
    });

    it('puts any other bearer, or none, in the default project, and a known key in its own', async () => {
      const anything = svc.openai; // apiKey: 'test-key'
      const other = new OpenAI({ baseURL: svc.baseURL, apiKey: 'anything', maxRetries: 0 });
      const shared = await anything.beta.assistants.create({ model: 'gpt-4o', name: 'default project' });
      expect((await other.beta.assistants.retrieve(shared.id)).id).toBe(shared.id);
      const bare = await rawRequest(svc.baseURL, 'GET', `/assistants/${shared.id}`);
      expect(bare.status).toBe(200);

      const own = await carol.openai.beta.assistants.create({ model: 'gpt-4o', name: 'carol only' });
      const status = (call: Promise<unknown>) =>
        call.then(
          () => 200,
          (e: { status: number }) => e.status,
        );
      expect(await status(anything.beta.assistants.retrieve(own.id))).toBe(404);
      expect(await status(carol.openai.beta.assistants.retrieve(shared.id))).toBe(404);
      const carolsList = (await carol.openai.beta.assistants.list()).data.map((a) => a.id);
      expect(carolsList).toContain(own.id);
      expect(carolsList).not.toContain(shared.id);
    });

    it('still refuses a revoked key rather than quietly moving it to the default project', async () => {
      const extra = await addKey(svc, carol.projectId);
      await admin(svc, 'POST', `/api_keys/${extra.keyId}/revoke`);
      const error = await extra.openai.beta.assistants.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
    });

    it('refuses an OpenAI-Project header naming another project even without a key', async () => {
      const res = await rawRequest(svc.baseURL, 'GET', '/assistants', undefined, { 'OpenAI-Project': carol.projectId });
      expect(res.status).toBe(401);
      expect(errorOf(res.body).code).toBe('invalid_project');
      const own = await rawRequest(svc.baseURL, 'GET', '/assistants', undefined, { 'OpenAI-Project': 'proj_default' });
      expect(own.status).toBe(200);
    });
  });

  it('disables the admin API when no admin key is set', async () => {
    const svc = await startTestService(dialect, {}, { worker: false });
    try {
      const res = await rawRequest(`${svc.url}/admin/v1`, 'GET', '/projects', undefined, { authorization: 'Bearer x' });
      expect(res.status).toBe(403);
      expect(errorOf(res.body)).toMatchObject({
        code: 'admin_key_not_configured',
        message: expect.stringContaining('set THREADLINE_ADMIN_KEY'),
      });
    } finally {
      await svc.stop();
    }
  });
});
