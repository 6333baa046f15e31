import pino from 'pino';
import { loadConfig } from '../../src/config';
import { createDb, type Db } from '../../src/store/db';
import { migrateToLatest } from '../../src/store/migrate';
import { createSearchDeps, searchDepsReady } from '../../src/vectorStores/deps';
import { ManagedVectorIndex } from '../../src/vectorStores/index/managed';
import { pgvectorBackend } from '../../src/vectorStores/index/pgvector';
import { kyselyRunner, type SqlRunner } from '../../src/vectorStores/index/sqlRunner';
import { sqliteVecBackend } from '../../src/vectorStores/index/sqliteVec';
import type { VectorBackend } from '../../src/vectorStores/index/backend';
import { createThrowawayDatabase } from '../support/postgres';
import { startPglite } from '../support/pglite';
import { hashEmbedding } from '../support/hashEmbedding';

const DIM = 32;
const row = (chunkId: string, text: string, vectorStoreId = 'vs_a', fileId = 'file_1', projectId = 'proj_1') => ({
  chunkId,
  projectId,
  vectorStoreId,
  fileId,
  embedding: hashEmbedding(text, DIM),
});
const near = (index: ManagedVectorIndex, text: string, vectorStoreIds = ['vs_a'], projectId = 'proj_1', limit = 10) =>
  index
    .nearest({ projectId, vectorStoreIds, embedding: hashEmbedding(text, DIM), limit })
    .then((hits) => hits.map((h) => h.chunkId));

interface Engine {
  name: string;
  open(): Promise<{ runner: SqlRunner; backend: VectorBackend; close(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: 'SQLite + sqlite-vec',
    async open() {
      const db = createDb({ dialect: 'sqlite', filename: ':memory:' });
      await migrateToLatest(db);
      const runner = kyselyRunner(db);
      return { runner, backend: sqliteVecBackend(runner), close: () => db.destroy() };
    },
  },
  {
    name: 'PostgreSQL + pgvector (PGlite)',
    async open() {
      const pglite = await startPglite();
      return { runner: pglite.runner, backend: pgvectorBackend(pglite.runner), close: () => pglite.close() };
    },
  },
];

describe.each(engines)('vector index on $name', (engine) => {
  let opened: Awaited<ReturnType<Engine['open']>>;
  // One database per engine (PGlite takes seconds to boot); each test starts from no vectors and no settings.
  beforeAll(async () => {
    opened = await engine.open();
  });
  beforeEach(async () => {
    await opened.runner.query('DROP TABLE IF EXISTS vector_store_embeddings');
    await opened.runner.query('DELETE FROM vector_index_settings');
  });
  afterAll(() => opened.close());

  const index = (model = 'fake-embed', dimensions: number | null = DIM) =>
    new ManagedVectorIndex(opened.backend, opened.runner, { model, dimensions: dimensions ?? undefined });

  it('finds the nearest chunks of the searched stores and project only, nearest first', async () => {
    const vectors = index();
    expect(await vectors.ready).toEqual({ kind: 'ready', dimensions: DIM });
    await vectors.upsert([
      row('c1', 'tidal energy from the moon'),
      row('c2', 'the migration of arctic terns'),
      row('c3', 'photosynthesis in green leaves'),
      row('c4', 'photosynthesis in green leaves', 'vs_b'),
      row('c5', 'photosynthesis in green leaves', 'vs_a', 'file_9', 'proj_2'),
    ]);
    const hits = await near(vectors, 'photosynthsis of leaves');
    expect(hits[0]).toBe('c3');
    expect(hits.sort()).toEqual(['c1', 'c2', 'c3']);
    expect((await near(vectors, 'photosynthsis', ['vs_a', 'vs_b'])).slice(0, 2).sort()).toEqual(['c3', 'c4']);
    expect(await near(vectors, 'photosynthsis', ['vs_a'], 'proj_2')).toEqual(['c5']);
    expect(await near(vectors, 'anything', ['vs_none'])).toEqual([]);
    const [best] = await vectors.nearest({
      projectId: 'proj_1',
      vectorStoreIds: ['vs_a'],
      embedding: hashEmbedding('tidal energy from the moon', DIM),
      limit: 1,
    });
    expect(best).toEqual({ chunkId: 'c1', distance: expect.closeTo(0, 4) as number });
  });

  it('upserts by chunk id (a retried activity leaves one copy), and removes by file and by store', async () => {
    const vectors = index();
    await vectors.upsert([row('c1', 'alpha beta'), row('c2', 'gamma delta', 'vs_a', 'file_2')]);
    await vectors.upsert([row('c1', 'epsilon zeta'), row('c1', 'epsilon zeta')].slice(0, 1));
    await vectors.upsert([row('c1', 'epsilon zeta')]);
    expect(await near(vectors, 'epsilon zeta')).toEqual(['c1', 'c2']);
    const counted = await opened.runner.query<{ count: number | string }>(
      'SELECT count(*) AS count FROM vector_store_embeddings',
    );
    expect(Number(counted[0]!.count)).toBe(2);
    await vectors.removeFile('vs_a', 'file_2');
    expect(await near(vectors, 'gamma delta')).toEqual(['c1']);
    await vectors.upsert([row('c3', 'x', 'vs_b')]);
    await vectors.removeStore('vs_a');
    expect(await near(vectors, 'epsilon', ['vs_a', 'vs_b'])).toEqual(['c3']);
  });

  it('takes its size from the first vectors when none is configured, then refuses vectors of another size', async () => {
    const vectors = index('fake-embed', null);
    expect(await vectors.ready).toEqual({ kind: 'unsized' });
    expect(await near(vectors, 'nothing yet')).toEqual([]);
    await vectors.upsert([row('c1', 'first vectors fix the size')]);
    expect(await near(vectors, 'first vectors')).toEqual(['c1']);
    await expect(vectors.upsert([{ ...row('c2', 'x'), embedding: [1, 0, 0] }])).rejects.toThrow(
      /3 dimensions cannot go into the 32-dimension vector index/,
    );
  });

  it('leaves stored vectors alone and explains, when the model or the size changed', async () => {
    await index().upsert([row('c1', 'stored with the old settings')]);
    const resized = await index('fake-embed', 64).ready;
    expect(resized).toMatchObject({ kind: 'disabled' });
    expect(resized.kind === 'disabled' && resized.reason).toMatch(
      /holds 32-dimension vectors of fake-embed but THREADLINE_EMBEDDINGS_DIMENSIONS is 64: set the embeddings settings back, or drop/,
    );
    const remodelled = await index('other-model', null).ready;
    expect(remodelled.kind === 'disabled' && remodelled.reason).toMatch(/THREADLINE_EMBEDDINGS_MODEL is other-model/);
    // The old vectors are intact and the old settings still work.
    expect(await near(index(), 'stored with the old settings')).toEqual(['c1']);
  });
});

describe('vector search on a PostgreSQL without pgvector (this machine)', () => {
  let database: Awaited<ReturnType<typeof createThrowawayDatabase>>;
  let db: Db;
  beforeAll(async () => {
    database = await createThrowawayDatabase();
    db = createDb({ dialect: 'postgres', connectionString: database.url });
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  it('keeps keyword search and says why at boot', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = loadConfig({
      THREADLINE_DATABASE_URL: database.url,
      THREADLINE_EMBEDDINGS_BASE_URL: 'http://127.0.0.1:1/v1',
    });
    const deps = createSearchDeps(config, db, logger);
    expect(deps.embedder).toBeDefined();
    await searchDepsReady(deps);
    expect(deps.embedder).toBeUndefined();
    expect(deps.vectors).toBeUndefined();
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/vector search off, keyword search only: the pgvector extension is not available/);
    // The database is untouched and usable.
    const tables = await kyselyRunner(db).query<{ n: string }>(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'vector_store_embeddings'`,
    );
    expect(Number(tables[0]!.n)).toBe(0);
  });

  it('says keyword-only when no embeddings endpoint is configured', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const deps = createSearchDeps(loadConfig({ THREADLINE_DATABASE_URL: database.url }), db, logger);
    expect(deps).toEqual({ db });
    expect(lines.join('')).toMatch(/no THREADLINE_EMBEDDINGS_BASE_URL, vector store search is keyword-only/);
  });
});
