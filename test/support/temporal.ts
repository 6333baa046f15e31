import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { locateTemporalCli } from '../../src/temporal/cliLocator';
import { startDevServer, type DevServer } from '../../src/temporal/devServer';
import { freePort } from './ports';

export interface ScratchTemporal extends DevServer {
  cliPath: string;
  dataDir: string;
}

/**
 * A real Temporal dev server (the `temporal` binary, found as `npm start` finds it) on a free port, headless,
 * persisting to a fresh temporary directory that `stop()` removes. The tests share one; the benchmark starts
 * its own.
 */
export async function startScratchTemporal(
  repoRoot: string,
  prefix: string,
  tuning: 'tuned' | 'stock' = 'tuned',
  extraArgs: string[] = [],
): Promise<ScratchTemporal> {
  const logger = pino({ level: 'warn' });
  const cliPath = await locateTemporalCli({
    configuredPath: process.env.TEMPORAL_CLI_PATH,
    envPath: process.env.PATH,
    dataDir: path.join(repoRoot, '.threadline'),
    logger,
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const server = await startDevServer({
    cliPath,
    dataDir,
    port: await freePort(),
    uiPort: 0,
    namespace: 'default',
    logger,
    ui: false,
    tuning,
    extraArgs,
  });
  return {
    ...server,
    cliPath,
    dataDir,
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
