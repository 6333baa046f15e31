import { ApiError, badRequest, notFound } from '../errors';
import { newObjectId } from '../ids';
import type { ListQuery } from '../schemas/list';
import type {
  CreateFileBatchBody,
  CreateVectorStoreBody,
  CreateVectorStoreFileBody,
  ListVectorStoreFilesQuery,
  SearchBody,
  UpdateVectorStoreBody,
} from '../schemas/vectorStores';
import { toJson } from '../store/json';
import { NO_FILES, type VectorStoreRow } from '../store/repositories/vectorStores';
import { rewrittenQuery } from '../vectorStores/queryTerms';
import { searchVectorStores } from '../vectorStores/search';
import { deletedObject, listEnvelope } from '../wire/objects';
import { fileBatchObject, vectorStoreFileObject, vectorStoreObject } from '../wire/vectorStores';
import { nowSeconds, type RequestScope } from './context';
import { pageRequest } from './paging';
import {
  addFilesToVectorStore,
  createVectorStoreWithFiles,
  type FileToAdd,
  type VectorStoreDeps,
} from './vectorStoreIngest';

const DAY_SECONDS = 86_400;
const ACTIVITY_RESOLUTION_SECONDS = 60;

/** The vector store endpoints (reference §1.7–1.9). Every id is looked up in the caller's project only. */
export function vectorStoresService(deps: VectorStoreDeps) {
  const repo = deps.store.vectorStores;

  async function loadStore(scope: RequestScope, id: string): Promise<VectorStoreRow> {
    const row = await repo.findStore(scope.projectId, id);
    if (!row) throw notFound('vector store', id);
    return row;
  }

  async function present(row: VectorStoreRow) {
    const totals = (await repo.totals([row.id])).get(row.id) ?? { counts: { ...NO_FILES }, usageBytes: 0 };
    return vectorStoreObject(row, totals, nowSeconds());
  }

  /** Files are only added to (and searched in) a store that has not expired. */
  async function usableStore(scope: RequestScope, id: string): Promise<VectorStoreRow> {
    const row = await loadStore(scope, id);
    if (row.expires_at !== null && row.expires_at <= nowSeconds()) {
      throw badRequest(`Vector store ${id} has expired.`, 'vector_store_id', 'vector_store_expired');
    }
    return row;
  }

  async function loadFile(scope: RequestScope, storeId: string, fileId: string) {
    await loadStore(scope, storeId);
    const row = await repo.findFile(scope.projectId, storeId, fileId);
    if (!row) {
      throw new ApiError(
        404,
        `No file found with id '${fileId}' in vector store '${storeId}'.`,
        'invalid_request_error',
        null,
        null,
      );
    }
    return row;
  }

  async function loadBatch(scope: RequestScope, storeId: string, batchId: string) {
    await loadStore(scope, storeId);
    const row = await repo.findBatch(scope.projectId, storeId, batchId);
    if (!row) throw notFound('file batch', batchId);
    return row;
  }

  async function batchObject(row: Parameters<typeof fileBatchObject>[0]) {
    return fileBatchObject(row, await repo.batchCounts(row.id));
  }

  return {
    async create(scope: RequestScope, body: CreateVectorStoreBody) {
      const row = await createVectorStoreWithFiles(deps, scope, {
        name: body.name,
        description: body.description,
        metadata: body.metadata,
        expiresAfterDays: body.expires_after?.days ?? null,
        files: (body.file_ids ?? []).map((fileId, i) => ({
          fileId,
          param: `file_ids[${i}]`,
          chunking: body.chunking_strategy,
        })),
      });
      return present(row);
    },

    async list(scope: RequestScope, query: ListQuery) {
      const page = await pageRequest(query, 'vs_', (id) => repo.storePosition(scope.projectId, id));
      const { rows, hasMore } = await repo.pageStores(scope.projectId, page);
      const totals = await repo.totals(rows.map((row) => row.id));
      const now = nowSeconds();
      return listEnvelope(
        rows.map((row) =>
          vectorStoreObject(row, totals.get(row.id) ?? { counts: { ...NO_FILES }, usageBytes: 0 }, now),
        ),
        hasMore,
      );
    },

    async retrieve(scope: RequestScope, id: string) {
      return present(await loadStore(scope, id));
    },

    async update(scope: RequestScope, id: string, body: UpdateVectorStoreBody) {
      const row = await loadStore(scope, id);
      const changes: Parameters<typeof repo.updateStore>[2] = {};
      if (body.name !== undefined) changes.name = body.name;
      if (body.metadata !== undefined) changes.metadata = toJson(body.metadata ?? {});
      if (body.expires_after !== undefined) {
        const days = body.expires_after?.days ?? null;
        changes.expires_after_days = days;
        changes.expires_at = days === null ? null : row.last_active_at + days * DAY_SECONDS;
      }
      return present((await repo.updateStore(scope.projectId, id, changes)) ?? row);
    },

    async delete(scope: RequestScope, id: string) {
      if (!(await repo.deleteStore(scope.projectId, id))) throw notFound('vector store', id);
      await deps.search.vectors?.removeStore(id);
      return deletedObject(id, 'vector_store.deleted');
    },

    async search(scope: RequestScope, id: string, body: SearchBody) {
      const store = await usableStore(scope, id);
      const given = typeof body.query === 'string' ? [body.query] : body.query;
      // rewrite_query: OpenAI had a model rewrite a question into a search query. Here a query is rewritten into
      // the words the keyword index searches for (lowercased, English stop words out), which is also what is
      // embedded; `search_query` shows what was searched either way.
      const queries = body.rewrite_query ? given.map(rewrittenQuery) : given;
      const hits = await searchVectorStores(deps.search, {
        projectId: scope.projectId,
        vectorStoreIds: [id],
        queries,
        maxNumResults: body.max_num_results ?? 10,
        filters: body.filters ?? undefined,
        scoreThreshold: body.ranking_options?.score_threshold,
        ranker: body.ranking_options?.ranker,
      });
      // A search is activity (it moves the expiry), recorded at most once a minute: not a write per search.
      const now = nowSeconds();
      if (now - store.last_active_at >= ACTIVITY_RESOLUTION_SECONDS) await repo.touch(scope.projectId, id, now);
      return {
        object: 'vector_store.search_results.page' as const,
        search_query: queries,
        data: hits.map((hit) => ({
          file_id: hit.fileId,
          filename: hit.filename,
          score: hit.score,
          attributes: hit.attributes,
          content: [{ type: 'text' as const, text: hit.text }],
        })),
        has_more: false,
        next_page: null,
      };
    },

    // ---- files ----

    async createFile(scope: RequestScope, storeId: string, body: CreateVectorStoreFileBody) {
      await usableStore(scope, storeId);
      const file: FileToAdd = {
        fileId: body.file_id,
        param: 'file_id',
        chunking: body.chunking_strategy,
        attributes: body.attributes,
      };
      await addFilesToVectorStore(deps, scope, storeId, [file]);
      return vectorStoreFileObject((await repo.findFile(scope.projectId, storeId, body.file_id))!);
    },

    async listFiles(scope: RequestScope, storeId: string, query: ListVectorStoreFilesQuery, batchId?: string) {
      if (batchId) await loadBatch(scope, storeId, batchId);
      else await loadStore(scope, storeId);
      const page = await pageRequest(query, 'file-', (id) => repo.filePosition(scope.projectId, storeId, id));
      const { rows, hasMore } = await repo.pageFiles(scope.projectId, storeId, page, {
        status: query.filter,
        batchId,
      });
      return listEnvelope(rows.map(vectorStoreFileObject), hasMore);
    },

    async retrieveFile(scope: RequestScope, storeId: string, fileId: string) {
      return vectorStoreFileObject(await loadFile(scope, storeId, fileId));
    },

    async updateFile(scope: RequestScope, storeId: string, fileId: string, attributes: Record<string, unknown> | null) {
      await loadFile(scope, storeId, fileId);
      const row = await repo.updateAttributes(scope.projectId, storeId, fileId, attributes ? toJson(attributes) : null);
      if (!row) throw notFound('file', fileId);
      return vectorStoreFileObject(row);
    },

    async deleteFile(scope: RequestScope, storeId: string, fileId: string) {
      await loadStore(scope, storeId);
      if (!(await repo.removeFile(scope.projectId, storeId, fileId))) {
        throw new ApiError(
          404,
          `No file found with id '${fileId}' in vector store '${storeId}'.`,
          'invalid_request_error',
          null,
          null,
        );
      }
      await deps.search.vectors?.removeFile(storeId, fileId);
      return deletedObject(fileId, 'vector_store.file.deleted');
    },

    /** The file's parsed text, as one page (empty while the file has not been read yet). */
    async fileContent(scope: RequestScope, storeId: string, fileId: string) {
      await loadFile(scope, storeId, fileId);
      const text = await repo.fileContent(scope.projectId, storeId, fileId);
      return {
        object: 'vector_store.file_content.page' as const,
        data: text === undefined ? [] : [{ type: 'text' as const, text }],
        has_more: false,
        next_page: null,
      };
    },

    // ---- batches ----

    async createBatch(scope: RequestScope, storeId: string, body: CreateFileBatchBody) {
      await usableStore(scope, storeId);
      const files: FileToAdd[] = body.files
        ? body.files.map((file, i) => ({
            fileId: file.file_id,
            param: `files[${i}].file_id`,
            chunking: file.chunking_strategy,
            attributes: file.attributes,
          }))
        : (body.file_ids ?? []).map((fileId, i) => ({
            fileId,
            param: `file_ids[${i}]`,
            chunking: body.chunking_strategy,
            attributes: body.attributes,
          }));
      const { id } = newObjectId('vectorStoreFileBatch');
      await addFilesToVectorStore(deps, scope, storeId, files, id);
      return batchObject((await repo.findBatch(scope.projectId, storeId, id))!);
    },

    async retrieveBatch(scope: RequestScope, storeId: string, batchId: string) {
      return batchObject(await loadBatch(scope, storeId, batchId));
    },

    /**
     * Cancels the batch's files not finished yet (they end `cancelled`, with nothing indexed) and stops its
     * workflow. A batch that has already finished is answered as it is.
     */
    async cancelBatch(scope: RequestScope, storeId: string, batchId: string) {
      const batch = await loadBatch(scope, storeId, batchId);
      const before = await batchObject(batch);
      if (before.status !== 'in_progress') return before;
      const cancelled = await repo.cancelBatch(batch);
      await deps.ingestion.cancelBatch(batchId);
      if (deps.search.vectors) {
        for (const fileId of cancelled) await deps.search.vectors.removeFile(storeId, fileId);
      }
      return batchObject((await repo.findBatch(scope.projectId, storeId, batchId)) ?? batch);
    },
  };
}
