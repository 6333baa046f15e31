import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { FileTable } from '../schema';

export type FileRow = Selectable<FileTable>;

/**
 * `files` rows. Only `ready` rows that have not expired are visible through `find`, `page` and `present`;
 * the other states exist for the file library's bookkeeping (see migration 004).
 */
export function filesRepository(db: Db) {
  const visible = (projectId: string, now: number) =>
    db
      .selectFrom('files')
      .where('project_id', '=', projectId)
      .where('state', '=', 'ready')
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));

  return {
    /** The row of an upload about to start; a leftover row of an earlier attempt at the same id is taken over. */
    async begin(row: Insertable<FileTable> & { state: 'uploading' }): Promise<void> {
      await db
        .insertInto('files')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet({ state: 'uploading', bytes: 0, filename: row.filename, mime_type: row.mime_type })
            .where('files.project_id', '=', row.project_id)
            .where('files.state', '<>', 'ready'),
        )
        .execute();
    },

    /** The upload is complete: the row becomes visible. Undefined when the row is gone (swept as abandoned). */
    finish(
      projectId: string,
      id: string,
      changes: { bytes: number; purpose: string; expires_at: number | null },
    ): Promise<FileRow | undefined> {
      return db
        .updateTable('files')
        .set({ ...changes, state: 'ready' })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('state', '=', 'uploading')
        .returningAll()
        .executeTakeFirst();
    },

    /** Any row with this id, whatever its state or project (the library decides what that means). */
    findAny(id: string): Promise<FileRow | undefined> {
      return db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** The row as stored, expired or not, but only a finished upload. */
    findReady(projectId: string, id: string): Promise<FileRow | undefined> {
      return db
        .selectFrom('files')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('state', '=', 'ready')
        .executeTakeFirst();
    },

    /** Which of `ids` name visible files of the project. */
    async present(projectId: string, ids: string[], now: number): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await visible(projectId, now).select('id').where('id', 'in', ids).execute();
      return new Set(rows.map((r) => r.id));
    },

    /** Takes a row out of sight before its bytes are removed; false when there was no such row to take. */
    async markDeleting(projectId: string, id: string, from: FileRow['state'][]): Promise<boolean> {
      const result = await db
        .updateTable('files')
        .set({ state: 'deleting' })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('state', 'in', from)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async remove(projectId: string, id: string): Promise<void> {
      await db.deleteFrom('files').where('project_id', '=', projectId).where('id', '=', id).execute();
    },

    /** Rows the sweep must finish: expired, being deleted, or uploads abandoned before `staleBefore`. */
    unfinished(now: number, staleBefore: number, limit: number): Promise<FileRow[]> {
      return db
        .selectFrom('files')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('expires_at', '<=', now),
            eb('state', '=', 'deleting'),
            eb.and([eb('state', '=', 'uploading'), eb('created_at', '<', staleBefore)]),
          ]),
        )
        .limit(limit)
        .execute();
    },

    position(projectId: string, id: string): Promise<Position | undefined> {
      return db
        .selectFrom('files')
        .select(['created_at as createdAt', 'id'])
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, page: PageRequest, now: number, purpose?: string): Promise<Page<FileRow>> {
      let query = visible(projectId, now).selectAll();
      if (purpose !== undefined) query = query.where('purpose', '=', purpose);
      return keysetPage(query, page);
    },
  };
}
