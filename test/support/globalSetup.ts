import path from 'node:path';
import { ensurePythonOpenAI } from './python';
import { startScratchTemporal, type ScratchTemporal } from './temporal';

export type SharedTemporal = ScratchTemporal;

/**
 * One real Temporal dev server (the `temporal` binary, not a mock) for the whole test run, started before
 * Jest forks its workers, which inherit its address through the environment. Each suite then runs its own
 * API + worker on its own task queue against it. Globals set here are visible to globalTeardown.
 */
export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  // The Python SDK tests need the official `openai` package; installed once from PyPI, then reused.
  process.env.THREADLINE_TEST_PYTHON = ensurePythonOpenAI(root);
  const server = await startScratchTemporal(root, 'threadline-temporal-');
  process.env.THREADLINE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_CLI_PATH = server.cliPath;
  (globalThis as { __threadlineTemporal?: SharedTemporal }).__threadlineTemporal = server;
}
