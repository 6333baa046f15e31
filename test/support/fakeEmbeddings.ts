import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashEmbedding } from './hashEmbedding';

/**
 * A fake OpenAI-compatible `POST /v1/embeddings`, the sibling of fakeModel.ts (the model endpoints are the only
 * fakes in the suite). Vectors come from `hashEmbedding`, so similar texts get near vectors. It records every
 * request and can be told to fail the next ones, to test how ingestion and search take endpoint faults.
 */

export interface EmbeddingsRequest {
  model: string;
  input: string[];
  dimensions: number | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export type EmbeddingsFault =
  | {
      status: number;
      /** Seconds, sent as `retry-after`. */
      retryAfter?: number;
    }
  /** The connection is dropped without an answer (as a server closing an idle keep-alive socket does). */
  | { reset: true };

export interface FakeEmbeddings {
  /** e.g. http://127.0.0.1:PORT/v1 — what THREADLINE_EMBEDDINGS_BASE_URL takes. */
  baseURL: string;
  requests: EmbeddingsRequest[];
  /** The next `count` requests answer this fault instead of vectors. */
  fail(fault: EmbeddingsFault, count?: number): void;
  /** Inputs embedded so far (every request's inputs, in order). */
  inputs(): string[];
  reset(): void;
  close(): Promise<void>;
}

/** The model's own size when a request names no `dimensions`. */
export const FAKE_EMBEDDING_DIMENSIONS = 256;

export async function startFakeEmbeddings(): Promise<FakeEmbeddings> {
  const requests: EmbeddingsRequest[] = [];
  const faults: EmbeddingsFault[] = [];

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/embeddings') {
      return send(res, 404, {
        error: { message: `Unknown request URL: ${req.method} ${req.url}`, type: 'invalid_request_error' },
      });
    }
    let body: { model?: unknown; input?: unknown; dimensions?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return send(res, 400, {
        error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error' },
      });
    }
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(input) || input.length === 0 || !input.every((t) => typeof t === 'string')) {
      return send(res, 400, {
        error: { message: "'input' must be a string or a non-empty array of strings", type: 'invalid_request_error' },
      });
    }
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : undefined;
    requests.push({ model: String(body.model), input: input, dimensions, headers: req.headers });
    const fault = faults.shift();
    if (fault && 'reset' in fault) {
      req.socket.destroy();
      return;
    }
    if (fault) {
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', String(fault.retryAfter));
      return send(res, fault.status, {
        error: { message: `fake embeddings fault ${fault.status}`, type: 'server_error' },
      });
    }
    const size = dimensions ?? FAKE_EMBEDDING_DIMENSIONS;
    send(res, 200, {
      object: 'list',
      model: body.model,
      data: input.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: hashEmbedding(text, size),
      })),
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  }

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => handle(req, res, Buffer.concat(parts).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    fail(fault, count = 1) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    inputs: () => requests.flatMap((r) => r.input),
    reset() {
      requests.length = 0;
      faults.length = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
