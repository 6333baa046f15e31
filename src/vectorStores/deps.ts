import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Db } from '../store/db';
import { HttpEmbedder } from './embeddings';
import { ManagedVectorIndex } from './index/managed';
import { pgvectorBackend } from './index/pgvector';
import { kyselyRunner } from './index/sqlRunner';
import { sqliteVecBackend } from './index/sqliteVec';
import type { SearchDeps } from './types';

/**
 * What search and ingestion use besides the database. Keyword search needs nothing more; with an embeddings
 * endpoint configured, the embeddings client and the vector index (sqlite-vec or pgvector) are added. The
 * index checks itself in the background (the API and worker boot on without waiting); if it turns out unusable
 * (no pgvector, stored vectors of another model) both are taken out again, so search stops embedding queries
 * for nothing, and the reason is logged.
 */
export function createSearchDeps(config: Config, db: Db, logger?: Logger): SearchDeps {
  const embeddings = config.embeddings;
  if (!embeddings) {
    logger?.info('vector search off: no THREADLINE_EMBEDDINGS_BASE_URL, vector store search is keyword-only');
    return { db };
  }
  const embedder = new HttpEmbedder(embeddings);
  const runner = kyselyRunner(db);
  const backend = config.database.dialect === 'postgres' ? pgvectorBackend(runner) : sqliteVecBackend(runner);
  const vectors = new ManagedVectorIndex(backend, runner, {
    model: embeddings.model,
    dimensions: embeddings.dimensions,
  });
  const deps: SearchDeps = { db, embedder, vectors };
  void vectors.ready.then((state) => {
    if (state.kind === 'disabled') {
      delete deps.embedder;
      delete deps.vectors;
      logger?.warn(
        { index: vectors.name, reason: state.reason },
        `vector search off, keyword search only: ${state.reason}`,
      );
    } else {
      logger?.info(
        {
          index: vectors.name,
          model: embeddings.model,
          dimensions: state.kind === 'ready' ? state.dimensions : 'from the first vectors',
        },
        'vector search on: hybrid keyword + vector search',
      );
    }
  });
  return deps;
}

/** Resolves when the deps' vector index finished its boot checks (tests and benches wait on it). */
export async function searchDepsReady(deps: SearchDeps): Promise<void> {
  if (deps.vectors instanceof ManagedVectorIndex) await deps.vectors.ready;
  // The removal above runs in a .then queued before this one's continuation.
  await Promise.resolve();
}
