import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createDb, type Db } from '../src/store/db';
import { migrateToLatest } from '../src/store/migrate';
import { AUTO_CHUNKING, chunkText } from '../src/vectorStores/chunking';
import { HttpEmbedder } from '../src/vectorStores/embeddings';
import { ManagedVectorIndex } from '../src/vectorStores/index/managed';
import { pgvectorBackend } from '../src/vectorStores/index/pgvector';
import { kyselyRunner } from '../src/vectorStores/index/sqlRunner';
import { sqliteVecBackend } from '../src/vectorStores/index/sqliteVec';
import { searchVectorStores } from '../src/vectorStores/search';
import type { SearchDeps } from '../src/vectorStores/types';
import { startFakeEmbeddings, type FakeEmbeddings } from '../test/support/fakeEmbeddings';
import { hashEmbedding } from '../test/support/hashEmbedding';
import { startPglite } from '../test/support/pglite';
import { createThrowawayDatabase } from '../test/support/postgres';
import { loadCorpus, SOURCE, type Question } from './retrieval/corpus';
import {
  addFile,
  createStore,
  inProcessEmbedder,
  insertChunks,
  insertVectors,
  PROJECT,
  type ChunkInput,
} from './retrieval/load';
import { dot, figures, locate, type QualityFigures, type Unit } from './retrieval/quality';
import { ROOT } from './root';
import { now, summarize, type Summary } from './stats';

/**
 * Retrieval bench (issue 10): quality on a labelled set, and ingestion/search speed at growing sizes.
 *
 *   npm run bench:retrieval -- --sizes=1000,100000 --db=sqlite,postgres --queries=60
 *
 * Quality: bench/retrieval/corpus.ts (SQLite's public-domain API docs, 237 questions). Our strategies run
 * through the real search code on SQLite (sqlite-vec) and PostgreSQL (keyword; pgvector through PGlite);
 * the peers' strategies are computed in-process on the same text with the same embeddings.
 * Speed: chunks written straight into a fresh database in batches of 1,000 (rows + keyword index, then
 * vectors), then search latency over the whole store, keyword-only and hybrid (the query embedded by the
 * fake embeddings endpoint over HTTP). Embeddings are the fake endpoint's (hashed words and trigrams, 256
 * dimensions): lexical, not semantic, so vector figures here are a floor for a real embedding model.
 */
const DIMENSIONS = 256;
const BATCH = 1000;

function flag(name: string, fallback: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
}

type Dialect = 'sqlite' | 'postgres' | 'pglite';

interface Opened {
  db: Db | undefined;
  deps: SearchDeps;
  vectors: ManagedVectorIndex | undefined;
  close(): Promise<void>;
}

/** A fresh database with vectors where it has them: SQLite + sqlite-vec; PostgreSQL here has no pgvector. */
async function open(dialect: 'sqlite' | 'postgres', embeddingsURL: string): Promise<Opened> {
  let db: Db;
  let drop = () => Promise.resolve();
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-retrieval-'));
    db = createDb({ dialect: 'sqlite', filename: path.join(dir, 'bench.db') });
    drop = () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true }));
  } else {
    const database = await createThrowawayDatabase();
    db = createDb({ dialect: 'postgres', connectionString: database.url });
    drop = database.drop;
  }
  await migrateToLatest(db);
  let vectors: ManagedVectorIndex | undefined;
  if (dialect === 'sqlite') {
    const runner = kyselyRunner(db);
    vectors = new ManagedVectorIndex(sqliteVecBackend(runner), runner, { model: 'fake-embed', dimensions: DIMENSIONS });
    const state = await vectors.ready;
    if (state.kind !== 'ready') throw new Error(`sqlite-vec unavailable: ${JSON.stringify(state)}`);
  }
  const embedder = new HttpEmbedder({
    ...loadConfig({ THREADLINE_EMBEDDINGS_BASE_URL: embeddingsURL, THREADLINE_EMBEDDINGS_MODEL: 'fake-embed' })
      .embeddings!,
    dimensions: DIMENSIONS,
  });
  return {
    db,
    deps: vectors ? { db, embedder, vectors } : { db },
    vectors,
    async close() {
      await db.destroy();
      await drop();
    },
  };
}

// ---------------------------------------------------------------- quality

interface QualityRow {
  strategy: string;
  database: string;
  figures: QualityFigures;
}

async function quality(
  dialects: Array<'sqlite' | 'postgres'>,
  embeddingsURL: string,
  log: (s: string) => void,
): Promise<QualityRow[]> {
  const corpus = loadCorpus(ROOT);
  log(`quality: ${corpus.files.length} files, ${corpus.questions.length} questions from ${SOURCE}`);
  const texts = new Map(corpus.files.map((f) => [f.name, f.text]));
  const rows: QualityRow[] = [];
  const store = 'vs_quality';
  const embed = inProcessEmbedder(DIMENSIONS);

  // Our chunks: `auto` (800 tokens, 400 overlap), located in their files.
  const ours: Array<ChunkInput & Unit> = [];
  for (const [f, file] of corpus.files.entries()) {
    const chunks = await chunkText(file.text, AUTO_CHUNKING);
    const ranges = locate(
      file.text,
      chunks.map((c) => c.text),
    );
    chunks.forEach((c, i) =>
      ours.push({
        id: `${store}:f${f}:${i}`,
        fileId: `file_q${f}`,
        index: i,
        text: c.text,
        file: file.name,
        ...ranges[i]!,
      }),
    );
  }
  const unitOf = new Map(ours.map((c) => [c.id, c as Unit]));
  const toUnits = (ids: string[]) => ids.map((id) => unitOf.get(id)!).filter(Boolean);

  for (const dialect of dialects) {
    const opened = await open(dialect, embeddingsURL);
    await createStore(opened.db!, store);
    for (const [f, file] of corpus.files.entries()) await addFile(opened.db!, store, `file_q${f}`, file.name);
    await insertChunks(opened.db!, store, ours);
    if (opened.vectors) await insertVectors(opened.vectors, embed, store, ours);
    const search = async (deps: SearchDeps, q: Question) =>
      toUnits(
        (
          await searchVectorStores(deps, {
            projectId: PROJECT,
            vectorStoreIds: [store],
            queries: [q.query],
            maxNumResults: 20,
          })
        ).map((h) => h.chunkId),
      );
    rows.push({
      strategy: 'ours: keyword (auto chunks)',
      database: dialect,
      figures: figures(
        await mapSerial(corpus.questions, async (q) => ({ question: q, ranked: await search({ db: opened.db! }, q) })),
      ),
    });
    if (opened.vectors) {
      const vectors = opened.vectors;
      rows.push({
        strategy: 'ours: vector only (auto chunks)',
        database: dialect,
        figures: figures(
          await mapSerial(corpus.questions, async (q) => ({
            question: q,
            ranked: toUnits(
              (
                await vectors.nearest({
                  projectId: PROJECT,
                  vectorStoreIds: [store],
                  embedding: hashEmbedding(q.query, DIMENSIONS),
                  limit: 20,
                })
              ).map((n) => n.chunkId),
            ),
          })),
        ),
      });
      rows.push({
        strategy: 'ours: hybrid (auto chunks, RRF)',
        database: dialect,
        figures: figures(
          await mapSerial(corpus.questions, async (q) => ({ question: q, ranked: await search(opened.deps, q) })),
        ),
      });
    }
    await opened.close();
    log(`quality on ${dialect} done`);
  }

  // pgvector's SQL (PGlite): the same vector-only ranking through the PostgreSQL index.
  const pglite = await startPglite();
  const pgVectors = new ManagedVectorIndex(pgvectorBackend(pglite.runner), pglite.runner, {
    model: 'fake-embed',
    dimensions: DIMENSIONS,
  });
  await insertVectors(pgVectors, embed, store, ours);
  rows.push({
    strategy: 'ours: vector only (auto chunks)',
    database: 'pgvector (PGlite)',
    figures: figures(
      await mapSerial(corpus.questions, async (q) => ({
        question: q,
        ranked: toUnits(
          (
            await pgVectors.nearest({
              projectId: PROJECT,
              vectorStoreIds: [store],
              embedding: hashEmbedding(q.query, DIMENSIONS),
              limit: 20,
            })
          ).map((n) => n.chunkId),
        ),
      })),
    ),
  });
  await pglite.close();

  // The peers' strategies, on the same text and the same embeddings, ranked exactly (brute force).
  const rank = (units: Array<Unit & { vector: number[] }>, q: Question, top: number) => {
    const v = hashEmbedding(q.query, DIMENSIONS);
    return units
      .map((u) => ({ u, s: dot(u.vector, v) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, top)
      .map((x) => x.u);
  };
  const truncated = corpus.files.map((f) => ({
    file: f.name,
    start: 0,
    end: Math.min(5000, f.text.length),
    vector: hashEmbedding(f.text.slice(0, 5000), DIMENSIONS),
  }));
  rows.push({
    strategy: 'peer: whole file cut to 5,000 chars (ranked by vector)',
    database: 'in-process',
    figures: figures(corpus.questions.map((q) => ({ question: q, ranked: rank(truncated, q, 20) }))),
  });
  const small: Array<Unit & { vector: number[] }> = [];
  for (const file of corpus.files) {
    const chunks = await chunkText(file.text, { maxChunkSizeTokens: 200, chunkOverlapTokens: 0 });
    const ranges = locate(
      file.text,
      chunks.map((c) => c.text),
    );
    chunks.forEach((c, i) => small.push({ file: file.name, ...ranges[i]!, vector: hashEmbedding(c.text, DIMENSIONS) }));
  }
  rows.push({
    strategy: 'peer: 200-token chunks, vector only, fixed top-20',
    database: 'in-process',
    figures: figures(corpus.questions.map((q) => ({ question: q, ranked: rank(small, q, 20) }))),
  });
  void texts;
  return rows;
}

// ---------------------------------------------------------------- speed

interface SpeedRow {
  database: Dialect;
  chunks: number;
  /** Chunk rows + keyword index, chunks per second. */
  keywordIngest: number;
  /** Embedding (in-process fake) + vector upsert, chunks per second; undefined without vectors. */
  vectorIngest: number | undefined;
  keyword: Summary;
  hybrid: Summary | undefined;
  /** The nearest-neighbour query alone (80 candidates, as hybrid search asks for 20 results). */
  vectorLeg?: Summary;
  note?: string;
}

/** Synthetic chunks: 100 words drawn (Zipf-like) from the corpus vocabulary, so term statistics look like text. */
function wordSource(seed: number): { words: string[]; next: () => number; pick: () => string } {
  const words = [
    ...new Set(loadCorpus(ROOT).files.flatMap((f) => f.text.toLowerCase().match(/[a-z][a-z0-9_]{2,}/g) ?? [])),
  ];
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  // Zipf-like: rank ∝ u^3 favours the first words heavily and still reaches the tail.
  const pick = () => words[Math.floor(next() ** 3 * words.length)]!;
  return { words, next, pick };
}

async function speed(
  dialect: 'sqlite' | 'postgres',
  size: number,
  queries: number,
  embeddingsURL: string,
  log: (s: string) => void,
): Promise<SpeedRow> {
  const opened = await open(dialect, embeddingsURL);
  const db = opened.db!;
  const store = 'vs_speed';
  const words = wordSource(size);
  try {
    await createStore(db, store);
    const perFile = 100;
    let keywordMs = 0;
    let vectorMs = 0;
    const embed = inProcessEmbedder(DIMENSIONS);
    const samples: string[] = [];
    for (let start = 0; start < size; start += BATCH) {
      const batch: ChunkInput[] = [];
      for (let i = start; i < Math.min(size, start + BATCH); i++) {
        const fileId = `file_${Math.floor(i / perFile)}`;
        if (i % perFile === 0) await addFile(db, store, fileId, `${fileId}.txt`);
        const text = Array.from({ length: 100 }, words.pick).join(' ');
        if (samples.length < queries && words.next() < (queries * 2) / size) samples.push(text);
        batch.push({ id: `${store}:${fileId}:${i % perFile}`, fileId, index: i % perFile, text });
      }
      let t = now();
      await insertChunks(db, store, batch);
      keywordMs += now() - t;
      if (opened.vectors) {
        t = now();
        await insertVectors(opened.vectors, embed, store, batch);
        vectorMs += now() - t;
      }
      if ((start / BATCH) % 50 === 0) log(`  [${dialect} ${size}] ${start + batch.length} chunks`);
    }
    while (samples.length < queries) samples.push(Array.from({ length: 100 }, words.pick).join(' '));
    await (await import('kysely')).sql.raw('ANALYZE').execute(db);
    // Queries: three words of a stored chunk, so keyword search has matches to rank, as real questions do.
    const texts = samples.map((s) => {
      const w = s.split(' ');
      return [w[3], w[40], w[77]].join(' ');
    });
    const time = async (deps: SearchDeps) => {
      const run = (q: string) =>
        searchVectorStores(deps, { projectId: PROJECT, vectorStoreIds: [store], queries: [q], maxNumResults: 20 });
      for (const q of texts.slice(0, 5)) await run(q); // warm-up: statement cache, page cache
      const ms: number[] = [];
      for (const q of texts) {
        const t = now();
        await run(q);
        ms.push(now() - t);
      }
      return summarize(ms);
    };
    const keyword = await time({ db });
    const hybrid = opened.vectors ? await time(opened.deps) : undefined;
    // The vector leg alone (the query embedded beforehand): what sqlite-vec's exhaustive scan costs.
    let vectorLeg: Summary | undefined;
    if (opened.vectors) {
      const vectors = opened.vectors;
      const legMs: number[] = [];
      for (const [i, q] of texts.entries()) {
        const embedding = hashEmbedding(q, DIMENSIONS);
        const t = now();
        await vectors.nearest({ projectId: PROJECT, vectorStoreIds: [store], embedding, limit: 80 });
        if (i >= 5) legMs.push(now() - t);
      }
      vectorLeg = summarize(legMs);
    }
    return {
      database: dialect,
      chunks: size,
      keywordIngest: Math.round(size / (keywordMs / 1000)),
      vectorIngest: opened.vectors ? Math.round(size / (vectorMs / 1000)) : undefined,
      keyword,
      hybrid,
      vectorLeg,
      note:
        dialect === 'postgres'
          ? 'no pgvector on this PostgreSQL: keyword only (pgvector measured on PGlite)'
          : undefined,
    };
  } finally {
    await opened.close();
  }
}

/** pgvector's nearest-neighbour leg alone, on PGlite (single-threaded WebAssembly PostgreSQL). */
async function pgliteSpeed(size: number, queries: number, log: (s: string) => void): Promise<SpeedRow> {
  const pglite = await startPglite();
  const vectors = new ManagedVectorIndex(pgvectorBackend(pglite.runner), pglite.runner, {
    model: 'fake-embed',
    dimensions: DIMENSIONS,
  });
  const words = wordSource(size);
  const embed = inProcessEmbedder(DIMENSIONS);
  let ms = 0;
  try {
    for (let start = 0; start < size; start += BATCH) {
      const batch: ChunkInput[] = [];
      for (let i = start; i < Math.min(size, start + BATCH); i++) {
        batch.push({
          id: `c${i}`,
          fileId: `file_${Math.floor(i / 100)}`,
          index: i % 100,
          text: Array.from({ length: 100 }, words.pick).join(' '),
        });
      }
      const t = now();
      await insertVectors(vectors, embed, 'vs_speed', batch);
      ms += now() - t;
      if ((start / BATCH) % 10 === 0) log(`  [pglite ${size}] ${start + batch.length} vectors`);
    }
    const times: number[] = [];
    for (let i = 0; i < queries + 5; i++) {
      const q = Array.from({ length: 3 }, words.pick).join(' ');
      const t = now();
      await vectors.nearest({
        projectId: PROJECT,
        vectorStoreIds: ['vs_speed'],
        embedding: hashEmbedding(q, DIMENSIONS),
        limit: 80,
      });
      if (i >= 5) times.push(now() - t);
    }
    return {
      database: 'pglite',
      chunks: size,
      keywordIngest: NaN,
      vectorIngest: Math.round(size / (ms / 1000)),
      keyword: summarize([]),
      hybrid: undefined,
      vectorLeg: summarize(times),
      note: 'pgvector HNSW on PGlite (WebAssembly, one thread): vectors only',
    };
  } finally {
    await pglite.close();
  }
}

async function mapSerial<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

// ---------------------------------------------------------------- report

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (s: Summary | undefined) => (s && s.n > 0 ? `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}` : '—');

function markdown(q: QualityRow[], s: SpeedRow[], meta: Record<string, string>): string {
  const lines = [
    `Measured ${meta.date} on ${meta.machine}; \`${meta.command}\`.`,
    '',
    '| strategy | database | recall@5 | MRR (top 20) | chars in top 5 |',
    '| --- | --- | ---: | ---: | ---: |',
    ...q.map(
      (r) =>
        `| ${r.strategy} | ${r.database} | ${pct(r.figures.recallAt5)} | ${r.figures.mrr.toFixed(3)} | ${r.figures.charsInTop5} |`,
    ),
    '',
    '| database | chunks | keyword ingest (chunks/s) | vector ingest (chunks/s) | keyword search p50 / p99 ms | hybrid search p50 / p99 ms | vector leg alone p50 / p99 ms | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...s.map(
      (r) =>
        `| ${r.database} | ${r.chunks.toLocaleString('en-US')} | ${Number.isNaN(r.keywordIngest) ? '—' : r.keywordIngest.toLocaleString('en-US')} | ${r.vectorIngest?.toLocaleString('en-US') ?? '—'} | ${ms(r.keyword)} | ${ms(r.hybrid)} | ${ms(r.vectorLeg)} | ${r.note ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const sizes = flag('sizes', '1000,100000').split(',').map(Number);
  const dialects = flag('db', 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>;
  const queries = Number(flag('queries', '60'));
  const pgliteSizes = flag('pglite-sizes', '1000,10000').split(',').filter(Boolean).map(Number);
  const skipQuality = process.argv.includes('--no-quality');
  const log = (line: string) => console.error(line);
  const fake: FakeEmbeddings = await startFakeEmbeddings();
  try {
    const q = skipQuality ? [] : await quality(dialects, fake.baseURL, log);
    const s: SpeedRow[] = [];
    for (const dialect of dialects) {
      for (const size of sizes) {
        log(`speed: ${dialect} ${size} chunks…`);
        s.push(await speed(dialect, size, queries, fake.baseURL, log));
        log(`  result: ${JSON.stringify(s[s.length - 1])}`);
      }
    }
    for (const size of pgliteSizes) {
      log(`speed: pgvector on PGlite ${size} vectors…`);
      s.push(await pgliteSpeed(size, queries, log));
    }
    const meta = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      command: `npm run bench:retrieval -- ${process.argv.slice(2).join(' ')}`.trim(),
    };
    const report = markdown(q, s, meta);
    console.log(report);
    fs.writeFileSync(
      path.join(ROOT, 'bench/RETRIEVAL.json'),
      JSON.stringify({ meta, quality: q, speed: s }, null, 2) + '\n',
    );
  } finally {
    await fake.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
