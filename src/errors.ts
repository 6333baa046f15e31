/**
 * The one error type the service layer throws. The API's error middleware turns it into OpenAI's envelope
 * `{"error":{"message","type","param","code"}}` with `status`; anything else becomes a bare 500.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Response headers that go with the error (e.g. `x-should-retry`, which the official SDKs obey). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  toWire() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/**
 * OpenAI's 429 (`type: "requests"`, `code: "rate_limit_exceeded"`) with `retry-after` (whole seconds, at
 * least 1) and `retry-after-ms`, which the SDKs wait for before retrying on their own.
 */
export class RateLimitError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super(429, message, 'requests', null, 'rate_limit_exceeded', {
      ...headers,
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
      'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterSeconds * 1000))),
    });
  }
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

/** OpenAI's text for unknown objects, e.g. `No thread found with id 'thread_x'.` */
export function notFound(objectName: string, id: string): ApiError {
  return new ApiError(404, `No ${objectName} found with id '${id}'.`, 'invalid_request_error', null, null);
}
