import { ACTIVE_STATUSES } from '../../temporal/shared';
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { MessageTable } from '../schema';
import { writableBy } from './attemptFence';
import { lockThread } from './threadLock';

export type MessageRow = Omit<Selectable<MessageTable>, 'token_count'>;

/** A message's stored prompt cost (null until a run's context builder first counts it) and content size. */
export interface MessageCost {
  id: string;
  created_at: number;
  run_id: string | null;
  role: string;
  status: string;
  token_count: number | null;
  content_chars: number;
}

export function messagesRepository(db: Db) {
  const scoped = (projectId: string, threadId: string) =>
    db.selectFrom('messages').where('project_id', '=', projectId).where('thread_id', '=', threadId);

  return {
    /**
     * Adds a message unless the thread has an active run; returns that run's id instead. Check and insert
     * share one transaction under the thread's lock, which creating a run takes too: a run and a message
     * racing each other serialise as "message first" or "run first", never a message slipped into a turn.
     */
    insertIfThreadIdle(row: Insertable<MessageTable>): Promise<{ activeRunId: string | undefined }> {
      return db.transaction().execute(async (trx) => {
        await lockThread(trx, row.project_id, row.thread_id);
        const active = await trx
          .selectFrom('runs')
          .select('id')
          .where('project_id', '=', row.project_id)
          .where('thread_id', '=', row.thread_id)
          .where('status', 'in', ACTIVE_STATUSES)
          .executeTakeFirst();
        if (active) return { activeRunId: active.id };
        await trx.insertInto('messages').values(row).execute();
        return { activeRunId: undefined };
      });
    },

    /** Insert-or-replace by the workflow-minted id, fenced by attempt exactly like run steps. */
    async upsert(row: Insertable<MessageTable> & { attempt: number }): Promise<void> {
      await db
        .insertInto('messages')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet({
              status: row.status,
              content: row.content,
              completed_at: row.completed_at ?? null,
              incomplete_at: row.incomplete_at ?? null,
              incomplete_details: row.incomplete_details ?? null,
              attempt: row.attempt,
            })
            .where(writableBy('messages', row.attempt)),
        )
        .execute();
    },

    /** Updates a run's message only while it is open and only from the attempt that wrote it. */
    async updateIfOpen(
      projectId: string,
      id: string,
      attempt: number,
      changes: Updateable<MessageTable>,
    ): Promise<void> {
      await db
        .updateTable('messages')
        .set(changes)
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', 'in_progress')
        .where('attempt', '=', attempt)
        .execute();
    },

    /** The attachment lists of a thread's messages that have any, oldest first (what tools stage as files). */
    attachmentsOf(projectId: string, threadId: string): Promise<string[]> {
      return scoped(projectId, threadId)
        .select('attachments')
        .where('attachments', '!=', '[]')
        .orderBy('created_at')
        .orderBy('id')
        .execute()
        .then((rows) => rows.map((row) => row.attachments));
    },

    /** The messages a run wrote, in creation order (one per model step that answered in text). */
    forRun(projectId: string, runId: string): Promise<MessageRow[]> {
      return db
        .selectFrom('messages')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('run_id', '=', runId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    async closeOpenForRun(projectId: string, runId: string, changes: Updateable<MessageTable>): Promise<void> {
      await db
        .updateTable('messages')
        .set(changes)
        .where('project_id', '=', projectId)
        .where('run_id', '=', runId)
        .where('status', '=', 'in_progress')
        .execute();
    },

    findById(projectId: string, id: string): Promise<MessageRow | undefined> {
      return db
        .selectFrom('messages')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /**
     * Stores counted prompt costs (one statement for a whole page). Only where none is stored yet: a message's
     * content never changes once it is finished, so the first count stands.
     */
    async saveTokenCounts(counts: Array<{ id: string; tokens: number }>): Promise<void> {
      if (counts.length === 0) return;
      const byId = sql.join(
        counts.map((c) => sql`when ${c.id} then cast(${c.tokens} as integer)`),
        sql` `,
      );
      await db
        .updateTable('messages')
        .set({ token_count: sql<number>`case id ${byId} end` })
        .where(
          'id',
          'in',
          counts.map((c) => c.id),
        )
        .where('token_count', 'is', null)
        .execute();
    },

    /** Clears a message earlier attempts of a model step left behind (never a newer attempt's). */
    async deleteEarlierAttempts(projectId: string, ids: string[], attempt: number): Promise<void> {
      await db
        .deleteFrom('messages')
        .where('project_id', '=', projectId)
        .where('id', 'in', ids)
        .where('attempt', '<', attempt)
        .execute();
    },

    /**
     * Up to `limit` of a thread's messages, newest first, older than `olderThan` when given, without their
     * content: what a run's context builder decides the prompt's window on (stored cost, content size).
     */
    costsNewestFirst(projectId: string, threadId: string, limit: number, olderThan?: Position): Promise<MessageCost[]> {
      let query = scoped(projectId, threadId).select([
        'id',
        'created_at',
        'run_id',
        'role',
        'status',
        'token_count',
        sql<number>`length(content)`.as('content_chars'),
      ]);
      if (olderThan) query = query.where(sql<boolean>`(created_at, id) < (${olderThan.createdAt}, ${olderThan.id})`);
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    /** A thread's messages from `from` on, oldest first, except those of run `exceptRunId`. */
    since(projectId: string, threadId: string, from: Position, exceptRunId: string): Promise<MessageRow[]> {
      return scoped(projectId, threadId)
        .selectAll()
        .where(sql<boolean>`(created_at, id) >= (${from.createdAt}, ${from.id})`)
        .where((eb) => eb.or([eb('run_id', 'is', null), eb('run_id', '!=', exceptRunId)]))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    byIds(projectId: string, ids: string[]): Promise<MessageRow[]> {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('messages').selectAll().where('project_id', '=', projectId).where('id', 'in', ids).execute();
    },

    find(projectId: string, threadId: string, id: string): Promise<MessageRow | undefined> {
      return scoped(projectId, threadId).selectAll().where('id', '=', id).executeTakeFirst();
    },

    update(
      projectId: string,
      threadId: string,
      id: string,
      changes: Updateable<MessageTable>,
    ): Promise<MessageRow | undefined> {
      return db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length > 0) {
          await trx
            .updateTable('messages')
            .set(changes)
            .where('project_id', '=', projectId)
            .where('thread_id', '=', threadId)
            .where('id', '=', id)
            .execute();
        }
        return trx
          .selectFrom('messages')
          .selectAll()
          .where('project_id', '=', projectId)
          .where('thread_id', '=', threadId)
          .where('id', '=', id)
          .executeTakeFirst();
      });
    },

    async delete(projectId: string, threadId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('messages')
        .where('project_id', '=', projectId)
        .where('thread_id', '=', threadId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    position(projectId: string, threadId: string, id: string): Promise<Position | undefined> {
      return scoped(projectId, threadId)
        .select(['created_at as createdAt', 'id'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, threadId: string, page: PageRequest, runId?: string): Promise<Page<MessageRow>> {
      let query = scoped(projectId, threadId).selectAll();
      if (runId !== undefined) query = query.where('run_id', '=', runId);
      return keysetPage(query, page);
    },
  };
}
