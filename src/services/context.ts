import type { Logger } from '../logger';
import type { ProviderRegistry } from '../model/providers';
import type { CodeInterpreterSettings } from '../sandbox/shared';
import type { RunEventBus } from '../streaming/bus';
import type { Store } from '../store';
import type { RunEngine } from '../temporal/runEngine';
import type { IngestionEngine } from '../temporal/ingestionEngine';
import type { IngestionSettings } from '../temporal/ingestionShared';
import type { TemplateUpgradeEngine } from '../temporal/templateEngine';
import type { SearchDeps } from '../vectorStores/types';
import type { ServerToolRegistry } from '../tools/server/registry';

/** Settings every new run gets from the server's configuration. */
export interface RunSettings {
  expirySeconds: number;
  maxSteps: number;
  modelRetry: { maximumAttempts: number; initialIntervalMs: number };
  heartbeatTimeoutMs: number;
  /** Where code_interpreter calls go (the sandbox workers' task queue and waits). */
  codeInterpreter: CodeInterpreterSettings;
}

/** What every use case needs: the data, the run engine, and who is asking (their project scopes everything). */
export interface ServiceDeps {
  store: Store;
  logger: Logger;
  engine: RunEngine;
  runSettings: RunSettings;
  /** Wakes event streams when a run's log grows (in this process, or via PostgreSQL NOTIFY). */
  bus: RunEventBus;
  streaming: StreamSettings;
  /** The model provider table (which models a project can use). */
  providers: ProviderRegistry;
  extensions: ExtensionDeps;
  /** Vector stores: ingestion workflows, search (keyword, and vectors when configured), ingestion settings. */
  vectorStores: VectorStoreEngines;
}

export interface VectorStoreEngines {
  ingestion: IngestionEngine;
  search: SearchDeps;
  settings: IngestionSettings;
}

/** What the extensions beyond OpenAI's API need (README, "Extensions"). */
export interface ExtensionDeps {
  templateUpgrades: TemplateUpgradeEngine;
  serverTools: ServerToolRegistry;
}

export interface StreamSettings {
  /** An idle stream sends a `: ping` comment this often, so proxies and clients keep it open. */
  keepAliveMs: number;
  /** A follower re-reads the log this often without a wake-up (the safety net under the bus). */
  pollMs: number;
}

export interface RequestScope {
  projectId: string;
  /** The API key the request came with; null without one (a loopback bind); absent for internal callers. */
  apiKeyId?: string | null;
  /** How many active runs that key may have at once; 0 or absent: no limit. */
  maxActiveRuns?: number;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
