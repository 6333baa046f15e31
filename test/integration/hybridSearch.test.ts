import { toFile } from 'openai';
import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { kyselyRunner } from '../../src/vectorStores/index/sqlRunner';
import { searchVectorStores } from '../../src/vectorStores/search';
import { startFakeEmbeddings, type FakeEmbeddings } from '../support/fakeEmbeddings';
import { startTestService, type Dialect, type TestService } from '../support/service';

/**
 * Hybrid search end to end through the official SDK: files uploaded and ingested by the real workflow, their
 * chunks embedded by the (fake) embeddings endpoint and stored in the database's vector index, then searched.
 * On SQLite (sqlite-vec) a misspelt query that the keyword index cannot match is found by its vectors; on this
 * machine's PostgreSQL (no pgvector) the same service runs keyword-only and ingestion skips the embed step.
 */
const TARGET =
  'Photosynthesis in green leaves turns light into chemical energy inside the chloroplasts of plant cells.';
const DISTRACTOR = 'Autumn leaves fall from the maple trees in October, and the gardeners rake them into piles.';
const OTHER = 'The harbour master logs every ship that enters the port, with its tonnage and its cargo.';

async function storeWith(svc: TestService): Promise<{ storeId: string; files: Record<string, string> }> {
  const store = await svc.openai.vectorStores.create({ name: 'hybrid' });
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries({
    'target.txt': TARGET,
    'distractor.txt': DISTRACTOR,
    'other.txt': OTHER,
  })) {
    const file = await svc.openai.vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from(text), name), {
      pollIntervalMs: 100,
    });
    expect(file.status).toBe('completed');
    files[name] = file.id;
  }
  return { storeId: store.id, files };
}

async function vectorCount(svc: TestService): Promise<number> {
  const rows = await kyselyRunner(svc.running.db).query<{ n: number }>(
    'SELECT count(*) AS n FROM vector_store_embeddings',
  );
  return Number(rows[0]!.n);
}

describe.each<Dialect>(['sqlite', 'postgres'])('hybrid search through the SDK (%s)', (dialect) => {
  let fake: FakeEmbeddings;
  let svc: TestService;
  beforeAll(async () => {
    fake = await startFakeEmbeddings();
    svc = await startTestService(dialect, {
      THREADLINE_EMBEDDINGS_BASE_URL: fake.baseURL,
      THREADLINE_EMBEDDINGS_MODEL: 'fake-embed',
      THREADLINE_EMBEDDINGS_DIMENSIONS: '64',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await fake?.close();
  });

  if (dialect === 'sqlite') {
    it('finds by vectors what keywords miss, and ranks first what both lists agree on', async () => {
      const { storeId, files } = await storeWith(svc);
      // Ingestion embedded every chunk, at the configured size.
      expect(fake.inputs()).toEqual(expect.arrayContaining([TARGET, DISTRACTOR, OTHER]));
      expect(fake.requests.every((r) => r.model === 'fake-embed' && r.dimensions === 64)).toBe(true);
      expect(await vectorCount(svc)).toBe(3);

      // A misspelling: nothing for the keyword index, the right file for the vectors.
      const keywordOnly = await searchVectorStores(
        { db: svc.running.db },
        { projectId: DEFAULT_PROJECT_ID, vectorStoreIds: [storeId], queries: ['fotosynthesis'], maxNumResults: 5 },
      );
      expect(keywordOnly).toEqual([]);
      const misspelt = await svc.openai.vectorStores.search(storeId, { query: 'fotosynthesis' });
      expect(misspelt.data[0]?.file_id).toBe(files['target.txt']);
      expect(misspelt.data[0]?.content[0]?.text).toBe(TARGET);

      // "leaves" matches two files by keyword; the vectors put the photosynthesis one first, and so does fusion.
      const mixed = await svc.openai.vectorStores.search(storeId, { query: 'fotosynthesis leaves' });
      expect(mixed.data.map((r) => r.file_id).slice(0, 2)).toEqual([files['target.txt'], files['distractor.txt']]);
      expect(mixed.data[0]!.score).toBeGreaterThan(mixed.data[1]!.score);

      // Removing the file from the store removes its vectors.
      await svc.openai.vectorStores.files.delete(files['target.txt']!, { vector_store_id: storeId });
      expect(await vectorCount(svc)).toBe(2);
      const after = await svc.openai.vectorStores.search(storeId, { query: 'fotosynthesis' });
      expect(after.data.map((r) => r.file_id)).not.toContain(files['target.txt']);
    });

    it('retries the embed step through endpoint faults: the file completes, its vectors stored once', async () => {
      const store = await svc.openai.vectorStores.create({ name: 'faults' });
      fake.reset();
      fake.fail({ status: 503 });
      fake.fail({ status: 429, retryAfter: 1 });
      const file = await svc.openai.vectorStores.files.uploadAndPoll(
        store.id,
        await toFile(
          Buffer.from('Tidal power stations turn the rise and fall of the sea into electricity.'),
          'tides.txt',
        ),
        { pollIntervalMs: 100 },
      );
      expect(file.status).toBe('completed');
      expect(fake.requests).toHaveLength(3);
      const rows = await kyselyRunner(svc.running.db).query<{ n: number }>(
        'SELECT count(*) AS n FROM vector_store_embeddings WHERE vector_store_id = ?',
        [store.id],
      );
      expect(Number(rows[0]!.n)).toBe(1);
      const found = await svc.openai.vectorStores.search(store.id, { query: 'tydal electrisity' });
      expect(found.data[0]?.file_id).toBe(file.id);
    });

    it('ends the file failed (server_error) when the endpoint refuses the request for good', async () => {
      const store = await svc.openai.vectorStores.create({ name: 'refused' });
      fake.reset();
      fake.fail({ status: 400 });
      const file = await svc.openai.vectorStores.files.uploadAndPoll(
        store.id,
        await toFile(Buffer.from('A text the endpoint will not embed.'), 'refused.txt'),
        { pollIntervalMs: 100 },
      );
      expect(file.status).toBe('failed');
      expect(file.last_error?.code).toBe('server_error');
      expect(fake.requests).toHaveLength(1);
      const rows = await kyselyRunner(svc.running.db).query<{ n: number }>(
        'SELECT count(*) AS n FROM vector_store_embeddings WHERE vector_store_id = ?',
        [store.id],
      );
      expect(Number(rows[0]!.n)).toBe(0);
    });
  } else {
    it('runs keyword-only without pgvector: files complete unembedded, keyword queries still answer', async () => {
      const { storeId, files } = await storeWith(svc);
      expect(fake.requests).toEqual([]);
      const found = await svc.openai.vectorStores.search(storeId, { query: 'photosynthesis chloroplasts' });
      expect(found.data[0]?.file_id).toBe(files['target.txt']);
      const misspelt = await svc.openai.vectorStores.search(storeId, { query: 'fotosynthesis' });
      expect(misspelt.data).toEqual([]);
    });
  }
});
