import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { MessageTable, ThreadTable } from '../schema';

export type ThreadRow = Selectable<ThreadTable>;

export function threadsRepository(db: Db) {
  return {
    /** A thread and its initial messages land together or not at all. */
    async insertWithMessages(thread: Insertable<ThreadTable>, messages: Insertable<MessageTable>[]): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('threads').values(thread).execute();
        if (messages.length > 0) await trx.insertInto('messages').values(messages).execute();
      });
    },

    find(projectId: string, id: string): Promise<ThreadRow | undefined> {
      return db
        .selectFrom('threads')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    update(projectId: string, id: string, changes: Updateable<ThreadTable>): Promise<ThreadRow | undefined> {
      return db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length > 0) {
          await trx
            .updateTable('threads')
            .set(changes)
            .where('project_id', '=', projectId)
            .where('id', '=', id)
            .execute();
        }
        return trx
          .selectFrom('threads')
          .selectAll()
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .executeTakeFirst();
      });
    },

    /** Deletes the thread and its messages in one transaction (the FK cascades too; this does not rely on it). */
    delete(projectId: string, id: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('messages').where('project_id', '=', projectId).where('thread_id', '=', id).execute();
        const result = await trx
          .deleteFrom('threads')
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },

    position(projectId: string, id: string): Promise<Position | undefined> {
      return db
        .selectFrom('threads')
        .select(['created_at as createdAt', 'id'])
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, page: PageRequest): Promise<Page<ThreadRow>> {
      return keysetPage(db.selectFrom('threads').selectAll().where('project_id', '=', projectId), page);
    },
  };
}
