import { ApplicationFailure } from '@temporalio/common';
import OpenAI, { APIConnectionError, APIError } from 'openai';

export interface ModelEndpoint {
  baseURL: string | undefined;
  apiKey: string | undefined;
}

/**
 * The one model client. Temporal owns retries (`maxRetries: 0`): a second retry layer inside a retried
 * activity would multiply attempts and hide failures from the run's history.
 */
export function createModelClient(endpoint: ModelEndpoint): OpenAI {
  return new OpenAI({
    baseURL: endpoint.baseURL ?? 'https://api.openai.com/v1',
    // The SDK refuses to start without a key; local endpoints (vLLM, Ollama) ignore it.
    apiKey: endpoint.apiKey ?? 'not-set',
    maxRetries: 0,
    timeout: 10 * 60_000,
  });
}

/**
 * Turns a failed model call into the failure Temporal should act on: 408/409/429/5xx and network faults are
 * retried (after `retry-after` when the endpoint gives one), any other 4xx fails the run at once.
 * The failure `type` tells the workflow which `last_error.code` to report.
 */
export function classifyModelError(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const headers = error.headers as Headers | undefined;
    // The endpoint's own `x-should-retry` wins, as it does for the official SDKs.
    const hint = headers?.get('x-should-retry');
    const retryable =
      hint === 'true'
        ? true
        : hint === 'false'
          ? false
          : status === 408 || status === 409 || status === 429 || status >= 500;
    // 400/422 mean the request itself (the prompt) was refused; 401/403/404 are the server's configuration.
    const type =
      status === 429
        ? 'ModelRateLimited'
        : status === 400 || status === 422
          ? 'ModelRejectedRequest'
          : 'ModelServerError';
    // An endpoint refusing its key tends to echo part of it back ("Incorrect API key provided: sk-…"); run
    // errors are read by API clients, who must never see any of a provider's key.
    const message =
      status === 401 || status === 403
        ? `The model endpoint refused the provider's credentials (HTTP ${status}): check the key of the provider entry serving this model.`
        : `The model endpoint answered ${status}: ${error.message}`;
    return ApplicationFailure.create({
      type,
      message,
      nonRetryable: !retryable,
      nextRetryDelay: retryable ? retryAfterMs(headers) : undefined,
    });
  }
  if (error instanceof APIConnectionError) {
    return ApplicationFailure.create({
      type: 'ModelUnreachable',
      message: `The model endpoint could not be reached: ${error.message}`,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ type: 'ModelServerError', message: `The model call failed: ${message}` });
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const secondsValue = Number(value);
  if (Number.isFinite(secondsValue)) return Math.max(0, secondsValue * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
