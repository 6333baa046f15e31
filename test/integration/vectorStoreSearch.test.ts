import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { searchVectorStores } from '../../src/vectorStores/search';
import type { Attributes, Embedder, Filter, VectorIndex, VectorRow } from '../../src/vectorStores/types';
import { DIALECTS, startTestService, type TestService } from '../support/service';

/**
 * The search function against each database's real keyword index (FTS5, tsvector), on rows written directly:
 * ranking, attribute filters in SQL, fusion of several queries, thresholds, and what is never shown.
 */
describe.each(DIALECTS)('vector store search (%s)', (dialect) => {
  let svc: TestService;
  const now = Math.floor(Date.now() / 1000);
  const store = 'vs_search_a';
  const expired = 'vs_search_expired';

  async function addStore(id: string, expiresAt: number | null) {
    await svc.running.db
      .insertInto('vector_stores')
      .values({
        project_id: DEFAULT_PROJECT_ID,
        id,
        created_at: now,
        name: id,
        description: null,
        metadata: '{}',
        expires_after_days: expiresAt === null ? null : 1,
        expires_at: expiresAt,
        last_active_at: now,
      })
      .execute();
  }

  async function addFile(
    storeId: string,
    fileId: string,
    status: string,
    attributes: Attributes | null,
    texts: string[],
  ) {
    const db = svc.running.db;
    await db
      .insertInto('files')
      .values({
        project_id: DEFAULT_PROJECT_ID,
        id: fileId,
        created_at: now,
        bytes: 1,
        filename: `${fileId}.txt`,
        purpose: 'assistants',
        mime_type: 'text/plain',
        state: 'ready',
        expires_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await db
      .insertInto('vector_store_files')
      .values({
        project_id: DEFAULT_PROJECT_ID,
        vector_store_id: storeId,
        id: fileId,
        created_at: now,
        status,
        last_error: null,
        attributes: attributes === null ? null : JSON.stringify(attributes),
        chunking_strategy: '{}',
        usage_bytes: 0,
        batch_id: null,
        ingestion_id: `ing_${fileId}`,
      })
      .execute();
    await db
      .insertInto('vector_store_chunks')
      .values(
        texts.map((text, i) => ({
          id: `${storeId}:${fileId}:${i}`,
          project_id: DEFAULT_PROJECT_ID,
          vector_store_id: storeId,
          file_id: fileId,
          chunk_index: i,
          text,
          token_count: 10,
        })),
      )
      .execute();
  }

  beforeAll(async () => {
    svc = await startTestService(dialect, {}, { worker: false });
    await addStore(store, null);
    await addStore(expired, now - 10);
    await addFile(store, 'file-whales', 'completed', { genre: 'novel', year: 1851, public: true }, [
      'Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.',
      'The whale, the white whale, Moby Dick, was hunted by Captain Ahab.',
    ]);
    await addFile(store, 'file-pride', 'completed', { genre: 'novel', year: 1813, public: true }, [
      'It is a truth universally acknowledged that a single man in possession of a good fortune must be in want of a wife.',
    ]);
    await addFile(store, 'file-manual', 'completed', { genre: 'manual', year: 2020, 'odd "key"': 'x' }, [
      'To replace the whale-oil lamp, unscrew the base (counter-clockwise) and lift.',
    ]);
    await addFile(store, 'file-pending', 'in_progress', null, ['A whale that is still being indexed.']);
    await addFile(expired, 'file-gone', 'completed', null, ['An expired whale.']);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const search = (queries: string[], extra: Partial<Parameters<typeof searchVectorStores>[1]> = {}) =>
    searchVectorStores(
      { db: svc.running.db },
      { projectId: DEFAULT_PROJECT_ID, vectorStoreIds: [store, expired], queries, maxNumResults: 10, ...extra },
    );

  it('ranks chunks by their keywords, only from completed files of stores that have not expired', async () => {
    const hits = await search(['white whale Ahab']);
    expect(hits[0]).toMatchObject({
      chunkId: `${store}:file-whales:1`,
      fileId: 'file-whales',
      filename: 'file-whales.txt',
      vectorStoreId: store,
      attributes: { genre: 'novel', year: 1851, public: true },
      score: 1,
    });
    const files = hits.map((hit) => hit.fileId);
    expect(files).toContain('file-manual');
    expect(files).not.toContain('file-pending');
    expect(files).not.toContain('file-gone');
    for (const hit of hits) expect(hit.score).toBeGreaterThan(0);
    for (const hit of hits) expect(hit.score).toBeLessThanOrEqual(1);
  });

  it('puts chunks holding every term first, and chunks holding any only when those do not fill the page', async () => {
    // Only chunk 0 of file-whales holds both words.
    const both = await search(['Ishmael sea'], { maxNumResults: 1 });
    expect(both.map((hit) => hit.chunkId)).toEqual([`${store}:file-whales:0`]);
    // Nothing holds all of these: the any-term chunks fill the page.
    const any = await search(['lamp fortune Ahab'], { maxNumResults: 10 });
    expect(any.map((hit) => hit.fileId).sort()).toEqual(['file-manual', 'file-pride', 'file-whales']);
    // One chunk holds both words, fewer than the page asks for: it leads, although a short chunk saying 'tide'
    // over and over outranks it on the words alone (with 'harbor' in every other chunk, only 'tide' weighs);
    // the chunks holding one word follow. (SQLite's bm25 put 'tide' first before all-terms matches led.)
    const terms = 'vs_search_terms';
    await addStore(terms, null);
    const filler = 'stone rope gull mast deck plank net oar keel hull';
    await addFile(terms, 'file-terms-both', 'completed', null, [`harbor ${filler} ${filler} ${filler} tide`]);
    await addFile(terms, 'file-terms-tide', 'completed', null, ['tide tide tide tide tide']);
    await addFile(terms, 'file-terms-harbor', 'completed', null, ['harbor gull', 'harbor rope', 'harbor net']);
    const mixed = await search(['harbor tide'], { vectorStoreIds: [terms], maxNumResults: 10 });
    const files = mixed.map((hit) => hit.fileId);
    expect(files[0]).toBe('file-terms-both');
    // How the one-word chunks order among themselves is the ranker's (bm25 weighs 'tide', ts_rank has no IDF).
    expect(files.slice(1).sort()).toEqual([
      'file-terms-harbor',
      'file-terms-harbor',
      'file-terms-harbor',
      'file-terms-tide',
    ]);
  });

  it('never lets query punctuation reach the index syntax', async () => {
    for (const query of ['"whale', 'whale*', 'NEAR(whale', 'whale: -oil', "it's & | ! ()", '***', '']) {
      await expect(search([query])).resolves.toBeInstanceOf(Array);
    }
    expect(await search(['***'])).toEqual([]);
    expect((await search(['"whale-oil"']))[0]?.fileId).toBe('file-manual');
  });

  it('applies comparison and compound filters on attributes', async () => {
    const ids = async (filters: Filter) =>
      [...new Set((await search(['whale wife truth sea lamp'], { filters })).map((hit) => hit.fileId))].sort();
    expect(await ids({ type: 'eq', key: 'genre', value: 'manual' })).toEqual(['file-manual']);
    expect(await ids({ type: 'ne', key: 'genre', value: 'manual' })).toEqual(['file-pride', 'file-whales']);
    expect(await ids({ type: 'lt', key: 'year', value: 1851 })).toEqual(['file-pride']);
    expect(await ids({ type: 'gte', key: 'year', value: 1851 })).toEqual(['file-manual', 'file-whales']);
    // A number never equals a string.
    expect(await ids({ type: 'eq', key: 'year', value: '1851' })).toEqual([]);
    expect(await ids({ type: 'eq', key: 'public', value: true })).toEqual(['file-pride', 'file-whales']);
    expect(await ids({ type: 'eq', key: 'odd "key"', value: 'x' })).toEqual(['file-manual']);
    expect(await ids({ type: 'in', key: 'year', value: [1813, 2020] })).toEqual(['file-manual', 'file-pride']);
    expect(await ids({ type: 'nin', key: 'year', value: [1813, 2020] })).toEqual(['file-whales']);
    expect(
      await ids({
        type: 'or',
        filters: [
          { type: 'eq', key: 'genre', value: 'manual' },
          {
            type: 'and',
            filters: [
              { type: 'eq', key: 'genre', value: 'novel' },
              { type: 'lt', key: 'year', value: 1820 },
            ],
          },
        ],
      }),
    ).toEqual(['file-manual', 'file-pride']);
  });

  it('fuses several queries, caps the results and applies the threshold after fusion', async () => {
    const hits = await search(['Ishmael sea', 'fortune wife']);
    const top = hits
      .slice(0, 2)
      .map((hit) => hit.fileId)
      .sort();
    expect(top).toEqual(['file-pride', 'file-whales']);
    expect(await search(['whale'], { maxNumResults: 1 })).toHaveLength(1);
    // Each query's best match scores 1; below it, scores fall with the rank.
    expect(hits.slice(0, 2).map((hit) => hit.score)).toEqual([1, 1]);
    const strict = await search(['Ishmael sea', 'fortune wife', 'lamp'], { scoreThreshold: 0.99 });
    expect(strict.map((hit) => hit.chunkId).sort()).toEqual(
      [`${store}:file-manual:0`, `${store}:file-pride:0`, `${store}:file-whales:0`].sort(),
    );
    for (const hit of strict) expect(hit.score).toBeGreaterThanOrEqual(0.99);
  });

  it('fuses a vector list with the keyword list when an embedder and a vector index are given', async () => {
    // A toy embedding (which of a few topics a text is about) and an in-memory index: the fusion and the
    // checks on what the index returns are under test here, not the embeddings.
    const topics = ['sea', 'marriage', 'lamp'];
    const embedder: Embedder = {
      model: 'toy',
      dimensions: topics.length,
      embed: (texts) =>
        Promise.resolve(
          texts.map((text) => {
            const lower = text.toLowerCase();
            return [
              /sea|whale|ishmael|ocean/.test(lower) ? 1 : 0,
              /wife|marriage|fortune|wed/.test(lower) ? 1 : 0,
              /lamp|oil|light/.test(lower) ? 1 : 0,
            ];
          }),
        ),
    };
    const rows: VectorRow[] = [];
    const vectors: VectorIndex = {
      upsert: (more) => {
        rows.push(...more);
        return Promise.resolve();
      },
      removeFile: () => Promise.resolve(),
      removeStore: () => Promise.resolve(),
      nearest: ({ projectId, vectorStoreIds, embedding, limit }) => {
        const distance = (v: number[]) => v.reduce((sum, x, i) => sum + (x - embedding[i]!) ** 2, 0);
        return Promise.resolve(
          rows
            .filter((row) => row.projectId === projectId && vectorStoreIds.includes(row.vectorStoreId))
            .map((row) => ({ chunkId: row.chunkId, distance: distance(row.embedding) }))
            .sort((a, b) => a.distance - b.distance || (a.chunkId < b.chunkId ? -1 : 1))
            .slice(0, limit),
        );
      },
    };
    const chunks = await svc.running.db.selectFrom('vector_store_chunks').selectAll().execute();
    const embeddings = await embedder.embed(chunks.map((chunk) => chunk.text));
    await vectors.upsert(
      chunks.map((chunk, i) => ({
        chunkId: chunk.id,
        projectId: chunk.project_id,
        vectorStoreId: chunk.vector_store_id,
        fileId: chunk.file_id,
        embedding: embeddings[i]!,
      })),
    );
    const hybrid = (queries: string[], extra: { filters?: Filter } = {}) =>
      searchVectorStores(
        { db: svc.running.db, embedder, vectors },
        { projectId: DEFAULT_PROJECT_ID, vectorStoreIds: [store, expired], queries, maxNumResults: 10, ...extra },
      );

    // "wed" is no keyword of any chunk: only the vector list finds the marriage chunk, at half the score of a
    // chunk first in both lists.
    const wed = await hybrid(['wed']);
    expect(wed[0]).toMatchObject({ fileId: 'file-pride' });
    expect(wed[0]!.score).toBeCloseTo(0.5);
    // First in both lists scores 1.
    const both = await hybrid(['whale-oil lamp']);
    expect(both[0]).toMatchObject({ fileId: 'file-manual', score: 1 });
    // What the index returns is still held to the chunk rows: pending files, expired stores and filters.
    const sea = await hybrid(['ocean']);
    expect(sea.map((hit) => hit.fileId)).not.toContain('file-pending');
    expect(sea.map((hit) => hit.fileId)).not.toContain('file-gone');
    expect(sea.length).toBeGreaterThan(0);
    const filtered = await hybrid(['ocean'], { filters: { type: 'eq', key: 'genre', value: 'manual' } });
    expect(filtered.map((hit) => hit.fileId)).toEqual(['file-manual']);
  });

  it('does not search another project', async () => {
    const hits = await searchVectorStores(
      { db: svc.running.db },
      { projectId: 'proj_other', vectorStoreIds: [store], queries: ['whale'], maxNumResults: 10 },
    );
    expect(hits).toEqual([]);
  });
});
