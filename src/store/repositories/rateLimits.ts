import { sql } from 'kysely';
import { ACTIVE_STATUSES } from '../../temporal/shared';
import type { Db } from '../db';

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  count: number;
  windowStart: number;
}

export function rateLimitsRepository(db: Db) {
  return {
    /**
     * Counts one request in `bucket`'s window starting at `windowStart` and returns the window's count, in
     * one statement (an upsert): a newer window resets the count, the same one adds one. Every API process
     * shares the row, so the count is the same whichever process serves the request; a process whose clock
     * lags behind counts into the newer window instead of resetting it.
     */
    async hit(bucket: string, windowStart: number): Promise<WindowCount> {
      const row = await db
        .insertInto('rate_limit_windows')
        .values({ bucket, window_start: windowStart, count: 1 })
        .onConflict((oc) =>
          oc.column('bucket').doUpdateSet({
            count: sql<number>`case when excluded.window_start > rate_limit_windows.window_start then 1 else rate_limit_windows.count + 1 end`,
            window_start: sql<number>`case when excluded.window_start > rate_limit_windows.window_start then excluded.window_start else rate_limit_windows.window_start end`,
          }),
        )
        .returning(['count', 'window_start'])
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), windowStart: Number(row.window_start) };
    },

    /** Active runs started with this key (or, for `null`, without a key in this project). */
    async activeRuns(projectId: string, apiKeyId: string | null): Promise<number> {
      let query = db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId)
        .where('status', 'in', ACTIVE_STATUSES);
      query = apiKeyId === null ? query.where('api_key_id', 'is', null) : query.where('api_key_id', '=', apiKeyId);
      const row = await query.executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
