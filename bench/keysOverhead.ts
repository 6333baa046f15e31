import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { startThreadline, type Running } from '../src/runtime';
import { adminService } from '../src/services/admin';
import { createThrowawayDatabase } from '../test/support/postgres';
import { startScratchTemporal } from '../test/support/temporal';
import { ROOT } from './root';
import { summarize } from './stats';

/**
 * What keys, limits and the provider table add to each request and each model call, measured in process:
 * the statements alone, and whole `GET /v1/assistants?limit=1` requests on one server in three modes
 * (no key on loopback, a key, a key under a requests-per-minute limit), interleaved so that the machine's
 * load hits every mode alike. Not part of `npm run bench`:
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/keysOverhead.js [sqlite|postgres]
 */
const ROUNDS = 20;
const PER_ROUND = 100;

type Sampler = () => Promise<unknown>;

async function measure(samplers: Record<string, Sampler>): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(samplers).map((k) => [k, []]));
  for (const fn of Object.values(samplers)) for (let i = 0; i < 20; i++) await fn(); // warm up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(samplers)) {
      for (let i = 0; i < PER_ROUND; i++) {
        const started = performance.now();
        await fn();
        samples[name]!.push((performance.now() - started) * 1000);
      }
    }
  }
  return samples;
}

async function main(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const temporal = await startScratchTemporal(ROOT, 'threadline-keys-bench-');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-keys-bench-'));
  const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
  let running: Running | undefined;
  try {
    const config = loadConfig({
      PORT: '0',
      THREADLINE_DATA_DIR: dataDir,
      THREADLINE_DATABASE_URL: pg?.url ?? path.join(dataDir, 'threadline.db'),
      TEMPORAL_ADDRESS: temporal.address,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      LOG_LEVEL: 'warn',
    });
    running = await startThreadline(
      config,
      { api: true, worker: false, embedTemporal: false },
      pino({ level: 'warn' }),
    );
    const store = running.store;
    const admin = adminService({ store, providerFile: config.providers });
    const plain = await admin.createProject({ name: 'plain' });
    const limited = await admin.createProject({ name: 'limited', rate_limits: { requests_per_minute: 1_000_000 } });
    const key = (await admin.createApiKey(plain.id, {})).value!;
    const limitedKey = (await admin.createApiKey(limited.id, {})).value!;
    const { hashApiKey } = await import('../src/auth/keys');
    const hash = hashApiKey(key);
    const run = { project_id: plain.id, id: 'run_x', thread_id: 'thread_x', model: 'gpt-4o' };
    const url = `${running.url!}/v1/assistants?limit=1`;
    const get = (bearer: string) => () =>
      fetch(url, { headers: { authorization: `Bearer ${bearer}` } }).then((r) => r.text());

    const statements = await measure({
      'key lookup (select by hash, joined to its project)': () => store.apiKeys.findByHash(hash),
      'default project lookup (requests without a key)': () => store.projects.find('proj_default'),
      'rate-limit count (one upsert)': () => store.rateLimits.hit('key:bench', Math.floor(Date.now() / 60_000) * 60),
      'provider lookup per model call (select + client)': () => running!.providers.forRun(run),
    });
    const requests = await measure({
      'GET /v1/assistants, no key (loopback)': get('anything'),
      'GET /v1/assistants, with a key': get(key),
      'GET /v1/assistants, with a key under an RPM limit': get(limitedKey),
    });
    process.stdout.write(`\n${dialect}: p50 / p99 in µs over ${ROUNDS * PER_ROUND} samples each\n`);
    for (const [name, values] of Object.entries({ ...statements, ...requests })) {
      const { p50, p99 } = summarize(values);
      process.stdout.write(`  ${name.padEnd(54)} ${p50.toFixed(0).padStart(6)} / ${p99.toFixed(0).padStart(6)}\n`);
    }
  } finally {
    await running?.stop();
    await pg?.drop();
    await temporal.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const dialect = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
main(dialect).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
