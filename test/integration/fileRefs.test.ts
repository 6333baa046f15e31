import { upload } from '../support/files';
import { DIALECTS, startTestService, type RawResponse, type TestService } from '../support/service';

const MISSING = 'file-000000000000000000000000';

describe.each(DIALECTS)('file ids named in requests (%s)', (dialect) => {
  let svc: TestService;
  let file: string;
  beforeAll(async () => {
    svc = await startTestService(dialect);
    file = (await upload(svc, 'known.csv', 'a,b\n1,2\n')).id;
  });
  afterAll(async () => {
    await svc?.stop();
  });

  function expectNoSuchFile(res: RawResponse, param: string, id = MISSING) {
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { message: `No such File object: ${id}`, type: 'invalid_request_error', param, code: null },
    });
  }

  const count = async (path: string) =>
    ((await svc.http('GET', `${path}?limit=100`)).body as { data: unknown[] }).data.length;

  describe('a missing file is a 404 naming where it was named, and nothing is written', () => {
    it('assistant tool_resources, on create and modify', async () => {
      const before = await count('/assistants');
      const body = { model: 'gpt-4o', tool_resources: { code_interpreter: { file_ids: [file, MISSING] } } };
      expectNoSuchFile(await svc.http('POST', '/assistants', body), 'tool_resources.code_interpreter.file_ids[1]');
      expect(await count('/assistants')).toBe(before);

      const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', name: 'kept' });
      const update = { name: 'changed', tool_resources: { code_interpreter: { file_ids: [MISSING] } } };
      expectNoSuchFile(
        await svc.http('POST', `/assistants/${assistant.id}`, update),
        'tool_resources.code_interpreter.file_ids[0]',
      );
      expect(await svc.openai.beta.assistants.retrieve(assistant.id)).toEqual(assistant);
    });

    it('thread tool_resources and initial messages, on create and modify', async () => {
      const before = await count('/threads');
      expectNoSuchFile(
        await svc.http('POST', '/threads', { tool_resources: { code_interpreter: { file_ids: [MISSING] } } }),
        'tool_resources.code_interpreter.file_ids[0]',
      );
      const messages = [
        { role: 'user', content: 'fine', attachments: [{ file_id: file, tools: [{ type: 'code_interpreter' }] }] },
        { role: 'user', content: 'broken', attachments: [{ file_id: MISSING, tools: [{ type: 'file_search' }] }] },
      ];
      expectNoSuchFile(await svc.http('POST', '/threads', { messages }), 'messages[1].attachments[0].file_id');
      expect(await count('/threads')).toBe(before);

      const thread = await svc.openai.beta.threads.create({ metadata: { v: '1' } });
      const update = { metadata: { v: '2' }, tool_resources: { code_interpreter: { file_ids: [MISSING] } } };
      expectNoSuchFile(
        await svc.http('POST', `/threads/${thread.id}`, update),
        'tool_resources.code_interpreter.file_ids[0]',
      );
      expect(await svc.openai.beta.threads.retrieve(thread.id)).toEqual(thread);
    });

    it('message attachments and image_file parts', async () => {
      const thread = await svc.openai.beta.threads.create();
      const image = {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_file', image_file: { file_id: MISSING } },
        ],
      };
      expectNoSuchFile(
        await svc.http('POST', `/threads/${thread.id}/messages`, image),
        'content[1].image_file.file_id',
      );
      const attached = {
        role: 'user',
        content: 'see attached',
        attachments: [{ file_id: MISSING, tools: [{ type: 'code_interpreter' }] }],
      };
      expectNoSuchFile(await svc.http('POST', `/threads/${thread.id}/messages`, attached), 'attachments[0].file_id');
      expect(await count(`/threads/${thread.id}/messages`)).toBe(0);
    });

    it('run additional_messages', async () => {
      const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
      const thread = await svc.openai.beta.threads.create();
      const body = {
        assistant_id: assistant.id,
        additional_messages: [
          { role: 'user', content: [{ type: 'image_file', image_file: { file_id: MISSING, detail: 'low' } }] },
        ],
      };
      expectNoSuchFile(
        await svc.http('POST', `/threads/${thread.id}/runs`, body),
        'additional_messages[0].content[0].image_file.file_id',
      );
      expect(await count(`/threads/${thread.id}/runs`)).toBe(0);
      expect(await count(`/threads/${thread.id}/messages`)).toBe(0);
    });

    it('create thread and run: the thread messages, the thread tool_resources and the run tool_resources', async () => {
      const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
      const before = await count('/threads');
      const cases: Array<[object, string]> = [
        [
          { thread: { messages: [{ role: 'user', content: 'x', attachments: [{ file_id: MISSING, tools: [] }] }] } },
          'thread.messages[0].attachments[0].file_id',
        ],
        [
          { thread: { tool_resources: { code_interpreter: { file_ids: [file, MISSING] } } } },
          'thread.tool_resources.code_interpreter.file_ids[1]',
        ],
        [
          { tool_resources: { code_interpreter: { file_ids: [MISSING] } } },
          'tool_resources.code_interpreter.file_ids[0]',
        ],
      ];
      for (const [extra, param] of cases) {
        expectNoSuchFile(await svc.http('POST', '/threads/runs', { assistant_id: assistant.id, ...extra }), param);
      }
      expect(await count('/threads')).toBe(before);
    });

    it('a deleted file counts as missing', async () => {
      const gone = (await upload(svc, 'gone.txt', 'bye')).id;
      await svc.openai.files.delete(gone);
      const body = { model: 'gpt-4o', tool_resources: { code_interpreter: { file_ids: [gone] } } };
      expectNoSuchFile(
        await svc.http('POST', '/assistants', body),
        'tool_resources.code_interpreter.file_ids[0]',
        gone,
      );
    });
  });

  describe('tool_resources with nested nulls (AutoGen sends them)', () => {
    it('threads.update with {"code_interpreter": {"file_ids": [...]}, "file_search": null}', async () => {
      const thread = await svc.openai.beta.threads.create({
        tool_resources: { file_search: { vector_store_ids: ['vs_abc'] } },
      });
      const res = await svc.http('POST', `/threads/${thread.id}`, {
        tool_resources: { code_interpreter: { file_ids: [file] }, file_search: null },
      });
      expect(res.status).toBe(200);
      // An explicit null clears that resource; the one given replaces its list.
      expect((res.body as { tool_resources: unknown }).tool_resources).toEqual({
        code_interpreter: { file_ids: [file] },
      });
      const emptied = await svc.http('POST', `/threads/${thread.id}`, {
        tool_resources: { code_interpreter: { file_ids: [] }, file_search: null },
      });
      expect((emptied.body as { tool_resources: unknown }).tool_resources).toEqual({
        code_interpreter: { file_ids: [] },
      });
    });

    it('assistants create and update with null resources and null lists', async () => {
      const created = await svc.http('POST', '/assistants', {
        model: 'gpt-4o',
        tool_resources: { code_interpreter: null, file_search: { vector_store_ids: null } },
      });
      expect(created.status).toBe(200);
      const assistant = created.body as { id: string; tool_resources: unknown };
      expect(assistant.tool_resources).toEqual({ file_search: { vector_store_ids: [] } });
      const updated = await svc.http('POST', `/assistants/${assistant.id}`, {
        tool_resources: { code_interpreter: { file_ids: [file] }, file_search: null },
      });
      expect(updated.status).toBe(200);
      expect((updated.body as { tool_resources: unknown }).tool_resources).toEqual({
        code_interpreter: { file_ids: [file] },
      });
    });

    it('takes vector_store_ids, and refuses inline vector_stores naming a missing file or on modify', async () => {
      const kept = await svc.openai.beta.assistants.create({
        model: 'gpt-4o',
        tool_resources: { file_search: { vector_store_ids: ['vs_kept'] } },
      });
      expect(kept.tool_resources).toEqual({ file_search: { vector_store_ids: ['vs_kept'] } });
      const missing = await svc.http('POST', '/assistants', {
        model: 'gpt-4o',
        tool_resources: { file_search: { vector_stores: [{ file_ids: [file, MISSING] }] } },
      });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({
        error: { param: 'tool_resources.file_search.vector_stores[0].file_ids[1]' },
      });
      const onModify = await svc.http('POST', `/assistants/${kept.id}`, {
        tool_resources: { file_search: { vector_stores: [{ file_ids: [file] }] } },
      });
      expect(onModify.status).toBe(400);
      expect(onModify.body).toMatchObject({ error: { param: 'tool_resources.file_search.vector_stores' } });
    });
  });

  it('keeps assistants, threads and messages that name a file readable after the file is deleted', async () => {
    const doomed = (await upload(svc, 'doomed.png', 'png-ish', 'vision')).id;
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tool_resources: { code_interpreter: { file_ids: [doomed] } },
    });
    const thread = await svc.openai.beta.threads.create({
      tool_resources: { code_interpreter: { file_ids: [doomed] } },
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_file', image_file: { file_id: doomed } }],
          attachments: [{ file_id: doomed, tools: [{ type: 'code_interpreter' }] }],
        },
      ],
    });
    await svc.openai.files.delete(doomed);
    expect((await svc.openai.beta.assistants.retrieve(assistant.id)).tool_resources).toEqual({
      code_interpreter: { file_ids: [doomed] },
    });
    expect((await svc.openai.beta.threads.retrieve(thread.id)).tool_resources).toEqual({
      code_interpreter: { file_ids: [doomed] },
    });
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id)).data;
    expect(message).toMatchObject({
      content: [{ type: 'image_file', image_file: { file_id: doomed } }],
      attachments: [{ file_id: doomed, tools: [{ type: 'code_interpreter' }] }],
    });
  });
});
