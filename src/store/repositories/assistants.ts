import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { AssistantTable } from '../schema';

export type AssistantRow = Selectable<AssistantTable>;

export function assistantsRepository(db: Db) {
  return {
    async insert(row: Insertable<AssistantTable>): Promise<void> {
      await db.insertInto('assistants').values(row).execute();
    },

    find(projectId: string, id: string): Promise<AssistantRow | undefined> {
      return db
        .selectFrom('assistants')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /** Updates and reads back in one transaction so a concurrent delete cannot return a ghost. */
    update(projectId: string, id: string, changes: Updateable<AssistantTable>): Promise<AssistantRow | undefined> {
      return db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length > 0) {
          await trx
            .updateTable('assistants')
            .set(changes)
            .where('project_id', '=', projectId)
            .where('id', '=', id)
            .execute();
        }
        return trx
          .selectFrom('assistants')
          .selectAll()
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .executeTakeFirst();
      });
    },

    async delete(projectId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('assistants')
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    position(projectId: string, id: string): Promise<Position | undefined> {
      return db
        .selectFrom('assistants')
        .select(['created_at as createdAt', 'id'])
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, page: PageRequest): Promise<Page<AssistantRow>> {
      return keysetPage(db.selectFrom('assistants').selectAll().where('project_id', '=', projectId), page);
    },
  };
}
