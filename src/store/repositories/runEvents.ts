import { sql, type Transaction } from 'kysely';
import { sqliteStatements, type Db } from '../db';
import type { Database } from '../schema';
import type { LoggedEvent, RunEventBus } from '../../streaming/bus';
import type { RunState } from '../../temporal/shared';
import { runStateColumns } from './runs';
import { appendOnSqlite } from './sqliteEventAppend';

/** An event to log: its SSE name, its payload, and what it reports (see migration 003's `dedupe_key`). */
export interface NewRunEvent {
  event: string;
  data: unknown;
  key: string;
}

/** A model-call attempt: the workflow's step id and the activity attempt number. */
export interface Writer {
  step: string;
  attempt: number;
}

const writerKey = (w: Writer) => `${w.step}#${w.attempt}`;

export interface AppendOptions {
  /** A model-call attempt appending: nothing is appended once a later attempt of its step claimed the log. */
  writer?: Writer;
  /**
   * The run's state snapshot the events report, written (version-guarded) in the same transaction, after the
   * counter is taken and before the events: the change and its events commit together.
   */
  runState?: { projectId: string; state: RunState };
}

/** The PostgreSQL channel that carries appended events (or `run_id:seq` when they do not fit) between processes. */
export const RUN_EVENTS_CHANNEL = 'threadline_run_events';

export function runEventsRepository(db: Db, bus: RunEventBus | undefined, postgres: boolean) {
  const sqlite = postgres ? undefined : sqliteStatements(db);
  if (!postgres && !sqlite) throw new Error('the run event log on SQLite needs a database opened by createDb');
  async function appendIn(
    trx: Transaction<Database>,
    runId: string,
    events: NewRunEvent[],
    options: AppendOptions = {},
  ): Promise<LoggedEvent[]> {
    if (postgres) return appendInOneTrip(trx, runId, events, options);
    // The transaction holds SQLite's one connection: these statements are part of it.
    return appendOnSqlite(sqlite!, runId, events, options, Math.floor(Date.now() / 1000));
  }

  /**
   * PostgreSQL: the whole append in one round trip (migration 015), in the caller's transaction or, given the
   * database itself, in its own (one statement).
   */
  async function appendInOneTrip(
    executor: Db | Transaction<Database>,
    runId: string,
    events: NewRunEvent[],
    options: AppendOptions,
  ): Promise<LoggedEvent[]> {
    const payload = JSON.stringify(events.map((e) => ({ event: e.event, data: JSON.stringify(e.data), key: e.key })));
    const { writer, runState } = options;
    const state = runState ? JSON.stringify(runStateColumns(runState.state)) : null;
    const { rows } = await sql<{ seq: string | number; event: string; data: string }>`
      select seq, event, data from threadline_append_run_events(
        ${runId}, ${writer?.step ?? null}, ${writer?.attempt ?? null}, ${payload}::jsonb,
        ${Math.floor(Date.now() / 1000)}, ${RUN_EVENTS_CHANNEL}, ${runState?.projectId ?? null}, ${state}::jsonb)`.execute(
      executor,
    );
    return rows.map((r) => ({ seq: Number(r.seq), event: r.event, data: r.data }));
  }

  /** Hands committed events to this process's streams (other processes hear of them by NOTIFY or polling). */
  function publish(runId: string, added: LoggedEvent[]): void {
    if (added.length > 0) bus?.publish(runId, added);
  }

  return {
    /**
     * Appends events to a run's log in one transaction and returns those actually added, numbered. Events
     * whose key is already logged are skipped, so a retried activity or a replayed local activity logs
     * nothing twice. Taking the run's counter row-locks the run until commit: numbers commit in order.
     */
    async append(runId: string, events: NewRunEvent[], options: AppendOptions = {}): Promise<LoggedEvent[]> {
      if (events.length === 0 && !options.runState) return [];
      const added = postgres
        ? await appendInOneTrip(db, runId, events, options)
        : await db.transaction().execute((trx) => appendIn(trx, runId, events, options));
      publish(runId, added);
      return added;
    },

    /**
     * The same inside the caller's transaction (which must also hold the run's row: a run and its first
     * events commit together). Call `publish` with the result once that transaction has committed.
     */
    appendIn,
    publish,

    /**
     * Makes `writer` the latest attempt of its step: earlier attempts' appends (with `options.writer`) are
     * dropped from now on. A retried attempt claims the log before reading what the earlier one streamed, so
     * the earlier one, if it is still running somewhere (its heartbeats lost), cannot add to it any more.
     */
    async claim(runId: string, writer: Writer): Promise<void> {
      await db
        .updateTable('runs')
        .set({ event_writer: writerKey(writer) })
        .where('id', '=', runId)
        .execute();
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
