import type { Insertable, Updateable } from 'kysely';
import { notFound } from '../errors';
import { newObjectId } from '../ids';
import type { ListQuery } from '../schemas/list';
import type { CreateThreadBody, ModifyThreadBody } from '../schemas/threads';
import { toJson } from '../store/json';
import type { MessageTable, ThreadTable } from '../store/schema';
import { deletedObject, listEnvelope, threadObject } from '../wire/objects';
import type { RequestScope, ServiceDeps } from './context';
import { newMessageRow } from './messages';
import { messagesRefs, requireFiles, toolResourceRefs } from './fileRefs';
import { fileSearchAttachments, resolveFileSearchResources, vectorStoreMaker } from './fileSearchResources';
import { pageRequest } from './paging';
import { mergeToolResources, toolResourcesJson } from './toolResources';

/** A new thread's row and its initial messages, in the given order (written by the caller, in one transaction). */
export function newThreadRows(
  scope: RequestScope,
  body: CreateThreadBody,
): { row: Insertable<ThreadTable>; messages: Insertable<MessageTable>[] } {
  const { id, createdAt } = newObjectId('thread');
  return {
    row: {
      project_id: scope.projectId,
      id,
      created_at: createdAt,
      tool_resources: toolResourcesJson(body.tool_resources),
      metadata: toJson(body.metadata ?? {}),
    },
    messages: (body.messages ?? []).map((message) => newMessageRow(scope, id, message)),
  };
}

export function threadsService(deps: ServiceDeps) {
  const { store } = deps;
  const repo = store.threads;

  async function load(scope: RequestScope, id: string) {
    const row = await repo.find(scope.projectId, id);
    if (!row) throw notFound('thread', id);
    return row;
  }

  return {
    /** The thread and its initial messages are written in one transaction, messages in the given order. */
    async create(scope: RequestScope, body: CreateThreadBody) {
      await requireFiles(store, scope, [
        ...toolResourceRefs(body.tool_resources, 'tool_resources'),
        ...messagesRefs(body.messages, 'messages'),
      ]);
      const tool_resources = await resolveFileSearchResources(
        vectorStoreMaker(deps),
        scope,
        body.tool_resources,
        'tool_resources',
        fileSearchAttachments(body.messages),
      );
      const { row, messages } = newThreadRows(scope, { ...body, tool_resources });
      await repo.insertWithMessages(row, messages);
      return threadObject(await load(scope, row.id));
    },

    async retrieve(scope: RequestScope, id: string) {
      return threadObject(await load(scope, id));
    },

    async modify(scope: RequestScope, id: string, body: ModifyThreadBody) {
      const current = await load(scope, id);
      await requireFiles(store, scope, toolResourceRefs(body.tool_resources, 'tool_resources'));
      const changes: Updateable<ThreadTable> = {};
      if (body.metadata !== undefined) changes.metadata = toJson(body.metadata ?? {});
      if (body.tool_resources !== undefined) {
        changes.tool_resources = mergeToolResources(current.tool_resources, body.tool_resources);
      }
      const row = await repo.update(scope.projectId, id, changes);
      if (!row) throw notFound('thread', id);
      return threadObject(row);
    },

    async delete(scope: RequestScope, id: string) {
      if (!(await repo.delete(scope.projectId, id))) throw notFound('thread', id);
      return deletedObject(id, 'thread.deleted');
    },

    /** Not in OpenAI's API (it never had a thread list); a Threadline extension with the standard parameters. */
    async list(scope: RequestScope, query: ListQuery) {
      const page = await pageRequest(query, 'thread_', (cursor) => repo.position(scope.projectId, cursor));
      const { rows, hasMore } = await repo.page(scope.projectId, page);
      return listEnvelope(rows.map(threadObject), hasMore);
    },
  };
}
