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
