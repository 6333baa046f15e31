import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db';
import type { ApiKeyTable } from '../schema';

export type ApiKeyRow = Selectable<ApiKeyTable>;

/** A key as the auth middleware needs it: the key, and its project's limit overrides (one statement). */
export interface KeyWithProject extends ApiKeyRow {
  rpm_limit: number | null;
  active_runs_limit: number | null;
}

export function apiKeysRepository(db: Db) {
  return {
    async insert(row: Insertable<ApiKeyTable>): Promise<void> {
      await db.insertInto('api_keys').values(row).execute();
    },

    /** The key with this hash and its project's overrides: the one query authentication costs. */
    async findByHash(keyHash: string): Promise<KeyWithProject | undefined> {
      const row = await db
        .selectFrom('api_keys')
        .innerJoin('projects', 'projects.id', 'api_keys.project_id')
        .selectAll('api_keys')
        .select(['projects.rpm_limit', 'projects.active_runs_limit'])
        .where('api_keys.key_hash', '=', keyHash)
        .executeTakeFirst();
      return row ? { ...row, rpm_limit: row.rpm_limit ?? null, active_runs_limit: row.active_runs_limit ?? null } : row;
    },

    find(id: string): Promise<ApiKeyRow | undefined> {
      return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    },

    list(projectId?: string): Promise<ApiKeyRow[]> {
      let query = db.selectFrom('api_keys').selectAll();
      if (projectId !== undefined) query = query.where('project_id', '=', projectId);
      return query.orderBy('created_at').orderBy('id').execute();
    },

    /** Revokes the key (idempotent: an already revoked key keeps its first revocation time). */
    async revoke(id: string, at: number): Promise<ApiKeyRow | undefined> {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Whether any key could authenticate at all (a server that requires keys refuses to start without one). */
    async anyActive(): Promise<boolean> {
      const row = await db
        .selectFrom('api_keys')
        .select('id')
        .where('revoked_at', 'is', null)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
