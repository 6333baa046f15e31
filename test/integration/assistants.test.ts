import { upload } from '../support/files';
import { DIALECTS, startTestService, type TestService } from '../support/service';

describe.each(DIALECTS)('assistants (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('creates an assistant with every field and returns the exact wire object', async () => {
    const abc = (await upload(svc, 'data.csv', 'a,b\n1,2\n')).id;
    const created = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      name: 'Math tutor',
      description: 'Helps with sums',
      instructions: 'You are a tutor.',
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: {} },
            strict: true,
          },
        },
        { type: 'code_interpreter' },
        { type: 'file_search', file_search: { max_num_results: 5 } },
      ],
      tool_resources: { code_interpreter: { file_ids: [abc] }, file_search: { vector_store_ids: ['vs_1'] } },
      metadata: { team: 'blue' },
      temperature: 0.7,
      top_p: 0.9,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^asst_[0-9a-z]{24}$/),
      object: 'assistant',
      created_at: expect.any(Number),
      name: 'Math tutor',
      description: 'Helps with sums',
      model: 'gpt-4o',
      instructions: 'You are a tutor.',
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: {} },
            strict: true,
          },
        },
        { type: 'code_interpreter' },
        { type: 'file_search', file_search: { max_num_results: 5 } },
      ],
      tool_resources: { code_interpreter: { file_ids: [abc] }, file_search: { vector_store_ids: ['vs_1'] } },
      metadata: { team: 'blue' },
      temperature: 0.7,
      top_p: 0.9,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
    });
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(5);
    expect(await svc.openai.beta.assistants.retrieve(created.id)).toEqual(created);
  });

  it('fills the defaults OpenAI shows for a minimal assistant', async () => {
    const created = await svc.openai.beta.assistants.create({ model: 'gpt-4o-mini' });
    expect(created).toMatchObject({
      name: null,
      description: null,
      instructions: null,
      tools: [],
      tool_resources: {},
      metadata: {},
      temperature: 1,
      top_p: 1,
      response_format: 'auto',
    });
  });

  it('modifies only the fields given, and replaces tool_resources lists', async () => {
    const [one, two, three] = await Promise.all(
      ['1', '2', '3'].map(async (n) => (await upload(svc, `${n}.txt`, n)).id),
    );
    const created = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      name: 'before',
      instructions: 'keep me',
      tool_resources: { code_interpreter: { file_ids: [one!] }, file_search: { vector_store_ids: ['vs_a'] } },
      metadata: { a: '1' },
    });
    const updated = await svc.openai.beta.assistants.update(created.id, {
      name: 'after',
      metadata: { b: '2' },
      tool_resources: { code_interpreter: { file_ids: [two!, three!] } },
      temperature: 0.2,
    });
    expect(updated).toMatchObject({
      id: created.id,
      created_at: created.created_at,
      name: 'after',
      instructions: 'keep me',
      metadata: { b: '2' },
      temperature: 0.2,
      tool_resources: {
        code_interpreter: { file_ids: [two!, three!] },
        file_search: { vector_store_ids: ['vs_a'] },
      },
    });
    expect(await svc.openai.beta.assistants.retrieve(created.id)).toEqual(updated);
    const cleared = await svc.openai.beta.assistants.update(created.id, { name: null, instructions: null });
    expect(cleared).toMatchObject({ name: null, instructions: null, model: 'gpt-4o' });
  });

  it('deletes an assistant, after which it is not found', async () => {
    const created = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    expect(await svc.openai.beta.assistants.delete(created.id)).toEqual({
      id: created.id,
      object: 'assistant.deleted',
      deleted: true,
    });
    await expect(svc.openai.beta.assistants.retrieve(created.id)).rejects.toMatchObject({
      status: 404,
      error: { message: `No assistant found with id '${created.id}'.`, type: 'invalid_request_error' },
    });
    const again = await svc.http('DELETE', `/assistants/${created.id}`);
    expect(again.status).toBe(404);
  });

  it('lists assistants newest first by default and pages with the SDK', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await svc.openai.beta.assistants.create({ model: 'gpt-4o', name: `list-${i}` })).id);
    const seen: string[] = [];
    for await (const assistant of svc.openai.beta.assistants.list({ limit: 3 })) {
      if (ids.includes(assistant.id)) seen.push(assistant.id);
    }
    expect(seen).toEqual([...ids].reverse());
    const ascending = await svc.openai.beta.assistants.list({ order: 'asc', limit: 100 });
    const ascIds = ascending.data.map((a) => a.id).filter((id) => ids.includes(id));
    expect(ascIds).toEqual(ids);
  });
});
