import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import express from 'express';
import { createApp } from './api/app';
import { operatorRouter } from './api/routes/operator';
import { allowedHostsFor } from './api/exposure';
import { OpenStreams } from './api/sse';
import { checkKeysExist, isLoopbackHost } from './auth/bind';
import type { Config } from './config';
import { fileStoreOptions } from './files';
import { contextualLogger } from './logContext';
import type { Logger } from './logger';
import { createProviderRegistry, isUnconfiguredOpenAI, type ProviderRegistry } from './model/providers';
import type { HealthSources } from './observability/health';
import { Metrics } from './observability/metrics';
import { bridgeTemporalMetrics } from './observability/temporalMetrics';
import { setupTracing } from './observability/tracing';
import { libraryFiles, type SandboxFiles } from './sandbox/files';
import { codeInterpreterSettings } from './sandbox/settings';
import { startSandboxWorker, type RunningSandbox } from './sandbox/worker';
import { createServices } from './services';
import { adminService } from './services/admin';
import { runRecovery, startLaunchSweeper } from './services/runRecovery';
import { createStore, type Store } from './store';
import { searchVectorStores } from './vectorStores/search';
import { RunEventBus } from './streaming/bus';
import { listenForRunEvents } from './streaming/pgListener';
import { createTokenCounter } from './model/tokenPool';
import { createDb, type Db } from './store/db';
import { migrateToLatest } from './store/migrate';
import { locateTemporalCli } from './temporal/cliLocator';
import { startDevServer, type DevServer } from './temporal/devServer';
import { runEngine } from './temporal/runEngine';
import { templateUpgradeEngine } from './temporal/templateEngine';
import { ingestionEngine } from './temporal/ingestionEngine';
import { createSearchDeps, searchDepsReady } from './vectorStores/deps';
import { closeIngestThreads } from './vectorStores/ingestThreads';
import { serverToolRegistry } from './tools/server/registry';
import { installTemporalRuntime, startWorker, type RunningWorker } from './temporal/worker';
import { toolServices } from '../activities';
import { fileSearchExecutor } from '../activities/fileSearch';

/** Files of one vector-store batch ingested at once (each parses on a thread of its own). */
const INGESTION_CONCURRENCY = 4;

/** How often each API process looks for runs whose workflow was never started. */
const LAUNCH_SWEEP_INTERVAL_MS = 1_000;

export interface Roles {
  api: boolean;
  worker: boolean;
  /** A sandbox worker: executes code_interpreter calls (`threadline sandbox`, and inside `threadline start`). */
  sandbox?: boolean;
  /** Start the embedded Temporal dev server when no TEMPORAL_ADDRESS is set (`threadline start`). */
  embedTemporal: boolean;
}

export interface Running {
  /** The bound HTTP address, e.g. `http://127.0.0.1:8080`, when the API role runs. */
  url: string | undefined;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  db: Db;
  /** The repositories and the file library (with its storage driver) this process uses. */
  store: Store;
  /** This process's run-event bus (its follower count shows whether streams let go of their runs). */
  bus: RunEventBus;
  client: Client | undefined;
  /** This process's Prometheus metrics. */
  metrics: Metrics;
  providers: ProviderRegistry;
  /** The separate /metrics, /healthz, /readyz listener, when THREADLINE_METRICS_PORT is set. */
  operatorUrl: string | undefined;
  /** The sandbox worker, when that role runs. */
  sandbox: RunningSandbox | undefined;
  stop(): Promise<void>;
}

/** What tests (and, until the Files API is connected, nothing else) put in place of the real parts. */
export interface RuntimeOverrides {
  sandboxFiles?: SandboxFiles;
}

/**
 * Boots the requested roles in dependency order and returns one `stop()` that tears them down in reverse:
 * stop accepting HTTP, drain the worker, close Temporal connections, close the database, stop the dev server.
 * A failure part-way through undoes what was already started.
 */
export async function startThreadline(
  config: Config,
  roles: Roles,
  logger: Logger,
  overrides: RuntimeOverrides = {},
): Promise<Running> {
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.warn({ err: error }, 'error during shutdown');
      }
    }
  };

  try {
    let temporalAddress = config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
    let temporalUiUrl: string | undefined;
    if (config.temporal.address === undefined && roles.embedTemporal) {
      const cliPath = await locateTemporalCli({
        configuredPath: config.temporal.cliPath,
        envPath: config.temporal.searchPath,
        dataDir: config.dataDir,
        logger,
      });
      const server: DevServer = await startDevServer({
        cliPath,
        dataDir: config.dataDir,
        port: config.temporal.devServerPort,
        uiPort: config.temporal.devServerUiPort,
        namespace: config.temporal.namespace,
        logger,
      });
      cleanups.push(() => server.stop());
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    }

    const db = createDb(config.database);
    cleanups.push(() => db.destroy());
    const applied = await migrateToLatest(db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    // One bus per process: a worker and an API in the same process stream through it without a round trip.
    const bus = new RunEventBus();
    const store = createStore(db, bus, fileStoreOptions(config.files, db));
    // Extension: server-side tools, from the tools file and the admin API's registrations.
    const serverTools = serverToolRegistry(store, config.extensions.serverTools, config.extensions.serverToolHosts);
    const loopback = isLoopbackHost(config.host);
    const requireKeys = config.auth.requireKeys || !loopback;
    if (roles.api) await checkKeysExist(store, { host: config.host, requireKeys, loopback }, logger);

    const metrics = new Metrics();
    metrics.watchRuns(store);
    const tracing = setupTracing(config, logger);
    // Runs after the worker drained and HTTP stopped (cleanups run in reverse), before the database closes.
    cleanups.push(() => tracing.shutdown());
    const providers = createProviderRegistry({
      store,
      fileEntries: config.providers.entries,
      fallback: config.providers.fallback,
      defaultContextWindow: config.model.contextWindowTokens,
      logger,
      metrics,
    });
    const announced = announceProviders(config, providers, logger);
    // Vector-store search and ingestion: keyword search always; vectors when an embeddings endpoint is set.
    // One per process, shared by the API and the worker; the vector index checks itself in the background and
    // logs whether search is hybrid or keyword-only (and why).
    const search = createSearchDeps(config, db, logger);
    cleanups.push(() => searchDepsReady(search));
    // Its database read must be over before the database closes (a quick start-stop, as in tests).
    cleanups.push(() => announced);

    let worker: RunningWorker | undefined;
    if (roles.worker) {
      const buffer = installTemporalRuntime(logger);
      const unbridge = bridgeTemporalMetrics(buffer, metrics, logger);
      cleanups.push(() => Promise.resolve(unbridge()));
      const tokens = createTokenCounter();
      cleanups.push(() => tokens.close());
      // Runs after the worker drained (cleanups run in reverse): no ingestion step is using them any more.
      cleanups.push(() => closeIngestThreads());
      // The thread loads the tokenizer (a quarter of a second): at boot, not in the first run's model call. A
      // failure here shows again, with its run, at the first real count.
      void tokens.count(['warm up']).catch(() => undefined);
      worker = await startWorker({
        address: temporalAddress,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        workflowCacheSize: config.temporal.workflowCacheSize,
        stickyTimeoutMs: config.temporal.stickyTimeoutMs,
        deps: {
          store,
          logger,
          model: { idleTimeoutMs: config.model.idleTimeoutMs },
          providers,
          tokens,
          search,
          // file_search runs here, over the vector stores' index; code_interpreter runs on the sandbox workers
          // (the workflow routes its calls there).
          tools: toolServices(
            {
              file_search: fileSearchExecutor(store, (request) => searchVectorStores(search, request), {
                // A quarter of the model's window per call: room for the thread, other calls and the answer.
                tokensFor: async (run) => Math.floor((await providers.forRun(run)).contextWindowTokens / 4),
                count: (texts) => tokens.count(texts),
              }),
            },
            serverTools,
            config.sandbox.offered ? ['code_interpreter'] : [],
          ),
        },
        tracing,
      });
      const running = worker;
      cleanups.push(async () => {
        running.worker.shutdown();
        await running.finished;
        await running.connection.close();
      });
      logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
    }

    let sandbox: RunningSandbox | undefined;
    if (roles.sandbox) {
      installTemporalRuntime(logger);
      const running = await startSandboxWorker({
        address: temporalAddress,
        namespace: config.temporal.namespace,
        config: config.sandbox,
        store,
        files: overrides.sandboxFiles ?? libraryFiles(store.files),
        logger,
      });
      sandbox = running;
      cleanups.push(() => running.stop());
      logger.info({ taskQueue: config.sandbox.taskQueue, ownTaskQueue: running.taskQueue }, 'sandbox worker polling');
    }

    let url: string | undefined;
    let client: Client | undefined;
    const running = worker;
    const health: HealthSources = {
      db,
      temporal: worker?.connection,
      workerState: running ? () => running.worker.getState() : undefined,
    };
    if (roles.api) {
      // API and worker in one process (`threadline start`): the client rides on the worker's NativeConnection,
      // the only kind through which the SDK can ask for eager workflow start: the server hands the run's first
      // workflow task back in the start's answer, to this process's worker, skipping a dispatch through the
      // task queue (bench/FINDINGS.md). `threadline api` alone has no worker to hand it to and uses its own
      // connection; so does a server that declines eager start, without any error (it dispatches as usual).
      const eagerStart = worker !== undefined && config.temporal.eagerStart;
      let connection: Connection | NativeConnection;
      if (worker && eagerStart) {
        connection = worker.connection;
      } else {
        const own = await Connection.connect({ address: temporalAddress });
        cleanups.push(() => own.close());
        connection = own;
      }
      client = new Client({
        connection,
        namespace: config.temporal.namespace,
        // The workflow start joins the request's trace; the workflow continues it from the start's headers.
        interceptors: tracing.export ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined,
      });
      health.temporal = connection;
      if (config.database.dialect === 'postgres') {
        // Workers in other processes append events there; their NOTIFYs reach this API's streams.
        const listener = await listenForRunEvents(config.database.connectionString, bus, logger);
        cleanups.push(() => listener.close());
      }
      // Services log through the request's logger (its request id) wherever they are called from a request.
      const serviceDeps = {
        store,
        logger: contextualLogger(logger),
        engine: runEngine(client, config.temporal.taskQueue, {
          eagerStart,
          workflowTaskTimeoutMs: config.temporal.workflowTaskTimeoutMs,
        }),
        runSettings: {
          expirySeconds: config.runExpirySeconds,
          maxSteps: config.maxSteps,
          modelRetry: { maximumAttempts: config.model.maxAttempts, initialIntervalMs: config.model.retryInitialMs },
          heartbeatTimeoutMs: config.model.heartbeatTimeoutMs,
          codeInterpreter: codeInterpreterSettings(config),
        },
        bus,
        // With PostgreSQL every append also arrives by NOTIFY, so the re-read is only a safety net; a SQLite
        // file shared with a worker in another process has no notifications and relies on it.
        streaming: { keepAliveMs: config.sseKeepAliveMs, pollMs: config.database.dialect === 'postgres' ? 1_000 : 250 },
        providers,
        extensions: {
          templateUpgrades: templateUpgradeEngine(client, config.temporal.taskQueue, {
            ...config.extensions.templateUpgrade,
            heartbeatTimeoutMs: config.model.heartbeatTimeoutMs,
          }),
          serverTools,
        },
        vectorStores: {
          ingestion: ingestionEngine(client, config.temporal.taskQueue),
          search,
          settings: { heartbeatTimeoutMs: config.model.heartbeatTimeoutMs, concurrency: INGESTION_CONCURRENCY },
        },
      };
      const services = createServices(serviceDeps);
      // Starts the workflows of runs whose creator died (or found Temporal unreachable) before starting them.
      const sweeper = startLaunchSweeper(runRecovery(serviceDeps), logger, LAUNCH_SWEEP_INTERVAL_MS);
      cleanups.push(() => sweeper.stop());
      cleanups.push(sweepFilesPeriodically(store, logger));
      const streams = new OpenStreams(metrics);
      const app = createApp({
        services,
        logger,
        maxBodyBytes: config.maxBodyBytes,
        maxFileBytes: config.files.maxBytes,
        corsOrigins: config.corsOrigins,
        allowedHosts: allowedHostsFor(config.host, config.allowedHosts),
        streams,
        store,
        auth: {
          requireKeys,
          adminKey: config.auth.adminKey,
          limits: config.rateLimits,
        },
        admin: adminService({ store, providerFile: config.providers }),
        metrics,
        health,
      });
      const server = await listen(app, config.port, config.host);
      cleanups.push(() => closeServer(server, streams));
      url = `http://${config.host}:${portOf(server, config.port)}`;
      logger.info({ url: `${url}/v1`, keys: requireKeys ? 'required' : 'optional (loopback)' }, 'API listening');
    }

    let operatorUrl: string | undefined;
    if (config.metrics.port !== undefined) {
      const ops = express();
      ops.disable('x-powered-by');
      ops.use(operatorRouter(health, metrics));
      const server = await listen(ops, config.metrics.port, config.metrics.host);
      cleanups.push(() => closeServer(server, new OpenStreams()));
      operatorUrl = `http://${config.metrics.host}:${portOf(server, config.metrics.port)}`;
      logger.info({ url: operatorUrl }, 'metrics and health checks listening');
    }

    return {
      url,
      temporalAddress,
      temporalUiUrl,
      db,
      store,
      bus,
      client,
      metrics,
      providers,
      operatorUrl,
      sandbox,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const FILE_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Expired files, and the leftovers of uploads and deletes a dead process did not finish, are removed at boot
 * and then every ten minutes by every API process (the sweep is idempotent). Reads already treat expired
 * files as gone; this frees their storage even if nobody asks for them again.
 */
function sweepFilesPeriodically(store: Store, logger: Logger): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const sweep = () => {
    running = store.files.sweep().then(
      (removed) => {
        if (removed > 0) logger.info({ removed }, 'file sweep removed expired or abandoned files');
      },
      (error: unknown) => logger.warn({ err: error }, 'file sweep failed; retrying at the next interval'),
    );
  };
  sweep();
  const timer = setInterval(sweep, FILE_SWEEP_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * Says at boot what the provider table can serve: plainly, when nothing can (the OpenAI default without a
 * key), and, once each endpoint answered its `GET /models` or did not, which are reachable. Never holds up
 * the start: an endpoint that hangs only delays its own log line.
 */
function announceProviders(config: Config, providers: ProviderRegistry, logger: Logger): Promise<void> {
  const { fallback, file } = config.providers;
  const announce = async () => {
    const entries = await providers.allEntries();
    const others = entries.filter((spec) => spec !== fallback);
    if (isUnconfiguredOpenAI(fallback) || entries.length === 0) {
      logger.warn(
        others.length === 0
          ? 'No model provider is configured: every run will fail until one is. Set OPENAI_API_KEY=sk-... to use OpenAI, or OPENAI_BASE_URL=http://127.0.0.1:11434/v1 to use a local Ollama (or list providers in the file THREADLINE_PROVIDERS_FILE names, or add them with POST /admin/v1/providers).'
          : 'The catch-all model provider is OpenAI without OPENAI_API_KEY: runs of models that no other provider entry serves will fail until OPENAI_API_KEY (or OPENAI_BASE_URL) is set.',
      );
    }
    if (file) logger.info({ file, entries: config.providers.entries.length }, 'model provider table loaded');
    return entries;
  };
  return announce().then(
    (entries) => {
      // Not awaited by anyone: an endpoint that hangs only delays its own log line.
      void providers.probe(entries);
    },
    (error: unknown) => {
      logger.warn({ err: (error as Error).message }, 'could not read the model provider table');
    },
  );
}

function portOf(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}

function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    // Node cuts off any request whose body takes longer than 5 minutes by default: a 512 MB upload on a slow
    // link takes longer. Headers still have to arrive within headersTimeout.
    server.requestTimeout = 60 * 60 * 1000;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function closeServer(server: Server, streams: OpenStreams): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Event streams never end by themselves while a run waits; their clients resume with Last-Event-ID.
    streams.endAll();
    // Idle keep-alive sockets would hold close() open until they time out.
    server.closeIdleConnections();
  });
}
