import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ApiError, badRequest } from '../errors';
import { FileTooLargeError } from '../files';
import { discardBody } from './http';
import { parseRequest } from './validation';

/** A multipart part: a form field, or a file whose bytes must be read before the next part arrives. */
type Part =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; filename: string; mimeType: string; stream: Readable };

export interface IncomingFile {
  filename: string;
  mimeType: string;
  body: Readable;
}

export interface UploadOptions<S extends z.ZodObject, Staged> {
  /** The form fields other than the file, after bracket keys are unfolded. */
  schema: S;
  /** The name of the part that carries the file (`file`). */
  fileField: string;
  maxFileBytes: number;
  /** Streams the file's bytes to storage; called once, while the request is still being read. */
  stage(file: IncomingFile): Promise<Staged>;
  /** Undoes `stage` when the rest of the request turns out to be invalid. */
  discard(staged: Staged): Promise<void>;
}

/** Form fields are short; anything bigger is not one of ours. */
const FIELD_LIMITS = { fields: 20, fieldSize: 64 * 1024, files: 5, parts: 30 };
/** What a form may add around its file (headers and other fields) before its length is obviously too much. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;
/** How much of a refused upload is still read (and dropped) so the client sees the answer, not a reset. */
const DISCARD_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Reads a `multipart/form-data` upload without ever holding its file in memory: the file part is streamed to
 * `stage` as it arrives (busboy stops reading the socket while storage is busy), and the other fields are
 * checked against `schema`: those sent before the file are checked before any byte is stored, the rest once the
 * body has ended. Whatever goes wrong — a bad field, a missing file, a file over the cap, a client that
 * disconnects halfway — the staged file is discarded and the error is thrown; nothing is left behind.
 */
export async function receiveUpload<S extends z.ZodObject, Staged>(
  req: Request,
  res: Response,
  options: UploadOptions<S, Staged>,
): Promise<{ body: z.output<S>; staged: Staged }> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(type)) {
    throw badRequest(`Invalid Content-Type header (${type || 'none'}), expected multipart/form-data.`);
  }
  if (Number(req.headers['content-length'] ?? 0) > options.maxFileBytes + FORM_OVERHEAD_BYTES) {
    discardBody(req, DISCARD_BUDGET_BYTES);
    throw fileTooLarge(options.maxFileBytes);
  }

  let parser: busboy.Busboy;
  try {
    // preservePath: the name is kept exactly as sent (it is data); utf8: what browsers and the SDKs send.
    parser = busboy({ headers: req.headers, preservePath: true, defParamCharset: 'utf8', limits: FIELD_LIMITS });
  } catch {
    throw badRequest('Invalid multipart/form-data body: the Content-Type header has no boundary.');
  }
  // Null-prototype objects: a field named `__proto__[x]` is just an unknown field, never a prototype write.
  const fields = Object.create(null) as Record<string, string>;
  let staged: { value: Staged } | undefined;
  try {
    for await (const part of partsOf(req, parser)) {
      if (part.kind === 'field') {
        if (part.name === options.fileField) {
          throw badRequest(
            `Invalid '${part.name}': expected a file (a part with a filename), but got a plain form field.`,
            part.name,
            'invalid_type',
          );
        }
        fields[part.name] = part.value;
        continue;
      }
      if (part.name !== options.fileField) {
        throw badRequest(`Unrecognized request argument supplied: ${part.name}`, part.name, 'unknown_parameter');
      }
      if (staged) throw badRequest('Only one file can be uploaded per request.', part.name, 'invalid_value');
      // Fields that came first (Python's SDK sends them before the file) are checked before a byte is stored.
      parseRequest(options.schema.partial(), unfold(fields));
      const file = { filename: part.filename, mimeType: part.mimeType, body: part.stream };
      staged = { value: await options.stage(file) };
    }
    if (!staged) {
      throw badRequest(
        `Missing required parameter: '${options.fileField}'.`,
        options.fileField,
        'missing_required_parameter',
      );
    }
    return { body: parseRequest(options.schema, unfold(fields)), staged: staged.value };
  } catch (error) {
    if (staged) await options.discard(staged.value);
    req.unpipe(parser);
    parser.destroy();
    if (!req.complete && !req.destroyed) discardBody(req, DISCARD_BUDGET_BYTES);
    throw error instanceof FileTooLargeError ? fileTooLarge(error.maxBytes) : error;
  }
}

/** OpenAI answered an oversized upload with 400 `File is too large.`; the limit is added to the text. */
function fileTooLarge(maxBytes: number): ApiError {
  return badRequest(`File is too large. The largest file this server accepts is ${maxBytes} bytes.`, 'file');
}

/**
 * busboy's events as an ordered sequence of parts. A client that disconnects before the body ends, or a body
 * that is not valid multipart, fails the sequence (and the file stream being read) with a 400.
 */
async function* partsOf(req: Request, parser: busboy.Busboy): AsyncGenerator<Part> {
  const queue: Part[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: Error) => {
    failure ??= error;
    notify();
  };

  parser.on('field', (name, value, info) => {
    if (info.valueTruncated || info.nameTruncated) fail(badRequest(`Invalid '${name}': the value is too long.`, name));
    else queue.push({ kind: 'field', name, value });
    notify();
  });
  parser.on('file', (name, stream, info) => {
    // A part with no name (or an empty one) is named as Python's httpx names bare bytes.
    queue.push({ kind: 'file', name, filename: info.filename || 'upload', mimeType: info.mimeType, stream });
    notify();
  });
  for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
    parser.on(limit, () => fail(badRequest('Invalid multipart/form-data body: too many parts.')));
  }
  parser.on('error', (error: Error) =>
    fail(error instanceof ApiError ? error : badRequest(`Invalid multipart/form-data body: ${error.message}.`)),
  );
  parser.on('close', () => {
    done = true;
    notify();
  });
  // A client gone mid-body: busboy would wait forever for the rest. Destroying it fails the file stream being
  // read too, which makes storage drop what it had written.
  const cutOff = () => {
    if (!req.complete) parser.destroy(badRequest('The request body ended before the upload was complete.'));
  };
  req.once('close', cutOff);
  req.once('error', cutOff);
  req.pipe(parser);
  try {
    for (;;) {
      const next = queue.shift();
      if (next) yield next;
      else if (failure) throw failure;
      else if (done) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    req.off('close', cutOff);
    req.off('error', cutOff);
  }
}

/** `{"expires_after[seconds]": "3600"}` → `{ expires_after: { seconds: "3600" } }`, as the SDKs encode objects. */
export function unfold(fields: Record<string, string>): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    const [head, ...rest] = name.split('[');
    const keys = [head ?? '', ...rest.map((key) => key.replace(/\]$/, ''))];
    let node: Record<string, unknown> = out;
    keys.forEach((key, index) => {
      if (index === keys.length - 1) {
        node[key] = value;
        return;
      }
      const child = node[key];
      node = (typeof child === 'object' && child !== null ? child : (node[key] = Object.create(null))) as Record<
        string,
        unknown
      >;
    });
  }
  return out;
}
