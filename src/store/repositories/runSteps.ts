import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { RunStepTable } from '../schema';
import { writableBy } from './attemptFence';

export type RunStepRow = Selectable<RunStepTable>;

export function runStepsRepository(db: Db) {
  const scoped = (projectId: string, runId: string) =>
    db.selectFrom('run_steps').where('project_id', '=', projectId).where('run_id', '=', runId);

  return {
    /** Insert-or-replace by the workflow-minted id, fenced by attempt: a retried activity rewrites its own step. */
    async upsert(row: Insertable<RunStepTable> & { attempt: number }): Promise<void> {
      await db
        .insertInto('run_steps')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet({
              status: row.status,
              step_details: row.step_details,
              last_error: row.last_error ?? null,
              completed_at: row.completed_at ?? null,
              usage: row.usage ?? null,
              attempt: row.attempt,
            })
            .where(writableBy('run_steps', row.attempt)),
        )
        .execute();
    },

    /**
     * Updates a step only while it is still open (and, for the model activity, only its own attempt's row),
     * so a late writer can never reopen or overwrite a closed step. True when it did update the step.
     */
    async updateIfOpen(
      projectId: string,
      id: string,
      changes: Updateable<RunStepTable>,
      attempt?: number,
    ): Promise<boolean> {
      let query = db
        .updateTable('run_steps')
        .set(changes)
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', 'in_progress');
      if (attempt !== undefined) query = query.where('attempt', '=', attempt);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    findById(projectId: string, id: string): Promise<RunStepRow | undefined> {
      return db
        .selectFrom('run_steps')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    find(projectId: string, runId: string, id: string): Promise<RunStepRow | undefined> {
      return scoped(projectId, runId).selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** All steps of a run in creation order (a run has at most a few dozen). */
    listForRun(projectId: string, runId: string): Promise<RunStepRow[]> {
      return scoped(projectId, runId).selectAll().orderBy('created_at').orderBy('id').execute();
    },

    async closeOpen(projectId: string, runId: string, changes: Updateable<RunStepTable>): Promise<void> {
      await db
        .updateTable('run_steps')
        .set(changes)
        .where('project_id', '=', projectId)
        .where('run_id', '=', runId)
        .where('status', '=', 'in_progress')
        .execute();
    },

    /** Clears what earlier attempts of a model step left behind (never a newer attempt's rows). */
    async deleteEarlierAttempts(projectId: string, ids: string[], attempt: number): Promise<void> {
      await db
        .deleteFrom('run_steps')
        .where('project_id', '=', projectId)
        .where('id', 'in', ids)
        .where('attempt', '<', attempt)
        .execute();
    },

    position(projectId: string, runId: string, id: string): Promise<Position | undefined> {
      return scoped(projectId, runId).select(['created_at as createdAt', 'id']).where('id', '=', id).executeTakeFirst();
    },

    page(projectId: string, runId: string, page: PageRequest): Promise<Page<RunStepRow>> {
      return keysetPage(scoped(projectId, runId).selectAll(), page);
    },
  };
}
