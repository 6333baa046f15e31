import type { RequestHandler } from 'express';
import { ApiError } from '../errors';

/**
 * What a browser may do with the API. It has no sessions or cookies, so the dangers are a page that makes the
 * visitor's browser send it requests: a cross-origin page (CORS), or one whose own host name resolves to the
 * loopback address the API listens on (DNS rebinding).
 */

/** Response headers a browser client may read: the SDKs use them (request ids, poll pacing, retries). */
const EXPOSED_HEADERS = 'x-request-id, openai-poll-after-ms, x-should-retry, retry-after';
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

/** Whether the API listens on a loopback interface only (then only loopback host names are expected). */
export function isLoopback(bindHost: string): boolean {
  return LOOPBACK_HOSTS.includes(bindHost.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(bindHost);
}

/**
 * The Host names the API answers to: loopback names plus `extra` when it is bound to loopback or `extra` is
 * set, otherwise any (a server on all interfaces is reached under names it cannot know).
 */
export function allowedHostsFor(bindHost: string, extra: string[]): string[] | undefined {
  if (!isLoopback(bindHost) && extra.length === 0) return undefined;
  return [...LOOPBACK_HOSTS, ...extra];
}

/**
 * Refuses requests whose Host header names another host. A page on `evil.example` whose DNS record is
 * switched to 127.0.0.1 reaches a loopback API from the visitor's browser as a same-origin request; its Host
 * header still says `evil.example`.
 */
export function hostGuard(allowed: string[] | undefined): RequestHandler {
  const names = new Set(allowed?.map((host) => host.toLowerCase()));
  return (req, _res, next) => {
    if (allowed === undefined) return next();
    const host = hostName(req.headers.host ?? '');
    if (names.has(host)) return next();
    next(
      new ApiError(
        403,
        `Host '${host}' is not served here. Add it to THREADLINE_ALLOWED_HOSTS to reach this server under that name.`,
        'invalid_request_error',
        null,
        'host_not_allowed',
      ),
    );
  };
}

/**
 * CORS with an allow-list of origins (`*` allows any). A request from a listed origin gets the CORS headers
 * (a preflight is answered here, 204); one from any other origin is refused outright, with no CORS headers:
 * a browser would hide the answer from the page, but a "simple" request would still have done its work.
 * Requests without an Origin (SDKs, curl, servers) are not browser cross-origin requests and pass.
 */
export function cors(origins: string[]): RequestHandler {
  const any = origins.includes('*');
  const listed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    res.vary('Origin');
    if (!any && !listed.has(origin)) {
      return next(
        new ApiError(
          403,
          `Origin '${origin}' is not allowed to call this API. Add it to THREADLINE_CORS_ORIGINS to allow it.`,
          'invalid_request_error',
          null,
          'origin_not_allowed',
        ),
      );
    }
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      // The SDKs send their own headers (OpenAI-Beta, x-stainless-…); a listed origin may send what it asks for.
      const requested = req.headers['access-control-request-headers'];
      if (requested) res.setHeader('Access-Control-Allow-Headers', requested);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/** `example.com:8080` → `example.com`, `[::1]:8080` → `::1`. */
function hostName(header: string): string {
  const host = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.split(':')[0]!;
  return host.toLowerCase();
}
