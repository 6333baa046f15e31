import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DIALECTS, startTestService, type TestService } from '../support/service';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../python/upload_files.py');

interface Uploaded {
  file: Record<string, unknown>;
  retrieved: Record<string, unknown>;
  content_hex: string;
}
type Way = 'open_file' | 'tuple' | 'raw_bytes';
type Report = Record<Way, Uploaded> & {
  listed_user_data: string[];
  deleted: Record<string, unknown>;
};

/**
 * Python users upload with an open file, a `(name, bytes)` tuple or bare bytes; the official package
 * (installed from PyPI by the test setup) encodes each its own way (fields before the file, bracket keys for
 * `expires_after`, a UTF-8 file name, the name `upload` for bare bytes).
 */
describe.each(DIALECTS)('the official Python SDK, files (%s)', (dialect) => {
  let svc: TestService;
  let dir: string;
  beforeAll(async () => {
    svc = await startTestService(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-py-upload-'));
  });
  afterAll(async () => {
    await svc?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uploads an open file, a tuple and raw bytes, and reads each back byte-exact', async () => {
    const csv = Buffer.from('quarter,revenue\nQ1,10\nQ2,12\n');
    fs.writeFileSync(path.join(dir, 'report.csv'), csv);
    const { stdout } = await run(process.env.THREADLINE_TEST_PYTHON!, [SCRIPT], {
      env: { ...process.env, THREADLINE_BASE_URL: svc.baseURL, THREADLINE_UPLOAD_DIR: dir },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;

    const tupleBytes = Buffer.from('café ☕\n');
    const raw = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
    const expected: Array<[Way, string, string, Buffer]> = [
      ['open_file', 'report.csv', 'assistants', csv],
      ['tuple', 'résumé ✓.txt', 'user_data', tupleBytes],
      ['raw_bytes', 'upload', 'batch', raw],
    ];
    for (const [key, filename, purpose, bytes] of expected) {
      const { file, retrieved, content_hex } = report[key];
      expect(file).toMatchObject({ object: 'file', filename, purpose, bytes: bytes.length, status: 'processed' });
      expect(retrieved).toEqual(file);
      expect(content_hex).toBe(bytes.toString('hex'));
    }
    expect(report.raw_bytes.file.expires_at).toBe((report.raw_bytes.file.created_at as number) + 7200);
    expect(report.open_file.file.expires_at).toBeNull();
    expect(report.listed_user_data).toContain(report.tuple.file.id);
    expect(report.deleted).toEqual({ id: report.tuple.file.id, object: 'file', deleted: true });
    await expect(svc.openai.files.retrieve(report.tuple.file.id as string)).rejects.toMatchObject({ status: 404 });
  });
});
