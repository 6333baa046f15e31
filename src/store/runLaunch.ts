import type { Insertable } from 'kysely';
import type { LoggedEvent } from '../streaming/bus';
import type { Store } from './index';
import type { NewRunEvent } from './repositories/runEvents';
import type { RunRow } from './repositories/runs';
import type { ThreadRow } from './repositories/threads';
import { lockThread } from './repositories/threadLock';
import type { MessageTable, RunTable, ThreadTable } from './schema';

/** Everything a new run writes, in one transaction. */
export interface RunLaunch {
  /** A thread created for the run (create thread and run), with its initial messages. */
  thread?: { row: Insertable<ThreadTable>; messages: Insertable<MessageTable>[] };
  /** Messages the run adds to the thread first (`additional_messages`). */
  messages: Insertable<MessageTable>[];
  run: Insertable<RunTable>;
  /** unix ms: from then on a sweeper starts the run's workflow if the process creating it has not. */
  startDueAt: number;
  /** The run's first events (`thread.created`, `thread.run.created`, `thread.run.queued`), from the stored rows. */
  events(run: RunRow, thread: ThreadRow | undefined): NewRunEvent[];
}

/**
 * Writes a new run — its thread when it comes with one, the messages it adds, the run row, its entry in the
 * start outbox and its first events — in one transaction: a crash at any point leaves either all of it or
 * none, never a thread without its run or a run nobody will start. Returns the stored run, or undefined
 * when the thread already has an active run (the partial unique index decides, however many API processes
 * race).
 */
export async function insertLaunch(store: Store, launch: RunLaunch): Promise<RunRow | undefined> {
  const { run } = launch;
  let added: LoggedEvent[] = [];
  let stored: RunRow | undefined;
  try {
    await store.db.transaction().execute(async (trx) => {
      if (launch.thread) {
        await trx.insertInto('threads').values(launch.thread.row).execute();
        if (launch.thread.messages.length > 0)
          await trx.insertInto('messages').values(launch.thread.messages).execute();
      }
      await lockThread(trx, run.project_id, run.thread_id);
      if (launch.messages.length > 0) await trx.insertInto('messages').values(launch.messages).execute();
      stored = await trx.insertInto('runs').values(run).returningAll().executeTakeFirstOrThrow();
      await trx
        .insertInto('run_launches')
        .values({ run_id: run.id, project_id: run.project_id, due_at: launch.startDueAt })
        .execute();
      const thread = launch.thread
        ? await trx.selectFrom('threads').selectAll().where('id', '=', run.thread_id).executeTakeFirstOrThrow()
        : undefined;
      added = await store.runEvents.appendIn(trx, run.id, launch.events(stored, thread));
    });
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
  store.runEvents.publish(run.id, added);
  return stored;
}

/** What the database says when a second active run is inserted for a thread (partial unique index). */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}
