import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import type { Logger } from '../../logger';
import { CreateFileBody, ListFilesQuery } from '../../schemas/files';
import type { Services } from '../../services';
import { scopeOf } from '../http';
import { receiveUpload } from '../multipart';
import { parseRequest } from '../validation';

/** `POST /files` is multipart (streamed, never buffered); the rest are plain reads. No beta header here. */
export function filesRouter({ files }: Services, maxFileBytes: number): Router {
  const router = Router();
  // No prefix check: OpenAI answered any unknown file id, well-formed or not, with "No such File object".
  const fileId = (req: Request) => String(req.params.file_id ?? '');

  router.post('/files', async (req, res) => {
    const scope = scopeOf(res);
    const { body, staged } = await receiveUpload(req, res, {
      schema: CreateFileBody,
      fileField: 'file',
      maxFileBytes,
      stage: (file) => files.stage(scope, file),
      discard: (file) => files.discard(scope, file),
    });
    res.json(await files.create(scope, staged, body));
  });
  router.get('/files', async (req, res) => {
    res.json(await files.list(scopeOf(res), parseRequest(ListFilesQuery, req.query)));
  });
  router.get('/files/:file_id', async (req, res) => {
    res.json(await files.retrieve(scopeOf(res), fileId(req)));
  });
  router.delete('/files/:file_id', async (req, res) => {
    res.json(await files.delete(scopeOf(res), fileId(req)));
  });
  router.get('/files/:file_id/content', async (req, res) => {
    const { file, stream, range } = await files.content(scopeOf(res), fileId(req), req.get('range'));
    res.status(range ? 206 : 200);
    res.setHeader('Content-Type', file.mime_type);
    res.setHeader('Content-Length', range ? range.end - range.start + 1 : file.bytes);
    if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.bytes}`);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Disposition', attachment(file.filename));
    // An uploaded .html or .svg must never be rendered as a page of this origin.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      await pipeline(stream, res);
    } catch (error) {
      // Mostly a client that stopped reading; the response cannot carry an error any more either way.
      (res.locals.logger as Logger).debug({ err: error, fileId: file.id }, 'file download ended early');
    }
  });
  return router;
}

/** The name as an ASCII fallback and, for any other characters, RFC 5987's UTF-8 form. */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
