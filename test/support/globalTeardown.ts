import fs from 'node:fs';
import type { SharedTemporal } from './globalSetup';

export default async function globalTeardown(): Promise<void> {
  const shared = (globalThis as { __threadlineTemporal?: SharedTemporal }).__threadlineTemporal;
  if (!shared) return;
  await shared.server.stop();
  fs.rmSync(shared.dataDir, { recursive: true, force: true });
}
