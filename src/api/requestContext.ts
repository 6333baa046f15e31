import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { newId } from '../ids';
import type { Logger } from '../logger';
import { withLogger } from '../logContext';
import type { Metrics } from '../observability/metrics';
import { runAttributes, tracer } from '../observability/tracing';
import type { RequestScope } from '../services/context';
import { DEFAULT_PROJECT_ID } from '../store/projects';

/**
 * First on every request: its id (`x-request-id`), a logger carrying it, the HTTP span of its trace, and on
 * the way out one log line and the request metrics (by route pattern, never by raw path: ids would make
 * every path a new series).
 */
export function requestContext(logger: Logger, metrics: Metrics | undefined): RequestHandler {
  return (req, res, next) => {
    const requestId = newId('request');
    const started = process.hrtime.bigint();
    const log = logger.child({ requestId });
    const span = tracer().startSpan(`${req.method} ${req.path}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': req.path, 'threadline.request_id': requestId },
    });
    res.locals.logger = log;
    res.locals.span = span;
    res.locals.scope = { projectId: DEFAULT_PROJECT_ID } satisfies RequestScope;
    res.setHeader('x-request-id', requestId);
    let done = false;
    // 'finish' when the answer went out; 'close' alone when the client left first (e.g. mid-stream).
    const complete = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : 'unmatched';
      const status = String(res.statusCode);
      metrics?.httpRequests.inc({ method: req.method, route, status });
      metrics?.httpDuration.observe({ method: req.method, route, status }, seconds);
      span.updateName(`${req.method} ${route === 'unmatched' ? req.path : route}`);
      span.setAttributes({
        'http.route': route,
        'http.response.status_code': res.statusCode,
        ...runAttributes({ projectId: (res.locals.scope as RequestScope | undefined)?.projectId }),
      });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      log.info(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request',
      );
    };
    res.on('finish', complete);
    res.on('close', complete);
    next();
  };
}

/**
 * Makes the request's logger and span current for everything after it (route handlers, services, the
 * workflow start). Mounted after the body is read: the body reader resumes the chain from socket events,
 * which run outside any context entered before them.
 */
export const bindRequestContext: RequestHandler = (_req, res, next) => {
  const span = res.locals.span as Span;
  context.with(trace.setSpan(context.active(), span), () => withLogger(res.locals.logger as Logger, next));
};
