import { randomBytes } from 'node:crypto';
import { toFile } from 'openai';
import { ProjectIdKey } from '../../src/temporal/shared';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, eventually, startTestService, type RawResponse, type TestService } from '../support/service';
import { ADMIN_KEY, createTenant, type Tenant } from '../support/tenants';

/** The ids of the owner's objects the intruder aims at, by role. */
type Owned = Record<string, string>;

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: (o: Owned) => string;
  body?: (o: Owned) => unknown;
}

const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };

/**
 * Every route that names another object, called by a second project with the first project's ids. Each
 * must answer exactly as for ids that do not exist. Files and vector stores add their rows here, one line
 * per route (and their objects to `Owned` in beforeAll); `i_…` entries are the intruder's own objects.
 */
const ROUTES: Record<string, Route> = {
  'retrieve assistant': { method: 'GET', path: (o) => `/assistants/${o.assistant}` },
  'modify assistant': { method: 'POST', path: (o) => `/assistants/${o.assistant}`, body: () => ({ name: 'taken' }) },
  'delete assistant': { method: 'DELETE', path: (o) => `/assistants/${o.assistant}` },
  'retrieve thread': { method: 'GET', path: (o) => `/threads/${o.thread}` },
  'modify thread': { method: 'POST', path: (o) => `/threads/${o.thread}`, body: () => ({ metadata: { k: 'v' } }) },
  'delete thread': { method: 'DELETE', path: (o) => `/threads/${o.thread}` },
  'create message': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/messages`,
    body: () => ({ role: 'user', content: 'hi' }),
  },
  'list messages': { method: 'GET', path: (o) => `/threads/${o.thread}/messages` },
  'retrieve message': { method: 'GET', path: (o) => `/threads/${o.thread}/messages/${o.message}` },
  'modify message': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/messages/${o.message}`,
    body: () => ({ metadata: { k: 'v' } }),
  },
  'delete message': { method: 'DELETE', path: (o) => `/threads/${o.thread}/messages/${o.message}` },
  'create run on its thread': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/runs`,
    body: (o) => ({ assistant_id: o.i_assistant }),
  },
  'create run with its assistant': {
    method: 'POST',
    path: (o) => `/threads/${o.i_thread}/runs`,
    body: (o) => ({ assistant_id: o.assistant }),
  },
  'create streamed run': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/runs`,
    body: (o) => ({ assistant_id: o.i_assistant, stream: true }),
  },
  'create thread and run with its assistant': {
    method: 'POST',
    path: () => '/threads/runs',
    body: (o) => ({ assistant_id: o.assistant, stream: true }),
  },
  'list runs': { method: 'GET', path: (o) => `/threads/${o.thread}/runs` },
  'retrieve run': { method: 'GET', path: (o) => `/threads/${o.thread}/runs/${o.run}` },
  'modify run': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/runs/${o.run}`,
    body: () => ({ metadata: { k: 'v' } }),
  },
  'cancel run (Temporal update)': { method: 'POST', path: (o) => `/threads/${o.thread}/runs/${o.run}/cancel` },
  'submit tool outputs (Temporal update)': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/runs/${o.run}/submit_tool_outputs`,
    body: (o) => ({ tool_outputs: [{ tool_call_id: o.call, output: 'stolen' }] }),
  },
  'submit tool outputs, streamed': {
    method: 'POST',
    path: (o) => `/threads/${o.thread}/runs/${o.run}/submit_tool_outputs`,
    body: (o) => ({ tool_outputs: [{ tool_call_id: o.call, output: 'stolen' }], stream: true }),
  },
  'run events (extension)': { method: 'GET', path: (o) => `/threads/${o.thread}/runs/${o.run}/events` },
  'list run steps': { method: 'GET', path: (o) => `/threads/${o.thread}/runs/${o.run}/steps` },
  'retrieve run step': { method: 'GET', path: (o) => `/threads/${o.thread}/runs/${o.run}/steps/${o.step}` },
  'retrieve file': { method: 'GET', path: (o) => `/files/${o.file}` },
  'download file': { method: 'GET', path: (o) => `/files/${o.file}/content` },
  'delete file': { method: 'DELETE', path: (o) => `/files/${o.file}` },
  'attach its file to a message': {
    method: 'POST',
    path: (o) => `/threads/${o.i_thread}/messages`,
    body: (o) => ({ role: 'user', content: 'x', attachments: [{ file_id: o.file, tools: [{ type: 'file_search' }] }] }),
  },
  'give its file to an assistant': {
    method: 'POST',
    path: () => '/assistants',
    body: (o) => ({ model: 'gpt-4o', tool_resources: { code_interpreter: { file_ids: [o.file] } } }),
  },
  'retrieve vector store': { method: 'GET', path: (o) => `/vector_stores/${o.vs}` },
  'modify vector store': { method: 'POST', path: (o) => `/vector_stores/${o.vs}`, body: () => ({ name: 'taken' }) },
  'delete vector store': { method: 'DELETE', path: (o) => `/vector_stores/${o.vs}` },
  'search vector store': {
    method: 'POST',
    path: (o) => `/vector_stores/${o.vs}/search`,
    body: () => ({ query: 'owned' }),
  },
  'list vector store files': { method: 'GET', path: (o) => `/vector_stores/${o.vs}/files` },
  'add a file to its vector store': {
    method: 'POST',
    path: (o) => `/vector_stores/${o.vs}/files`,
    body: (o) => ({ file_id: o.i_file }),
  },
  'add its file to my vector store': {
    method: 'POST',
    path: (o) => `/vector_stores/${o.i_vs}/files`,
    body: (o) => ({ file_id: o.file }),
  },
  'retrieve vector store file': { method: 'GET', path: (o) => `/vector_stores/${o.vs}/files/${o.file}` },
  'update vector store file': {
    method: 'POST',
    path: (o) => `/vector_stores/${o.vs}/files/${o.file}`,
    body: () => ({ attributes: { taken: true } }),
  },
  'delete vector store file': { method: 'DELETE', path: (o) => `/vector_stores/${o.vs}/files/${o.file}` },
  'vector store file content': { method: 'GET', path: (o) => `/vector_stores/${o.vs}/files/${o.file}/content` },
  'create a file batch in its vector store': {
    method: 'POST',
    path: (o) => `/vector_stores/${o.vs}/file_batches`,
    body: (o) => ({ file_ids: [o.i_file] }),
  },
  'batch its file into my vector store': {
    method: 'POST',
    path: (o) => `/vector_stores/${o.i_vs}/file_batches`,
    body: (o) => ({ files: [{ file_id: o.file }] }),
  },
  'create a vector store with its file': {
    method: 'POST',
    path: () => '/vector_stores',
    body: (o) => ({ file_ids: [o.file] }),
  },
  'retrieve file batch': { method: 'GET', path: (o) => `/vector_stores/${o.vs}/file_batches/${o.vsfb}` },
  'cancel file batch': { method: 'POST', path: (o) => `/vector_stores/${o.vs}/file_batches/${o.vsfb}/cancel` },
  'list file batch files': { method: 'GET', path: (o) => `/vector_stores/${o.vs}/file_batches/${o.vsfb}/files` },
  'retrieve template (extension)': { method: 'GET', path: (o) => `/assistant_templates/${o.template}` },
  'publish a template version (extension)': {
    method: 'POST',
    path: (o) => `/assistant_templates/${o.template}/versions`,
    body: () => ({ model: 'gpt-4o-mini' }),
  },
  'create an assistant from its template (extension)': {
    method: 'POST',
    path: () => '/assistants',
    body: (o) => ({ template_id: o.template }),
  },
};

/** An id of the same kind (same prefix) that names nothing. */
function missingLike(id: string): string {
  const prefix = /^[a-z]+[_-]/.exec(id)?.[0] ?? '';
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return prefix + Array.from(randomBytes(24), (b) => alphabet[b % 36]).join('');
}

/** The error with every id replaced by its role, so two answers about different ids can be compared. */
function normalised(res: RawResponse, ids: Owned): unknown {
  let text = res.text;
  for (const [role, id] of Object.entries(ids)) text = text.split(id).join(`<${role}>`);
  return { status: res.status, contentType: res.headers.get('content-type'), body: JSON.parse(text) as unknown };
}

describe.each(DIALECTS)('projects cannot see or touch each other’s objects (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let owner: Tenant;
  let intruder: Tenant;
  const owned: Owned = {};

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_REQUIRE_KEYS: 'true',
      THREADLINE_ADMIN_KEY: ADMIN_KEY,
    });
    owner = await createTenant(svc, 'owner');
    intruder = await createTenant(svc, 'intruder');

    const assistant = await owner.openai.beta.assistants.create({ model: 'gpt-4o', name: 'owned', tools: [tool] });
    const thread = await owner.openai.beta.threads.create({ messages: [{ role: 'user', content: 'secret' }] });
    const message = (await owner.openai.beta.threads.messages.list(thread.id)).data[0]!;
    model.script({ kind: 'tool_calls', calls: [{ name: 'lookup', arguments: '{}' }] });
    const run = await owner.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    const step = (await owner.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data[0]!;
    Object.assign(owned, {
      assistant: assistant.id,
      thread: thread.id,
      message: message.id,
      run: run.id,
      step: step.id,
      call: run.required_action!.submit_tool_outputs.tool_calls[0]!.id,
    });
    const file = await owner.openai.files.create({
      file: await toFile(Buffer.from('owned bytes'), 'owned.txt'),
      purpose: 'assistants',
    });
    const template = (await owner.http('POST', '/assistant_templates', { model: 'gpt-4o' })).body as { id: string };
    Object.assign(owned, { file: file.id, template: template.id });
    const store = await owner.openai.vectorStores.create({ name: 'owned' });
    const batch = await owner.openai.vectorStores.fileBatches.createAndPoll(
      store.id,
      { file_ids: [file.id] },
      { pollIntervalMs: 50 },
    );
    expect(batch.file_counts.completed).toBe(1);
    Object.assign(owned, { vs: store.id, vsfb: batch.id });
    const ownAssistant = await intruder.openai.beta.assistants.create({ model: 'gpt-4o' });
    const ownThread = await intruder.openai.beta.threads.create();
    const ownFile = await intruder.openai.files.create({
      file: await toFile(Buffer.from('intruder bytes'), 'mine.txt'),
      purpose: 'assistants',
    });
    const ownStore = await intruder.openai.vectorStores.create({ name: 'mine' });
    Object.assign(owned, {
      i_assistant: ownAssistant.id,
      i_thread: ownThread.id,
      i_file: ownFile.id,
      i_vs: ownStore.id,
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });

  it.each(Object.entries(ROUTES))('%s: answers 404 exactly as for an id that does not exist', async (_name, route) => {
    const theirs = await intruder.http(route.method, route.path(owned), route.body?.(owned));
    const missing: Owned = Object.fromEntries(
      Object.entries(owned).map(([role, id]) => [role, role.startsWith('i_') ? id : missingLike(id)]),
    );
    const nothing = await intruder.http(route.method, route.path(missing), route.body?.(missing));
    expect(theirs.status).toBe(404);
    expect(normalised(theirs, owned)).toEqual(normalised(nothing, missing));
  });

  it('lists none of the other project’s objects', async () => {
    expect((await intruder.openai.beta.assistants.list()).data.map((a) => a.id)).toEqual([owned.i_assistant]);
    const threads = (await intruder.http('GET', '/threads')).body as { data: Array<{ id: string }> };
    expect(threads.data.map((t) => t.id)).toEqual([owned.i_thread]);
    expect((await intruder.openai.vectorStores.list()).data.map((v) => v.id)).toEqual([owned.i_vs]);
  });

  it('left the owner’s objects exactly as they were, and the owner’s run still finishes', async () => {
    expect((await owner.openai.beta.assistants.retrieve(owned.assistant!)).name).toBe('owned');
    expect(Buffer.from(await (await owner.openai.files.content(owned.file!)).arrayBuffer()).toString()).toBe(
      'owned bytes',
    );
    const store = await owner.openai.vectorStores.retrieve(owned.vs!);
    expect(store).toMatchObject({ name: 'owned', file_counts: { completed: 1, total: 1 } });
    const stored = await owner.openai.vectorStores.files.retrieve(owned.file!, { vector_store_id: owned.vs! });
    expect(stored.attributes).toBeNull();
    const hits = await owner.openai.vectorStores.search(owned.vs!, { query: 'owned bytes' });
    expect(hits.data.map((hit) => hit.file_id)).toEqual([owned.file]);
    const template = (await owner.http('GET', `/assistant_templates/${owned.template}`)).body;
    expect(template).toMatchObject({ id: owned.template, latest_version: 1 });
    expect((await owner.openai.beta.threads.retrieve(owned.thread!)).metadata).toEqual({});
    const messages = await owner.openai.beta.threads.messages.list(owned.thread!);
    expect(messages.data.map((m) => m.id)).toEqual([owned.message]);
    expect(messages.data[0]!.metadata).toEqual({});
    const run = await owner.openai.beta.threads.runs.retrieve(owned.run!, { thread_id: owned.thread! });
    expect(run).toMatchObject({ status: 'requires_action', metadata: {} });
    // Operators find a project's runs in the Temporal UI by its ProjectId search attribute.
    const described = await svc.running.client!.workflow.getHandle(owned.run!).describe();
    expect(described.typedSearchAttributes.get(ProjectIdKey)).toBe(owner.projectId);
    expect((await owner.openai.beta.threads.runs.list(owned.thread!)).data).toHaveLength(1);

    model.script({ kind: 'text', text: 'done' });
    const finished = await owner.openai.beta.threads.runs.submitToolOutputsAndPoll(
      owned.run!,
      { thread_id: owned.thread!, tool_outputs: [{ tool_call_id: owned.call!, output: 'mine' }] },
      { pollIntervalMs: 50 },
    );
    expect(finished.status).toBe('completed');
    const steps = await owner.openai.beta.threads.runs.steps.list(owned.run!, { thread_id: owned.thread! });
    const toolStep = steps.data.find((s) => s.type === 'tool_calls')!;
    expect(JSON.stringify(toolStep.step_details)).toContain('"output":"mine"');
    // Nothing the intruder sent reached the model.
    await eventually(() => Promise.resolve(model.requests.length >= 2 ? true : undefined));
    expect(JSON.stringify(model.requests.map((r) => r.body))).not.toContain('stolen');
  });
});
