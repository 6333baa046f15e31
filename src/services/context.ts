import type { Logger } from '../logger';
import type { Store } from '../store';
import type { RunEngine } from '../temporal/runEngine';

/** Settings every new run gets from the server's configuration. */
export interface RunSettings {
  expirySeconds: number;
  maxSteps: number;
  modelRetry: { maximumAttempts: number; initialIntervalMs: number };
  heartbeatTimeoutMs: number;
}

/** What every use case needs: the data, the run engine, and who is asking (their project scopes everything). */
export interface ServiceDeps {
  store: Store;
  logger: Logger;
  engine: RunEngine;
  runSettings: RunSettings;
}

export interface RequestScope {
  projectId: string;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
