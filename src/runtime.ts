import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from './api/app';
import { OpenStreams } from './api/sse';
import type { Config } from './config';
import { fileStoreOptions } from './files';
import type { Logger } from './logger';
import { createServices } from './services';
import { createStore, type Store } from './store';
import { RunEventBus } from './streaming/bus';
import { listenForRunEvents } from './streaming/pgListener';
import { createDb, type Db } from './store/db';
import { migrateToLatest } from './store/migrate';
import { locateTemporalCli } from './temporal/cliLocator';
import { startDevServer, type DevServer } from './temporal/devServer';
import { runEngine } from './temporal/runEngine';
import { templateUpgradeEngine } from './temporal/templateEngine';
import { serverToolRegistry } from './tools/server/registry';
import { installTemporalRuntime, startWorker, type RunningWorker } from './temporal/worker';
import { toolServices } from '../activities';

export interface Roles {
  api: boolean;
  worker: boolean;
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
  stop(): Promise<void>;
}

/**
 * Boots the requested roles in dependency order and returns one `stop()` that tears them down in reverse:
 * stop accepting HTTP, drain the worker, close Temporal connections, close the database, stop the dev server.
 * A failure part-way through undoes what was already started.
 */
export async function startThreadline(config: Config, roles: Roles, logger: Logger): Promise<Running> {
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

    let worker: RunningWorker | undefined;
    if (roles.worker) {
      installTemporalRuntime(config.logLevel);
      worker = await startWorker({
        address: temporalAddress,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        deps: {
          store,
          logger,
          model: {
            endpoint: { baseURL: config.model.baseURL, apiKey: config.model.apiKey },
            contextWindowTokens: config.model.contextWindowTokens,
            idleTimeoutMs: config.model.idleTimeoutMs,
          },
          // No built-in tool has an executor yet: runs that declare them are plain chats without them.
          tools: toolServices({}, serverTools),
        },
      });
      const running = worker;
      cleanups.push(async () => {
        running.worker.shutdown();
        await running.finished;
        await running.connection.close();
      });
      logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
    }

    let url: string | undefined;
    let client: Client | undefined;
    if (roles.api) {
      const connection = await Connection.connect({ address: temporalAddress });
      cleanups.push(() => connection.close());
      client = new Client({ connection, namespace: config.temporal.namespace });
      if (config.database.dialect === 'postgres') {
        // Workers in other processes append events there; their NOTIFYs reach this API's streams.
        const listener = await listenForRunEvents(config.database.connectionString, bus, logger);
        cleanups.push(() => listener.close());
      }
      const services = createServices({
        store,
        logger,
        engine: runEngine(client, config.temporal.taskQueue),
        runSettings: {
          expirySeconds: config.runExpirySeconds,
          maxSteps: config.maxSteps,
          modelRetry: { maximumAttempts: config.model.maxAttempts, initialIntervalMs: config.model.retryInitialMs },
          heartbeatTimeoutMs: config.model.heartbeatTimeoutMs,
        },
        bus,
        // With PostgreSQL every append also arrives by NOTIFY, so the re-read is only a safety net; a SQLite
        // file shared with a worker in another process has no notifications and relies on it.
        streaming: { keepAliveMs: config.sseKeepAliveMs, pollMs: config.database.dialect === 'postgres' ? 1_000 : 250 },
        extensions: {
          templateUpgrades: templateUpgradeEngine(client, config.temporal.taskQueue, {
            ...config.extensions.templateUpgrade,
            heartbeatTimeoutMs: config.model.heartbeatTimeoutMs,
          }),
          serverTools,
          adminKey: config.extensions.adminKey,
        },
      });
      cleanups.push(sweepFilesPeriodically(store, logger));
      const streams = new OpenStreams();
      const app = createApp({
        services,
        logger,
        maxBodyBytes: config.maxBodyBytes,
        maxFileBytes: config.files.maxBytes,
        streams,
      });
      const server = await listen(app, config.port, config.host);
      cleanups.push(() => closeServer(server, streams));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host}:${port}`;
      logger.info({ url: `${url}/v1` }, 'API listening');
    }

    return { url, temporalAddress, temporalUiUrl, db, store, bus, client, stop };
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

function listen(app: ReturnType<typeof createApp>, port: number, host: string): Promise<Server> {
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
