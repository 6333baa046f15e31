import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { badRequest } from '../errors';
import { annotateActiveSpan } from '../observability/tracing';
import { pathParamProblem } from './inspect';
import type { RequestScope } from '../services/context';

/** Path ids are checked for their prefix before any lookup, with OpenAI's wording. */
export function idParam(req: Request, name: string, prefix: string): string {
  const value = String(req.params[name] ?? '');
  const problem = pathParamProblem(name, value);
  if (problem) throw problem;
  if (!value.startsWith(`${prefix}_`)) {
    throw badRequest(
      `Invalid '${name}': '${value}'. Expected an ID that begins with '${prefix}'.`,
      name,
      'invalid_value',
    );
  }
  // The request's span carries the ids it is about (`threadline.thread_id`, `threadline.run_id`, …).
  annotateActiveSpan({ [`threadline.${name}`]: value });
  return value;
}

export function scopeOf(res: Response): RequestScope {
  return res.locals.scope as RequestScope;
}

/** After a refusal, at most this much more of the upload is read and dropped, for at most this long. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;
const DISCARD_LIMIT_MS = 10_000;
/** Once closing, the client gets this long to read the answer before the socket is torn down. */
const LINGER_MS = 2_000;

/**
 * Reads and drops what is left of a refused upload (a 413, a multipart refused part-way), so the client can
 * finish sending and read the answer on a connection that stays usable. An upload that goes on past the limits
 * gets a graceful close (FIN), and a reset only after the client had time to read the answer ("fetch failed"
 * instead of the 413 otherwise).
 */
export function discardBody(req: IncomingMessage, limitBytes = DISCARD_LIMIT_BYTES): void {
  let discarded = 0;
  const started = Date.now();
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limitBytes || Date.now() - started > DISCARD_LIMIT_MS) {
      req.off('data', onData);
      req.pause();
      const socket = req.socket;
      socket.end();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    }
  };
  req.on('data', onData);
  req.resume();
}
