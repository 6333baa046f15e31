import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { DIALECTS, startTestService, type TestService } from '../support/service';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../python/vector_stores.py');

/** The official Python SDK's `upload_and_poll` and `create_and_poll` helpers, unmodified, against Threadline. */
describe.each(DIALECTS)('the official Python SDK, vector stores (%s)', (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('uploads and polls single files and batches, creates a batch and polls it, and searches', async () => {
    const { stdout } = await run(process.env.THREADLINE_TEST_PYTHON!, [SCRIPT], {
      env: { ...process.env, THREADLINE_BASE_URL: svc.baseURL },
      timeout: 120_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> & {
      search: Array<Record<string, unknown>>;
      extra_id: string;
    };
    expect(report.single).toMatchObject({ object: 'vector_store.file', status: 'completed', last_error: null });
    expect(report.batch).toMatchObject({
      object: 'vector_store.files_batch',
      status: 'completed',
      file_counts: { completed: 2, failed: 0, total: 2 },
    });
    expect(report.created).toMatchObject({ status: 'completed', file_counts: { completed: 1, total: 1 } });
    expect(report.search).toHaveLength(1);
    expect(report.search[0]).toMatchObject({
      file_id: report.extra_id,
      filename: 'currents.txt',
      attributes: { topic: 'currents' },
      content: [{ type: 'text', text: 'The Gulf Stream is a warm current.' }],
    });
    expect(report.content).toEqual([{ type: 'text', text: '# Tides\n\nThe moon pulls the tides twice a day.' }]);
    expect(report.store).toMatchObject({
      object: 'vector_store',
      name: 'python',
      status: 'completed',
      metadata: { lang: 'py' },
      file_counts: { completed: 4, total: 4 },
    });
  });
});
