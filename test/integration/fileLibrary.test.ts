import { Readable } from 'node:stream';
import { newId } from '../../src/ids';
import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { fileRowCount, STORAGE_CASES, startFileService, storedBytes, storedFileCount } from '../support/files';
import type { TestService } from '../support/service';

/**
 * The file library the tools build on (code_interpreter writes files, file_search reads them), used the way an
 * activity uses it: through the store, with ids a workflow minted, retried at will.
 */
describe.each(STORAGE_CASES)('the file library (%s database, %s storage)', (dialect, storage) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startFileService(dialect, storage, {}, { worker: false });
  });
  afterAll(async () => {
    await svc?.stop();
  });
  const files = () => svc.running.store.files;

  it('creates a file under a caller-chosen id once, however often the call is retried', async () => {
    const id = newId('file');
    const make = () =>
      files().create(DEFAULT_PROJECT_ID, {
        id,
        filename: 'plot.png',
        purpose: 'assistants_output',
        body: Readable.from([Buffer.from('first '), Buffer.from('attempt')]),
      });
    const first = await make();
    const again = await make();
    expect(again).toEqual(first);
    expect(first).toMatchObject({ id, bytes: 13, purpose: 'assistants_output', mime_type: 'image/png' });
    expect(await storedBytes(svc, id)).toEqual(Buffer.from('first attempt'));
    // Visible through the API like any upload, downloadable too.
    expect(await svc.openai.files.retrieve(id)).toMatchObject({ id, purpose: 'assistants_output', bytes: 13 });
    expect(await (await svc.openai.files.content(id)).text()).toBe('first attempt');
  });

  it('cleans up after a write that fails, and takes over what a process that died mid-write left', async () => {
    const id = newId('file');
    async function* fails(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(2 * 1024 * 1024, 1);
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('source failed');
    }
    await expect(
      files().create(DEFAULT_PROJECT_ID, { id, filename: 'out.csv', purpose: 'assistants_output', body: fails() }),
    ).rejects.toThrow('source failed');
    expect(await files().find(DEFAULT_PROJECT_ID, id)).toBeUndefined();
    expect(await storedBytes(svc, id)).toBeUndefined();

    // A process killed mid-write leaves its unfinished row and some bytes; the retry takes both over.
    await svc.running.db
      .insertInto('files')
      .values({
        project_id: DEFAULT_PROJECT_ID,
        id,
        created_at: Math.floor(Date.now() / 1000),
        bytes: 0,
        filename: 'out.csv',
        purpose: '',
        mime_type: 'text/csv',
        state: 'uploading',
        expires_at: null,
      })
      .execute();
    await files().storage.put({ projectId: DEFAULT_PROJECT_ID, fileId: id }, [Buffer.alloc(3000, 9)], 1e9);
    const row = await files().create(DEFAULT_PROJECT_ID, {
      id,
      filename: 'out.csv',
      purpose: 'assistants_output',
      body: Buffer.from('a,b\n'),
    });
    expect(row).toMatchObject({ id, bytes: 4, state: 'ready' });
    expect(await storedBytes(svc, id)).toEqual(Buffer.from('a,b\n'));
  });

  it('opens a file as a stream, whole or a range', async () => {
    const row = await files().create(DEFAULT_PROJECT_ID, {
      filename: 'digits.txt',
      purpose: 'assistants',
      body: Buffer.from('0123456789'),
    });
    const read = async (range?: { start: number; end: number }) => {
      const opened = await files().open(DEFAULT_PROJECT_ID, row.id, range);
      const chunks: Buffer[] = [];
      for await (const chunk of opened!.stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString();
    };
    expect(await read()).toBe('0123456789');
    expect(await read({ start: 3, end: 6 })).toBe('3456');
    expect(await files().open('proj_other', row.id)).toBeUndefined();
  });

  it('sweeps expired files, abandoned uploads and unfinished deletes', async () => {
    const rows = await fileRowCount(svc);
    const stored = await storedFileCount(svc);
    // An upload whose process died before it finished: staged, never committed.
    await files().stage(DEFAULT_PROJECT_ID, { filename: 'abandoned.bin', body: Buffer.alloc(1000, 5) });
    // A delete that stopped after hiding its row.
    const half = await files().create(DEFAULT_PROJECT_ID, {
      filename: 'h.txt',
      purpose: 'assistants',
      body: Buffer.from('h'),
    });
    await svc.running.db.updateTable('files').set({ state: 'deleting' }).where('id', '=', half.id).execute();
    // A file past its expiry.
    const old = await files().create(DEFAULT_PROJECT_ID, {
      filename: 'old.txt',
      purpose: 'user_data',
      body: Buffer.from('old'),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
    expect(await fileRowCount(svc)).toBe(rows + 3);

    // A day and a bit later, the sweep finds all three.
    const later = Math.floor(Date.now() / 1000) + 25 * 3600;
    expect(await files().sweep(later)).toBe(3);
    expect(await fileRowCount(svc)).toBe(rows);
    expect(await storedFileCount(svc)).toBe(stored);
    expect(await storedBytes(svc, old.id)).toBeUndefined();
    // Nothing left to do the second time.
    expect(await files().sweep(later)).toBe(0);
  });
});
