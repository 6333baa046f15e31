import { sql } from 'kysely';

/**
 * The ON CONFLICT condition for rows a model-activity attempt writes (a run's message and its steps): an
 * older attempt's row is replaced, a newer attempt's row is never touched, and within one attempt only a
 * row that is still open changes. A superseded attempt still running cannot overwrite its successor.
 */
export function writableBy(table: 'messages' | 'run_steps', attempt: number) {
  const column = (name: string) => sql.ref(`${table}.${name}`);
  return sql<boolean>`(${column('attempt')} < ${attempt} or (${column('attempt')} = ${attempt} and ${column('status')} = 'in_progress'))`;
}
