import type { RequestHandler } from 'express';
import { badRequest, type ApiError } from '../errors';
import { formatParam } from './validation';

/**
 * Checks every request input the schemas cannot see, in one place:
 *
 * - Nesting depth. A body nested thousands of levels deep (a tool's `parameters`) parses, then overflows the
 *   stack of whatever walks it recursively later (validation, storing). Nothing in the Assistants API needs
 *   more than a few dozen levels.
 * - NUL characters. PostgreSQL text cannot hold U+0000 (a 500 there, while SQLite stored it), and no
 *   identifier, cursor or setting needs one; refused everywhere so both databases answer the same.
 * - `__proto__` keys. Validation builds objects by assignment, which drops that key silently (it sets the
 *   prototype instead); refusing it is the only answer that is neither lossy nor a prototype write.
 */
export const MAX_JSON_DEPTH = 100;

const NUL = '\u0000';

/** The first problem in a parsed JSON body, as OpenAI's 400; undefined when it is fine. Iterative: no stack. */
export function jsonBodyProblem(body: unknown): ApiError | undefined {
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: body, path: [] }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return nulError(path);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_JSON_DEPTH) {
      const param = formatParam(path);
      return badRequest(
        `Invalid '${param}': the request nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`,
        param,
        'invalid_value',
      );
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: [...path, index] }));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        const param = formatParam([...path, key]);
        return badRequest(`Invalid '${param}': '__proto__' cannot be used as a key.`, param, 'invalid_value');
      }
      if (key.includes(NUL)) return nulError([...path, key]);
      pending.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}

/** Refuses query parameters with a NUL character (schemas check the values, not their characters). */
export const queryCheck: RequestHandler = (req, _res, next) => {
  next(queryProblem(req.query as Record<string, unknown>));
};

/** A query parameter (or an element of a repeated one) with a NUL character. */
function queryProblem(query: Record<string, unknown>): ApiError | undefined {
  for (const [name, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    if (name.includes(NUL) || values.some((v) => typeof v === 'string' && v.includes(NUL))) return nulError([name]);
  }
  return undefined;
}

/** A path parameter with a NUL character (ids never contain one). */
export function pathParamProblem(name: string, value: string): ApiError | undefined {
  return value.includes(NUL) ? nulError([name]) : undefined;
}

function nulError(path: PropertyKey[]): ApiError {
  const param = formatParam(path);
  return badRequest(
    `Invalid '${param}': the value contains a NUL character (\\u0000), which is not supported.`,
    param,
    'invalid_value',
  );
}
