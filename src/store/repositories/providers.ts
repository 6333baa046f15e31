import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import type { ModelProviderTable } from '../schema';

export type ModelProviderRow = Selectable<ModelProviderTable>;

export function providersRepository(db: Db) {
  return {
    async insert(row: Insertable<ModelProviderTable>): Promise<void> {
      await db.insertInto('model_providers').values(row).execute();
    },

    find(id: string): Promise<ModelProviderRow | undefined> {
      return db.selectFrom('model_providers').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Every entry (admin listing). */
    list(): Promise<ModelProviderRow[]> {
      return db.selectFrom('model_providers').selectAll().orderBy('created_at').orderBy('id').execute();
    },

    /** The entries that can serve this project: its own and the global ones, oldest first. */
    forProject(projectId: string): Promise<ModelProviderRow[]> {
      return db
        .selectFrom('model_providers')
        .selectAll()
        .where((eb) => eb.or([eb('project_id', 'is', null), eb('project_id', '=', projectId)]))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    async update(id: string, changes: Updateable<ModelProviderTable>): Promise<ModelProviderRow | undefined> {
      if (Object.keys(changes).length > 0) {
        await db.updateTable('model_providers').set(changes).where('id', '=', id).execute();
      }
      return db.selectFrom('model_providers').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('model_providers').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
