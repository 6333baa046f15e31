import { sql } from 'kysely';
import type { ChunkingStrategy, InlineVectorStore, ToolResources } from '../schemas/common';
import type { CreateMessageBody } from '../schemas/messages';
import type { Store } from '../store';
import { fromJson, toJson } from '../store/json';
import { nowSeconds, type RequestScope, type ServiceDeps } from './context';
import { addFilesToVectorStore, createVectorStoreWithFiles, vectorStoreDeps } from './vectorStoreIngest';

/**
 * What file_search's resources need from the vector stores: make a store with files and start their
 * ingestion, and add files to a store. Both return once the rows are written; ingestion goes on durably.
 */
export interface VectorStoreMaker {
  create(
    scope: RequestScope,
    input: {
      file_ids: string[];
      chunking_strategy?: ChunkingStrategy;
      metadata?: Record<string, string> | null;
      expires_after?: { anchor: 'last_active_at'; days: number };
    },
  ): Promise<{ id: string }>;
  /** False (nothing added) when the store is gone or expired: the caller makes a new one in its place. */
  addFiles(scope: RequestScope, vectorStoreId: string, fileIds: string[]): Promise<boolean>;
}

/** The maker over the vector store service (vectorStoreIngest.ts): files checked, ingestion started. */
export function vectorStoreMaker(deps: ServiceDeps): VectorStoreMaker {
  const stores = vectorStoreDeps(deps);
  return {
    async create(scope, input) {
      const row = await createVectorStoreWithFiles(stores, scope, {
        metadata: input.metadata,
        expiresAfterDays: input.expires_after?.days ?? null,
        files: input.file_ids.map((fileId, i) => ({
          fileId,
          param: `file_ids[${i}]`,
          chunking: input.chunking_strategy,
        })),
      });
      return { id: row.id };
    },
    async addFiles(scope, vectorStoreId, fileIds) {
      const target = await deps.store.vectorStores.findStore(scope.projectId, vectorStoreId);
      if (!target || (target.expires_at !== null && target.expires_at <= nowSeconds())) return false;
      // A file already in the store is left as it is (adding it again would ingest it afresh).
      const fresh: string[] = [];
      for (const fileId of fileIds) {
        if (!(await deps.store.vectorStores.findFile(scope.projectId, vectorStoreId, fileId))) fresh.push(fileId);
      }
      const files = fresh.map((fileId) => ({ fileId, param: 'attachments' }));
      if (files.length > 0) await addFilesToVectorStore(stores, scope, vectorStoreId, files);
      return true;
    },
  };
}

/** OpenAI: a thread's own store, made for message attachments, expires 7 days after its last activity. */
export const THREAD_STORE_EXPIRY = { anchor: 'last_active_at', days: 7 } as const;

/** The files messages attach for the file_search tool, in order, once each. */
export function fileSearchAttachments(messages: CreateMessageBody[] | null | undefined): string[] {
  const ids = (messages ?? []).flatMap((message) =>
    (message.attachments ?? []).filter((a) => a.tools.some((t) => t.type === 'file_search')).map((a) => a.file_id),
  );
  return [...new Set(ids)];
}

/**
 * `tool_resources` as stored for a new assistant or thread: a store given inline (`file_search.vector_stores`)
 * is created with its files and replaced by its id; files attached to the thread's first messages for
 * file_search go into the thread's store (the one given or made inline, else a new one that expires 7 days
 * after its last activity). Called after the request was validated (files exist), before the row is written:
 * a store is made only for a request that is otherwise good.
 */
export async function resolveFileSearchResources(
  maker: VectorStoreMaker,
  scope: RequestScope,
  resources: ToolResources | null | undefined,
  param: string,
  attachments: string[] = [],
): Promise<ToolResources | null | undefined> {
  const inline = resources?.file_search?.vector_stores as InlineVectorStore[] | undefined;
  const given = resources?.file_search?.vector_store_ids ?? [];
  if (!inline?.length && attachments.length === 0) return resources;
  let id: string;
  if (inline?.length) {
    const [spec] = inline;
    ({ id } = await maker.create(scope, {
      file_ids: [...new Set([...(spec!.file_ids ?? []), ...attachments])],
      chunking_strategy: spec!.chunking_strategy,
      metadata: spec!.metadata,
    }));
  } else if (given.length > 0 && (await maker.addFiles(scope, given[0]!, attachments))) {
    id = given[0]!;
  } else {
    ({ id } = await maker.create(scope, { file_ids: attachments, expires_after: THREAD_STORE_EXPIRY }));
  }
  return { ...(resources ?? {}), file_search: { vector_store_ids: [id] } };
}

/**
 * Files attached to a new message of an existing thread for file_search go into the thread's store: the one
 * its `tool_resources.file_search` names, or one made now (expiring 7 days after its last activity) and set on
 * the thread — also in place of a named store that is gone or expired (a thread names at most one). Two requests racing to make it: the thread keeps the first store set (compare-and-set on the
 * stored resources), and the loser's files go into that one too.
 */
export async function addToThreadStore(
  store: Store,
  maker: VectorStoreMaker,
  scope: RequestScope,
  threadId: string,
  fileIds: string[],
): Promise<void> {
  if (fileIds.length === 0) return;
  for (let attempt = 0; attempt < 3; attempt++) {
    const thread = await store.threads.find(scope.projectId, threadId);
    if (!thread) return;
    type Stored = { file_search?: { vector_store_ids?: string[] } } & Record<string, unknown>;
    const resources = fromJson<Stored | null>(thread.tool_resources) ?? {};
    const current = resources.file_search?.vector_store_ids?.[0];
    if (current && (await maker.addFiles(scope, current, fileIds))) return;
    const made = await maker.create(scope, { file_ids: fileIds, expires_after: THREAD_STORE_EXPIRY });
    const next = toJson({ ...resources, file_search: { vector_store_ids: [made.id] } });
    const result = await store.db
      .updateTable('threads')
      .set({ tool_resources: next })
      .where('project_id', '=', scope.projectId)
      .where('id', '=', threadId)
      .where(
        thread.tool_resources === null
          ? sql<boolean>`tool_resources IS NULL`
          : sql<boolean>`tool_resources = ${thread.tool_resources}`,
      )
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return;
    // Lost the race: the other request's store is the thread's now; ours holds the same files and expires.
  }
  throw new Error(`thread ${threadId}: its tool_resources kept changing while its vector store was being set`);
}
