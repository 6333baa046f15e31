import type { Selectable } from 'kysely';
import type { Db } from '../db';
import type { ServerToolTable } from '../schemaExtensions';

export type ServerToolRow = Selectable<ServerToolTable>;

/** Server-side tools registered through the admin API, per project and name. */
export function serverToolsRepository(db: Db) {
  const scoped = (projectId: string) => db.selectFrom('server_tools').selectAll().where('project_id', '=', projectId);
  return {
    async upsert(row: ServerToolTable): Promise<void> {
      await db
        .insertInto('server_tools')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['project_id', 'name']).doUpdateSet({
            definition: row.definition,
            executor: row.executor,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    },

    find(projectId: string, name: string): Promise<ServerToolRow | undefined> {
      return scoped(projectId).where('name', '=', name).executeTakeFirst();
    },

    /** The project's tools among `names` (one indexed read per model call of a run with functions). */
    findNamed(projectId: string, names: readonly string[]): Promise<ServerToolRow[]> {
      if (names.length === 0) return Promise.resolve([]);
      return scoped(projectId)
        .where('name', 'in', [...names])
        .execute();
    },

    list(projectId: string): Promise<ServerToolRow[]> {
      return scoped(projectId).orderBy('name').execute();
    },

    async delete(projectId: string, name: string): Promise<boolean> {
      const result = await db
        .deleteFrom('server_tools')
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
