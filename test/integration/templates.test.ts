import type { Assistant } from 'openai/resources/beta/assistants';
import type { templateUpgradeObject } from '../../src/wire/templates';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, eventually, startTestService, type TestService } from '../support/service';

/**
 * Extension: assistant templates. A template has immutable numbered versions; assistants made from it follow a
 * version, upgrade automatically on publish (`auto`) or when asked (`manual`), keep their overrides, and are
 * ordinary assistants to every client.
 */
jest.setTimeout(120_000);

interface TemplateField {
  id: string;
  version: number;
  latest_version: number;
  upgrade_available: boolean;
  upgrade_policy: 'auto' | 'manual';
  previous_version: number | null;
  instructions_addendum: string | null;
  overrides: string[];
}
type TemplateAssistant = Assistant & { template: TemplateField };
type Upgrade = ReturnType<typeof templateUpgradeObject>;

const fn = (name: string, description = `the ${name} tool`) => ({
  type: 'function' as const,
  function: { name, description, parameters: { type: 'object', properties: {} } },
});

describe.each(DIALECTS)('assistant templates (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL, THREADLINE_MODEL_RETRY_INITIAL_MS: '50' });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  async function ok<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await svc.http(method, route, body);
    if (response.status !== 200) throw new Error(`${method} ${route} → ${response.status}: ${response.text}`);
    return response.body as T;
  }
  const createTemplate = (body: object) =>
    ok<{ id: string; latest_version: number }>('POST', '/assistant_templates', body);
  const publish = (templateId: string, body: object) =>
    ok<{ version: number; upgrade_id: string }>('POST', `/assistant_templates/${templateId}/versions`, body);
  const fromTemplate = (body: object) => ok<TemplateAssistant>('POST', '/assistants', body);
  const retrieve = async (id: string) => (await svc.openai.beta.assistants.retrieve(id)) as TemplateAssistant;
  const upgradeDone = (templateId: string, upgradeId: string) =>
    eventually(
      async () => {
        const upgrade = await ok<Upgrade>('GET', `/assistant_templates/${templateId}/upgrades/${upgradeId}`);
        return upgrade.status === 'in_progress' ? undefined : upgrade;
      },
      60_000,
      'the upgrade walk to finish',
    );

  it('creates, lists, retrieves and deletes templates and their versions over raw HTTP', async () => {
    const created = await svc.http('POST', '/assistant_templates', {
      name: 'Support bot',
      description: 'Per-user support assistants',
      model: 'gpt-4o',
      instructions: 'Help the user.',
      tools: [fn('lookup')],
      metadata: { tier: 'gold' },
    });
    expect(created.status).toBe(200);
    const template = created.body as { id: string };
    expect(template).toEqual({
      id: expect.stringMatching(/^tmpl_/),
      object: 'assistant_template',
      created_at: expect.any(Number),
      name: 'Support bot',
      description: 'Per-user support assistants',
      latest_version: 1,
    });
    expect(await ok('GET', `/assistant_templates/${template.id}`)).toEqual(template);
    const list = await ok<{ data: Array<{ id: string }> }>('GET', '/assistant_templates?limit=100&order=asc');
    expect(list.data.map((t) => t.id)).toContain(template.id);
    const v1 = await ok('GET', `/assistant_templates/${template.id}/versions/1`);
    expect(v1).toEqual({
      id: expect.stringMatching(/^tmplv_/),
      object: 'assistant_template.version',
      template_id: template.id,
      version: 1,
      created_at: expect.any(Number),
      model: 'gpt-4o',
      instructions: 'Help the user.',
      tools: [fn('lookup')],
      tool_resources: {},
      response_format: 'auto',
      metadata: { tier: 'gold' },
      upgrade_id: null,
    });
    const v2 = await publish(template.id, { model: 'gpt-4o', instructions: 'Help more.' });
    expect(v2).toMatchObject({ version: 2, tools: [], metadata: {}, upgrade_id: expect.stringMatching(/^tupg_/) });
    const versions = await ok<{ data: Array<{ version: number }>; has_more: boolean }>(
      'GET',
      `/assistant_templates/${template.id}/versions?order=asc`,
    );
    expect(versions.data.map((v) => v.version)).toEqual([1, 2]);
    expect((await ok<{ latest_version: number }>('GET', `/assistant_templates/${template.id}`)).latest_version).toBe(2);
    await upgradeDone(template.id, v2.upgrade_id);

    expect(await ok('DELETE', `/assistant_templates/${template.id}`)).toEqual({
      id: template.id,
      object: 'assistant_template.deleted',
      deleted: true,
    });
    expect((await svc.http('GET', `/assistant_templates/${template.id}`)).status).toBe(404);
  });

  it('makes assistants that are ordinary assistants to the SDK, with the version they follow', async () => {
    const template = await createTemplate({
      name: 'Tutor',
      model: 'gpt-4o',
      instructions: 'Teach maths.',
      tools: [fn('grade')],
      metadata: { product: 'tutor' },
    });
    // Through the SDK's own request method: the body is the SDK's, the answer an Assistant.
    const made = (await svc.openai.post('/assistants', {
      body: { template_id: template.id, upgrade_policy: 'manual', instructions_addendum: 'Call me Ann.', name: 'Ann' },
    })) as TemplateAssistant;
    expect(made).toMatchObject({
      object: 'assistant',
      name: 'Ann',
      model: 'gpt-4o',
      instructions: 'Teach maths.\n\nCall me Ann.',
      tools: [fn('grade')],
      metadata: { product: 'tutor' },
      template: {
        id: template.id,
        version: 1,
        latest_version: 1,
        upgrade_available: false,
        upgrade_policy: 'manual',
        previous_version: null,
        instructions_addendum: 'Call me Ann.',
        overrides: [],
      },
    });
    expect(await retrieve(made.id)).toEqual(made);
    const listed: Assistant[] = [];
    for await (const assistant of svc.openai.beta.assistants.list({ limit: 2 })) listed.push(assistant);
    expect(listed.find((a) => a.id === made.id)).toEqual(made);
    // An assistant not made from a template has exactly OpenAI's keys.
    const plain = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    expect(Object.keys(await svc.openai.beta.assistants.retrieve(plain.id)).sort()).toEqual(
      [
        'created_at',
        'description',
        'id',
        'instructions',
        'metadata',
        'model',
        'name',
        'object',
        'response_format',
        'temperature',
        'tool_resources',
        'tools',
        'top_p',
      ].sort(),
    );

    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: '2+2?' }] });
    model.script({ kind: 'text', text: '4' });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: made.id },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({
      status: 'completed',
      instructions: 'Teach maths.\n\nCall me Ann.',
      tools: [fn('grade')],
    });
    expect(model.requests[0]!.body.messages[0]).toEqual({ role: 'system', content: 'Teach maths.\n\nCall me Ann.' });
  });

  it('upgrades auto assistants on publish, keeps manual ones and every override, and reports the walk', async () => {
    const template = await createTemplate({
      model: 'gpt-4o',
      instructions: 'v1 rules.',
      tools: [fn('a')],
      metadata: { product: 'p', channel: 'web' },
    });
    const autoPlain = await fromTemplate({ template_id: template.id });
    const autoOverridden = await fromTemplate({
      template_id: template.id,
      model: 'gpt-4o-mini',
      metadata: { user: 'u1' },
      instructions_addendum: 'Speak French.',
      temperature: 0.2,
    });
    expect(autoOverridden.template.overrides).toEqual(['model', 'metadata']);
    const manual = await fromTemplate({ template_id: template.id, upgrade_policy: 'manual' });
    // The user's own edit of a template-owned setting is an override too.
    await svc.openai.beta.assistants.update(autoPlain.id, { instructions: 'My own rules.', name: 'Mine' });

    const v2 = await publish(template.id, {
      model: 'gpt-4.1',
      instructions: 'v2 rules.',
      tools: [fn('a', 'changed parameters'), fn('b')],
      metadata: { product: 'p2' },
    });
    const report = await upgradeDone(template.id, v2.upgrade_id);
    expect(report).toMatchObject({ status: 'completed', processed: 2, upgraded: 2, already_current: 0, failed: 0 });

    expect(await retrieve(autoPlain.id)).toMatchObject({
      name: 'Mine',
      model: 'gpt-4.1',
      instructions: 'My own rules.',
      tools: [fn('a', 'changed parameters'), fn('b')],
      metadata: { product: 'p2' },
      template: {
        version: 2,
        latest_version: 2,
        upgrade_available: false,
        previous_version: 1,
        overrides: ['instructions'],
      },
    });
    expect(await retrieve(autoOverridden.id)).toMatchObject({
      model: 'gpt-4o-mini',
      instructions: 'v2 rules.\n\nSpeak French.',
      tools: [fn('a', 'changed parameters'), fn('b')],
      metadata: { product: 'p2', user: 'u1' },
      temperature: 0.2,
      template: { version: 2 },
    });
    expect(await retrieve(manual.id)).toMatchObject({
      model: 'gpt-4o',
      instructions: 'v1 rules.',
      template: { version: 1, latest_version: 2, upgrade_available: true, upgrade_policy: 'manual' },
    });
    // Dropping an override makes the setting follow the template again.
    const reset = await ok<TemplateAssistant>('POST', `/assistants/${autoPlain.id}/template`, {
      reset_overrides: ['instructions'],
    });
    expect(reset).toMatchObject({ instructions: 'v2 rules.', template: { overrides: [] } });
    const listed = await ok<{ data: Upgrade[] }>('GET', `/assistant_templates/${template.id}/upgrades`);
    expect(listed.data.map((u) => u.id)).toEqual([v2.upgrade_id]);
  });

  it('upgrades and rolls back a manual assistant on request', async () => {
    const template = await createTemplate({ model: 'gpt-4o', instructions: 'one' });
    const assistant = await fromTemplate({ template_id: template.id, upgrade_policy: 'manual' });
    const noEarlier = await svc.http('POST', `/assistants/${assistant.id}/rollback`);
    expect(noEarlier.status).toBe(400);
    await upgradeDone(template.id, (await publish(template.id, { model: 'gpt-4o', instructions: 'two' })).upgrade_id);
    await upgradeDone(template.id, (await publish(template.id, { model: 'gpt-4o', instructions: 'three' })).upgrade_id);

    const latest = await ok<TemplateAssistant>('POST', `/assistants/${assistant.id}/upgrade`, {});
    expect(latest).toMatchObject({ instructions: 'three', template: { version: 3, previous_version: 1 } });
    const back = await ok<TemplateAssistant>('POST', `/assistants/${assistant.id}/rollback`);
    expect(back).toMatchObject({
      instructions: 'one',
      template: { version: 1, previous_version: 3, upgrade_available: true },
    });
    const chosen = await ok<TemplateAssistant>('POST', `/assistants/${assistant.id}/upgrade`, { version: 2 });
    expect(chosen).toMatchObject({ instructions: 'two', template: { version: 2, previous_version: 1 } });
    expect((await retrieve(assistant.id)).instructions).toBe('two');

    const tooFar = await svc.http('POST', `/assistants/${assistant.id}/upgrade`, { version: 9 });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body).toMatchObject({ error: { param: 'version', code: 'invalid_value' } });
    const plain = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const notTemplated = await svc.http('POST', `/assistants/${plain.id}/upgrade`, {});
    expect(notTemplated.status).toBe(400);
    expect((notTemplated.body as { error: { message: string } }).error.message).toBe(
      `Assistant ${plain.id} was not made from a template.`,
    );
    expect((await svc.http('POST', '/assistants/asst_missing0000000000000000/upgrade', {})).status).toBe(404);
    // Switching to auto: the next publish moves it.
    await ok('POST', `/assistants/${assistant.id}/template`, { upgrade_policy: 'auto' });
    await upgradeDone(template.id, (await publish(template.id, { model: 'gpt-4o', instructions: 'four' })).upgrade_id);
    expect(await retrieve(assistant.id)).toMatchObject({ instructions: 'four', template: { version: 4 } });
  });

  it('leaves a run in progress on the configuration it started with', async () => {
    const template = await createTemplate({ model: 'gpt-4o', instructions: 'Old rules.', tools: [fn('old_tool')] });
    const assistant = await fromTemplate({ template_id: template.id });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_old', name: 'old_tool', arguments: '{}' }] },
      { kind: 'text', text: 'finished' },
      { kind: 'text', text: 'new run' },
    );
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(paused.status).toBe('requires_action');
    const v2 = await publish(template.id, { model: 'gpt-4.1', instructions: 'New rules.', tools: [fn('new_tool')] });
    await upgradeDone(template.id, v2.upgrade_id);
    expect((await retrieve(assistant.id)).instructions).toBe('New rules.');

    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      paused.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_old', output: 'ok' }] },
      { pollIntervalMs: 50 },
    );
    expect(done).toMatchObject({
      status: 'completed',
      model: 'gpt-4o',
      instructions: 'Old rules.',
      tools: [fn('old_tool')],
    });
    const resumed = model.requests[1]!.body;
    expect(resumed.model).toBe('gpt-4o');
    expect(resumed.messages[0]).toEqual({ role: 'system', content: 'Old rules.' });
    expect(resumed.tools?.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(['old_tool']);

    const next = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(next).toMatchObject({ status: 'completed', model: 'gpt-4.1', instructions: 'New rules.' });
    expect(model.requests[2]!.body.messages[0]).toEqual({ role: 'system', content: 'New rules.' });
  });

  it('reports the assistants an upgrade cannot move, and leaves them as they were', async () => {
    const template = await createTemplate({ model: 'gpt-4o', instructions: 'short' });
    const healthy = await fromTemplate({ template_id: template.id });
    const addendum = 'x'.repeat(200_000);
    const crowded = await fromTemplate({ template_id: template.id, instructions_addendum: addendum });
    const v2 = await publish(template.id, { model: 'gpt-4o', instructions: 'y'.repeat(60_000) });
    const report = await upgradeDone(template.id, v2.upgrade_id);
    expect(report).toMatchObject({ status: 'completed', processed: 2, upgraded: 1, failed: 1 });
    expect(report.failures).toEqual([
      {
        assistant_id: crowded.id,
        message: expect.stringMatching(/^The instructions with this assistant's addendum would be 260002 characters/),
      },
    ]);
    expect(await retrieve(healthy.id)).toMatchObject({ template: { version: 2 } });
    expect(await retrieve(crowded.id)).toMatchObject({
      instructions: `short\n\n${addendum}`,
      template: { version: 1, upgrade_available: true },
    });
  });

  it('refuses bad requests with OpenAI-shaped errors and writes nothing', async () => {
    const template = await createTemplate({ model: 'gpt-4o', instructions: 'i' });
    const before = (await ok<{ data: unknown[] }>('GET', '/assistants?limit=100')).data.length;
    const cases: Array<[string, string, unknown, number, object]> = [
      [
        'POST',
        '/assistants',
        { template_id: 'tmpl_missing0000000000000000' },
        404,
        { message: "No assistant template found with id 'tmpl_missing0000000000000000'." },
      ],
      ['POST', '/assistants', { template_id: 'asst_x' }, 400, { param: 'template_id', code: 'invalid_value' }],
      ['POST', '/assistants', { template_id: template.id, template_version: 7 }, 400, { param: 'template_version' }],
      [
        'POST',
        '/assistants',
        { template_id: template.id, upgrade_policy: 'sometimes' },
        400,
        { param: 'upgrade_policy' },
      ],
      ['POST', '/assistants', { template_id: template.id, colour: 'red' }, 400, { code: 'unknown_parameter' }],
      [
        'POST',
        '/assistants',
        { template_id: template.id, instructions_addendum: 'z'.repeat(256_000) },
        400,
        { type: 'invalid_request_error' },
      ],
      [
        'POST',
        '/assistant_templates',
        { name: 'no model' },
        400,
        { param: 'model', code: 'missing_required_parameter' },
      ],
      ['POST', '/assistant_templates', { model: 'm', metadata: { memory: 'nope' } }, 400, { param: 'metadata.memory' }],
      ['POST', `/assistant_templates/tmpl_missing0000000000000000/versions`, { model: 'm' }, 404, {}],
      ['GET', `/assistant_templates/${template.id}/versions/abc`, undefined, 400, { param: 'version' }],
      ['GET', `/assistant_templates/${template.id}/versions/5`, undefined, 404, {}],
      ['POST', `/assistants/asst_x/template`, { upgrade_policy: 'auto' }, 404, {}],
    ];
    for (const [method, route, body, status, error] of cases) {
      const response = await svc.http(method, route, body);
      expect([route, response.status]).toEqual([route, status]);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error', ...error } });
    }
    expect((await ok<{ data: unknown[] }>('GET', '/assistants?limit=100')).data.length).toBe(before);
    expect((await ok<{ latest_version: number }>('GET', `/assistant_templates/${template.id}`)).latest_version).toBe(1);
  });

  it('turns its assistants into ordinary ones when a template is deleted', async () => {
    const template = await createTemplate({ model: 'gpt-4o', instructions: 'kept' });
    const assistant = await fromTemplate({ template_id: template.id });
    await ok('DELETE', `/assistant_templates/${template.id}`);
    const after = await svc.openai.beta.assistants.retrieve(assistant.id);
    expect(after).toMatchObject({ instructions: 'kept', model: 'gpt-4o' });
    expect(after).not.toHaveProperty('template');
  });
});
