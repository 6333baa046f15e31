import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * PostgreSQL only: appending to a run's event log in one round trip, with the run's state change it reports when
 * there is one. The log's rules are migration 003's (the run's counter row-locks it so numbers commit in order,
 * a superseded model-call attempt adds nothing, a key already logged is skipped); done from the application
 * they took seven round trips per append, eight with the state (begin, take the counter, write the state, read
 * the logged keys, insert, store the counter, notify, commit), and a streamed step appends several times before
 * its first delta reaches a client. In PL/pgSQL each statement still takes a fresh
 * snapshot after the lock (READ COMMITTED), so the dedupe check sees what the previous holder committed, as
 * the separate statements did. SQLite needs none of this: its statements cost microseconds in process.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql.raw(appendFunction(NOTIFY_SEQ)).execute(db);
}

/** This migration's notification: `<run id>:<last seq>`, a wake-up whose listener reads the log. */
export const NOTIFY_SEQ = {
  declare: '',
  collect: '',
  notify: `PERFORM pg_notify(p_channel, p_run_id || ':' || v_seq);`,
};

/**
 * The append function's text, with what it collects of the appended events and how it notifies: the one
 * part later migrations change (016 sends the events themselves).
 */
export function appendFunction(notice: { declare: string; collect: string; notify: string }): string {
  return `
    CREATE OR REPLACE FUNCTION threadline_append_run_events(
      p_run_id text, p_writer_step text, p_writer_attempt integer, p_events jsonb, p_now bigint, p_channel text,
      p_project_id text, p_state jsonb
    ) RETURNS TABLE (seq bigint, event text, data text)
    LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      v_seq bigint;
      v_first bigint;
      v_writer text;
      v_item jsonb;${notice.declare}
    BEGIN
      SELECT r.event_seq, r.event_writer INTO v_seq, v_writer FROM runs r WHERE r.id = p_run_id FOR UPDATE;
      IF NOT FOUND THEN
        RETURN; -- the run (and its thread) was deleted: nobody can follow it any more
      END IF;
      IF p_writer_step IS NOT NULL AND v_writer IS NOT NULL
         AND regexp_replace(v_writer, '#[^#]*$', '') = p_writer_step
         AND substring(v_writer FROM '#([0-9]+)$')::integer > p_writer_attempt THEN
        RETURN; -- a later attempt of this step claimed the log
      END IF;
      IF p_state IS NOT NULL THEN -- the run's new state, version-guarded (runs.ts applyRunState)
        UPDATE runs SET
          version = (p_state->>'version')::bigint,
          status = p_state->>'status',
          required_action = p_state->>'required_action',
          last_error = p_state->>'last_error',
          expires_at = (p_state->>'expires_at')::bigint,
          started_at = (p_state->>'started_at')::bigint,
          cancelled_at = (p_state->>'cancelled_at')::bigint,
          failed_at = (p_state->>'failed_at')::bigint,
          completed_at = (p_state->>'completed_at')::bigint,
          incomplete_details = p_state->>'incomplete_details',
          usage = p_state->>'usage'
        WHERE project_id = p_project_id AND id = p_run_id AND version < (p_state->>'version')::bigint;
      END IF;
      v_first := v_seq;
      FOR v_item IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        INSERT INTO run_events (run_id, seq, event, data, dedupe_key, created_at)
        VALUES (p_run_id, v_seq + 1, v_item->>'event', v_item->>'data', v_item->>'key', p_now)
        ON CONFLICT ON CONSTRAINT run_events_dedupe DO NOTHING;
        IF FOUND THEN
          v_seq := v_seq + 1;
          seq := v_seq;
          event := v_item->>'event';
          data := v_item->>'data';
          RETURN NEXT;${notice.collect}
        END IF;
      END LOOP;
      IF v_seq > v_first THEN
        UPDATE runs SET event_seq = v_seq WHERE id = p_run_id;
        ${notice.notify}
      END IF;
    END
    $fn$
  `;
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`DROP FUNCTION IF EXISTS threadline_append_run_events(text, text, integer, jsonb, bigint, text, text, jsonb)`.execute(
    db,
  );
}
