import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { toFile } from 'openai';
import type { FileObject } from 'openai/resources/files';
import {
  fileRowCount,
  regularFiles,
  sha256,
  STORAGE_CASES,
  startFileService,
  storedBytes,
  storedFileCount,
  upload,
} from '../support/files';
import type { TestService } from '../support/service';

describe.each(STORAGE_CASES)('files (%s database, %s storage)', (dialect, storage) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startFileService(dialect, storage);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const bytesOf = async (id: string) => Buffer.from(await (await svc.openai.files.content(id)).arrayBuffer());

  it('uploads a Buffer with toFile and answers the wire-exact File object', async () => {
    const content = Buffer.from('name,score\nada,10\ngrace,9\n');
    const file = await svc.openai.files.create({ file: await toFile(content, 'scores.csv'), purpose: 'assistants' });
    expect(file).toEqual({
      id: expect.stringMatching(/^file-[0-9a-z]{24}$/),
      object: 'file',
      bytes: content.length,
      created_at: expect.any(Number),
      expires_at: null,
      filename: 'scores.csv',
      purpose: 'assistants',
      status: 'processed',
      status_details: null,
    });
    expect(Math.abs(file.created_at - Date.now() / 1000)).toBeLessThan(60);
    expect(await svc.openai.files.retrieve(file.id)).toEqual(file);
    expect(await svc.openai.files.waitForProcessing(file.id, { pollInterval: 10 })).toEqual(file);
    expect(await bytesOf(file.id)).toEqual(content);
    expect(await storedBytes(svc, file.id)).toEqual(content);
  });

  it('downloads byte-exact with the content type of the file and a safe Content-Disposition', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(300, 7)]);
    const file = await upload(svc, 'pixel ✓.png', png, 'vision');
    const res = await fetch(`${svc.baseURL}/files/${file.id}/content`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-length')).toBe(String(png.length));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="pixel _.png"; filename*=UTF-8''${encodeURIComponent('pixel ✓.png')}`,
    );
    expect(Buffer.from(await res.arrayBuffer())).toEqual(png);
  });

  it('serves byte ranges', async () => {
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const file = await upload(svc, 'bytes.bin', content, 'user_data');
    const part = await fetch(`${svc.baseURL}/files/${file.id}/content`, { headers: { range: 'bytes=1000-2999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 1000-2999/5000');
    expect(sha256(Buffer.from(await part.arrayBuffer()))).toBe(sha256(content.subarray(1000, 3000)));
    const tail = await fetch(`${svc.baseURL}/files/${file.id}/content`, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(content.subarray(4990));
    const past = await fetch(`${svc.baseURL}/files/${file.id}/content`, { headers: { range: 'bytes=5000-' } });
    expect(past.status).toBe(416);
    await past.text();
  });

  it('uploads a 0-byte file', async () => {
    const file = await upload(svc, 'empty.txt', Buffer.alloc(0));
    expect(file.bytes).toBe(0);
    expect(await bytesOf(file.id)).toEqual(Buffer.alloc(0));
    expect(await storedBytes(svc, file.id)).toEqual(Buffer.alloc(0));
  });

  it('uploads from a Node stream and from fs.createReadStream', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const whole = Buffer.concat(parts);
    const streamed = await svc.openai.files.create({
      file: await toFile(Readable.from(parts), 'streamed.bin'),
      purpose: 'user_data',
    });
    expect(streamed).toMatchObject({ filename: 'streamed.bin', bytes: whole.length });
    expect(sha256(await bytesOf(streamed.id))).toBe(sha256(whole));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-upload-'));
    try {
      const source = path.join(dir, 'notes.md');
      fs.writeFileSync(source, '# Notes\n\nSome *markdown*.\n');
      const fromDisk = await svc.openai.files.create({ file: fs.createReadStream(source), purpose: 'assistants' });
      expect(fromDisk).toMatchObject({ filename: 'notes.md', bytes: fs.statSync(source).size });
      expect(await bytesOf(fromDisk.id)).toEqual(fs.readFileSync(source));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets expires_at from expires_after, and batch files expire after 30 days by default', async () => {
    const expiring = await svc.openai.files.create({
      file: await toFile(Buffer.from('{}\n'), 'x.jsonl'),
      purpose: 'user_data',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    });
    expect(expiring.expires_at).toBe(expiring.created_at + 3600);
    const batch = await upload(svc, 'batch.jsonl', '{}\n', 'batch');
    expect(batch.expires_at).toBe(batch.created_at + 30 * 24 * 3600);
    const kept = await upload(svc, 'kept.txt', 'x', 'user_data');
    expect(kept.expires_at).toBeNull();
  });

  it('treats an expired file as gone and removes its bytes', async () => {
    const file = await upload(svc, 'soon.txt', 'short-lived');
    await svc.running.db
      .updateTable('files')
      .set({ expires_at: Math.floor(Date.now() / 1000) - 1 })
      .where('id', '=', file.id)
      .execute();
    await expect(svc.openai.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    expect(await storedBytes(svc, file.id)).toBeUndefined();
    expect((await svc.running.db.selectFrom('files').select('id').where('id', '=', file.id).execute()).length).toBe(0);
    const listed = [];
    for await (const f of svc.openai.files.list()) listed.push(f.id);
    expect(listed).not.toContain(file.id);
  });

  it('lists with a purpose filter, both orders, and auto-pagination', async () => {
    const purpose = 'vision';
    const before = new Set<string>();
    for await (const f of svc.openai.files.list({ purpose })) before.add(f.id);
    const made: FileObject[] = [];
    for (let i = 0; i < 7; i++) made.push(await upload(svc, `img${i}.png`, `image ${i}`, purpose));
    await upload(svc, 'other.txt', 'not an image', 'user_data');

    const ascending: string[] = [];
    for await (const f of svc.openai.files.list({ purpose, limit: 2, order: 'asc' })) {
      expect(f.purpose).toBe(purpose);
      if (!before.has(f.id)) ascending.push(f.id);
    }
    expect(ascending).toEqual(made.map((f) => f.id));

    const firstPage = await svc.openai.files.list({ purpose, limit: 3 });
    expect(firstPage.data.map((f) => f.id)).toEqual(
      made
        .map((f) => f.id)
        .reverse()
        .slice(0, 3),
    );
    expect(firstPage.has_more).toBe(true);
    const all = await svc.http('GET', '/files');
    expect(all.body).toMatchObject({ object: 'list', has_more: false });
    expect((all.body as { data: FileObject[] }).data.length).toBeGreaterThan(made.length);
  });

  it('refuses list limits outside 1..10000', async () => {
    expect((await svc.http('GET', '/files?limit=0')).status).toBe(400);
    expect((await svc.http('GET', '/files?limit=10001')).status).toBe(400);
    expect((await svc.http('GET', '/files?limit=10000')).status).toBe(200);
  });

  it('deletes a file: object "file", then 404 everywhere, and its bytes are gone from storage', async () => {
    const file = await upload(svc, 'doomed.txt', 'bye');
    expect(await storedBytes(svc, file.id)).toEqual(Buffer.from('bye'));
    expect(await svc.openai.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    expect(await storedBytes(svc, file.id)).toBeUndefined();
    const notFound = { status: 404, error: { message: `No such File object: ${file.id}`, param: 'id' } };
    await expect(svc.openai.files.retrieve(file.id)).rejects.toMatchObject(notFound);
    await expect(svc.openai.files.content(file.id)).rejects.toMatchObject(notFound);
    await expect(svc.openai.files.delete(file.id)).rejects.toMatchObject(notFound);
  });

  it('answers 404 in OpenAI shape for an unknown file', async () => {
    const res = await svc.http('GET', '/files/file-doesnotexist');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        message: 'No such File object: file-doesnotexist',
        type: 'invalid_request_error',
        param: 'id',
        code: null,
      },
    });
  });

  it('keeps a filename as data: it never becomes a path', async () => {
    // The SDKs send only a base name; a raw client can send anything.
    const name = '../../../escape/../../etc/passwd';
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob(['not a password file']), name);
    const res = await fetch(`${svc.baseURL}/files`, { method: 'POST', body: form });
    const file = (await res.json()) as FileObject;
    expect(file.filename).toBe(name);
    expect(await bytesOf(file.id)).toEqual(Buffer.from('not a password file'));
    const root = path.join(svc.env.THREADLINE_DATA_DIR!, 'files');
    for (const stored of regularFiles(root)) expect(path.basename(stored)).toMatch(/^file-[0-9a-z]{24}$/);
    expect(fs.existsSync(path.join(svc.env.THREADLINE_DATA_DIR!, 'escape'))).toBe(false);
  });

  describe('bad uploads write nothing', () => {
    const post = (form: FormData) => fetch(`${svc.baseURL}/files`, { method: 'POST', body: form });
    const blob = (text: string) => new Blob([text], { type: 'text/plain' });

    async function expectNothingWritten(run: () => Promise<Response>, status: number, error: object) {
      const rows = await fileRowCount(svc);
      const stored = await storedFileCount(svc);
      const res = await run();
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ error: expect.objectContaining(error) });
      expect(await fileRowCount(svc)).toBe(rows);
      expect(await storedFileCount(svc)).toBe(stored);
    }

    it('without a file: 400 naming `file`', async () => {
      const form = new FormData();
      form.append('purpose', 'assistants');
      await expectNothingWritten(() => post(form), 400, {
        message: "Missing required parameter: 'file'.",
        param: 'file',
        code: 'missing_required_parameter',
      });
    });

    it('without a purpose (sent after the file): 400 naming `purpose`', async () => {
      const form = new FormData();
      form.append('file', blob('data'), 'a.txt');
      await expectNothingWritten(() => post(form), 400, {
        message: "Missing required parameter: 'purpose'.",
        param: 'purpose',
      });
    });

    it('with an unknown purpose, before or after the file', async () => {
      for (const first of ['purpose', 'file']) {
        const form = new FormData();
        if (first === 'purpose') form.append('purpose', 'fine-dining');
        form.append('file', blob('data'), 'a.txt');
        if (first === 'file') form.append('purpose', 'fine-dining');
        await expectNothingWritten(() => post(form), 400, { param: 'purpose', code: 'invalid_value' });
      }
    });

    it('with an unknown field, a second file, or expires_after out of range', async () => {
      const unknown = new FormData();
      unknown.append('file', blob('data'), 'a.txt');
      unknown.append('purpose', 'assistants');
      unknown.append('colour', 'red');
      await expectNothingWritten(() => post(unknown), 400, {
        message: 'Unrecognized request argument supplied: colour',
      });
      const two = new FormData();
      two.append('purpose', 'assistants');
      two.append('file', blob('one'), 'a.txt');
      two.append('file', blob('two'), 'b.txt');
      await expectNothingWritten(() => post(two), 400, { param: 'file' });
      const soon = new FormData();
      soon.append('file', blob('data'), 'a.txt');
      soon.append('purpose', 'assistants');
      soon.append('expires_after[anchor]', 'created_at');
      soon.append('expires_after[seconds]', '60');
      await expectNothingWritten(() => post(soon), 400, { param: 'expires_after.seconds' });
    });

    it('sent as JSON instead of multipart', async () => {
      await expectNothingWritten(
        () =>
          fetch(`${svc.baseURL}/files`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ purpose: 'assistants', file: 'x' }),
          }),
        400,
        { message: expect.stringMatching(/expected multipart\/form-data/) },
      );
    });
  });
});
