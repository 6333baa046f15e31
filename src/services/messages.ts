import type { Insertable } from 'kysely';
import type { Message } from 'openai/resources/beta/threads/messages';
import { badRequest, notFound } from '../errors';
import { newObjectId } from '../ids';
import type { ListMessagesQuery } from '../schemas/list';
import type { ContentPart, CreateMessageBody, ModifyMessageBody } from '../schemas/messages';
import { toJson } from '../store/json';
import type { MessageTable } from '../store/schema';
import { deletedObject, listEnvelope, messageObject } from '../wire/objects';
import type { RequestScope, ServiceDeps } from './context';
import { messageRefs, requireFiles } from './fileRefs';
import { addToThreadStore, fileSearchAttachments, vectorStoreMaker } from './fileSearchResources';
import { pageRequest } from './paging';
import { runRecovery } from './runRecovery';

/** Request content (a string, or parts whose `text` is a plain string) → the stored response shape. */
export function toMessageContent(content: CreateMessageBody['content']): Message['content'] {
  const parts: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return parts.map((part) => {
    switch (part.type) {
      case 'text':
        return { type: 'text', text: { value: part.text, annotations: [] } };
      case 'image_file':
        return { type: 'image_file', image_file: part.image_file };
      case 'image_url':
        return { type: 'image_url', image_url: part.image_url };
    }
  });
}

/** A message created through the API: complete at once, with no run or assistant behind it. */
export function newMessageRow(
  scope: RequestScope,
  threadId: string,
  body: CreateMessageBody,
): Insertable<MessageTable> {
  const { id, createdAt } = newObjectId('message');
  return {
    project_id: scope.projectId,
    id,
    thread_id: threadId,
    created_at: createdAt,
    role: body.role,
    status: 'completed',
    content: toJson(toMessageContent(body.content)),
    attachments: toJson(body.attachments ?? []),
    metadata: toJson(body.metadata ?? {}),
    assistant_id: null,
    run_id: null,
    completed_at: createdAt,
    incomplete_at: null,
    incomplete_details: null,
  };
}

export function messagesService(deps: ServiceDeps) {
  const { store } = deps;
  const repo = store.messages;
  const recovery = runRecovery(deps);

  async function requireThread(scope: RequestScope, threadId: string) {
    if (!(await store.threads.find(scope.projectId, threadId))) throw notFound('thread', threadId);
  }

  async function load(scope: RequestScope, threadId: string, id: string) {
    const row = await repo.find(scope.projectId, threadId, id);
    if (row) return row;
    await requireThread(scope, threadId);
    throw notFound('message', id);
  }

  return {
    async create(scope: RequestScope, threadId: string, body: CreateMessageBody) {
      await requireThread(scope, threadId);
      await requireFiles(store, scope, messageRefs(body, ''));
      const row = newMessageRow(scope, threadId, body);
      let { activeRunId } = await repo.insertIfThreadIdle(row);
      // A thread held by a run whose workflow no longer exists frees itself here rather than staying locked.
      if (await recovery.releasedBy(scope.projectId, activeRunId))
        ({ activeRunId } = await repo.insertIfThreadIdle(row));
      if (activeRunId) throw badRequest(`Can't add messages to ${threadId} while a run ${activeRunId} is active.`);
      // Files attached for file_search go into the thread's own store (made on demand).
      await addToThreadStore(store, vectorStoreMaker(deps), scope, threadId, fileSearchAttachments([body]));
      return messageObject(await load(scope, threadId, row.id));
    },

    async retrieve(scope: RequestScope, threadId: string, id: string) {
      return messageObject(await load(scope, threadId, id));
    },

    async modify(scope: RequestScope, threadId: string, id: string, body: ModifyMessageBody) {
      await load(scope, threadId, id);
      const changes = body.metadata === undefined ? {} : { metadata: toJson(body.metadata ?? {}) };
      const row = await repo.update(scope.projectId, threadId, id, changes);
      if (!row) throw notFound('message', id);
      return messageObject(row);
    },

    async delete(scope: RequestScope, threadId: string, id: string) {
      if (!(await repo.delete(scope.projectId, threadId, id))) {
        await requireThread(scope, threadId);
        throw notFound('message', id);
      }
      return deletedObject(id, 'thread.message.deleted');
    },

    async list(scope: RequestScope, threadId: string, query: ListMessagesQuery) {
      await requireThread(scope, threadId);
      const page = await pageRequest(query, 'msg_', (cursor) => repo.position(scope.projectId, threadId, cursor));
      const { rows, hasMore } = await repo.page(scope.projectId, threadId, page, query.run_id);
      return listEnvelope(rows.map(messageObject), hasMore);
    },
  };
}
