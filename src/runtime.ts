import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from './api/app';
import { allowedHostsFor } from './api/exposure';
import { OpenStreams } from './api/sse';
import type { Config } from './config';
import type { Logger } from './logger';
import { createServices } from './services';
import { runRecovery, startLaunchSweeper } from './services/runRecovery';
import { createStore } from './store';
import { RunEventBus } from './streaming/bus';
import { listenForRunEvents } from './streaming/pgListener';
import { createTokenCounter } from './model/tokenPool';
import { createDb, type Db } from './store/db';
import { migrateToLatest } from './store/migrate';
import { locateTemporalCli } from './temporal/cliLocator';
import { startDevServer, type DevServer } from './temporal/devServer';
import { runEngine } from './temporal/runEngine';
import { installTemporalRuntime, startWorker, type RunningWorker } from './temporal/worker';

/** How often each API process looks for runs whose workflow was never started. */
const LAUNCH_SWEEP_INTERVAL_MS = 1_000;

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
    const store = createStore(db, bus);

    let worker: RunningWorker | undefined;
    if (roles.worker) {
      installTemporalRuntime(config.logLevel);
      const tokens = createTokenCounter();
      cleanups.push(() => tokens.close());
      // The thread loads the tokenizer (a quarter of a second): at boot, not in the first run's model call. A
      // failure here shows again, with its run, at the first real count.
      void tokens.count(['warm up']).catch(() => undefined);
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
          tokens,
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
      const serviceDeps = {
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
      };
      const services = createServices(serviceDeps);
      // Starts the workflows of runs whose creator died (or found Temporal unreachable) before starting them.
      const sweeper = startLaunchSweeper(runRecovery(serviceDeps), logger, LAUNCH_SWEEP_INTERVAL_MS);
      cleanups.push(() => sweeper.stop());
      const streams = new OpenStreams();
      const app = createApp({
        services,
        logger,
        maxBodyBytes: config.maxBodyBytes,
        corsOrigins: config.corsOrigins,
        allowedHosts: allowedHostsFor(config.host, config.allowedHosts),
        streams,
      });
      const server = await listen(app, config.port, config.host);
      cleanups.push(() => closeServer(server, streams));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host}:${port}`;
      logger.info({ url: `${url}/v1` }, 'API listening');
    }

    return { url, temporalAddress, temporalUiUrl, db, bus, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listen(app: ReturnType<typeof createApp>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
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
