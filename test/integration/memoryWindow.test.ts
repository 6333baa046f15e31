import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, startTestService, type TestService } from '../support/service';

/**
 * Extension: `metadata.memory` bounds what of the thread the model sees (a window of messages, capped in
 * tokens), before truncation_strategy. What the fake model received is the proof.
 */
const lookup = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };

describe.each(DIALECTS)('memory windows (%s)', (dialect) => {
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

  /** A thread of `n` user messages `m1` … `mn`. */
  async function threadOf(n: number, text = (i: number) => `m${i}`) {
    return svc.openai.beta.threads.create({
      messages: Array.from({ length: n }, (_, i) => ({ role: 'user' as const, content: text(i + 1) })),
    });
  }
  const contents = (i: number) => model.requests[i]!.body.messages.map((m) => m.content);

  it('keeps the last window_size thread messages (metadata.memory as a JSON string)', async () => {
    const memory = JSON.stringify({ type: 'window', window_size: 3, max_token_size: 4000 });
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      instructions: 'Be brief.',
      metadata: { memory },
    });
    expect(assistant.metadata).toEqual({ memory });
    const thread = await threadOf(6);
    model.script({ kind: 'text', text: 'ok' });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(contents(0)).toEqual(['Be brief.', 'm4', 'm5', 'm6']);
    // The run object is OpenAI's: nothing of the window shows on it.
    expect(Object.keys(run)).not.toContain('memory');
  });

  it('accepts memory as an object (open-assistant-api style), stores it as a string, and caps tokens', async () => {
    const created = await svc.http('POST', '/assistants', {
      model: 'gpt-4o',
      metadata: { memory: { type: 'window', window_size: 10, max_token_size: 30 } },
    });
    expect(created.status).toBe(200);
    const assistant = created.body as { id: string; metadata: Record<string, string> };
    expect(JSON.parse(assistant.metadata.memory!)).toEqual({ type: 'window', window_size: 10, max_token_size: 30 });
    // Each message is about 12 tokens: the 30-token cap keeps the newest two of six.
    const thread = await threadOf(6, (i) => `message number ${i} says hello world again`);
    model.script({ kind: 'text', text: 'ok' });
    await svc.openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 50 });
    expect(contents(0)).toEqual(['message number 5 says hello world again', 'message number 6 says hello world again']);
  });

  it('always keeps the newest message, even when it alone is over max_token_size', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      metadata: { memory: '{"type":"window","window_size":5,"max_token_size":1}' },
    });
    const thread = await threadOf(3, (i) => `a longer message ${i} than one token`);
    model.script({ kind: 'text', text: 'ok' });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(contents(0)).toEqual(['a longer message 3 than one token']);
  });

  it('applies the window before truncation_strategy: the tighter bound wins', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      metadata: { memory: '{"type":"window","window_size":4,"max_token_size":4000}' },
    });
    const thread = await threadOf(6);
    model.script({ kind: 'text', text: 'ok' }, { kind: 'text', text: 'ok' });
    await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, truncation_strategy: { type: 'last_messages', last_messages: 2 } },
      { pollIntervalMs: 50 },
    );
    expect(contents(0)).toEqual(['m5', 'm6']);
    await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, truncation_strategy: { type: 'last_messages', last_messages: 10 } },
      { pollIntervalMs: 50 },
    );
    // The thread now also holds the first run's answer: the window keeps the newest four.
    expect(contents(1)).toEqual(['m4', 'm5', 'm6', 'ok']);
  });

  it("takes the run's own metadata.memory over the assistant's, and zero memory keeps the newest user turn", async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      metadata: { memory: '{"type":"window","window_size":1}' },
    });
    const thread = await threadOf(4);
    model.script({ kind: 'text', text: 'first' }, { kind: 'text', text: 'second' });
    await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, metadata: { memory: '{"type":"naive"}' } },
      { pollIntervalMs: 50 },
    );
    expect(contents(0)).toEqual(['m1', 'm2', 'm3', 'm4']);
    await svc.openai.beta.threads.messages.create(thread.id, { role: 'user', content: 'm5' });
    await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, metadata: { memory: '{"type":"zero"}' } },
      { pollIntervalMs: 50 },
    );
    expect(contents(1)).toEqual(['m5']);
  });

  it('keeps the memory a run started with when the assistant changes mid-run', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [lookup],
      metadata: { memory: '{"type":"window","window_size":3}' },
    });
    const thread = await threadOf(5);
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_mem', name: 'lookup', arguments: '{}' }] },
      { kind: 'text', text: 'done' },
    );
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(paused.status).toBe('requires_action');
    await svc.openai.beta.assistants.update(assistant.id, {
      metadata: { memory: '{"type":"window","window_size":1}' },
    });
    await svc.openai.beta.threads.runs.update(paused.id, {
      thread_id: thread.id,
      metadata: { memory: '{"type":"zero"}' },
    });
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      paused.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_mem', output: 'x' }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    expect(contents(0)).toEqual(['m3', 'm4', 'm5']);
    expect(contents(1).slice(0, 3)).toEqual(['m3', 'm4', 'm5']);
  });

  it.each([
    ['not JSON', 'window of 3'],
    ['an unknown type', '{"type":"summary"}'],
    ['a window_size below 1', '{"type":"window","window_size":0,"max_token_size":10}'],
    ['a string max_token_size', '{"type":"window","window_size":3,"max_token_size":"10"}'],
    ['an unknown key', '{"type":"window","window_size":3,"size":2}'],
  ])('refuses metadata.memory that is %s, writing nothing', async (_what, memory) => {
    const before = (await svc.openai.beta.assistants.list({ limit: 100 })).data.length;
    const created = await svc.http('POST', '/assistants', { model: 'gpt-4o', metadata: { memory } });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({
      error: { type: 'invalid_request_error', param: 'metadata.memory', code: 'invalid_value' },
    });
    expect((created.body as { error: { message: string } }).error.message).toMatch(/^Invalid 'metadata\.memory': /);
    expect((await svc.openai.beta.assistants.list({ limit: 100 })).data.length).toBe(before);
  });

  it('refuses a bad memory on modify, on a run and on a run update, and over-long object memory', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const bad = { memory: '{"type":"window","window_size":-1}' };
    const modify = await svc.http('POST', `/assistants/${assistant.id}`, { metadata: bad });
    expect(modify.status).toBe(400);
    expect((await svc.openai.beta.assistants.retrieve(assistant.id)).metadata).toEqual({});
    const thread = await threadOf(1);
    const run = await svc.http('POST', `/threads/${thread.id}/runs`, { assistant_id: assistant.id, metadata: bad });
    expect(run.status).toBe(400);
    expect((await svc.openai.beta.threads.runs.list(thread.id)).data).toHaveLength(0);
    model.script({ kind: 'text', text: 'ok' });
    const good = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    const update = await svc.http('POST', `/threads/${thread.id}/runs/${good.id}`, { metadata: bad });
    expect(update.status).toBe(400);
    expect(update.body).toMatchObject({ error: { param: 'metadata.memory' } });
    const longObject = { type: 'window', window_size: 3, padding: 'x'.repeat(600) };
    const tooLong = await svc.http('POST', '/assistants', { model: 'gpt-4o', metadata: { memory: longObject } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ error: { param: 'metadata.memory', code: 'string_above_max_length' } });
    // Thread metadata is not a memory carrier: any string stays an ordinary value there.
    const plain = await svc.openai.beta.threads.create({ metadata: { memory: 'just a note' } });
    expect(plain.metadata).toEqual({ memory: 'just a note' });
  });
});
