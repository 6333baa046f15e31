import OpenAI from 'openai';
import { killLeftoverCliProcesses, spawnApiFor } from '../support/cli';
import { DIALECTS, startTestService, type RawResponse, type TestService } from '../support/service';

const MAX_BODY = 256 * 1024;

/** A 4xx in OpenAI's envelope naming `param`, never a 500 (the bugs here were all 500s or silent misreads). */
function expect4xx(res: RawResponse, status: number, param: string | null, message?: RegExp) {
  expect({ status: res.status, param: (res.body as { error?: { param?: unknown } })?.error?.param }).toEqual({
    status,
    param,
  });
  if (message) expect((res.body as { error: { message: string } }).error.message).toMatch(message);
}

/** A JSON schema of arrays `depth` levels deep, as JSON text (JSON.stringify itself overflows at 9,000). */
function nested(depth: number): string {
  return `${'{"type":"array","items":'.repeat(depth)}{"type":"string"}${'}'.repeat(depth)}`;
}

/**
 * Hostile and malformed input, on both databases: each answer is a clear 4xx (the same on SQLite and
 * PostgreSQL), and nothing is written or silently dropped.
 */
describe.each(DIALECTS)('hostile input (%s)', (dialect) => {
  let svc: TestService;
  const countOf = async (table: 'threads' | 'assistants') =>
    Number(
      (
        await svc.running.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    svc = await startTestService(dialect, { THREADLINE_MAX_BODY_BYTES: String(MAX_BODY) });
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await svc?.stop();
  });

  describe('NUL characters', () => {
    it('refuses one in a body string, naming the parameter', async () => {
      expect4xx(await svc.http('POST', '/assistants', { model: 'm', name: 'a\u0000b' }), 400, 'name', /NUL/);
      expect4xx(await svc.http('POST', '/threads', { metadata: { 'k\u0000': 'v' } }), 400, 'metadata.k\u0000', /NUL/);
      expect(await countOf('assistants')).toBe(0);
    });

    it('refuses one in a path id, a cursor and the run_id filter', async () => {
      const thread = await svc.openai.beta.threads.create();
      expect4xx(await svc.http('GET', '/assistants/asst_%00'), 400, 'assistant_id');
      expect4xx(
        await svc.http('POST', '/threads/thread_x%00/messages', { role: 'user', content: 'x' }),
        400,
        'thread_id',
      );
      expect4xx(await svc.http('GET', '/assistants?after=asst_%00'), 400, 'after');
      expect4xx(await svc.http('GET', `/threads/${thread.id}/messages?run_id=run_%00`), 400, 'run_id');
      expect4xx(await svc.http('GET', `/threads/${thread.id}/messages?before=msg_a%00b`), 400, 'before');
    });
  });

  it('answers malformed percent-encoding in a path with a 400', async () => {
    expect4xx(await svc.http('GET', '/assistants/asst_%'), 400, null, /percent-encoding/);
    expect4xx(await svc.http('POST', '/threads/thread_%zz', { metadata: {} }), 400, null, /percent-encoding/);
  });

  it('bounds JSON nesting: 9,000 levels of tool parameters is a 400, 50 are stored', async () => {
    const tool = (parameters: string) =>
      `{"model":"m","tools":[{"type":"function","function":{"name":"deep","parameters":${parameters}}}]}`;
    const refused = await svc.http('POST', '/assistants', tool(nested(9_000)));
    expect(refused.status).toBe(400);
    const error = (refused.body as { error: { message: string; param: string } }).error;
    expect(error.param).toMatch(/^tools\[0\]\.function\.parameters(\.items)+$/);
    expect(error.message).toMatch(/more than 100 levels deep/);
    expect(await countOf('assistants')).toBe(0);
    const fine = await svc.http('POST', '/assistants', tool(nested(50)));
    expect(fine.status).toBe(200);
    const stored = await svc.openai.beta.assistants.retrieve((fine.body as { id: string }).id);
    expect(JSON.stringify(stored.tools[0])).toContain(nested(50));
  });

  describe('content types', () => {
    it('refuses text/plain, form and multipart bodies on JSON routes, writing nothing', async () => {
      const before = await countOf('threads');
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await svc.http('POST', '/threads', '{"metadata":{"a":"b"}}', { 'content-type': type });
        expect4xx(res, 400, null, /only accepts 'application\/json' requests/);
        expect((res.body as { error: { code: string } }).error.code).toBe('unsupported_content_type');
      }
      expect(await countOf('threads')).toBe(before);
    });

    it('refuses a bodiless form post too (what a cross-origin page could send to cancel a run)', async () => {
      const res = await fetch(`${svc.baseURL}/threads/thread_abc/runs/run_abc/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(400);
    });

    it('accepts JSON with parameters and JSON suffix types, and a bodiless POST without a type', async () => {
      const withCharset = await svc.http(
        'POST',
        '/threads',
        { metadata: { a: 'b' } },
        {
          'content-type': 'application/json; charset=utf-8',
        },
      );
      expect(withCharset.status).toBe(200);
      const thread = withCharset.body as { id: string };
      const bare = await fetch(`${svc.baseURL}/threads/${thread.id}`, { method: 'POST' });
      expect(bare.status).toBe(200);
    });
  });

  it('refuses a __proto__ metadata key instead of dropping it', async () => {
    const res = await svc.http('POST', '/threads', '{"metadata":{"__proto__":"x","kept":"y"}}');
    expect4xx(res, 400, 'metadata.__proto__', /__proto__/);
    const tool = await svc.http(
      'POST',
      '/assistants',
      '{"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"__proto__":{}}}}}]}',
    );
    expect4xx(tool, 400, 'tools[0].function.parameters.properties.__proto__');
  });

  it('delivers the 413 to the official SDK, every time, however large the upload', async () => {
    // In another process, as in production: in this one the server could not reset a socket while the
    // client is still writing to it, which is how the 413 used to get lost ("Connection error").
    const api = await spawnApiFor(svc, { THREADLINE_MAX_BODY_BYTES: String(64 * 1024) });
    try {
      const client = new OpenAI({ baseURL: api.baseURL, apiKey: 'k', maxRetries: 0 });
      const outcomes: string[] = [];
      for (const size of [70_000, 8_000_000, 30_000_000]) {
        for (let i = 0; i < 5; i++) {
          outcomes.push(
            await client.beta.assistants.create({ model: 'm', instructions: 'x'.repeat(size) }).then(
              () => `${size}: created`,
              (error: unknown) =>
                `${size}: ${error instanceof OpenAI.APIError && error.status ? error.status : String(error)}`,
            ),
          );
        }
      }
      expect(outcomes.filter((o) => !o.endsWith(': 413'))).toEqual([]);
      // The connection the SDK used is still good for the next request.
      expect(Array.isArray((await client.beta.assistants.list()).data)).toBe(true);
    } finally {
      api.child.kill('SIGKILL');
      await api.exited;
    }
  });
});
