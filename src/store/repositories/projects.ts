import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import type { ProjectTable } from '../schema';

export type ProjectRow = Selectable<ProjectTable>;

export function projectsRepository(db: Db) {
  return {
    async insert(row: Insertable<ProjectTable>): Promise<void> {
      await db.insertInto('projects').values(row).execute();
    },

    find(id: string): Promise<ProjectRow | undefined> {
      return db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    },

    list(): Promise<ProjectRow[]> {
      return db.selectFrom('projects').selectAll().orderBy('created_at').orderBy('id').execute();
    },

    async update(id: string, changes: Updateable<ProjectTable>): Promise<ProjectRow | undefined> {
      if (Object.keys(changes).length > 0) await db.updateTable('projects').set(changes).where('id', '=', id).execute();
      return db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    },
  };
}
