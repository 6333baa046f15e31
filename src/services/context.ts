import type { Logger } from '../logger';
import type { Store } from '../store';

/** What every use case needs: the data, and who is asking (their project scopes every read and write). */
export interface ServiceDeps {
  store: Store;
  logger: Logger;
}

export interface RequestScope {
  projectId: string;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
