import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';

/**
 * A fake OpenAI-compatible Chat Completions server: the ONLY fake in the test suite. Everything else
 * (Temporal, the database, the API) is real; the model is the one thing we cannot run in CI. It speaks the
 * wire format the official SDK expects, so a bug in how Threadline reads a model stream shows up here the
 * same way it would against api.openai.com. Tests script what each call returns, one `Step` per request.
 */

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

interface Pacing {
  /** Delay before the first chunk (headers are sent at once, as OpenAI does). */
  ttftMs?: number;
  /** Delay between chunks. */
  interChunkMs?: number;
}

export interface TextStep extends Pacing {
  kind: 'text';
  /**
   * The reply. `{{cite:N}}` is replaced by the N-th citation marker (`【…†…】`) in the last tool result the
   * request carries, as a model copies it from file_search's output (an empty string when there is none).
   */
  text: string;
  /** Characters per content delta; default 4. */
  chunkSize?: number;
  usage?: Usage;
  finishReason?: 'stop' | 'length';
  /** Refusals are not simulated. */
  refusal?: never;
}

export interface ToolCallsStep extends Pacing {
  kind: 'tool_calls';
  /** More than one call = parallel tool calls, streamed with indices 0..n-1. */
  calls: Array<{ id?: string; name: string; arguments: string }>;
  usage?: Usage;
  /** Characters per argument fragment; default 8. */
  argumentChunkSize?: number;
}

/** A plain JSON error response (500, 429 with retry-after, 400 …); no stream. */
export interface ErrorStep {
  kind: 'error';
  status: number;
  /** Default: the OpenAI envelope `{ error: { message, type, param, code } }`. */
  body?: object;
  headers?: Record<string, string>;
}

/**
 * Stream failures. They answer the same way whether or not the request asked to stream, because runs
 * always stream. `malformed`: the first data line is not JSON. `cut`: some chunks of `text`, then the
 * socket is destroyed (no finish_reason, no [DONE]). `hang`: headers, then silence until either side closes.
 */
export type MalformedStep = { kind: 'malformed' };
export type CutStep = { kind: 'cut'; text: string };
export type HangStep = { kind: 'hang' };

export type Step = TextStep | ToolCallsStep | ErrorStep | MalformedStep | CutStep | HangStep;

/**
 * The parsed JSON the client sent, typed as the SDK's request params so tests can read `body.messages`,
 * `body.tools` … without casts (an `any` here would trip no-unsafe-member-access in every test). It is NOT
 * validated: a malformed request from Threadline would still be recorded as-is.
 */
export type ChatRequestBody = ChatCompletionCreateParams;

export interface RecordedRequest {
  body: ChatRequestBody;
  headers: Record<string, string>;
  receivedAt: number;
}

export interface FakeModel {
  /** e.g. http://127.0.0.1:PORT/v1, ready for `new OpenAI({ baseURL })`. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Queue steps, consumed one per request (FIFO) before the default applies. */
  script(...steps: Step[]): void;
  /** When set, answers every request, ahead of the script. */
  setResponder(fn: ((req: RecordedRequest) => Step) | undefined): void;
  setDefault(step: Step): void;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** What `GET /v1/models` lists (default: `fake-model`). */
  setModels(ids: string[]): void;
  /** `GET /v1/models` requests received (the boot probe, model listings), with their headers. */
  modelListRequests: Array<{ headers: Record<string, string> }>;
  /** Forget requests, script, responder and default (between tests sharing one server). */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeModelOptions {
  /** Answer when neither a responder nor a scripted step applies; default a short text reply. */
  defaultStep?: Step;
  /** What `GET /v1/models` lists; default `['fake-model']`. */
  models?: string[];
}

const HELLO: Step = { kind: 'text', text: 'Hello from the fake model.' };

export async function startFakeModel(options: FakeModelOptions = {}): Promise<FakeModel> {
  const initialDefault = options.defaultStep ?? HELLO;
  const requests: RecordedRequest[] = [];
  const queue: Step[] = [];
  let responder: ((req: RecordedRequest) => Step) | undefined;
  let defaultStep = initialDefault;
  let models = options.models ?? ['fake-model'];
  const modelListRequests: Array<{ headers: Record<string, string> }> = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Created before reading the body so a client that gives up early is still noticed.
    const exchange = new Exchange(req, res);
    if (req.method === 'GET' && req.url?.split('?')[0] === '/v1/models') {
      modelListRequests.push({ headers: flattenHeaders(req.headers) });
      const data = models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/chat/completions') {
      return sendJson(res, 404, errorEnvelope(404, `Unknown request URL: ${req.method} ${req.url}`));
    }
    const body = parseObject(await readBody(req));
    if (!body) return sendJson(res, 400, errorEnvelope(400, 'We could not parse the JSON body of your request.'));
    const request: RecordedRequest = { body, headers: flattenHeaders(req.headers), receivedAt: Date.now() };
    requests.push(request);
    const step = responder ? responder(request) : (queue.shift() ?? defaultStep);
    await play(step, body, exchange);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake must fail the test that hit it, not crash the Jest worker.
      if (!res.headersSent) sendJson(res, 500, errorEnvelope(500, `fake model failed: ${String(err)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script(...steps) {
      queue.push(...steps);
    },
    setResponder(fn) {
      responder = fn;
    },
    setDefault(step) {
      defaultStep = step;
    },
    setModels(ids) {
      models = ids;
    },
    modelListRequests,
    async waitForRequests(n, timeoutMs = 5000) {
      // Polling keeps this trivially leak-free; 10 ms is far below anything a test waits on.
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`fake model: expected ${n} requests, got ${requests.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset() {
      requests.length = 0; // in place: callers may hold the array
      queue.length = 0;
      responder = undefined;
      defaultStep = initialDefault;
      models = options.models ?? ['fake-model'];
      modelListRequests.length = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Hanging streams and idle keep-alive sockets would otherwise hold close() open indefinitely.
        server.closeAllConnections();
      });
    },
  };
}

/** One in-flight response. Once its connection closes, writes become no-ops and the pending delay is cut short. */
class Exchange {
  closed = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    res.on('close', () => {
      this.closed = true;
      clearTimeout(this.timer);
      this.wake?.();
    });
  }

  sleep(ms = 0): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  startStream(): void {
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    this.res.flushHeaders();
  }

  /** One server-sent event; `then` runs once it has reached the socket. */
  send(data: string, then?: () => void): void {
    if (!this.closed) this.res.write(`data: ${data}\n\n`, then);
  }

  /** Drop the connection mid-body, as a crashed upstream or a proxy timeout would. */
  cut(): void {
    this.req.socket.destroy();
  }
}

/** Rough prompt size: the characters of string contents and text parts (good enough for token estimates). */
function promptChars(body: ChatRequestBody): number {
  const text = (body.messages ?? []).flatMap(({ content }) =>
    typeof content === 'string'
      ? [content]
      : Array.isArray(content)
        ? content.map((p) => ('text' in p ? p.text : ''))
        : [],
  );
  return text.reduce((sum, t) => sum + t.length, 0);
}

type Frame = { delta: object; finish_reason: string | null };

/** The markers a tool result offers the model to cite, in the order they appear in the last tool message. */
export function citableMarkers(request: ChatRequestBody): string[] {
  const tool = [...(request.messages ?? [])].reverse().find((m) => m.role === 'tool');
  const content = typeof tool?.content === 'string' ? tool.content : (tool?.content ?? []).map((p) => p.text).join('');
  return [...new Set([...content.matchAll(/【\d+:\d+†[^】]*】/g)].map((m) => m[0]))];
}

function withCitations(text: string, request: ChatRequestBody): string {
  if (!text.includes('{{cite')) return text;
  const markers = citableMarkers(request);
  return text.replace(/\{\{cite(?::(\d+))?\}\}/g, (_all, n?: string) => markers[Number(n ?? 0)] ?? '');
}

async function play(scripted: Step, request: ChatRequestBody, ex: Exchange): Promise<void> {
  const step = scripted.kind === 'text' ? { ...scripted, text: withCitations(scripted.text, request) } : scripted;
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = request.model ?? 'fake-model';
  const includeUsage = request.stream_options?.include_usage === true;
  const chunk = (choices: object[], extra: object = {}): string =>
    JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
  // OpenAI sends `usage: null` on every chunk but the last once usage was asked for.
  const frame = (f: Frame): string => chunk([{ index: 0, ...f, logprobs: null }], includeUsage ? { usage: null } : {});

  switch (step.kind) {
    case 'error':
      return sendJson(ex.res, step.status, step.body ?? errorEnvelope(step.status), step.headers);
    case 'malformed':
      ex.startStream();
      ex.send('{not json');
      ex.res.end();
      return;
    case 'hang':
      ex.startStream(); // and nothing else: the Exchange notices when either side gives up
      return;
    case 'cut': {
      ex.startStream();
      const pieces = splitText(step.text, 4);
      const sent = pieces.slice(0, Math.max(1, Math.ceil(pieces.length / 2)));
      sent.forEach((content, i) => {
        const data = frame({ delta: i === 0 ? { role: 'assistant', content } : { content }, finish_reason: null });
        // Destroy only once the last chunk is on the wire, so the client really sees a partial stream.
        ex.send(data, i === sent.length - 1 ? () => ex.cut() : undefined);
      });
      return;
    }
  }

  // text or tool_calls: the same answer either streamed as frames or as one chat.completion.
  const calls = step.kind === 'tool_calls' ? step.calls.map((c) => ({ ...c, id: c.id ?? randomCallId() })) : [];
  let frames: Frame[];
  let message: object;
  let finishReason: string;
  let completionChars: number;
  if (step.kind === 'text') {
    finishReason = step.finishReason ?? 'stop';
    const pieces = splitText(step.text, step.chunkSize ?? 4);
    frames = pieces.map((content, i) => ({
      delta: i === 0 ? { role: 'assistant', content } : { content },
      finish_reason: i === pieces.length - 1 ? finishReason : null,
    }));
    message = { role: 'assistant', content: step.text, refusal: null };
    completionChars = step.text.length;
  } else {
    finishReason = 'tool_calls';
    // Exactly OpenAI's shape: a header delta per call (id, name, empty arguments), then argument fragments,
    // then an empty delta carrying finish_reason.
    frames = calls.flatMap((call, index): Frame[] => [
      {
        delta: {
          ...(index === 0 ? { role: 'assistant', content: null } : {}),
          tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
        },
        finish_reason: null,
      },
      ...splitText(call.arguments, step.argumentChunkSize ?? 8)
        .filter((fragment) => fragment !== '')
        .map((fragment) => ({
          delta: { tool_calls: [{ index, function: { arguments: fragment } }] },
          finish_reason: null,
        })),
    ]);
    frames.push({ delta: {}, finish_reason: finishReason });
    const toolCalls = calls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
    message = { role: 'assistant', content: null, refusal: null, tool_calls: toolCalls };
    completionChars = calls.reduce((sum, c) => sum + c.arguments.length, 0);
  }
  const given = step.usage ?? {
    prompt_tokens: Math.max(1, Math.ceil(promptChars(request) / 4)),
    completion_tokens: Math.ceil(completionChars / 4),
  };
  const usage = { ...given, total_tokens: given.prompt_tokens + given.completion_tokens };

  if (request.stream !== true) {
    await ex.sleep(step.ttftMs);
    if (ex.closed) return;
    const choices = [{ index: 0, message, finish_reason: finishReason, logprobs: null }];
    return sendJson(ex.res, 200, { id, object: 'chat.completion', created, model, choices, usage });
  }
  ex.startStream();
  for (const [i, f] of frames.entries()) {
    await ex.sleep(i === 0 ? step.ttftMs : step.interChunkMs);
    if (ex.closed) return; // the client cancelled (e.g. a cancelled run): stop, timers are already cleared
    ex.send(frame(f));
  }
  if (includeUsage) ex.send(chunk([], { usage }));
  ex.send('[DONE]');
  ex.res.end();
}

/** Split by code points, so a chunk never ends in half a surrogate pair; always at least one (maybe empty) piece. */
function splitText(text: string, size: number): string[] {
  const chars = Array.from(text);
  const step = Math.max(1, Math.floor(size));
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += step) pieces.push(chars.slice(i, i + step).join(''));
  return pieces.length > 0 ? pieces : [''];
}

/** OpenAI's error envelope, with the type/code its SDK and retry logic key on. */
function errorEnvelope(status: number, message = `Fake model error (HTTP ${status}).`): object {
  if (status === 429) return { error: { message, type: 'requests', param: null, code: 'rate_limit_exceeded' } };
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code: null } };
}

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

/** The body as JSON, if it is a JSON object; its fields are trusted to match the SDK types, not validated. */
function parseObject(raw: string): ChatRequestBody | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as ChatRequestBody)
      : undefined;
  } catch {
    return undefined;
  }
}

function randomCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}
