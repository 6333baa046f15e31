import { upload } from '../support/files';
import { DIALECTS, startTestService, type TestService } from '../support/service';

describe.each(DIALECTS)('messages (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('creates a message from a string and returns every field of the schema', async () => {
    const thread = await svc.openai.beta.threads.create();
    const message = await svc.openai.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'Hi there',
      metadata: { k: 'v' },
    });
    expect(message).toEqual({
      id: expect.stringMatching(/^msg_[0-9a-z]{24}$/),
      object: 'thread.message',
      created_at: expect.any(Number),
      thread_id: thread.id,
      status: 'completed',
      incomplete_details: null,
      completed_at: message.created_at,
      incomplete_at: null,
      role: 'user',
      content: [{ type: 'text', text: { value: 'Hi there', annotations: [] } }],
      assistant_id: null,
      run_id: null,
      attachments: [],
      metadata: { k: 'v' },
    });
    expect(await svc.openai.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })).toEqual(message);
  });

  it('creates a message from content parts, keeping their order, with attachments', async () => {
    const img = (await upload(svc, 'cat.png', 'not really a png', 'vision')).id;
    const doc = (await upload(svc, 'doc.txt', 'a document')).id;
    const thread = await svc.openai.beta.threads.create();
    const message = await svc.openai.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: [
        { type: 'text', text: 'Look:' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
        { type: 'image_file', image_file: { file_id: img } },
      ],
      attachments: [{ file_id: doc, tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] }],
    });
    expect(message.content).toEqual([
      { type: 'text', text: { value: 'Look:', annotations: [] } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
      { type: 'image_file', image_file: { file_id: img } },
    ]);
    expect(message.attachments).toEqual([
      { file_id: doc, tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] },
    ]);
  });

  it('modifies metadata and deletes a message', async () => {
    const thread = await svc.openai.beta.threads.create();
    const message = await svc.openai.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' });
    const updated = await svc.openai.beta.threads.messages.update(message.id, {
      thread_id: thread.id,
      metadata: { tag: 'y' },
    });
    expect(updated).toEqual({ ...message, metadata: { tag: 'y' } });
    const deleted = await svc.openai.beta.threads.messages.delete(message.id, { thread_id: thread.id });
    expect(deleted).toEqual({ id: message.id, object: 'thread.message.deleted', deleted: true });
    await expect(svc.openai.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })).rejects.toMatchObject(
      {
        status: 404,
        error: { message: `No message found with id '${message.id}'.` },
      },
    );
  });

  it('answers 404 for a message looked up under another thread', async () => {
    const a = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'in a' }] });
    const b = await svc.openai.beta.threads.create();
    const [message] = (await svc.openai.beta.threads.messages.list(a.id)).data;
    await expect(svc.openai.beta.threads.messages.retrieve(message!.id, { thread_id: b.id })).rejects.toMatchObject({
      status: 404,
    });
  });

  describe('pagination over 250 messages', () => {
    let threadId: string;
    let ids: string[];

    beforeAll(async () => {
      threadId = (await svc.openai.beta.threads.create()).id;
      ids = [];
      // Sequential on purpose: creation order is the order the list must reproduce, many per second.
      for (let i = 0; i < 250; i++) {
        ids.push((await svc.openai.beta.threads.messages.create(threadId, { role: 'user', content: `m${i}` })).id);
      }
    });

    it('auto-paginates newest first by default (limit 20, then cursor = last item id)', async () => {
      const seen: string[] = [];
      for await (const message of svc.openai.beta.threads.messages.list(threadId)) seen.push(message.id);
      expect(seen).toEqual([...ids].reverse());
      const firstPage = await svc.openai.beta.threads.messages.list(threadId);
      expect(firstPage.data).toHaveLength(20);
    });

    it('auto-paginates oldest first with order=asc and limit=100', async () => {
      const seen: string[] = [];
      for await (const message of svc.openai.beta.threads.messages.list(threadId, { order: 'asc', limit: 100 })) {
        seen.push(message.id);
      }
      expect(seen).toEqual(ids);
    });

    it('reports first_id, last_id and an honest has_more', async () => {
      const last = await svc.http('GET', `/threads/${threadId}/messages?order=asc&limit=10&after=${ids[239]}`);
      expect(last.body).toMatchObject({ object: 'list', first_id: ids[240], last_id: ids[249], has_more: false });
      const notLast = await svc.http('GET', `/threads/${threadId}/messages?order=asc&limit=10&after=${ids[238]}`);
      expect(notLast.body).toMatchObject({ first_id: ids[239], last_id: ids[248], has_more: true });
    });

    it('reads before relative to the order, nearest the cursor first', async () => {
      const desc = (await svc.http('GET', `/threads/${threadId}/messages?limit=3&before=${ids[100]}`)).body as {
        data: { id: string }[];
        has_more: boolean;
      };
      expect(desc.data.map((m) => m.id)).toEqual([ids[103], ids[102], ids[101]]);
      expect(desc.has_more).toBe(true);
      const asc = (await svc.http('GET', `/threads/${threadId}/messages?order=asc&limit=3&before=${ids[2]}`)).body as {
        data: { id: string }[];
        has_more: boolean;
      };
      expect(asc.data.map((m) => m.id)).toEqual([ids[0], ids[1]]);
      expect(asc.has_more).toBe(false);
    });

    it('keeps paging from a cursor whose message was deleted meanwhile', async () => {
      const thread = await svc.openai.beta.threads.create({
        messages: Array.from({ length: 5 }, (_, i) => ({ role: 'user' as const, content: `d${i}` })),
      });
      const all = (await svc.openai.beta.threads.messages.list(thread.id, { order: 'asc' })).data.map((m) => m.id);
      await svc.openai.beta.threads.messages.delete(all[1]!, { thread_id: thread.id });
      const page = await svc.openai.beta.threads.messages.list(thread.id, { order: 'asc', after: all[1]! });
      expect(page.data.map((m) => m.id)).toEqual(all.slice(2));
    });
  });

  it('filters by run_id, returning only the messages that run created', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'mine' }] });
    const none = await svc.openai.beta.threads.messages.list(thread.id, { run_id: 'run_0000000000000000000000000' });
    expect(none.data).toEqual([]);
    expect(none.has_more).toBe(false);
  });
});
