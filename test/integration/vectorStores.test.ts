import { sql } from 'kysely';
import { toFile } from 'openai';
import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { makeDocx, makePdf } from '../support/documents';
import { upload } from '../support/files';
import { DIALECTS, eventually, startTestService, startTestWorker, type TestService } from '../support/service';

const MOBY = [
  'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,',
  'and nothing particular to interest me on shore, I thought I would sail about a little and see the watery',
  'part of the world. It is a way I have of driving off the spleen and regulating the circulation.',
].join(' ');

async function chunkCount(svc: TestService, storeId: string, fileId?: string): Promise<number> {
  let query = svc.running.db
    .selectFrom('vector_store_chunks')
    .select(sql<number>`count(*)`.as('n'))
    .where('vector_store_id', '=', storeId);
  if (fileId) query = query.where('file_id', '=', fileId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** The vector store API through the official Node SDK and its polling helpers, on each database. */
describe.each(DIALECTS)('vector stores (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('ingests a file with files.uploadAndPoll, searches it and shows its parsed text', async () => {
    const store = await svc.openai.vectorStores.create({ name: 'novels', metadata: { team: 'a' } });
    expect(store).toMatchObject({
      object: 'vector_store',
      name: 'novels',
      status: 'completed',
      usage_bytes: 0,
      file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 },
      metadata: { team: 'a' },
      expires_at: null,
    });
    const file = await svc.openai.vectorStores.files.uploadAndPoll(
      store.id,
      await toFile(Buffer.from(MOBY), 'moby.txt'),
    );
    expect(file).toMatchObject({
      object: 'vector_store.file',
      vector_store_id: store.id,
      status: 'completed',
      last_error: null,
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } },
    });
    expect(file.usage_bytes).toBe(Buffer.byteLength(MOBY));

    const results = await svc.openai.vectorStores.search(store.id, { query: 'Ishmael money purse' });
    expect(results.data[0]).toMatchObject({
      file_id: file.id,
      filename: 'moby.txt',
      score: 1,
      attributes: {},
      content: [{ type: 'text', text: MOBY }],
    });
    const raw = await svc.http('POST', `/vector_stores/${store.id}/search`, { query: ['sail', 'spleen'] });
    expect(raw.body).toMatchObject({
      object: 'vector_store.search_results.page',
      search_query: ['sail', 'spleen'],
      has_more: false,
      next_page: null,
    });

    // rewrite_query searches (and shows) the query's terms: lowercased, stop words out.
    const rewritten = await svc.http('POST', `/vector_stores/${store.id}/search`, {
      query: 'Where is the money in the PURSE?',
      rewrite_query: true,
    });
    expect(rewritten.body).toMatchObject({ search_query: ['money purse'], data: [{ file_id: file.id }] });
    const asGiven = await svc.openai.vectorStores.search(store.id, { query: 'Where is the money?' });
    expect(asGiven.data[0]?.file_id).toBe(file.id);

    const content = await svc.http('GET', `/vector_stores/${store.id}/files/${file.id}/content`);
    expect(content.body).toEqual({
      object: 'vector_store.file_content.page',
      data: [{ type: 'text', text: MOBY }],
      has_more: false,
      next_page: null,
    });
    const page = await svc.openai.vectorStores.files.content(file.id, { vector_store_id: store.id });
    expect(page.data).toEqual([{ type: 'text', text: MOBY }]);

    const after = await svc.openai.vectorStores.retrieve(store.id);
    expect(after).toMatchObject({
      status: 'completed',
      usage_bytes: Buffer.byteLength(MOBY),
      file_counts: { completed: 1, total: 1 },
    });
    expect(after.last_active_at).toBeGreaterThanOrEqual(store.created_at);
  });

  it('ingests a batch of every supported kind with fileBatches.uploadAndPoll; bad files fail alone', async () => {
    const store = await svc.openai.vectorStores.create({ name: 'mixed' });
    const batch = await svc.openai.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [
        await toFile(Buffer.from('# Harpoons\n\nThe harpoon is thrown from the bow.'), 'harpoon.md'),
        await toFile(
          Buffer.from('<html><body><p>The <b>lighthouse</b> keeper waves.</p><script>x()</script></body></html>'),
          'light.html',
        ),
        await toFile(makePdf(['The quarterdeck ceremony', 'Ahab nails the doubloon']), 'doubloon.pdf'),
        await toFile(await makeDocx(['Starbuck counsels caution.']), 'starbuck.docx'),
        await toFile(Buffer.from('name,role\nQueequeg,harpooneer'), 'crew.csv'),
        await toFile(Buffer.from('def whale():\n    return "spout"\n'), 'whale.py'),
        await toFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), 'picture.png'),
        await toFile(Buffer.from('%PDF-1.4 torn in half'), 'torn.pdf'),
      ],
    });
    expect(batch).toMatchObject({
      object: 'vector_store.files_batch',
      vector_store_id: store.id,
      status: 'completed',
      file_counts: { in_progress: 0, completed: 6, failed: 2, cancelled: 0, total: 8 },
    });

    const failed = await svc.openai.vectorStores.fileBatches.listFiles(batch.id, {
      vector_store_id: store.id,
      filter: 'failed',
    });
    const errors = failed.data.map((file) => file.last_error?.code).sort();
    expect(errors).toEqual(['invalid_file', 'unsupported_file']);
    for (const file of failed.data) expect(file.status).toBe('failed');
    expect(await chunkCount(svc, store.id)).toBe(6);

    for (const [query, filename] of [
      ['doubloon quarterdeck', 'doubloon.pdf'],
      ['Starbuck caution', 'starbuck.docx'],
      ['lighthouse keeper', 'light.html'],
      ['Queequeg harpooneer', 'crew.csv'],
      ['spout', 'whale.py'],
      ['harpoon bow', 'harpoon.md'],
    ]) {
      const { data } = await svc.openai.vectorStores.search(store.id, { query: query! });
      expect(data[0]?.filename).toBe(filename);
    }
    const html = (await svc.openai.vectorStores.search(store.id, { query: 'lighthouse' })).data[0]!;
    expect(html.content[0]!.text).toBe('The lighthouse keeper waves.');

    const completed = await svc.openai.vectorStores.files.list(store.id, { filter: 'completed', limit: 4 });
    expect(completed.data).toHaveLength(4);
    expect(completed.has_more).toBe(true);
    const all: string[] = [];
    for await (const file of svc.openai.vectorStores.files.list(store.id, { limit: 3 })) all.push(file.id);
    expect(new Set(all).size).toBe(8);
  });

  it('creates a batch with per-file attributes (createAndPoll) and filters searches on them', async () => {
    const store = await svc.openai.vectorStores.create({ name: 'filtered' });
    const a = await upload(svc, 'a.txt', 'The whale surfaced near the ship at dawn.');
    const b = await upload(svc, 'b.txt', 'The whale dove deep beneath the ship at dusk.');
    const c = await upload(svc, 'c.txt', 'A whale song echoed through the night.');
    const batch = await svc.openai.vectorStores.fileBatches.createAndPoll(store.id, {
      files: [
        { file_id: a.id, attributes: { author: 'melville', year: 1851, draft: false } },
        { file_id: b.id, attributes: { author: 'melville', year: 1850, draft: true } },
        {
          file_id: c.id,
          attributes: { author: 'other', year: 1900 },
          chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 50 } },
        },
      ],
    } as Parameters<typeof svc.openai.vectorStores.fileBatches.createAndPoll>[1]);
    expect(batch.file_counts).toMatchObject({ completed: 3, total: 3 });
    const file = await svc.openai.vectorStores.files.retrieve(c.id, { vector_store_id: store.id });
    expect(file.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 50 },
    });
    expect(file.attributes).toEqual({ author: 'other', year: 1900 });

    const ids = async (filters: unknown) => {
      const { data } = await svc.openai.vectorStores.search(store.id, {
        query: 'whale',
        filters: filters as never,
      });
      return data.map((hit) => hit.file_id).sort();
    };
    expect(await ids({ type: 'eq', key: 'author', value: 'melville' })).toEqual([a.id, b.id].sort());
    expect(await ids({ type: 'gte', key: 'year', value: 1851 })).toEqual([a.id, c.id].sort());
    expect(
      await ids({
        type: 'and',
        filters: [
          { type: 'eq', key: 'author', value: 'melville' },
          { type: 'eq', key: 'draft', value: true },
        ],
      }),
    ).toEqual([b.id]);
    expect(await ids({ type: 'in', key: 'year', value: [1850, 1900] })).toEqual([b.id, c.id].sort());

    // Attributes can be changed, and searches see the change.
    const updated = await svc.openai.vectorStores.files.update(c.id, {
      vector_store_id: store.id,
      attributes: { author: 'melville' },
    });
    expect(updated.attributes).toEqual({ author: 'melville' });
    expect(await ids({ type: 'eq', key: 'author', value: 'melville' })).toEqual([a.id, b.id, c.id].sort());

    const few = await svc.openai.vectorStores.search(store.id, {
      query: 'whale ship',
      max_num_results: 1,
      ranking_options: { score_threshold: 0.5 },
      rewrite_query: true,
    });
    expect(few.data).toHaveLength(1);
  });

  it('creates a store with file_ids and a chunking strategy, and removes files and stores', async () => {
    const a = await upload(
      svc,
      'long.txt',
      Array.from({ length: 400 }, (_, i) => `sentence number ${i} about whales.`).join(' '),
    );
    const created = await svc.openai.vectorStores.create({
      name: 'with files',
      file_ids: [a.id],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 } },
    });
    expect(created.file_counts.total).toBe(1);
    const store = await eventually(async () => {
      const s = await svc.openai.vectorStores.retrieve(created.id);
      return s.status === 'completed' ? s : undefined;
    });
    expect(store.file_counts.completed).toBe(1);
    const chunks = await chunkCount(svc, store.id, a.id);
    expect(chunks).toBeGreaterThan(5);

    const removed = await svc.openai.vectorStores.files.delete(a.id, { vector_store_id: store.id });
    expect(removed).toEqual({ id: a.id, object: 'vector_store.file.deleted', deleted: true });
    expect(await chunkCount(svc, store.id)).toBe(0);
    // The File itself is kept.
    expect((await svc.openai.files.retrieve(a.id)).id).toBe(a.id);
    expect((await svc.openai.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);

    // Deleting the File itself removes it from every store it is in.
    const b = await upload(svc, 'again.txt', 'whales again and again');
    await svc.openai.vectorStores.files.createAndPoll(store.id, { file_id: b.id }, { pollIntervalMs: 50 });
    expect(await chunkCount(svc, store.id, b.id)).toBe(1);
    await svc.openai.files.delete(b.id);
    expect(await chunkCount(svc, store.id)).toBe(0);
    expect((await svc.openai.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);

    const deleted = await svc.openai.vectorStores.delete(store.id);
    expect(deleted).toEqual({ id: store.id, object: 'vector_store.deleted', deleted: true });
    const gone = await svc.http('GET', `/vector_stores/${store.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      error: {
        message: `No vector store found with id '${store.id}'.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });

  it('expires a store after its days of inactivity: expired stores are shown but not searchable', async () => {
    const store = await svc.openai.vectorStores.create({
      name: 'short-lived',
      expires_after: { anchor: 'last_active_at', days: 2 },
    });
    expect(store.expires_after).toEqual({ anchor: 'last_active_at', days: 2 });
    expect(store.expires_at).toBe(store.last_active_at! + 2 * 86400);
    await svc.running.db
      .updateTable('vector_stores')
      .set({ last_active_at: store.created_at - 3 * 86400, expires_at: store.created_at - 86400 })
      .where('id', '=', store.id)
      .execute();
    expect((await svc.openai.vectorStores.retrieve(store.id)).status).toBe('expired');
    const search = await svc.http('POST', `/vector_stores/${store.id}/search`, { query: 'anything' });
    expect(search.status).toBe(400);
    expect((search.body as { error: { message: string } }).error.message).toBe(`Vector store ${store.id} has expired.`);

    const modified = await svc.openai.vectorStores.update(store.id, { expires_after: null, name: 'kept' });
    expect(modified).toMatchObject({ name: 'kept', expires_at: null, expires_after: null, status: 'completed' });
  });

  it('refuses bad input with OpenAI-shaped 400s and 404s, writing nothing', async () => {
    const store = await svc.openai.vectorStores.create({});
    const file = await upload(svc, 'x.txt', 'x');
    const cases: Array<[string, string, unknown, number, string | null]> = [
      [
        'POST',
        `/vector_stores/${store.id}/files`,
        {
          file_id: file.id,
          chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 99, chunk_overlap_tokens: 0 } },
        },
        400,
        'chunking_strategy.static.max_chunk_size_tokens',
      ],
      [
        'POST',
        `/vector_stores/${store.id}/files`,
        {
          file_id: file.id,
          chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 201 } },
        },
        400,
        'chunking_strategy.static.chunk_overlap_tokens',
      ],
      ['POST', `/vector_stores/${store.id}/files`, { file_id: 'file-nope' }, 404, 'file_id'],
      ['POST', `/vector_stores/${store.id}/file_batches`, { file_ids: [file.id, 'file-nope'] }, 404, 'file_ids[1]'],
      [
        'POST',
        `/vector_stores/${store.id}/file_batches`,
        { file_ids: [file.id], files: [{ file_id: file.id }] },
        400,
        'files',
      ],
      ['POST', `/vector_stores/${store.id}/file_batches`, {}, 400, 'file_ids'],
      ['POST', '/vector_stores', { file_ids: ['file-nope'] }, 404, 'file_ids[0]'],
      ['POST', '/vector_stores', { expires_after: { anchor: 'last_active_at', days: 366 } }, 400, 'expires_after.days'],
      ['POST', `/vector_stores/${store.id}/search`, { query: 'x', max_num_results: 51 }, 400, 'max_num_results'],
      [
        'POST',
        `/vector_stores/${store.id}/search`,
        { query: 'x', filters: { type: 'eq', key: 'a' } },
        400,
        'filters.value',
      ],
      ['POST', `/vector_stores/${store.id}/search`, {}, 400, 'query'],
      ['GET', `/vector_stores/${store.id}/files/${file.id}`, undefined, 404, null],
      ['GET', '/vector_stores/vs_missing', undefined, 404, null],
      ['GET', '/vector_stores/asst_x', undefined, 400, 'vector_store_id'],
      ['GET', `/vector_stores/${store.id}/file_batches/vsfb_missing`, undefined, 404, null],
    ];
    for (const [method, path, body, status, param] of cases) {
      const response = await svc.http(method, path, body);
      expect({ path, body, status: response.status }).toEqual({ path, body, status });
      const error = (response.body as { error: { param: string | null; type: string; message: string } }).error;
      expect(error.type).toBe('invalid_request_error');
      expect(error.message.length).toBeGreaterThan(0);
      if (param !== null) expect(error.param).toBe(param);
    }
    expect((await svc.openai.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
    const stores = await svc.running.db
      .selectFrom('vector_stores')
      .select(sql<number>`count(*)`.as('n'))
      .where('project_id', '=', DEFAULT_PROJECT_ID)
      .executeTakeFirstOrThrow();
    expect(Number(stores.n)).toBeGreaterThan(0);
  });
});

/** A cancel while the batch waits (no worker yet): its files end `cancelled` and nothing gets indexed later. */
describe.each(DIALECTS)('vector store batch cancel (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect, {}, { worker: false });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('cancels the files a batch has not finished, and a worker arriving later indexes none of them', async () => {
    const store = await svc.openai.vectorStores.create({ name: 'cancel me' });
    const files = await Promise.all([1, 2, 3].map((i) => upload(svc, `f${i}.txt`, `whale number ${i}`)));
    const batch = await svc.openai.vectorStores.fileBatches.create(store.id, { file_ids: files.map((f) => f.id) });
    expect(batch).toMatchObject({ status: 'in_progress', file_counts: { in_progress: 3, total: 3 } });
    expect((await svc.openai.vectorStores.retrieve(store.id)).status).toBe('in_progress');

    const cancelled = await svc.openai.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 3, total: 3 },
    });
    const listed = await svc.openai.vectorStores.fileBatches.listFiles(batch.id, {
      vector_store_id: store.id,
      filter: 'cancelled',
    });
    expect(listed.data).toHaveLength(3);

    // A file added on its own afterwards is ingested once a worker comes; the cancelled ones stay cancelled.
    const later = await upload(svc, 'later.txt', 'a later whale');
    await svc.openai.vectorStores.files.create(store.id, { file_id: later.id });
    const worker = await startTestWorker(svc);
    try {
      await eventually(async () => {
        const file = await svc.openai.vectorStores.files.retrieve(later.id, { vector_store_id: store.id });
        return file.status === 'completed' ? file : undefined;
      });
      expect(await chunkCount(svc, store.id)).toBe(1);
      const after = await svc.openai.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id });
      expect(after.status).toBe('cancelled');
      expect(after.file_counts.cancelled).toBe(3);
      expect((await svc.openai.vectorStores.retrieve(store.id)).file_counts).toMatchObject({
        completed: 1,
        cancelled: 3,
        total: 4,
      });
    } finally {
      await worker.stop();
    }
  });
});
