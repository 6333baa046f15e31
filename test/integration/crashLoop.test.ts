import { createDb, type Db } from '../../src/store/db';
import { loadConfig } from '../../src/config';
import { CLI_PATH } from '../support/cli';
import { runCrashLoop } from '../support/crashLoop';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startTestService, type TestService } from '../support/service';

/**
 * SIGKILL of `threadline api` at a random moment of every round, and of `threadline worker` every other
 * round, while clients create runs, create threads with runs, stream, and submit tool outputs: no run may be
 * lost, orphaned or duplicated. PostgreSQL, the shape in which API and worker run apart; a short loop here,
 * `npm run bench:crash` runs a long one on both databases (bench/crashLoop.ts).
 * `CRASH_LOOP_DUMP_DIR=<dir>` keeps the history and rows of any orphaned run for a post-mortem.
 */
jest.setTimeout(180_000);

describe('crash loop (postgres)', () => {
  let svc: TestService;
  let model: FakeModel;
  let db: Db;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(
      'postgres',
      {
        OPENAI_BASE_URL: model.baseURL,
        THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: '2',
        THREADLINE_MODEL_RETRY_INITIAL_MS: '100',
        THREADLINE_RUN_EXPIRY_SECONDS: '300',
      },
      { worker: false },
    );
    // It created and migrated the database; the processes under test are the children the loop starts.
    await svc.running.stop();
    db = createDb(loadConfig(svc.env).database);
  });
  afterAll(async () => {
    await db?.destroy();
    await svc?.stop();
    await model?.close();
  });

  it('loses, orphans and duplicates no run when the API and the worker are killed mid-request', async () => {
    const report = await runCrashLoop(
      { cliPath: CLI_PATH, env: svc.env, db, model },
      {
        rounds: 3,
        concurrency: 16,
        workerKillEvery: 2,
        killAfterAnswers: 6,
        killJitterMs: 300,
        settleMs: 60_000,
        dumpDir: process.env.CRASH_LOOP_DUMP_DIR,
      },
    );
    expect(report.accepted).toBeGreaterThan(0);
    expect({
      lost: report.lost,
      orphaned: report.orphaned,
      duplicated: report.duplicated,
      threadsWithoutRun: report.threadsWithoutRun,
    }).toEqual({ lost: [], orphaned: [], duplicated: [], threadsWithoutRun: [] });
  });
});
