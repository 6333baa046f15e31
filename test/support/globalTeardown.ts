import type { SharedTemporal } from './globalSetup';

export default async function globalTeardown(): Promise<void> {
  // stop() also removes the server's data directory.
  await (globalThis as { __threadlineTemporal?: SharedTemporal }).__threadlineTemporal?.stop();
}
