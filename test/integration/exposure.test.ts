import http from 'node:http';
import { startTestService, type TestService } from '../support/service';

/** A request with headers fetch would not let us set (Host), answered with status, headers and body. */
function request(
  baseURL: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseURL}${path}`, { method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Browser and network exposure: CORS only for the origins allowed by THREADLINE_CORS_ORIGINS (none by
 * default), and, on loopback, only loopback Host names (plus THREADLINE_ALLOWED_HOSTS) against DNS rebinding.
 */
describe('exposure to browsers (sqlite)', () => {
  describe('by default', () => {
    let svc: TestService;
    beforeAll(async () => {
      svc = await startTestService('sqlite');
    });
    afterAll(async () => {
      await svc?.stop();
    });

    it('refuses every cross-origin browser request, preflight or not, without CORS headers', async () => {
      const preflight = await request(svc.baseURL, 'OPTIONS', '/threads', {
        Origin: 'https://evil.example',
        'Access-Control-Request-Method': 'POST',
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const before = (await svc.openai.beta.threads.create()).id;
      const simple = await request(svc.baseURL, 'POST', `/threads/${before}`, { Origin: 'https://evil.example' });
      expect(simple.status).toBe(403);
      expect(JSON.parse(simple.body)).toMatchObject({ error: { code: 'origin_not_allowed' } });
    });

    it('answers clients that send no Origin (SDKs, curl)', async () => {
      expect((await request(svc.baseURL, 'GET', '/assistants', {})).status).toBe(200);
    });

    it('refuses a Host that is not loopback: a DNS-rebinding page', async () => {
      const port = new URL(svc.baseURL).port;
      const rebound = await request(svc.baseURL, 'GET', '/assistants', { Host: `evil.example:${port}` });
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
        expect((await request(svc.baseURL, 'GET', '/assistants', { Host: host })).status).toBe(200);
      }
    });
  });

  describe('with allowed origins and hosts', () => {
    let svc: TestService;
    beforeAll(async () => {
      svc = await startTestService('sqlite', {
        THREADLINE_CORS_ORIGINS: 'https://app.example, http://localhost:3000',
        THREADLINE_ALLOWED_HOSTS: 'threadline.internal',
      });
    });
    afterAll(async () => {
      await svc?.stop();
    });

    it('answers the preflight of an allowed origin with what the browser SDK needs', async () => {
      const preflight = await request(svc.baseURL, 'OPTIONS', '/threads', {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, openai-beta, x-stainless-os',
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example',
        'access-control-allow-methods': 'GET, POST, DELETE',
        'access-control-allow-headers': 'authorization, content-type, openai-beta, x-stainless-os',
        vary: 'Origin',
      });
    });

    it('lets an allowed origin read answers and their request ids; others stay refused', async () => {
      const allowed = await request(svc.baseURL, 'GET', '/assistants', { Origin: 'http://localhost:3000' });
      expect(allowed.status).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      expect(allowed.headers['access-control-expose-headers']).toMatch(/x-request-id/);
      expect((await request(svc.baseURL, 'GET', '/assistants', { Origin: 'https://app.example.evil' })).status).toBe(
        403,
      );
    });

    it('answers to an extra allowed host name, and still to loopback', async () => {
      const port = new URL(svc.baseURL).port;
      expect((await request(svc.baseURL, 'GET', '/assistants', { Host: `threadline.internal:${port}` })).status).toBe(
        200,
      );
      expect((await request(svc.baseURL, 'GET', '/assistants', { Host: `localhost:${port}` })).status).toBe(200);
      expect((await request(svc.baseURL, 'GET', '/assistants', { Host: 'other.internal' })).status).toBe(403);
    });
  });
});
