import { sql } from 'kysely';
import { toFile } from 'openai';
import { chunkText } from '../../src/vectorStores/chunking';
import { killLeftoverCliProcesses, spawnWorkerFor, type CliProcess } from '../support/cli';
import { DIALECTS, eventually, startTestService, type TestService } from '../support/service';

/**
 * Ingestion survives its worker: a real `threadline worker` child process is SIGKILLed while a batch is half
 * ingested; a fresh worker finishes it, and the store holds exactly one copy of every chunk of every file.
 */
jest.setTimeout(180_000);

const FILES = 12;
const CHUNKING = { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 };

function document(n: number): string {
  return Array.from({ length: 600 }, (_, i) => `Document ${n} line ${i}: the whale ${i % 7} swims on.`).join('\n');
}

describe.each(DIALECTS)('ingestion surviving a worker crash (%s)', (dialect) => {
  let svc: TestService;
  let worker: CliProcess | undefined;

  beforeAll(async () => {
    svc = await startTestService(dialect, { THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: '3' }, { worker: false });
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await svc?.stop();
  });

  const statuses = async (storeId: string) => {
    const rows = await svc.running.db
      .selectFrom('vector_store_files')
      .select(['status'])
      .where('vector_store_id', '=', storeId)
      .execute();
    return rows.map((row) => row.status);
  };

  it('finishes a batch whose worker was killed mid-way, with one copy of each chunk', async () => {
    const store = await svc.openai.vectorStores.create({ name: 'durable' });
    const texts = new Map<string, string>();
    for (let n = 0; n < FILES; n++) {
      const file = await svc.openai.files.create({
        file: await toFile(Buffer.from(document(n)), `doc${n}.txt`),
        purpose: 'assistants',
      });
      texts.set(file.id, document(n));
    }
    const batch = await svc.openai.vectorStores.fileBatches.create(store.id, {
      file_ids: [...texts.keys()],
      chunking_strategy: { type: 'static', static: CHUNKING },
    });

    worker = await spawnWorkerFor(svc, 30_000);
    // Killed once some files are done and others are not: steps of the rest are in flight or queued.
    await eventually(
      async () => {
        const now = await statuses(store.id);
        return now.includes('completed') && now.includes('in_progress') ? true : undefined;
      },
      90_000,
      'a half-ingested batch',
    );
    worker.child.kill('SIGKILL');
    await worker.exited;
    const atKill = await statuses(store.id);
    expect(atKill.filter((s) => s === 'in_progress').length).toBeGreaterThan(0);

    worker = await spawnWorkerFor(svc, 30_000);
    const done = await eventually(
      async () => {
        const b = await svc.openai.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id });
        return b.status === 'completed' ? b : undefined;
      },
      120_000,
      'the batch to complete',
    );
    expect(done.file_counts).toEqual({ in_progress: 0, completed: FILES, failed: 0, cancelled: 0, total: FILES });

    for (const [fileId, text] of texts) {
      const expected = await chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 20 });
      const rows = await svc.running.db
        .selectFrom('vector_store_chunks')
        .select(['id', 'chunk_index', 'text'])
        .where('vector_store_id', '=', store.id)
        .where('file_id', '=', fileId)
        .orderBy('chunk_index')
        .execute();
      expect(rows.map((row) => row.chunk_index)).toEqual(expected.map((_, i) => i));
      expect(rows.map((row) => row.text)).toEqual(expected.map((chunk) => chunk.text));
      expect(rows.map((row) => row.id)).toEqual(expected.map((_, i) => `${store.id}:${fileId}:${i}`));
    }
    // The keyword index holds each chunk once too: a word in one line of one file finds one chunk per copy.
    const { data } = await svc.openai.vectorStores.search(store.id, {
      query: 'Document 3 line 317',
      max_num_results: 50,
    });
    const inFile = data.filter((hit) => hit.content[0]!.text.includes('Document 3 line 317:'));
    expect(new Set(inFile.map((hit) => hit.content[0]!.text)).size).toBe(inFile.length);
    if (dialect === 'sqlite') {
      const indexed = await sql<{ n: number }>`SELECT count(*) AS n FROM vector_store_chunks_fts`.execute(
        svc.running.db,
      );
      const stored = await svc.running.db
        .selectFrom('vector_store_chunks')
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(indexed.rows[0]!.n)).toBe(Number(stored.n));
    }
  });
});
