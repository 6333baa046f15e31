import http from 'node:http';
import { DIALECTS, startTestService, type RawResponse, type TestService } from '../support/service';

const MAX_BODY = 512 * 1024;

function expectError(
  res: RawResponse,
  status: number,
  error: { message?: string | RegExp; param?: string | null; code?: string | null },
) {
  expect(res.status).toBe(status);
  const body = res.body as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.type).toEqual(expect.any(String));
  if (typeof error.message === 'string') expect(body.error.message).toBe(error.message);
  else if (error.message) expect(body.error.message).toMatch(error.message);
  else expect(body.error.message).toEqual(expect.any(String));
  if (error.param !== undefined) expect(body.error.param).toBe(error.param);
  if (error.code !== undefined) expect(body.error.code).toBe(error.code);
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
  expect(res.headers.get('x-request-id')).toMatch(/^req_/);
}

describe.each(DIALECTS)('errors in OpenAI shape (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect, { THREADLINE_MAX_BODY_BYTES: String(MAX_BODY) });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  describe('request bodies', () => {
    it('rejects unknown fields, top-level and nested', async () => {
      expectError(await svc.http('POST', '/assistants', { model: 'gpt-4o', colour: 'red' }), 400, {
        message: 'Unrecognized request argument supplied: colour',
      });
      const nested = await svc.http('POST', '/assistants', {
        model: 'gpt-4o',
        tools: [{ type: 'function', function: { name: 'f', extra: 1 } }],
      });
      expectError(nested, 400, { message: 'Unrecognized request argument supplied: tools[0].function.extra' });
    });

    it('names a missing required parameter', async () => {
      expectError(await svc.http('POST', '/assistants', {}), 400, {
        message: "Missing required parameter: 'model'.",
        param: 'model',
        code: 'missing_required_parameter',
      });
      const thread = await svc.openai.beta.threads.create();
      expectError(await svc.http('POST', `/threads/${thread.id}/messages`, { role: 'user' }), 400, {
        message: "Missing required parameter: 'content'.",
        param: 'content',
      });
    });

    it('enforces string lengths for name, description and instructions', async () => {
      expectError(await svc.http('POST', '/assistants', { model: 'm', name: 'n'.repeat(257) }), 400, {
        message:
          "Invalid 'name': string too long. Expected a string with maximum length 256, but got a string with length 257 instead.",
        param: 'name',
        code: 'string_above_max_length',
      });
      expectError(await svc.http('POST', '/assistants', { model: 'm', description: 'd'.repeat(513) }), 400, {
        message: /maximum length 512/,
        param: 'description',
      });
      expectError(await svc.http('POST', '/assistants', { model: 'm', instructions: 'i'.repeat(256_001) }), 400, {
        message: /maximum length 256000, but got a string with length 256001/,
        param: 'instructions',
      });
      expect((await svc.http('POST', '/assistants', { model: 'm', instructions: 'i'.repeat(256_000) })).status).toBe(
        200,
      );
    });

    it('enforces the metadata limits: 16 pairs, keys ≤ 64, values ≤ 512, strings only', async () => {
      const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
      expectError(await svc.http('POST', '/threads', { metadata: seventeen }), 400, {
        message:
          "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
        param: 'metadata',
        code: 'object_above_max_properties',
      });
      expectError(await svc.http('POST', '/threads', { metadata: { ['k'.repeat(65)]: 'v' } }), 400, {
        message: /key too long/,
        param: `metadata.${'k'.repeat(65)}`,
      });
      expectError(await svc.http('POST', '/threads', { metadata: { k: 'v'.repeat(513) } }), 400, {
        message: /maximum length 512/,
        param: 'metadata.k',
      });
      expectError(await svc.http('POST', '/threads', { metadata: { k: 5 } }), 400, {
        message: "Invalid type for 'metadata.k': expected a string, but got an integer instead.",
        param: 'metadata.k',
        code: 'invalid_type',
      });
      const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'.repeat(512)]));
      expect((await svc.http('POST', '/threads', { metadata: sixteen })).status).toBe(200);
    });

    it('validates tools: at most 128, known types, function names by pattern', async () => {
      const tools = Array.from({ length: 129 }, () => ({ type: 'code_interpreter' }));
      expectError(await svc.http('POST', '/assistants', { model: 'm', tools }), 400, {
        message:
          "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with length 129 instead.",
        code: 'array_above_max_length',
      });
      expectError(await svc.http('POST', '/assistants', { model: 'm', tools: [{ type: 'browser' }] }), 400, {
        message: "Invalid value: 'browser'. Supported values are: 'code_interpreter', 'file_search', and 'function'.",
        param: 'tools[0].type',
        code: 'invalid_value',
      });
      expectError(
        await svc.http('POST', '/assistants', {
          model: 'm',
          tools: [{ type: 'function', function: { name: 'has space' } }],
        }),
        400,
        {
          message:
            "Invalid 'tools[0].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
          param: 'tools[0].function.name',
        },
      );
      expectError(
        await svc.http('POST', '/assistants', {
          model: 'm',
          tools: [{ type: 'function', function: { name: 'f'.repeat(65) } }],
        }),
        400,
        {
          message: /maximum length 64/,
        },
      );
      expectError(await svc.http('POST', '/assistants', { model: 'm', tools: [{ type: 'function' }] }), 400, {
        message: "Missing required parameter: 'tools[0].function'.",
      });
    });

    it('validates temperature, top_p and response_format', async () => {
      expectError(await svc.http('POST', '/assistants', { model: 'm', temperature: 2.5 }), 400, {
        message: "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
        param: 'temperature',
        code: 'decimal_above_max_value',
      });
      expectError(await svc.http('POST', '/assistants', { model: 'm', top_p: -1 }), 400, {
        message: /below minimum value/,
        param: 'top_p',
      });
      expectError(await svc.http('POST', '/assistants', { model: 'm', temperature: 'hot' }), 400, {
        message: /Invalid type for 'temperature'/,
      });
      expectError(await svc.http('POST', '/assistants', { model: 'm', response_format: { type: 'xml' } }), 400, {
        message: /Invalid value: 'xml'/,
        param: 'response_format.type',
      });
      expectError(
        await svc.http('POST', '/assistants', {
          model: 'm',
          response_format: { type: 'json_schema', json_schema: {} },
        }),
        400,
        {
          message: "Missing required parameter: 'response_format.json_schema.name'.",
        },
      );
      expectError(await svc.http('POST', '/assistants', { model: 'm', response_format: 'fancy' }), 400, {
        param: 'response_format',
        message: "Invalid value: 'fancy'. Supported values are: 'auto'.",
      });
      for (const ok of ['auto', { type: 'text' }, { type: 'json_object' }]) {
        expect((await svc.http('POST', '/assistants', { model: 'm', response_format: ok })).status).toBe(200);
      }
    });

    it('validates message content parts and roles', async () => {
      const thread = await svc.openai.beta.threads.create();
      const url = `/threads/${thread.id}/messages`;
      expectError(await svc.http('POST', url, { role: 'system', content: 'x' }), 400, {
        message: "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
        param: 'role',
      });
      expectError(await svc.http('POST', url, { role: 'user', content: [] }), 400, {
        message: /array too short/,
        param: 'content',
      });
      expectError(await svc.http('POST', url, { role: 'user', content: [{ type: 'text', text: 5 }] }), 400, {
        message: "Invalid type for 'content[0].text': expected a string, but got an integer instead.",
      });
      expectError(
        await svc.http('POST', url, {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'not a url' } }],
        }),
        400,
        {
          param: 'content[0].image_url.url',
          message: /Expected a valid URL/,
        },
      );
      expectError(
        await svc.http('POST', url, { role: 'user', content: 'x', attachments: [{ file_id: 'abc', tools: [] }] }),
        400,
        {
          message: "Invalid 'attachments[0].file_id': 'abc'. Expected an ID that begins with 'file'.",
        },
      );
      expect((await svc.openai.beta.threads.messages.list(thread.id)).data).toEqual([]);
    });

    it('refuses inline vector stores on modify, and beside vector_store_ids on create', async () => {
      const thread = await svc.openai.beta.threads.create();
      expectError(
        await svc.http('POST', `/threads/${thread.id}`, {
          tool_resources: { file_search: { vector_stores: [{ file_ids: [] }] } },
        }),
        400,
        { param: 'tool_resources.file_search.vector_stores', message: /only be given when creating/ },
      );
      expectError(
        await svc.http('POST', '/threads', {
          tool_resources: { file_search: { vector_store_ids: ['vs_a'], vector_stores: [{ file_ids: [] }] } },
        }),
        400,
        { param: 'tool_resources.file_search.vector_stores', message: /either vector_store_ids or vector_stores/ },
      );
      expectError(
        await svc.http('POST', '/assistants', {
          model: 'gpt-4o',
          tool_resources: { file_search: { vector_stores: [{ file_ids: [] }, { file_ids: [] }] } },
        }),
        400,
        { param: 'tool_resources.file_search.vector_stores' },
      );
    });

    it('writes nothing when part of a request is invalid', async () => {
      const before = await svc.running.db
        .selectFrom('threads')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const res = await svc.http('POST', '/threads', {
        messages: [
          { role: 'user', content: 'ok' },
          { role: 'user', content: 'ok' },
          { role: 'robot', content: 'bad' },
        ],
      });
      expectError(res, 400, { param: 'messages[2].role', message: /Invalid value: 'robot'/ });
      const after = await svc.running.db
        .selectFrom('threads')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
    });

    it('answers malformed JSON with a 400 envelope', async () => {
      expectError(await svc.http('POST', '/assistants', '{"model": "gpt-4o",'), 400, {
        message: /could not parse the JSON body/,
      });
      expectError(await svc.http('POST', '/assistants', '[1,2]'), 400, { message: /Invalid type for/ });
    });

    it('refuses a body over the limit with 413 (Content-Length known up front)', async () => {
      const res = await svc.http('POST', '/assistants', { model: 'm', instructions: 'x'.repeat(MAX_BODY) });
      expectError(res, 413, { message: `Request body too large: the limit is ${MAX_BODY} bytes.` });
    });

    it('refuses a chunked body over the limit while it is still being sent', async () => {
      const { status, bytesSent } = await streamUntilAnswered(`${svc.baseURL}/threads`, 1024 * 1024, 64);
      expect(status).toBe(413);
      expect(bytesSent).toBeLessThan(64 * 1024 * 1024);
    });
  });

  describe('ids and lookups', () => {
    it('rejects ids with the wrong prefix with 400', async () => {
      expectError(await svc.http('GET', '/assistants/thread_abc'), 400, {
        message: "Invalid 'assistant_id': 'thread_abc'. Expected an ID that begins with 'asst'.",
        param: 'assistant_id',
        code: 'invalid_value',
      });
      expectError(await svc.http('GET', '/threads/abc/messages'), 400, {
        message: "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.",
      });
      const thread = await svc.openai.beta.threads.create();
      expectError(await svc.http('GET', `/threads/${thread.id}/messages/nope`), 400, {
        message: "Invalid 'message_id': 'nope'. Expected an ID that begins with 'msg'.",
      });
    });

    it('answers unknown ids with OpenAI 404 texts', async () => {
      expectError(await svc.http('GET', '/assistants/asst_missing'), 404, {
        message: "No assistant found with id 'asst_missing'.",
      });
      expectError(await svc.http('POST', '/threads/thread_missing', { metadata: {} }), 404, {
        message: "No thread found with id 'thread_missing'.",
      });
      expectError(await svc.http('POST', '/threads/thread_missing/messages', { role: 'user', content: 'x' }), 404, {
        message: "No thread found with id 'thread_missing'.",
      });
      expectError(await svc.http('GET', '/threads/thread_missing/messages'), 404, {
        message: "No thread found with id 'thread_missing'.",
      });
    });

    it('validates list parameters', async () => {
      expectError(await svc.http('GET', '/assistants?limit=0'), 400, {
        param: 'limit',
        message: /below minimum value/,
      });
      expectError(await svc.http('GET', '/assistants?limit=101'), 400, {
        param: 'limit',
        message: /above maximum value/,
      });
      expectError(await svc.http('GET', '/assistants?order=sideways'), 400, {
        param: 'order',
        message: /Supported values are: 'asc' and 'desc'/,
      });
      expectError(await svc.http('GET', '/assistants?after=garbage'), 400, { param: 'after' });
    });
  });

  describe('protocol', () => {
    it('sends x-request-id on every response, success or not', async () => {
      const ok = await svc.http('GET', '/assistants');
      const missing = await svc.http('GET', '/nowhere');
      expect(ok.headers.get('x-request-id')).toMatch(/^req_/);
      expect(missing.headers.get('x-request-id')).toMatch(/^req_/);
      expect(ok.headers.get('x-request-id')).not.toBe(missing.headers.get('x-request-id'));
    });

    it('answers unknown routes with a 404 envelope', async () => {
      expectError(await svc.http('GET', '/nowhere'), 404, { message: 'Invalid URL (GET /v1/nowhere)' });
    });

    it('accepts OpenAI-Beta assistants=v2 or no header, and refuses assistants=v1', async () => {
      expect((await svc.http('GET', '/assistants', undefined, { 'OpenAI-Beta': 'assistants=v2' })).status).toBe(200);
      const noHeader = await fetch(`${svc.baseURL}/assistants`);
      expect(noHeader.status).toBe(200);
      expectError(await svc.http('GET', '/assistants', undefined, { 'OpenAI-Beta': 'assistants=v1' }), 400, {
        code: 'invalid_beta',
        message: /v1 Assistants API has been deprecated/,
      });
    });

    it('surfaces the request id through the SDK', async () => {
      const page = await svc.openai.beta.assistants.list().withResponse();
      expect(page.request_id).toMatch(/^req_/);
    });
  });
});

/**
 * Streams a chunked JSON body of up to `maxChunks` × `chunkBytes` and stops as soon as the server answers,
 * to prove the limit is enforced while reading rather than after buffering everything.
 */
function streamUntilAnswered(
  url: string,
  chunkBytes: number,
  maxChunks: number,
): Promise<{ status: number; bytesSent: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    let bytesSent = 0;
    let answered = false;
    const chunk = Buffer.alloc(chunkBytes, 'x');
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, bytesSent });
      req.destroy();
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.write('{"metadata":{"a":"');
    const pump = (sent: number) => {
      if (answered || sent >= maxChunks) {
        if (!answered) req.end('"}}');
        return;
      }
      bytesSent += chunk.length;
      if (req.write(chunk)) setImmediate(() => pump(sent + 1));
      else req.once('drain', () => pump(sent + 1));
    };
    pump(0);
  });
}
