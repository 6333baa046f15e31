import net from 'node:net';
import { toFile } from 'openai';
import { fileRowCount, STORAGE_CASES, startFileService, storedFileCount } from '../support/files';
import { eventually, type TestService } from '../support/service';

/** Over the PostgreSQL driver's 1 MiB chunk, so a cut upload has really written bytes before it is cut. */
const MAX_FILE_BYTES = 1536 * 1024;
const BOUNDARY = 'threadline-test-boundary';

/** The multipart body of a `file` upload around `size` bytes, split where the file's bytes start. */
function multipartAround(size: number) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return { head, tail, length: head.length + size + tail.length };
}

function connect(svc: TestService): Promise<net.Socket> {
  const { hostname, port } = new URL(svc.baseURL);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

function requestHead(svc: TestService, headers: string): string {
  return `POST /v1/files HTTP/1.1\r\nHost: ${new URL(svc.baseURL).host}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${headers}\r\n`;
}

describe.each(STORAGE_CASES)('upload faults (%s database, %s storage)', (dialect, storage) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startFileService(dialect, storage, { THREADLINE_MAX_FILE_BYTES: String(MAX_FILE_BYTES) });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  async function counts() {
    return { rows: await fileRowCount(svc), stored: await storedFileCount(svc) };
  }

  it('accepts a file of exactly the limit', async () => {
    const file = await svc.openai.files.create({
      file: await toFile(Buffer.alloc(MAX_FILE_BYTES, 1), 'limit.bin'),
      purpose: 'user_data',
    });
    expect(file.bytes).toBe(MAX_FILE_BYTES);
    await svc.openai.files.delete(file.id);
  });

  it.each([
    ['found while reading', MAX_FILE_BYTES + 1],
    ['refused from its declared length', 5 * 1024 * 1024],
  ])('refuses a file over THREADLINE_MAX_FILE_BYTES (%s) with 400 and writes nothing', async (_, size) => {
    const before = await counts();
    const attempt = svc.openai.files.create({
      file: await toFile(Buffer.alloc(size, 2), 'big.bin'),
      purpose: 'user_data',
    });
    await expect(attempt).rejects.toMatchObject({
      status: 400,
      error: {
        message: `File is too large. The largest file this server accepts is ${MAX_FILE_BYTES} bytes.`,
        type: 'invalid_request_error',
        param: 'file',
      },
    });
    expect(await counts()).toEqual(before);
  });

  it('answers a chunked upload over the limit while the client is still sending', async () => {
    const before = await counts();
    const socket = await connect(svc);
    const { head } = multipartAround(0);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const frame = (data: Buffer) =>
      Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    socket.write(requestHead(svc, 'Transfer-Encoding: chunked\r\n'));
    socket.write(frame(head));
    // Twice the limit, and never the final chunk: the request is still open when the answer must come.
    for (let i = 0; i < 48; i++) socket.write(frame(Buffer.alloc(64 * 1024, 3)));
    try {
      await eventually(
        () => Promise.resolve(/"error"[\s\S]*\}\s*\}/.test(answer) ? true : undefined),
        30_000,
        'the 400',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/File is too large/);
      // The connection is not closed under the client's upload (a reset could reach it before the answer):
      // the rest is read and dropped, within bounds (api/http.ts discardBody).
    } finally {
      socket.destroy();
    }
    await eventually(async () => ((await counts()).rows === before.rows ? true : undefined));
    expect(await counts()).toEqual(before);
  });

  it('leaves no row and no bytes when the client disconnects half-way', async () => {
    const before = await counts();
    const size = MAX_FILE_BYTES - 1000;
    const { head, length } = multipartAround(size);
    const socket = await connect(svc);
    socket.write(requestHead(svc, `Content-Length: ${length}\r\n`));
    socket.write(head);
    socket.write(Buffer.alloc(Math.floor(size * 0.8), 4));
    // The upload has really started: its row exists and storage holds some of its bytes.
    await eventually(async () => {
      const now = await counts();
      return now.rows > before.rows && now.stored > before.stored ? true : undefined;
    });
    socket.destroy();
    await eventually(async () => {
      const now = await counts();
      return now.rows === before.rows && now.stored === before.stored ? true : undefined;
    });
    // And the service is fine afterwards.
    const file = await svc.openai.files.create({
      file: await toFile(Buffer.from('ok'), 'ok.txt'),
      purpose: 'assistants',
    });
    expect(file.bytes).toBe(2);
  });
});
