import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import { discardBody } from './http';
import { jsonBodyProblem } from './inspect';

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\s*(;|$)/i;

/**
 * The body reader of the JSON routes (mounted in front of them in app.ts; a route that takes another body,
 * such as a multipart upload, is mounted before it and reads its own).
 *
 * - A state-changing request whose Content-Type is not JSON is refused, body or not: a form post or a
 *   `text/plain` body was read as `{}` before, and those are exactly what a cross-origin page can send without
 *   a CORS preflight. No Content-Type at all (curl without `-d`) is still fine.
 * - The size cap is enforced while the bytes arrive: a declared Content-Length over it is refused before
 *   reading anything, a chunked body the moment it crosses it. The 413 goes out at once; the rest of the
 *   upload is read and dropped (bounded) rather than answered with a reset, which the client's HTTP stack
 *   could report instead of the 413 ("fetch failed").
 * - The parsed body is checked for what the schemas cannot see (inspect.ts): depth, NUL, `__proto__`.
 */
export function jsonBody(maxBytes: number): RequestHandler {
  return (req, res, next) => {
    const type = req.headers['content-type'];
    if (type !== undefined && !JSON_TYPE.test(type) && req.method !== 'GET' && req.method !== 'HEAD') {
      return next(unsupportedType(type));
    }
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) return next();

    let settled = false;
    const refuse = () => {
      settled = true;
      discardBody(req);
      next(tooLarge(maxBytes));
    };
    if (length !== undefined && Number(length) > maxBytes) return refuse();

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) return refuse();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        return next(
          new ApiError(
            400,
            'We could not parse the JSON body of your request. The API expects a JSON payload, but what was sent was not valid JSON.',
          ),
        );
      }
      const problem = jsonBodyProblem(body);
      if (problem) return next(problem);
      req.body = body;
      next();
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      next(error);
    });
  };
}

function unsupportedType(type: string): ApiError {
  return new ApiError(
    400,
    `Unsupported content type: '${type}'. This API method only accepts 'application/json' requests, but you specified the header 'Content-Type: ${type}'. Please try again with a supported content type.`,
    'invalid_request_error',
    null,
    'unsupported_content_type',
  );
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    `Request body too large: the limit is ${maxBytes} bytes.`,
    'invalid_request_error',
    null,
    'request_too_large',
  );
}
