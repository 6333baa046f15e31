import type { RequestHandler } from 'express';
import { RateLimitError } from '../errors';
import type { Store } from '../store';
import type { KeyLimits } from './auth';

const WINDOW_SECONDS = 60;

/** OpenAI's duration format for `x-ratelimit-reset-requests`: `17s`, `0.25s`. */
function duration(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

/**
 * Requests per minute per key, counted in the database (one upsert per request, only when a limit applies)
 * so several API processes share one count. A fixed window: each key's count starts afresh at every whole
 * minute. Every answer carries OpenAI's `x-ratelimit-*-requests` headers; one over the limit is OpenAI's 429
 * with `retry-after` (the SDKs wait for it and retry on their own, up to `maxRetries`).
 */
export function rateLimit(store: Store): RequestHandler {
  return async (_req, res, next) => {
    const limits = res.locals.limits as KeyLimits | undefined;
    const limit = limits?.requestsPerMinute ?? 0;
    if (!limits || limit <= 0) return next();
    const now = Date.now() / 1000;
    const { count, windowStart } = await store.rateLimits.hit(
      limits.bucket,
      Math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS,
    );
    const reset = Math.max(0, windowStart + WINDOW_SECONDS - now);
    res.setHeader('x-ratelimit-limit-requests', String(limit));
    res.setHeader('x-ratelimit-remaining-requests', String(Math.max(0, limit - count)));
    res.setHeader('x-ratelimit-reset-requests', duration(reset));
    if (count > limit) {
      throw new RateLimitError(
        `Rate limit reached for requests on this API key: Limit ${limit} requests per minute, Used ${limit}, Requested 1. Please try again in ${duration(reset)}.`,
        reset,
      );
    }
    next();
  };
}
