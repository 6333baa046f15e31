import type { Thread } from 'openai/resources/beta/threads/threads';
import { CursorPage } from 'openai/pagination';
import { upload } from '../support/files';
import { DIALECTS, startTestService, type TestService } from '../support/service';

describe.each(DIALECTS)('threads (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('creates a thread with initial messages, tool_resources and metadata', async () => {
    const x = (await upload(svc, 'x.txt', 'x')).id;
    const ci = (await upload(svc, 'ci.csv', 'c,i\n')).id;
    const thread = await svc.openai.beta.threads.create({
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: [{ type: 'text', text: 'second' }] },
        {
          role: 'user',
          content: 'third',
          attachments: [{ file_id: x, tools: [{ type: 'file_search' }] }],
          metadata: { n: '3' },
        },
      ],
      tool_resources: { code_interpreter: { file_ids: [ci] } },
      metadata: { user: 'u1' },
    });
    expect(thread).toEqual({
      id: expect.stringMatching(/^thread_[0-9a-z]{24}$/),
      object: 'thread',
      created_at: expect.any(Number),
      // The file_search attachment went into the thread's own vector store, made on demand.
      tool_resources: {
        code_interpreter: { file_ids: [ci] },
        file_search: { vector_store_ids: [expect.stringMatching(/^vs_/)] },
      },
      metadata: { user: 'u1' },
    });
    const messages = await svc.openai.beta.threads.messages.list(thread.id, { order: 'asc' });
    expect(messages.data.map((m) => [m.role, m.content[0]])).toEqual([
      ['user', { type: 'text', text: { value: 'first', annotations: [] } }],
      ['assistant', { type: 'text', text: { value: 'second', annotations: [] } }],
      ['user', { type: 'text', text: { value: 'third', annotations: [] } }],
    ]);
    expect(messages.data[2]).toMatchObject({
      thread_id: thread.id,
      attachments: [{ file_id: x, tools: [{ type: 'file_search' }] }],
      metadata: { n: '3' },
      status: 'completed',
      assistant_id: null,
      run_id: null,
    });
  });

  it('creates an empty thread with no body at all', async () => {
    const response = await svc.http('POST', '/threads');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ object: 'thread', tool_resources: {}, metadata: {} });
  });

  it('retrieves and modifies a thread', async () => {
    const thread = await svc.openai.beta.threads.create({ metadata: { a: '1' } });
    expect(await svc.openai.beta.threads.retrieve(thread.id)).toEqual(thread);
    const updated = await svc.openai.beta.threads.update(thread.id, {
      metadata: { a: '2', b: 'x' },
      tool_resources: { file_search: { vector_store_ids: ['vs_z'] } },
    });
    expect(updated).toEqual({
      ...thread,
      metadata: { a: '2', b: 'x' },
      tool_resources: { file_search: { vector_store_ids: ['vs_z'] } },
    });
    expect(await svc.openai.beta.threads.retrieve(thread.id)).toEqual(updated);
  });

  it('deletes a thread together with its messages', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] });
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id)).data;
    expect(await svc.openai.beta.threads.delete(thread.id)).toEqual({
      id: thread.id,
      object: 'thread.deleted',
      deleted: true,
    });
    await expect(svc.openai.beta.threads.retrieve(thread.id)).rejects.toMatchObject({ status: 404 });
    const orphan = await svc.running.db.selectFrom('messages').select('id').where('id', '=', message!.id).execute();
    expect(orphan).toEqual([]);
  });

  it('lists threads (extension) with the standard parameters and SDK pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await svc.openai.beta.threads.create({ metadata: { i: String(i) } })).id);
    const seen: string[] = [];
    const pages = svc.openai.getAPIList<Thread, CursorPage<Thread>>('/threads', CursorPage<Thread>, {
      query: { limit: 2, order: 'asc' },
      headers: { 'OpenAI-Beta': 'assistants=v2' },
    });
    for await (const thread of pages) if (ids.includes(thread.id)) seen.push(thread.id);
    expect(seen).toEqual(ids);
    const raw = await svc.http('GET', `/threads?limit=2&after=${ids[2]}&order=desc`);
    expect(raw.body).toMatchObject({
      object: 'list',
      data: [{ id: ids[1] }, { id: ids[0] }],
      first_id: ids[1],
      last_id: ids[0],
    });
  });
});
