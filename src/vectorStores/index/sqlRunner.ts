import { CompiledQuery, type Kysely } from 'kysely';

/**
 * The little SQL surface the vector indexes need. It is this narrow so the pgvector SQL runs unchanged through
 * Threadline's Kysely pool in production and through PGlite (real PostgreSQL with pgvector, in WebAssembly) in
 * tests, where this machine's PostgreSQL has no pgvector package.
 */
export interface SqlRunner {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export function kyselyRunner<DB>(db: Kysely<DB>): SqlRunner {
  return {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const result = await db.executeQuery<R>(CompiledQuery.raw(text, [...params]));
      return result.rows;
    },
    transaction: (fn) => db.transaction().execute((trx) => fn(kyselyRunner(trx))),
  };
}
