import type { z } from 'zod';
import { type ApiError, badRequest } from '../errors';

type Issue = z.core.$ZodIssue;

/** Validates a request part against its schema, or throws OpenAI's 400 for the first problem found. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw issue ? toApiError(issue, []) : badRequest('Invalid request.');
}

/** `['tools', 0, 'function', 'name']` → `tools[0].function.name`, the way OpenAI names params. */
export function formatParam(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out === '' ? String(key) : `${out}.${String(key)}`;
  }, '');
}

function toApiError(issue: Issue, base: readonly PropertyKey[]): ApiError {
  const path = [...base, ...issue.path];
  const param = formatParam(path);
  const invalid = (detail: string, code: string) => badRequest(`Invalid '${param}': ${detail}`, param, code);
  const input = (issue as { input?: unknown }).input;

  switch (issue.code) {
    case 'unrecognized_keys': {
      const name = formatParam([...path, issue.keys[0] ?? '']);
      return badRequest(`Unrecognized request argument supplied: ${name}`, name, 'unknown_parameter');
    }
    case 'invalid_type':
      if (input === undefined) {
        return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
      }
      return badRequest(
        `Invalid type for '${param}': expected ${withArticle(issue.expected)}, but got ${describe(input)} instead.`,
        param,
        'invalid_type',
      );
    case 'too_big':
    case 'too_small':
      return sizeError(issue, input, invalid);
    case 'invalid_format':
      if (issue.format === 'starts_with') {
        const prefix = String((issue as { prefix?: string }).prefix ?? '').replace(/[_-]$/, '');
        return invalid(`'${String(input)}'. Expected an ID that begins with '${prefix}'.`, 'invalid_value');
      }
      if (issue.format === 'regex') {
        const pattern = String((issue as { pattern?: string }).pattern ?? '').replace(/^\/(.*)\/[a-z]*$/, '$1');
        return invalid(
          `string does not match pattern. Expected a string that matches the pattern '${pattern}'.`,
          'invalid_value',
        );
      }
      return invalid(
        `'${String(input)}'. Expected a valid ${issue.format === 'url' ? 'URL' : issue.format}.`,
        'invalid_value',
      );
    case 'invalid_value':
      if (input === undefined) {
        return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
      }
      return badRequest(
        `Invalid value: ${quote(input)}. Supported values are: ${listValues(issue.values)}.`,
        param,
        'invalid_value',
      );
    case 'invalid_union':
      return unionError(issue, path, input);
    case 'custom': {
      const code = (issue.params as { openaiCode?: string } | undefined)?.openaiCode ?? 'invalid_value';
      return invalid(issue.message, code);
    }
    default:
      return invalid(issue.message, 'invalid_value');
  }
}

function sizeError(
  issue: Extract<Issue, { code: 'too_big' | 'too_small' }>,
  input: unknown,
  invalid: (detail: string, code: string) => ApiError,
): ApiError {
  const big = issue.code === 'too_big';
  const limit = big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum;
  if (issue.origin === 'string') {
    const length = typeof input === 'string' ? input.length : 0;
    return big
      ? invalid(
          `string too long. Expected a string with maximum length ${limit}, but got a string with length ${length} instead.`,
          'string_above_max_length',
        )
      : invalid(
          `string too short. Expected a string with minimum length ${limit}, but got a string with length ${length} instead.`,
          'string_below_min_length',
        );
  }
  if (issue.origin === 'array') {
    const length = Array.isArray(input) ? input.length : 0;
    return big
      ? invalid(
          `array too long. Expected an array with maximum length ${limit}, but got an array with length ${length} instead.`,
          'array_above_max_length',
        )
      : invalid(
          `array too short. Expected an array with minimum length ${limit}, but got an array with length ${length} instead.`,
          'array_below_min_length',
        );
  }
  const kind = Number.isInteger(input) ? 'integer' : 'decimal';
  return big
    ? invalid(
        `${kind} above maximum value. Expected a value <= ${limit}, but got ${String(input)} instead.`,
        `${kind}_above_max_value`,
      )
    : invalid(
        `${kind} below minimum value. Expected a value >= ${limit}, but got ${String(input)} instead.`,
        `${kind}_below_min_value`,
      );
}

/**
 * A union failed every branch. The useful error is the one from the branch the caller meant: the branch that
 * got deepest into the value, and among equals one that failed on a limit rather than on the value's type.
 */
function unionError(issue: Extract<Issue, { code: 'invalid_union' }>, path: PropertyKey[], input: unknown): ApiError {
  const param = formatParam(path);
  if (input === undefined)
    return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  const discriminator = (issue as { discriminator?: string }).discriminator;
  if (discriminator !== undefined) {
    // zod reports a bad discriminator at the discriminator's own path, with the whole object as input.
    const value = (input as Record<string, unknown> | null)?.[discriminator];
    return value === undefined
      ? badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
      : badRequest(
          `Invalid value: ${quote(value)}. Supported values are: ${supported(issue)}.`,
          param,
          'invalid_value',
        );
  }
  const score = (i: Issue) => i.path.length * 10 + (i.code === 'invalid_type' ? 0 : 1);
  let best: Issue | undefined;
  for (const branch of issue.errors ?? []) {
    const first = branch[0];
    if (first && (!best || score(first) > score(best))) best = first;
  }
  if (best) return toApiError(best, path);
  return badRequest(
    `Invalid type for '${param}': got ${describe(input)}, which matches none of the accepted shapes.`,
    param,
    'invalid_type',
  );
}

function supported(issue: Extract<Issue, { code: 'invalid_union' }>): string {
  const options = (issue as { options?: unknown[] }).options;
  return options ? listValues(options) : 'see the API reference';
}

function listValues(values: readonly unknown[]): string {
  const quoted = values.map(quote);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')}${quoted.length > 2 ? ',' : ''} and ${quoted[quoted.length - 1]}`;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
}

function withArticle(expected: string): string {
  const noun = expected === 'record' ? 'object' : expected === 'int' ? 'integer' : expected;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'string') return 'a string';
  return 'an object';
}
