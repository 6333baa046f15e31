import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { badRequest } from '../errors';
import { annotateActiveSpan } from '../observability/tracing';
import type { RequestScope } from '../services/context';

/** Path ids are checked for their prefix before any lookup, with OpenAI's wording. */
export function idParam(req: Request, name: string, prefix: string): string {
  const value = String(req.params[name] ?? '');
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

/**
 * After refusing a request whose body is still arriving: answer with `Connection: close` and keep reading (and
 * dropping) the rest so the client gets to read the answer instead of a reset; a client that goes on pushing
 * more than `budgetBytes` is cut off.
 */
export function discardBody(req: IncomingMessage, res: Response, budgetBytes: number): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > budgetBytes) req.socket.destroy();
  });
  req.resume();
}
