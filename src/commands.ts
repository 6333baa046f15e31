import { ADMIN_USAGE, runAdminCommand } from './adminCli';
import { NoApiKeyError } from './auth/bind';
import { ConfigError, loadConfig } from './config';
import { onLauncherGone, releaseLauncher } from './launcher';
import { createLogger } from './logger';
import type { Roles } from './runtime';
import { createDb } from './store/db';
import { migrateToLatest } from './store/migrate';

const USAGE = `Usage: threadline <command>

Commands:
  start     API, worker, sandbox worker and (unless TEMPORAL_ADDRESS is set) an embedded Temporal dev server, in one process
  api       the HTTP API only (connects to TEMPORAL_ADDRESS)
  worker    the Temporal worker only (connects to TEMPORAL_ADDRESS)
  sandbox   a sandbox worker only: executes code_interpreter calls (connects to TEMPORAL_ADDRESS)
  migrate   apply database migrations and exit

Projects and API keys (straight on the database; no server needs to run):
${ADMIN_USAGE}

Settings come from the environment; see the README's settings table.`;

const ROLES: Record<string, Roles> = {
  start: { api: true, worker: true, sandbox: true, embedTemporal: true },
  api: { api: true, worker: false, embedTemporal: false },
  worker: { api: false, worker: true, embedTemporal: false },
  sandbox: { api: false, worker: false, sandbox: true, embedTemporal: false },
};

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 1 : 0;
  }
  const config = loadConfig();
  if (command === 'projects' || command === 'keys') {
    return runAdminCommand(
      config,
      argv,
      (line) => process.stdout.write(`${line}\n`),
      (line) => process.stderr.write(`${line}\n`),
    );
  }
  const logger = createLogger(config);

  if (command === 'migrate') {
    const db = createDb(config.database);
    try {
      const applied = await migrateToLatest(db);
      logger.info(
        { applied, dialect: config.database.dialect },
        applied.length ? 'migrations applied' : 'database already up to date',
      );
    } finally {
      await db.destroy();
    }
    return 0;
  }

  const roles = ROLES[command];
  if (!roles) {
    process.stderr.write(`Unknown command '${command}'.\n\n${USAGE}\n`);
    return 1;
  }
  // Loaded only for the server roles: the admin commands start in a fraction of the time without the SDKs.
  const { startThreadline } = await import('./runtime');
  const running = await startThreadline(config, roles, logger);
  if (running.url) logger.info(`Threadline API: ${running.url}/v1`);
  if (running.temporalUiUrl) logger.info(`Temporal Web UI: ${running.temporalUiUrl}`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void running.stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    onLauncherGone(() => {
      if (stopping) return; // already on its way out: not a reason to stop waiting for it
      logger.warn('the launcher process is gone: stopping as on SIGTERM');
      onSignal('SIGTERM');
    });
  });
  logger.info('stopped');
  return 0;
}

/** Runs one `threadline` command; the exit code is set, not forced, so output drains first. */
export function runCli(argv: string[]): Promise<void> {
  return main(argv)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        if (error instanceof ConfigError || error instanceof NoApiKeyError) {
          process.stderr.write(`${error.message}\n`);
        } else {
          process.stderr.write(`threadline: ${error instanceof Error ? error.message : String(error)}\n`);
        }
        process.exitCode = 1;
      },
    )
    .finally(releaseLauncher);
}
