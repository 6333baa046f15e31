import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A server-side tool's HTTP endpoint on loopback, for the server-side tool tests (not a fake of anything of
 * Threadline's: it plays an operator's tool service). Each path answers with a handler the test sets; every
 * request is recorded with its headers and body.
 */
export interface ToolRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface ToolAnswer {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface ToolEndpoint {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `127.0.0.1:<port>`, for THREADLINE_SERVER_TOOL_HOSTS. */
  host: string;
  requests: ToolRequest[];
  on(path: string, handler: (req: ToolRequest) => ToolAnswer | Promise<ToolAnswer>): void;
  requestsTo(path: string): ToolRequest[];
  close(): Promise<void>;
}

export async function startToolEndpoint(): Promise<ToolEndpoint> {
  const handlers = new Map<string, (req: ToolRequest) => ToolAnswer | Promise<ToolAnswer>>();
  const requests: ToolRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ToolRequest = {
        path: (req.url ?? '/').split('?')[0]!,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const handler = handlers.get(request.path);
      Promise.resolve(handler ? handler(request) : { status: 404, body: 'no such tool' })
        .then((answer) => {
          if (res.destroyed) return;
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.body ?? '');
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    on: (path, handler) => void handlers.set(path, handler),
    requestsTo: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A promise the test resolves by hand: an endpoint that answers only when told to. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
