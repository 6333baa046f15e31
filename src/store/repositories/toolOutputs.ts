import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db';
import type { ToolOutputTable } from '../schema';

export type ToolOutputRow = Selectable<ToolOutputTable>;

/** Where built-in tools record their results (client submissions use the submission's key). */
export const SERVER_SOURCE = 'server';

export function toolOutputsRepository(db: Db) {
  return {
    /** Writes results by (run, source, call): a retried writer replaces its own rows, never adds. */
    async upsert(rows: Insertable<ToolOutputTable>[]): Promise<void> {
      if (rows.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const row of rows) {
          await trx
            .insertInto('tool_outputs')
            .values(row)
            .onConflict((oc) =>
              oc.columns(['run_id', 'source', 'call_id']).doUpdateSet({
                output: row.output,
                call: row.call ?? null,
                arguments: row.arguments ?? null,
                extras: row.extras ?? null,
                step_id: row.step_id ?? null,
              }),
            )
            .execute();
        }
      });
    },

    /** The results one source recorded for a run, optionally only for some calls. */
    forSource(projectId: string, runId: string, source: string, callIds?: string[]): Promise<ToolOutputRow[]> {
      let query = db
        .selectFrom('tool_outputs')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('run_id', '=', runId)
        .where('source', '=', source);
      if (callIds) {
        if (callIds.length === 0) return Promise.resolve([]);
        query = query.where('call_id', 'in', callIds);
      }
      return query.execute();
    },
  };
}
