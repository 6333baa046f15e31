import type { LoggedEvent } from '../../streaming/bus';
import type { SqliteStatements } from '../db';
import type { AppendOptions, NewRunEvent, Writer } from './runEvents';
import { runStateColumns } from './runs';

/** Whether `writer` was superseded by the claim stored on the run (a later attempt of the same step). */
function superseded(stored: string | null, writer: Writer): boolean {
  if (stored === null) return false;
  const at = stored.lastIndexOf('#');
  return stored.slice(0, at) === writer.step && Number(stored.slice(at + 1)) > writer.attempt;
}

/**
 * The run event log's append on SQLite, the same rules as PostgreSQL's `threadline_append_run_events`
 * (migration 015): take the run's counter (the write locks the database until commit, so numbers commit in
 * order), drop a superseded model-call attempt's events, write the run's state snapshot unless the row holds
 * this version or a later one, skip events whose key is logged, number the rest, and move the counter.
 *
 * Written as plain prepared statements, synchronously, rather than through Kysely: a streamed step appends
 * once per model chunk, each append was six statements, and building and compiling them was most of the
 * SQLite path's CPU (bench/FINDINGS.md). Runs inside the caller's transaction, on the connection it holds.
 */
export function appendOnSqlite(
  sqlite: SqliteStatements,
  runId: string,
  events: NewRunEvent[],
  options: AppendOptions,
  now: number,
): LoggedEvent[] {
  const counter = sqlite
    .prepare('UPDATE runs SET event_seq = event_seq WHERE id = ? RETURNING event_seq, event_writer')
    .get(runId) as { event_seq: number; event_writer: string | null } | undefined;
  if (!counter) return []; // the run (and its thread) was deleted: nobody can follow it any more
  if (options.writer !== undefined && superseded(counter.event_writer, options.writer)) return [];
  if (options.runState) {
    const { projectId, state } = options.runState;
    const columns = Object.entries(runStateColumns(state)); // always the same names in the same order
    sqlite
      .prepare(
        `UPDATE runs SET ${columns.map(([name]) => `${name} = ?`).join(', ')} WHERE project_id = ? AND id = ? AND version < ?`,
      )
      .run(...columns.map(([, value]) => value), projectId, runId, state.version);
  }
  if (events.length === 0) return [];
  const logged = sqlite.prepare('SELECT 1 FROM run_events WHERE run_id = ? AND dedupe_key = ?');
  const insert = sqlite.prepare(
    'INSERT INTO run_events (run_id, seq, event, data, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const added: LoggedEvent[] = [];
  const seen = new Set<string>();
  let seq = Number(counter.event_seq);
  for (const e of events) {
    if (seen.has(e.key) || logged.get(runId, e.key) !== undefined) continue;
    seen.add(e.key);
    const data = JSON.stringify(e.data);
    insert.run(runId, ++seq, e.event, data, e.key, now);
    added.push({ seq, event: e.event, data });
  }
  if (added.length > 0) sqlite.prepare('UPDATE runs SET event_seq = ? WHERE id = ?').run(seq, runId);
  return added;
}
