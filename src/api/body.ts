import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import { discardBody } from './http';

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

/**
 * Reads a JSON request body with a hard size cap enforced while the bytes arrive: a declared
 * Content-Length over the cap is refused before reading anything, and a chunked body is refused the moment it
 * crosses the cap. The 413 goes out at once (Connection: close) instead of after the whole upload, which is
 * what a buffering parser would do; the rest of the upload is discarded, never kept in memory.
 */
export function jsonBody(maxBytes: number): RequestHandler {
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) return next();
    const type = req.headers['content-type'];
    if (type !== undefined && !JSON_TYPE.test(type)) return next();

    let settled = false;
    const refuse = () => {
      settled = true;
      discardBody(req, res, 8 * maxBytes);
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
      try {
        req.body = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        return next(
          new ApiError(
            400,
            'We could not parse the JSON body of your request. The API expects a JSON payload, but what was sent was not valid JSON.',
          ),
        );
      }
      next();
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      next(error);
    });
  };
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
