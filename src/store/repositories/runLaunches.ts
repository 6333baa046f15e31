import type { Db } from '../db';

export interface DueLaunch {
  runId: string;
  projectId: string;
  dueAt: number;
  attempts: number;
}

/**
 * The outbox of run starts (migration 005). Rows are inserted with their run (see runLaunch.ts) and deleted
 * once the run's workflow is known to exist; what is left past `due_at` is started by a sweeper.
 */
export function runLaunchesRepository(db: Db) {
  return {
    /** Launches whose start is due (oldest first). */
    async due(nowMs: number, limit: number): Promise<DueLaunch[]> {
      const rows = await db
        .selectFrom('run_launches')
        .select(['run_id', 'project_id', 'due_at', 'attempts'])
        .where('due_at', '<=', nowMs)
        .orderBy('due_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        runId: r.run_id,
        projectId: r.project_id,
        dueAt: Number(r.due_at),
        attempts: r.attempts,
      }));
    },

    /**
     * Takes a due launch for one attempt, pushing its next due time out. Conditional on the due time this
     * sweeper read, so of several API processes sweeping at once only one tries each start.
     */
    async claim(launch: DueLaunch, nextDueAt: number): Promise<boolean> {
      const result = await db
        .updateTable('run_launches')
        .set({ due_at: nextDueAt, attempts: launch.attempts + 1 })
        .where('run_id', '=', launch.runId)
        .where('due_at', '=', launch.dueAt)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** The run's workflow exists: nothing is left to start. */
    async done(runId: string): Promise<void> {
      await db.deleteFrom('run_launches').where('run_id', '=', runId).execute();
    },

    async isPending(runId: string): Promise<boolean> {
      const row = await db.selectFrom('run_launches').select('run_id').where('run_id', '=', runId).executeTakeFirst();
      return row !== undefined;
    },
  };
}
