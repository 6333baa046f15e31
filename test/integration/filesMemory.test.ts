import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import OpenAI from 'openai';
import { rssMb, sampleRss } from '../../bench/procs';
import { downloadDigest, hashing, patternBytes } from '../../bench/uploads';
import { killLeftoverCliProcesses, spawnCli, type CliProcess } from '../support/cli';
import type { StorageDriver } from '../support/files';
import { freePort } from '../support/ports';
import { createThrowawayDatabase } from '../support/postgres';
import type { Dialect } from '../support/service';

const SIZE = 100 * 1024 * 1024;
/**
 * What the API process may grow by while it takes a 100 MB upload. A server that held the file would grow by
 * at least the file's size; streaming needs a few buffers (1 MiB chunks for PostgreSQL) plus what the garbage
 * collector has not given back yet. bench/ (`npm run bench -- --only=7`) reports the figures.
 */
const MAX_GROWTH_MB = 50;

/**
 * The API's memory must not grow with the size of an upload. The service runs as its own `threadline api`
 * process here, so its resident memory can be read apart from this test's (the SDK client holds the file).
 */
describe.each([
  ['sqlite', 'local'],
  ['postgres', 'postgres'],
] as Array<[Dialect, StorageDriver]>)('a 100 MB upload (%s database, %s storage)', (dialect, storage) => {
  let dir: string;
  let api: CliProcess;
  let openai: OpenAI;
  let baseURL: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-upload-memory-'));
    const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
    dropDatabase = pg?.drop;
    const port = await freePort();
    api = spawnCli(['api'], {
      PORT: String(port),
      THREADLINE_DATA_DIR: path.join(dir, 'data'),
      THREADLINE_DATABASE_URL: pg?.url ?? path.join(dir, 'data', 'threadline.db'),
      THREADLINE_FILE_STORAGE: storage,
      TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!,
      THREADLINE_TASK_QUEUE: `test-${path.basename(dir)}`,
    });
    await api.waitFor(/API listening/);
    // Moving 100 MB costs a few seconds of CPU on this 2-core machine; at the lowest priority it cannot starve
    // the suites Jest runs beside this one (some of them expire runs after 3 s).
    os.setPriority(api.child.pid!, 19);
    baseURL = `http://127.0.0.1:${port}/v1`;
    openai = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0, timeout: 120_000 });
  });
  afterAll(async () => {
    killLeftoverCliProcesses();
    await dropDatabase?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams to storage with bounded API memory and reads back byte-exact', async () => {
    const priority = os.getPriority();
    os.setPriority(19);
    try {
      await uploadAndMeasure();
    } finally {
      // Raising it back needs privileges a CI user may not have; a lower priority for the rest of this
      // Jest worker's suites is harmless.
      try {
        os.setPriority(priority);
      } catch {
        // kept low
      }
    }
  }, 180_000);

  async function uploadAndMeasure() {
    const source = path.join(dir, 'big.bin');
    const content = hashing(patternBytes(SIZE));
    await pipeline(content.chunks, fs.createWriteStream(source));
    // A small upload first, so code paths and pools are warm before the baseline is read.
    await openai.files.create({ file: fs.createReadStream(source, { end: 1024 * 1024 }), purpose: 'user_data' });
    const pid = api.child.pid!;
    const baselineMb = rssMb(pid);
    const sampler = sampleRss(pid);
    const file = await openai.files.create({ file: fs.createReadStream(source), purpose: 'user_data' });
    const { peakMb } = sampler.stop();

    expect(file).toMatchObject({ bytes: SIZE, filename: 'big.bin', purpose: 'user_data' });
    expect(await downloadDigest(baseURL, file.id)).toEqual({ sha256: content.digest(), bytes: SIZE });
    expect(peakMb - baselineMb).toBeLessThan(MAX_GROWTH_MB);
  }
});
