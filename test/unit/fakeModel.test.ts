import OpenAI from 'openai';
import { type ChatCompletionChunk } from 'openai/resources/chat/completions';
import { startFakeModel, type FakeModel } from '../support/fakeModel';

/**
 * The fake model is only useful if the official SDK reads it exactly as it reads api.openai.com, so every
 * check here goes through `openai` itself rather than raw HTTP.
 */
describe('fake model server, read through the official openai SDK', () => {
  let fake: FakeModel;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeModel();
    // logLevel 'off': the SDK console.errors unparseable SSE lines, which the malformed case provokes on purpose.
    client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'x', maxRetries: 0, logLevel: 'off' });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  const messages = [{ role: 'user' as const, content: 'Say hello please' }]; // 16 chars → 4 prompt tokens

  function streamChat(options?: { signal?: AbortSignal }) {
    return client.chat.completions.create(
      { model: 'gpt-test', messages, stream: true, stream_options: { include_usage: true } },
      options,
    );
  }

  /** Drains a stream, keeping what arrived and what (if anything) it threw. */
  async function drain(stream: AsyncIterable<ChatCompletionChunk>) {
    const chunks: ChatCompletionChunk[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk);
      return { chunks, error: undefined };
    } catch (error) {
      return { chunks, error };
    }
  }

  const contentOf = (chunks: ChatCompletionChunk[]): string =>
    chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  const finishReasons = (chunks: ChatCompletionChunk[]) =>
    chunks.map((c) => c.choices[0]?.finish_reason).filter((reason) => reason != null);

  it('streams text in OpenAI chunks that reassemble, with a usage chunk last', async () => {
    fake.script({ kind: 'text', text: 'The quick brown fox', chunkSize: 5, interChunkMs: 5 });
    const { chunks, error } = await drain(await streamChat());

    expect(error).toBeUndefined();
    expect(contentOf(chunks)).toBe('The quick brown fox');
    expect(chunks.filter((c) => c.choices.length > 0)).toHaveLength(4); // 19 chars / 5 per delta
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-test' });
    expect(chunks[0]?.id).toMatch(/^chatcmpl-/);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(finishReasons(chunks)).toEqual(['stop']);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 },
    });

    // The SDK's own accumulator agrees, including explicit usage and the `length` finish reason.
    fake.script({
      kind: 'text',
      text: 'Truncat',
      usage: { prompt_tokens: 7, completion_tokens: 2 },
      finishReason: 'length',
    });
    const final = await client.chat.completions
      .stream({ model: 'gpt-test', messages, stream_options: { include_usage: true } })
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('Truncat');
    expect(final.choices[0]?.finish_reason).toBe('length');
    expect(final.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
  });

  it('streams parallel tool calls the way OpenAI does', async () => {
    const weatherArgs = JSON.stringify({ city: 'Paris', unit: 'celsius' });
    const timeArgs = JSON.stringify({ tz: 'Europe/Paris' });
    const calls = [
      { id: 'call_weather', name: 'get_weather', arguments: weatherArgs },
      { name: 'get_time', arguments: timeArgs },
    ];
    fake.script({ kind: 'tool_calls', calls });
    const { chunks, error } = await drain(await streamChat());
    expect(error).toBeUndefined();

    const seen = new Map<number, { id?: string; name?: string; args: string; deltas: number }>();
    for (const delta of chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])) {
      const call = seen.get(delta.index);
      if (!call) {
        // The first delta of each call names it; its arguments start empty.
        expect(delta).toMatchObject({ type: 'function', function: { arguments: '' } });
        seen.set(delta.index, { id: delta.id, name: delta.function?.name, args: '', deltas: 1 });
      } else {
        expect(delta.id).toBeUndefined(); // later fragments carry only index + arguments
        call.args += delta.function?.arguments ?? '';
        call.deltas += 1;
      }
    }
    expect([...seen.keys()]).toEqual([0, 1]);
    expect(seen.get(0)).toMatchObject({ id: 'call_weather', name: 'get_weather', args: weatherArgs });
    expect(seen.get(1)).toMatchObject({ id: expect.stringMatching(/^call_/), name: 'get_time', args: timeArgs });
    expect(seen.get(0)!.deltas).toBe(1 + Math.ceil(weatherArgs.length / 8));
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(finishReasons(chunks)).toEqual(['tool_calls']);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(Math.ceil((weatherArgs.length + timeArgs.length) / 4));

    // The SDK's accumulator rebuilds both calls from the fragments.
    fake.script({ kind: 'tool_calls', calls, argumentChunkSize: 3 });
    const final = await client.chat.completions.stream({ model: 'gpt-test', messages }).finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls).toEqual([
      { id: 'call_weather', type: 'function', function: { name: 'get_weather', arguments: weatherArgs } },
      {
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'get_time', arguments: timeArgs },
      },
    ]);
  });

  it('answers non-streaming requests with a chat.completion', async () => {
    fake.script(
      { kind: 'text', text: 'Plain answer' },
      { kind: 'tool_calls', calls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }] },
    );
    const text = await client.chat.completions.create({ model: 'gpt-test', messages });
    expect(text).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Plain answer' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    });
    const tools = await client.chat.completions.create({ model: 'gpt-test', messages });
    expect(tools.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
      },
    });
  });

  it('surfaces a 429 with retry-after as RateLimitError', async () => {
    fake.script({ kind: 'error', status: 429, headers: { 'retry-after': '1' } });
    const error = await streamChat().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get('retry-after')).toBe('1');
    expect(rateLimit.code).toBe('rate_limit_exceeded');
  });

  it('surfaces a 500 as InternalServerError, and a custom error body as given', async () => {
    fake.script(
      { kind: 'error', status: 500 },
      { kind: 'error', status: 400, body: { error: { message: 'bad tools', type: 'invalid_request_error' } } },
    );
    const error = await streamChat().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 500, type: 'server_error' });

    const badRequest = await streamChat().catch((e: unknown) => e);
    expect(badRequest).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badRequest as Error).message).toContain('bad tools');
  });

  it('makes the SDK stream throw on malformed JSON', async () => {
    fake.script({ kind: 'malformed' });
    // The response itself is a healthy 200 event-stream; only iterating it fails.
    const { chunks, error } = await drain(await streamChat());
    expect(chunks).toEqual([]);
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('cuts a stream off: some content, no finish_reason, and the SDK iteration throws', async () => {
    const text = 'This stream is going to be cut off halfway through';
    fake.script({ kind: 'cut', text });
    const { chunks, error } = await drain(await streamChat());

    expect(chunks.length).toBeGreaterThan(0);
    const received = contentOf(chunks);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(text.length);
    expect(text.startsWith(received)).toBe(true);
    expect(finishReasons(chunks)).toEqual([]);
    // Node's fetch (undici) reports the dropped connection as `TypeError: terminated`, and the SDK rethrows it
    // as-is (not an APIConnectionError). It comes from Node's realm, so `toBeInstanceOf(TypeError)` fails in Jest.
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
  });

  it('lets an AbortController end a hanging stream promptly, and keeps serving afterwards', async () => {
    fake.script({ kind: 'hang' });
    const controller = new AbortController();
    const started = Date.now();
    const stream = await streamChat({ signal: controller.signal }); // headers arrive, then silence
    setTimeout(() => controller.abort(), 100);
    const { chunks, error } = await drain(stream);

    expect(chunks).toEqual([]);
    // The SDK swallows AbortError inside stream iteration: the loop just ends, nothing is thrown.
    expect(error).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);

    const after = await drain(await streamChat());
    expect(contentOf(after.chunks)).toBe('Hello from the fake model.');
  });

  it('stops streaming when the client cancels mid-stream (as a cancelled run does), and keeps serving', async () => {
    // A minute between chunks: the fake must notice the disconnect rather than sit on its timer.
    fake.script({ kind: 'text', text: 'an answer that will never finish', chunkSize: 2, interChunkMs: 60_000 });
    const controller = new AbortController();
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await streamChat({ signal: controller.signal })) {
      chunks.push(chunk);
      controller.abort();
    }
    expect(contentOf(chunks)).toBe('an');

    const after = await drain(await streamChat());
    expect(contentOf(after.chunks)).toBe('Hello from the fake model.');
  });

  it('close() ends hanging streams instead of waiting for them', async () => {
    const other = await startFakeModel({ defaultStep: { kind: 'hang' } });
    const otherClient = new OpenAI({ baseURL: other.baseURL, apiKey: 'x', maxRetries: 0, logLevel: 'off' });
    const draining = drain(await otherClient.chat.completions.create({ model: 'gpt-test', messages, stream: true }));
    await other.close();
    const { chunks, error } = await draining;
    expect(chunks).toEqual([]);
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
  });

  it('records each request with its body and headers', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } }];
    await client.chat.completions.create({ model: 'gpt-test', messages, tools, temperature: 0.2 });
    await drain(await streamChat());

    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]).toMatchObject({
      body: { model: 'gpt-test', messages, tools, temperature: 0.2 },
      headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
      receivedAt: expect.any(Number),
    });
    expect(fake.requests[0]?.body.stream).toBeUndefined();
    expect(fake.requests[1]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    await expect(fake.waitForRequests(2)).resolves.toBeUndefined();
    await expect(fake.waitForRequests(3, 50)).rejects.toThrow(/expected 3 requests/);
  });

  it('consumes scripted steps first-in first-out, then falls back to the default', async () => {
    const reply = async () =>
      (await client.chat.completions.create({ model: 'gpt-test', messages })).choices[0]?.message.content;
    fake.script({ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' });
    fake.script({ kind: 'text', text: 'three' });
    expect([await reply(), await reply(), await reply(), await reply()]).toEqual([
      'one',
      'two',
      'three',
      'Hello from the fake model.',
    ]);

    fake.setDefault({ kind: 'text', text: 'new default' });
    expect(await reply()).toBe('new default');

    // A responder takes precedence over the script until it is cleared.
    fake.script({ kind: 'text', text: 'scripted' });
    fake.setResponder((req) => {
      const content = req.body.messages.at(-1)?.content;
      return { kind: 'text', text: `echo ${typeof content === 'string' ? content : '?'}` };
    });
    expect(await reply()).toBe('echo Say hello please');
    fake.setResponder(undefined);
    expect(await reply()).toBe('scripted');

    fake.reset();
    expect(fake.requests).toEqual([]);
    expect(await reply()).toBe('Hello from the fake model.');
  });

  it('answers unknown paths with a 404 error envelope', async () => {
    const res = await fetch(`${fake.baseURL}/embeddings`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('lists its models as GET /v1/models does', async () => {
    fake.setModels(['a', 'b']);
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['a', 'b']);
    expect(fake.modelListRequests.length).toBeGreaterThan(0);
  });
});
