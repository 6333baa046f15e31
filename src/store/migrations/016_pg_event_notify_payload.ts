import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { appendFunction, NOTIFY_SEQ } from './015_pg_event_append';

/**
 * PostgreSQL only: the append's notification carries the appended events themselves when they fit in a
 * payload (PostgreSQL refuses 8,000 bytes and more), as `{"r": run id, "s": last seq, "e": [[seq, event,
 * data], …]}`. An API in another process than the worker's then hands them to its streams without
 * reading the log back: that read was one query per append, about 19 per run of one tool round, and one
 * round trip on every streamed event's way to the client. Too large, it sends `<run id>:<last seq>` as
 * before and the listener reads the log (src/streaming/pgListener.ts reads both forms).
 */
export const NOTIFY_EVENTS = {
  declare: `
      v_sent text := '';`,
  // Collected while they fit; past the limit the notice falls back to the seq alone.
  collect: `
          IF v_sent IS NOT NULL THEN
            v_sent := v_sent || CASE WHEN v_sent = '' THEN '' ELSE ',' END || json_build_array(v_seq, event, data)::text;
            IF octet_length(v_sent) >= 8000 THEN v_sent := NULL; END IF;
          END IF;`,
  notify: `v_sent := '{"r":' || to_json(p_run_id)::text || ',"s":' || v_seq || ',"e":[' || v_sent || ']}';
        IF v_sent IS NOT NULL AND octet_length(v_sent) < 8000 THEN
          PERFORM pg_notify(p_channel, v_sent);
        ELSE
          PERFORM pg_notify(p_channel, p_run_id || ':' || v_seq);
        END IF;`,
};

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql.raw(appendFunction(NOTIFY_EVENTS)).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql.raw(appendFunction(NOTIFY_SEQ)).execute(db);
}
