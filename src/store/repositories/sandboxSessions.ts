import type { Db } from '../db';

/** Where threads' code interpreter sessions live (see migration 004). */
export function sandboxSessionsRepository(db: Db) {
  return {
    find(projectId: string, threadId: string): Promise<{ task_queue: string | null } | undefined> {
      return db
        .selectFrom('sandbox_sessions')
        .select('task_queue')
        .where('project_id', '=', projectId)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
    },

    /** The thread's session now lives on the worker polling `taskQueue`. */
    async place(projectId: string, threadId: string, taskQueue: string): Promise<void> {
      const updated_at = Math.floor(Date.now() / 1000);
      await db
        .insertInto('sandbox_sessions')
        .values({ project_id: projectId, thread_id: threadId, task_queue: taskQueue, updated_at })
        .onConflict((oc) => oc.columns(['project_id', 'thread_id']).doUpdateSet({ task_queue: taskQueue, updated_at }))
        .execute();
    },

    /** A worker shutting down: its sessions are gone, and calls should not wait for it. */
    async vacate(taskQueue: string): Promise<void> {
      await db
        .updateTable('sandbox_sessions')
        .set({ task_queue: null, updated_at: Math.floor(Date.now() / 1000) })
        .where('task_queue', '=', taskQueue)
        .execute();
    },
  };
}
