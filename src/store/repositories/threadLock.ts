import { sql, type Transaction } from 'kysely';
import type { Database } from '../schema';

/**
 * Takes the thread's row lock for the rest of the transaction (a no-op update). Creating a run and adding a
 * message both take it first, so on PostgreSQL the "is a run active?" check and the insert that depends on
 * it cannot interleave with the other; SQLite serialises writers anyway.
 */
export async function lockThread(trx: Transaction<Database>, projectId: string, threadId: string): Promise<void> {
  await trx
    .updateTable('threads')
    .set({ id: sql<string>`id` })
    .where('project_id', '=', projectId)
    .where('id', '=', threadId)
    .execute();
}
