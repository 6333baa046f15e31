import { ACTIVE_STATUSES } from '../../temporal/shared';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { RunState } from '../../temporal/shared';
import type { Db } from '../db';
import { toJson } from '../json';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { Database, MessageTable, RunTable } from '../schema';
import { lockThread } from './threadLock';

export type RunRow = Selectable<RunTable>;

/** What the database says when a second active run is inserted for a thread (partial unique index). */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}

export function runsRepository(db: Db) {
  const scoped = (projectId: string, threadId: string) =>
    db.selectFrom('runs').where('project_id', '=', projectId).where('thread_id', '=', threadId);

  return {
    /**
     * Inserts the run (and messages it adds to the thread first) in one transaction. Returns false when the
     * thread already has an active run: the unique index decides, so two racing creations cannot both win.
     */
    async insertIfThreadIdle(run: Insertable<RunTable>, messages: Insertable<MessageTable>[]): Promise<boolean> {
      try {
        await db.transaction().execute(async (trx) => {
          await lockThread(trx, run.project_id, run.thread_id);
          if (messages.length > 0) await trx.insertInto('messages').values(messages).execute();
          await trx.insertInto('runs').values(run).execute();
        });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    /** Removes a run whose workflow could not be started, so it does not hold the thread's lock. */
    async deleteUnstarted(projectId: string, id: string, messageIds: string[]): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('runs').where('project_id', '=', projectId).where('id', '=', id).execute();
        if (messageIds.length > 0) await trx.deleteFrom('messages').where('id', 'in', messageIds).execute();
      });
    },

    activeRunId(projectId: string, threadId: string): Promise<string | undefined> {
      return scoped(projectId, threadId)
        .select('id')
        .where('status', 'in', ACTIVE_STATUSES)
        .executeTakeFirst()
        .then((row) => row?.id);
    },

    find(projectId: string, threadId: string, id: string): Promise<RunRow | undefined> {
      return scoped(projectId, threadId).selectAll().where('id', '=', id).executeTakeFirst();
    },

    findById(projectId: string, id: string): Promise<RunRow | undefined> {
      return db
        .selectFrom('runs')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    async updateMetadata(projectId: string, id: string, metadata: Record<string, string>): Promise<void> {
      await db
        .updateTable('runs')
        .set({ metadata: toJson(metadata) })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .execute();
    },

    /**
     * Writes the workflow's snapshot unless a newer one is already stored: retried, replayed or reordered
     * writes can never move a run backwards.
     */
    async applyState(projectId: string, id: string, state: RunState, executor: Kysely<Database> = db): Promise<void> {
      await executor
        .updateTable('runs')
        .set({
          version: state.version,
          status: state.status,
          required_action: state.required_action === null ? null : toJson(state.required_action),
          last_error: state.last_error === null ? null : toJson(state.last_error),
          expires_at: state.expires_at,
          started_at: state.started_at,
          cancelled_at: state.cancelled_at,
          failed_at: state.failed_at,
          completed_at: state.completed_at,
          incomplete_details: state.incomplete_details === null ? null : toJson(state.incomplete_details),
          usage: state.usage === null ? null : toJson(state.usage),
        })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('version', '<', state.version)
        .execute();
    },

    position(projectId: string, threadId: string, id: string): Promise<Position | undefined> {
      return scoped(projectId, threadId)
        .select(['created_at as createdAt', 'id'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, threadId: string, page: PageRequest): Promise<Page<RunRow>> {
      return keysetPage(scoped(projectId, threadId).selectAll(), page);
    },
  };
}
