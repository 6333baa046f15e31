import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool, types as pgTypes } from 'pg';
import * as sqliteVec from 'sqlite-vec';
import type { DatabaseConfig } from '../config';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/**
 * The only place that knows which SQL engine is underneath. Repositories and migrations are written once
 * against Kysely; what differs between the dialects is set up here.
 */
export function createDb(config: DatabaseConfig): Db {
  if (config.dialect === 'postgres') {
    // Timestamps are BIGINT (unix seconds outlive 2038); pg returns int8 as a string unless told otherwise.
    // The parser is set on this pool only, not on pg's global type registry.
    const INT8_OID = 20;
    const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (value: string) => Number(value)
        : (pgTypes.getTypeParser(oid, format) as (value: string) => unknown)) as typeof pgTypes.getTypeParser;
    const pool = new Pool({ connectionString: config.connectionString, max: 10, types: { getTypeParser } });
    // An idle connection dropped by the server (restart, failover, admin termination) must not crash the
    // process: the pool discards it and the next query opens a fresh one.
    pool.on('error', () => undefined);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (config.filename !== ':memory:') fs.mkdirSync(path.dirname(config.filename), { recursive: true });
  const sqlite = new SqliteDatabase(config.filename);
  // WAL lets readers proceed while a writer commits; busy_timeout makes a second process wait instead of failing.
  sqlite.pragma('journal_mode = WAL');
  // Set, not left to the build's default: better-sqlite3 builds with NORMAL for WAL, but a connection that
  // switched a new file to WAL itself stays at FULL, so a database synced every commit in its first process
  // and not after a restart. FULL made each commit wait for a disk sync on the event loop (bench/FINDINGS.md).
  sqlite.pragma(`synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  try {
    // Vector search's index (src/vectorStores/index/sqliteVec.ts). A platform without the prebuilt extension
    // still runs, with keyword search: the vector index says why at boot.
    sqliteVec.load(sqlite);
  } catch {
    // reported by the vector index's boot check
  }
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  sqliteHandles.set(db, statements);
  return db;
}

/** Prepared statements on a SQLite database's one connection (cached, see withStatementCache). */
export type SqliteStatements = Pick<ReturnType<typeof withStatementCache>, 'prepare'>;

const sqliteHandles = new WeakMap<Db, SqliteStatements>();

/**
 * The connection under a SQLite `Db`, for the one hot path written in SQL directly (the run event log's
 * append, src/store/repositories/sqliteEventAppend.ts); undefined on PostgreSQL. Only to be used while
 * holding Kysely's connection (`db.connection()` or inside a transaction): the connection is shared.
 */
export function sqliteStatements(db: Db): SqliteStatements | undefined {
  return sqliteHandles.get(db);
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query afresh, and compiling SQL was the SQLite driver's largest CPU cost under load
 * (bench/FINDINGS.md). The same few dozen statements run over and over, so compiled ones are kept and
 * reused. Safe because Kysely runs each synchronously to completion (it never leaves one half-iterated).
 */
function withStatementCache(sqlite: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        // Oldest first out: queries with IN lists of varying length must not grow the cache without bound.
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
