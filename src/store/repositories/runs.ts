import { ACTIVE_STATUSES } from '../../temporal/shared';
import type { Kysely, Selectable } from 'kysely';
import type { RunState } from '../../temporal/shared';
import type { Db } from '../db';
import { toJson } from '../json';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { Database, RunTable } from '../schema';

export type RunRow = Selectable<RunTable>;

/** The columns a run's state snapshot sets (JSON fields as stored text). */
export function runStateColumns(state: RunState) {
  return {
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
  };
}

/** Writes a run's state snapshot unless the row already holds this version or a later one. */
export async function applyRunState(executor: Kysely<Database>, projectId: string, id: string, state: RunState) {
  await executor
    .updateTable('runs')
    .set(runStateColumns(state))
    .where('project_id', '=', projectId)
    .where('id', '=', id)
    .where('version', '<', state.version)
    .execute();
}

export function runsRepository(db: Db) {
  const scoped = (projectId: string, threadId: string) =>
    db.selectFrom('runs').where('project_id', '=', projectId).where('thread_id', '=', threadId);

  return {
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
      await applyRunState(executor, projectId, id, state);
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
