import type { Config } from '../config';
import type { Db } from '../store/db';
import type { SearchDeps } from './types';

/**
 * What search and ingestion use besides the database. Keyword search needs nothing more; the embeddings
 * client and the vector index (when an embeddings endpoint is configured) are added here.
 */
export function createSearchDeps(config: Config, db: Db): SearchDeps {
  void config;
  return { db };
}
