import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { MessageTable } from '../schema';

export type MessageRow = Selectable<MessageTable>;

export function messagesRepository(db: Db) {
  const scoped = (projectId: string, threadId: string) =>
    db.selectFrom('messages').where('project_id', '=', projectId).where('thread_id', '=', threadId);

  return {
    async insert(row: Insertable<MessageTable>): Promise<void> {
      await db.insertInto('messages').values(row).execute();
    },

    find(projectId: string, threadId: string, id: string): Promise<MessageRow | undefined> {
      return scoped(projectId, threadId).selectAll().where('id', '=', id).executeTakeFirst();
    },

    update(
      projectId: string,
      threadId: string,
      id: string,
      changes: Updateable<MessageTable>,
    ): Promise<MessageRow | undefined> {
      return db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length > 0) {
          await trx
            .updateTable('messages')
            .set(changes)
            .where('project_id', '=', projectId)
            .where('thread_id', '=', threadId)
            .where('id', '=', id)
            .execute();
        }
        return trx
          .selectFrom('messages')
          .selectAll()
          .where('project_id', '=', projectId)
          .where('thread_id', '=', threadId)
          .where('id', '=', id)
          .executeTakeFirst();
      });
    },

    async delete(projectId: string, threadId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('messages')
        .where('project_id', '=', projectId)
        .where('thread_id', '=', threadId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    position(projectId: string, threadId: string, id: string): Promise<Position | undefined> {
      return scoped(projectId, threadId)
        .select(['created_at as createdAt', 'id'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, threadId: string, page: PageRequest, runId?: string): Promise<Page<MessageRow>> {
      let query = scoped(projectId, threadId).selectAll();
      if (runId !== undefined) query = query.where('run_id', '=', runId);
      return keysetPage(query, page);
    },
  };
}
