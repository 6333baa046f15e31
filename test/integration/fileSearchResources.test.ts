import { toFile } from 'openai';
import type { FileCitationAnnotation, TextContentBlock } from 'openai/resources/beta/threads/messages';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, eventually, startTestService, type TestService } from '../support/service';

/**
 * file_search's resources made on the fly, through the official Node SDK with real ingestion: a vector store
 * given inline in `tool_resources.file_search.vector_stores` (assistant create, thread create,
 * create-thread-and-run), and message attachments with the file_search tool going into the thread's own store
 * (made on demand, expiring 7 days after its last activity) — then a run that searches and cites them.
 */
jest.setTimeout(90_000);

describe.each(DIALECTS)('file_search resources (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  const upload = async (name: string, text: string) =>
    (await svc.openai.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' })).id;

  /** The store's files once ingestion ended for all of them. */
  const ingested = (storeId: string, count: number) =>
    eventually(
      async () => {
        const files = (await svc.openai.vectorStores.files.list(storeId)).data;
        return files.length === count && files.every((f) => f.status === 'completed') ? files : undefined;
      },
      30_000,
      `the ${count} files of ${storeId} to be ingested`,
    );

  const storeOf = (resources: { file_search?: { vector_store_ids?: string[] } } | null | undefined) =>
    resources?.file_search?.vector_store_ids?.[0];

  it('makes the store an assistant gives inline, and a run searches it and cites the file', async () => {
    const guide = await upload('guide.md', '# Tides\nThe spring tide comes twice a month, at new and full moon.');
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_stores: [{ file_ids: [guide], metadata: { topic: 'tides' } }] } },
    });
    const storeId = storeOf(assistant.tool_resources);
    expect(storeId).toMatch(/^vs_/);
    expect(assistant.tool_resources).toEqual({ file_search: { vector_store_ids: [storeId] } });
    expect(await svc.openai.vectorStores.retrieve(storeId!)).toMatchObject({
      metadata: { topic: 'tides' },
      expires_after: null,
    });
    expect((await ingested(storeId!, 1)).map((f) => f.id)).toEqual([guide]);

    model.script(
      { kind: 'tool_calls', calls: [{ name: 'file_search', arguments: '{"queries":["spring tide"]}' }] },
      { kind: 'text', text: 'Twice a month{{cite:0}}.' },
    );
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Spring tides?' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    const [reply] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    const annotations = (reply!.content[0] as TextContentBlock).text.annotations as FileCitationAnnotation[];
    expect(annotations).toEqual([
      expect.objectContaining({ type: 'file_citation', file_citation: { file_id: guide } }),
    ]);
  });

  it('makes a thread store inline with its chunking, and on create-thread-and-run', async () => {
    const notes = await upload('notes.txt', 'Neap tides come at the quarter moons.');
    const thread = await svc.openai.beta.threads.create({
      tool_resources: {
        file_search: {
          vector_stores: [
            {
              file_ids: [notes],
              chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } },
            },
          ],
        },
      },
    });
    const storeId = storeOf(thread.tool_resources)!;
    expect(storeId).toMatch(/^vs_/);
    const [file] = await ingested(storeId, 1);
    expect(file!.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 },
    });

    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }] });
    model.script({ kind: 'text', text: 'ok' });
    const run = await svc.openai.beta.threads.createAndRunPoll(
      {
        assistant_id: assistant.id,
        thread: {
          messages: [{ role: 'user', content: 'Neap?' }],
          tool_resources: { file_search: { vector_stores: [{ file_ids: [notes] }] } },
        },
      },
      { pollIntervalMs: 50 },
    );
    const made = await svc.openai.beta.threads.retrieve(run.thread_id);
    expect(storeOf(made.tool_resources)).toMatch(/^vs_/);
    expect(storeOf(made.tool_resources)).not.toBe(storeId);
    // The thread names a store, so file_search was offered.
    expect(model.requests[0]!.body.tools).toEqual([
      expect.objectContaining({ function: expect.objectContaining({ name: 'file_search' }) }),
    ]);
  });

  it("puts file_search attachments into the thread's own store, made on demand, expiring 7 days after use", async () => {
    const first = await upload('first.txt', 'The harbour master opens the lock at dawn.');
    const second = await upload('second.txt', 'Pilots board ships at the outer buoy.');
    const codeOnly = await upload('data.csv', 'a,b\n1,2\n');
    const thread = await svc.openai.beta.threads.create({
      messages: [
        {
          role: 'user',
          content: 'Read this',
          attachments: [
            { file_id: first, tools: [{ type: 'file_search' }] },
            { file_id: codeOnly, tools: [{ type: 'code_interpreter' }] },
          ],
        },
      ],
    });
    const storeId = storeOf(thread.tool_resources)!;
    expect(storeId).toMatch(/^vs_/);
    expect(await svc.openai.vectorStores.retrieve(storeId)).toMatchObject({
      expires_after: { anchor: 'last_active_at', days: 7 },
    });
    expect((await ingested(storeId, 1)).map((f) => f.id)).toEqual([first]);

    // A later message's attachment goes into the same store; the same file attached again is not re-added.
    await svc.openai.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'And this',
      attachments: [
        { file_id: second, tools: [{ type: 'file_search' }] },
        { file_id: first, tools: [{ type: 'file_search' }, { type: 'code_interpreter' }] },
      ],
    });
    expect(storeOf((await svc.openai.beta.threads.retrieve(thread.id)).tool_resources)).toBe(storeId);
    expect((await ingested(storeId, 2)).map((f) => f.id).sort()).toEqual([first, second].sort());
  });

  it("adds a message's attachment on a thread without a store, and the run waits for it to be searchable", async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }] });
    const thread = await svc.openai.beta.threads.create();
    const memo = await upload('memo.txt', 'The ferry to Skye leaves at nine from Mallaig.');
    model.script(
      { kind: 'tool_calls', calls: [{ name: 'file_search', arguments: '{"queries":["ferry Skye"]}' }] },
      { kind: 'text', text: 'At nine{{cite:0}}.' },
    );
    // Run create with additional_messages: the store is made with the run, whose search waits for ingestion.
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: assistant.id,
        additional_messages: [
          {
            role: 'user',
            content: 'When is the ferry?',
            attachments: [{ file_id: memo, tools: [{ type: 'file_search' }] }],
          },
        ],
      },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    const storeId = storeOf((await svc.openai.beta.threads.retrieve(thread.id)).tool_resources);
    expect(storeId).toMatch(/^vs_/);
    const [reply] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect((reply!.content[0] as TextContentBlock).text.annotations).toEqual([
      expect.objectContaining({ type: 'file_citation', file_citation: { file_id: memo } }),
    ]);
  });

  it("counts a run's search as activity on the thread's store: its 7-day expiry moves on", async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }] });
    const log = await upload('log.txt', 'The lighthouse keeper logs the weather at noon.');
    const thread = await svc.openai.beta.threads.create({
      messages: [{ role: 'user', content: 'Log', attachments: [{ file_id: log, tools: [{ type: 'file_search' }] }] }],
    });
    const storeId = storeOf(thread.tool_resources)!;
    await ingested(storeId, 1);
    // Last used a day ago (written directly: tests never wait on the clock).
    const dayAgo = Math.floor(Date.now() / 1000) - 86_400;
    await svc.running.db
      .updateTable('vector_stores')
      .set({ last_active_at: dayAgo, expires_at: dayAgo + 7 * 86_400 })
      .where('id', '=', storeId)
      .execute();
    model.script(
      { kind: 'tool_calls', calls: [{ name: 'file_search', arguments: '{"queries":["lighthouse"]}' }] },
      { kind: 'text', text: 'Noon{{cite:0}}.' },
    );
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    const after = await svc.openai.vectorStores.retrieve(storeId);
    expect(after.last_active_at).toBeGreaterThan(dayAgo + 3600);
    expect(after.expires_at).toBe(after.last_active_at! + 7 * 86_400);
  });

  it('writes nothing when an inline store names a missing file', async () => {
    const before = (await svc.openai.vectorStores.list({ limit: 100 })).data.length;
    const res = await svc.http('POST', '/threads', {
      tool_resources: { file_search: { vector_stores: [{ file_ids: ['file-000000000000000000000000'] }] } },
    });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { param: 'tool_resources.file_search.vector_stores[0].file_ids[0]' } });
    expect((await svc.openai.vectorStores.list({ limit: 100 })).data.length).toBe(before);
  });
});
