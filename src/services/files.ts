import type { Readable } from 'node:stream';
import { ApiError } from '../errors';
import { resolveRange, type ByteRange, type FileBody, type StagedFile } from '../files';
import type { CreateFileBody, ListFilesQuery } from '../schemas/files';
import type { FileRow } from '../store/repositories/files';
import { fileDeletedObject, fileObject } from '../wire/files';
import { listEnvelope } from '../wire/objects';
import type { RequestScope, ServiceDeps } from './context';
import { pageRequest } from './paging';

/** `batch` files expire after 30 days unless the upload says otherwise (spec); other purposes are kept. */
const BATCH_EXPIRY_SECONDS = 30 * 24 * 60 * 60;

/** OpenAI's text for an unknown file, wherever the id was named; `param` says where. */
export function noSuchFile(id: string, param: string): ApiError {
  return new ApiError(404, `No such File object: ${id}`, 'invalid_request_error', param, null);
}

export function filesService({ store, vectorStores }: ServiceDeps) {
  const files = store.files;

  async function load(scope: RequestScope, id: string): Promise<FileRow> {
    const row = await files.find(scope.projectId, id);
    if (!row) throw noSuchFile(id, 'id');
    return row;
  }

  return {
    /** Streams an upload's bytes to storage behind an invisible row; `create` then makes it a file. */
    stage(scope: RequestScope, file: { filename: string; mimeType: string; body: FileBody }): Promise<StagedFile> {
      return files.stage(scope.projectId, file);
    },

    discard(scope: RequestScope, staged: StagedFile): Promise<void> {
      return files.discard(scope.projectId, staged.id);
    },

    async create(scope: RequestScope, staged: StagedFile, body: CreateFileBody) {
      const seconds = body.expires_after?.seconds ?? (body.purpose === 'batch' ? BATCH_EXPIRY_SECONDS : undefined);
      try {
        const row = await files.commit(scope.projectId, staged, {
          purpose: body.purpose,
          // Anchored at created_at, the only anchor the spec has.
          expiresAt: seconds === undefined ? null : staged.createdAt + seconds,
        });
        return fileObject(row);
      } catch (error) {
        await files.discard(scope.projectId, staged.id);
        throw error;
      }
    },

    async retrieve(scope: RequestScope, id: string) {
      return fileObject(await load(scope, id));
    },

    async list(scope: RequestScope, query: ListFilesQuery) {
      const page = await pageRequest(query, 'file-', (cursor) => files.position(scope.projectId, cursor));
      const { rows, hasMore } = await files.page(scope.projectId, page, query.purpose);
      return listEnvelope(rows.map(fileObject), hasMore);
    },

    /** Deletes the file and removes it from every vector store (the spec: "remove it from all vector stores"). */
    async delete(scope: RequestScope, id: string) {
      if (!(await files.delete(scope.projectId, id))) throw noSuchFile(id, 'id');
      const stores = await store.vectorStores.removeFileEverywhere(scope.projectId, id);
      for (const storeId of stores) await vectorStores.search.vectors?.removeFile(storeId, id);
      return fileDeletedObject(id);
    },

    /**
     * The file's bytes, or the part a `Range` header asks for. Every purpose can be downloaded: OpenAI refused
     * uploads of purpose `assistants`, but a self-hosted server has no reason to keep users' own bytes from them.
     */
    async content(
      scope: RequestScope,
      id: string,
      rangeHeader: string | undefined,
    ): Promise<{ file: FileRow; stream: Readable; range: ByteRange | undefined }> {
      const file = await load(scope, id);
      const range = resolveRange(rangeHeader, file.bytes);
      if (range === 'unsatisfiable') {
        throw new ApiError(
          416,
          `Requested range not satisfiable: ${id} has ${file.bytes} bytes.`,
          'invalid_request_error',
          'range',
        );
      }
      const opened = await files.open(scope.projectId, id, range);
      if (!opened) throw noSuchFile(id, 'id');
      return { file: opened.row, stream: opened.stream, range };
    },
  };
}
