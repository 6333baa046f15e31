import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { locateTemporalCli } from '../../src/temporal/cliLocator';
import { startDevServer, type DevServer } from '../../src/temporal/devServer';
import { freePort } from './ports';
import { ensurePythonOpenAI } from './python';

export interface SharedTemporal {
  server: DevServer;
  dataDir: string;
}

/**
 * One real Temporal dev server (the `temporal` binary, not a mock) for the whole test run, started before
 * Jest forks its workers, which inherit its address through the environment. Each suite then runs its own
 * API + worker on its own task queue against it. Globals set here are visible to globalTeardown.
 */
export default async function globalSetup(): Promise<void> {
  const logger = pino({ level: 'warn' });
  // The Python SDK tests need the official `openai` package; installed once from PyPI, then reused.
  process.env.THREADLINE_TEST_PYTHON = ensurePythonOpenAI(path.resolve(__dirname, '../..'));
  const cliPath = await locateTemporalCli({
    configuredPath: process.env.TEMPORAL_CLI_PATH,
    envPath: process.env.PATH,
    dataDir: path.resolve(__dirname, '../../.threadline'),
    logger,
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-temporal-'));
  const server = await startDevServer({
    cliPath,
    dataDir,
    port: await freePort(),
    uiPort: 0,
    namespace: 'default',
    logger,
    ui: false,
  });
  process.env.THREADLINE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_CLI_PATH = cliPath;
  (globalThis as { __threadlineTemporal?: SharedTemporal }).__threadlineTemporal = { server, dataDir };
}
