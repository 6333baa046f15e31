import { ApplicationFailure } from '@temporalio/common';
import type { EmbeddingsConfig } from '../config';
import type { Embedder } from './types';

/**
 * The client of any OpenAI-compatible `POST /v1/embeddings` (OpenAI, Ollama, vLLM, LiteLLM). Plain fetch
 * rather than the SDK: the request is one JSON body, and the answer must be checked strictly (one vector per
 * input, in input order, all of one length) because a short or reordered answer would silently attach the
 * wrong vector to a chunk. No retries here: embedding runs inside Temporal activities, which own retries, so
 * every failure is an ApplicationFailure saying whether another attempt can help.
 */

/** A request's inputs are also capped by characters: OpenAI refuses more than ~300k tokens per request. */
const MAX_BATCH_CHARS = 400_000;
const REQUEST_TIMEOUT_MS = 120_000;

export class HttpEmbedder implements Embedder {
  readonly model: string;
  private learnt: number | undefined;

  constructor(
    private readonly config: EmbeddingsConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.model = config.model;
  }

  /** The configured dimensions, else what the endpoint answered so far (0 before its first answer). */
  get dimensions(): number {
    return this.config.dimensions ?? this.learnt ?? 0;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (const batch of batches(texts, this.config.batchSize, MAX_BATCH_CHARS)) {
      out.push(...(await this.embedBatch(batch, signal)));
    }
    return out;
  }

  private async embedBatch(input: string[], signal?: AbortSignal): Promise<number[][]> {
    const body: Record<string, unknown> = { model: this.model, input, encoding_format: 'float' };
    if (this.config.dimensions !== undefined) body.dimensions = this.config.dimensions;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const send = () =>
      this.fetchImpl(`${this.config.baseURL}/embeddings`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    let response: Response;
    try {
      response = await send().catch((error: unknown) => {
        // A pooled keep-alive socket the server closed while idle fails the next request with a reset before
        // anything was processed. fetch does not retry a POST; embedding is idempotent, so one immediate retry
        // on a fresh socket is safe, and keeps a search (which has no Temporal retry) from failing for it.
        if (staleSocket(error) && !signal?.aborted) return send();
        throw error;
      });
    } catch (error) {
      throw ApplicationFailure.create({
        type: 'EmbeddingsUnreachable',
        message: `The embeddings endpoint ${this.config.baseURL} could not be reached: ${describe(error)}`,
      });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) throw httpFailure(response, text);
    const vectors = parseEmbeddings(text, input.length);
    const length = vectors[0]?.length ?? 0;
    const expected = this.config.dimensions ?? this.learnt ?? length;
    if (vectors.some((v) => v.length !== expected)) {
      throw ApplicationFailure.nonRetryable(
        `The embeddings endpoint answered vectors of ${length} dimensions where ${expected} were expected (model ${this.model}): check THREADLINE_EMBEDDINGS_MODEL and THREADLINE_EMBEDDINGS_DIMENSIONS.`,
        'EmbeddingsMismatch',
      );
    }
    this.learnt = expected;
    return vectors;
  }
}

/** Splits inputs into requests of at most `size` texts and `maxChars` characters (one text alone may exceed it). */
export function batches(texts: string[], size: number, maxChars: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const text of texts) {
    if (current.length > 0 && (current.length >= size || chars + text.length > maxChars)) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(text);
    chars += text.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** `{data:[{index, embedding}]}` → vectors in input order; anything else is the endpoint's fault, not retryable. */
export function parseEmbeddings(text: string, count: number): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw ApplicationFailure.nonRetryable(
      `The embeddings endpoint answered something other than JSON: ${text.slice(0, 200)}`,
      'EmbeddingsMalformed',
    );
  }
  const data = (parsed as { data?: unknown }).data;
  const vectors: Array<number[] | undefined> = new Array<number[] | undefined>(count);
  if (Array.isArray(data)) {
    data.forEach((item: unknown, position) => {
      const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown };
      const at = typeof index === 'number' ? index : position;
      if (at >= 0 && at < count && Array.isArray(embedding) && embedding.every((x) => typeof x === 'number')) {
        vectors[at] = embedding;
      }
    });
  }
  const missing = [...vectors.keys()].filter((i) => vectors[i] === undefined || vectors[i].length === 0);
  if (!Array.isArray(data) || data.length !== count || missing.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `The embeddings endpoint answered ${Array.isArray(data) ? data.length : 'no'} usable vectors for ${count} inputs`,
      'EmbeddingsMalformed',
    );
  }
  return vectors as number[][];
}

/** 408/409/429/5xx are worth another attempt (after `retry-after`); other 4xx are configuration and are not. */
function httpFailure(response: Response, body: string): ApplicationFailure {
  const status = response.status;
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  // A refused key tends to be echoed back in the message; never let any of it reach a file's last_error.
  const detail =
    status === 401 || status === 403
      ? 'check THREADLINE_EMBEDDINGS_API_KEY'
      : (errorMessage(body) ?? body.slice(0, 200)).trim();
  return ApplicationFailure.create({
    type: status === 429 ? 'EmbeddingsRateLimited' : retryable ? 'EmbeddingsServerError' : 'EmbeddingsRejected',
    message: `The embeddings endpoint answered ${status}: ${detail}`,
    nonRetryable: !retryable,
    nextRetryDelay: retryable ? retryAfterMs(response.headers) : undefined,
  });
}

function errorMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

function retryAfterMs(headers: Headers): number | undefined {
  const seconds = Number(headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** fetch's own message is only "fetch failed"; the reason (ECONNREFUSED, a reset, a timeout) is its cause. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${(error as Error).message} (${detail})` : (error as Error).message;
}

function staleSocket(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}
