import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db';
import type { ToolOutputTable } from '../schema';

export type ToolOutputRow = Selectable<ToolOutputTable>;

/** Where built-in tools record their results (client submissions use the submission's key). */
export const SERVER_SOURCE = 'server';

export function toolOutputsRepository(db: Db) {
  return {
    /**
     * Writes results by (run, source, call): a retried writer replaces its own rows, never adds. One statement
     * (atomic on its own; on PostgreSQL one round trip on a submission's path); a call named twice keeps the
     * last row, as writing them one by one would.
     */
    async upsert(rows: Insertable<ToolOutputTable>[]): Promise<void> {
      const unique = [
        ...new Map(rows.map((row) => [`${row.run_id}\u0000${row.source}\u0000${row.call_id}`, row])).values(),
      ];
      if (unique.length === 0) return;
      await db
        .insertInto('tool_outputs')
        .values(
          unique.map((row) => ({
            ...row,
            call: row.call ?? null,
            arguments: row.arguments ?? null,
            extras: row.extras ?? null,
            step_id: row.step_id ?? null,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['run_id', 'source', 'call_id']).doUpdateSet((eb) => ({
            output: eb.ref('excluded.output'),
            call: eb.ref('excluded.call'),
            arguments: eb.ref('excluded.arguments'),
            extras: eb.ref('excluded.extras'),
            step_id: eb.ref('excluded.step_id'),
          })),
        )
        .execute();
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
