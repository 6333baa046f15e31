import { sql } from 'kysely';
import type { Db } from '../db';
import type { LoggedEvent, RunEventBus } from '../../streaming/bus';

/** An event to log: its SSE name, its payload, and what it reports (see migration 003's `dedupe_key`). */
export interface NewRunEvent {
  event: string;
  data: unknown;
  key: string;
}

/** The PostgreSQL channel that carries `run_id:seq` wake-ups between processes. */
export const RUN_EVENTS_CHANNEL = 'threadline_run_events';

export function runEventsRepository(db: Db, bus: RunEventBus | undefined, postgres: boolean) {
  return {
    /**
     * Appends events to a run's log in one transaction and returns those actually added, numbered. Events
     * whose key is already logged are skipped, so a retried activity or a replayed local activity logs
     * nothing twice. Taking the run's counter row-locks the run until commit: numbers commit in order.
     */
    async append(runId: string, events: NewRunEvent[]): Promise<LoggedEvent[]> {
      if (events.length === 0) return [];
      const added = await db.transaction().execute(async (trx) => {
        const counter = await trx
          .updateTable('runs')
          .set({ event_seq: sql<number>`event_seq` })
          .where('id', '=', runId)
          .returning('event_seq')
          .executeTakeFirst();
        if (!counter) return []; // the run (and its thread) was deleted: nobody can follow it any more
        const keys = [...new Set(events.map((e) => e.key))];
        const logged = new Set(
          (
            await trx
              .selectFrom('run_events')
              .select('dedupe_key')
              .where('run_id', '=', runId)
              .where('dedupe_key', 'in', keys)
              .execute()
          ).map((row) => row.dedupe_key),
        );
        const rows: Array<LoggedEvent & { key: string }> = [];
        let seq = Number(counter.event_seq);
        for (const e of events) {
          if (logged.has(e.key)) continue;
          logged.add(e.key);
          rows.push({ seq: ++seq, event: e.event, data: JSON.stringify(e.data), key: e.key });
        }
        if (rows.length === 0) return [];
        const now = Math.floor(Date.now() / 1000);
        await trx
          .insertInto('run_events')
          .values(
            rows.map((r) => ({
              run_id: runId,
              seq: r.seq,
              event: r.event,
              data: r.data,
              dedupe_key: r.key,
              created_at: now,
            })),
          )
          .execute();
        await trx.updateTable('runs').set({ event_seq: seq }).where('id', '=', runId).execute();
        // Delivered by PostgreSQL at commit, to every process listening (the API replicas).
        if (postgres) await sql`select pg_notify(${RUN_EVENTS_CHANNEL}, ${`${runId}:${seq}`})`.execute(trx);
        return rows.map(({ seq, event, data }) => ({ seq, event, data }));
      });
      if (added.length > 0) bus?.publish(runId, added);
      return added;
    },

    /** Events after `seq`, in order. */
    after(runId: string, seq: number, limit: number): Promise<LoggedEvent[]> {
      return db
        .selectFrom('run_events')
        .select(['seq', 'event', 'data'])
        .where('run_id', '=', runId)
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(limit)
        .execute()
        .then((rows) => rows.map((r) => ({ ...r, seq: Number(r.seq) })));
    },

    /** The seq of the run's latest event with this name, or 0. */
    async lastSeqOf(runId: string, event: string): Promise<number> {
      const row = await db
        .selectFrom('run_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('run_id', '=', runId)
        .where('event', '=', event)
        .executeTakeFirst();
      return Number(row?.seq ?? 0);
    },

    /** Logged events whose key starts with `prefix`, in order (what an earlier attempt already streamed). */
    withKeyPrefix(runId: string, prefix: string): Promise<Array<LoggedEvent & { key: string }>> {
      return db
        .selectFrom('run_events')
        .select(['seq', 'event', 'data', 'dedupe_key as key'])
        .where('run_id', '=', runId)
        .where('dedupe_key', 'like', `${prefix}%`)
        .orderBy('seq')
        .execute()
        .then((rows) => rows.map((r) => ({ ...r, seq: Number(r.seq) })));
    },
  };
}
