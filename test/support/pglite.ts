import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SqlRunner } from '../../src/vectorStores/index/sqlRunner';

/**
 * Real PostgreSQL with pgvector compiled in (PGlite, in WebAssembly): this machine's PostgreSQL has no pgvector
 * package, so the pgvector SQL is tested here, through the same SqlRunner interface it uses on `pg` in
 * production. PGlite runs in a worker thread (pgliteWorker.mjs) because Jest's VM cannot load it.
 */
export interface Pglite {
  runner: SqlRunner;
  close(): Promise<void>;
}

export async function startPglite(): Promise<Pglite> {
  const worker = new Worker(workerScript());
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: Error) => void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: { ready?: true; id?: number; rows?: unknown[]; error?: string }) => {
      if (message.ready) return resolve();
      const waiter = pending.get(message.id!);
      pending.delete(message.id!);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.rows ?? []);
    });
  });
  const query = <R>(text: string, params: readonly unknown[] = []) =>
    new Promise<R[]>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      worker.postMessage({ id, text, params: [...params] });
    });
  const runner: SqlRunner = {
    query,
    async transaction(fn) {
      await query('BEGIN');
      try {
        const result = await fn(runner);
        await query('COMMIT');
        return result;
      } catch (error) {
        await query('ROLLBACK');
        throw error;
      }
    },
  };
  // The table migration 012 creates (PGlite does not run Threadline's Kysely migrations).
  await query(`CREATE TABLE vector_index_settings (
    id text PRIMARY KEY, model text NOT NULL, dimensions integer NOT NULL, created_at bigint NOT NULL)`);
  return { runner, close: () => worker.terminate().then(() => undefined) };
}

/** The worker's script: beside this file under Jest, in the source tree when this runs compiled (bench). */
function workerScript(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'pgliteWorker.mjs'), path.join(dir, 'test/support/pgliteWorker.mjs')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
  }
  throw new Error('test/support/pgliteWorker.mjs not found');
}
