import { toFile } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { upload } from '../support/files';
import { DIALECTS, startTestService, type TestService } from '../support/service';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), Buffer.alloc(64, 2)]);

/**
 * Images in thread messages reach the model as Chat Completions image inputs: stored files as data URLs with
 * their image type, URLs as given, `detail` honoured, in the order the message had them.
 */
describe.each(DIALECTS)('images reach the model (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  const userMessages = (index: number) =>
    (model.requests[index]?.body.messages ?? []).filter(
      (m): m is Extract<ChatCompletionMessageParam, { role: 'user' }> => m.role === 'user',
    );

  it('sends image_file parts as data URLs and image_url parts as given, with their detail', async () => {
    const png = await upload(svc, 'chart.png', PNG, 'vision');
    // A name with no extension (Python's raw-bytes upload is named `upload`): the type comes from the bytes.
    const jpeg = await svc.openai.files.create({ file: await toFile(JPEG, 'upload'), purpose: 'vision' });
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these:' },
            { type: 'image_file', image_file: { file_id: png.id, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
            { type: 'image_file', image_file: { file_id: jpeg.id } },
            { type: 'text', text: 'Which is bigger?' },
          ],
        },
      ],
    });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(userMessages(0)).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these:' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
          {
            type: 'image_url',
            image_url: { url: `data:image/jpeg;base64,${JPEG.toString('base64')}`, detail: 'auto' },
          },
          { type: 'text', text: 'Which is bigger?' },
        ],
      },
    ]);
  });

  it('leaves out an image whose file was deleted, or that is not an image, with a note; the run completes', async () => {
    const doomed = await upload(svc, 'gone.png', PNG, 'vision');
    const text = await upload(svc, 'notes.txt', 'plain words', 'vision');
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_file', image_file: { file_id: doomed.id } },
            { type: 'image_file', image_file: { file_id: text.id, detail: 'low' } },
            { type: 'text', text: 'What do you see?' },
          ],
        },
      ],
    });
    await svc.openai.files.delete(doomed.id);
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(userMessages(0)).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: `[An image was attached here (${doomed.id}), but that file no longer exists.]` },
          { type: 'text', text: `[An image was attached here (${text.id}), but that file is not an image.]` },
          { type: 'text', text: 'What do you see?' },
        ],
      },
    ]);
  });

  it('sends images given in a run’s additional_messages', async () => {
    const png = await upload(svc, 'extra.png', PNG, 'vision');
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Hello' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: assistant.id,
        additional_messages: [
          { role: 'user', content: [{ type: 'image_file', image_file: { file_id: png.id, detail: 'low' } }] },
        ],
      },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(userMessages(0)).toEqual([
      { role: 'user', content: 'Hello' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'low' } },
        ],
      },
    ]);
  });
});
