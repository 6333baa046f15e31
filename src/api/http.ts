import type { Request, Response } from 'express';
import { badRequest } from '../errors';
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
  return value;
}

export function scopeOf(res: Response): RequestScope {
  return res.locals.scope as RequestScope;
}
