import { MESSAGE_OVERHEAD_TOKENS } from '../../src/model/context';
import { countText } from '../../src/model/tokens';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, eventually, startTestService, type TestService } from '../support/service';

/**
 * Counting the prompt's tokens must never stall the process that does it. gpt-tokenizer's BPE is quadratic in
 * the length of an unbroken piece of text: these three messages took 6 s, 26 s and 56 s to count, on the
 * event loop of the all-in-one process, which then answered no HTTP and sent no heartbeats (with a 5 s
 * heartbeat timeout, runs on the same worker were timed out, and the counting one never finished).
 */
const HOSTILE = ['o'.repeat(100_000), 'o'.repeat(200_000), '中'.repeat(100_000)];

jest.setTimeout(120_000);

describe.each(DIALECTS)('token counting off the event loop (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: '5',
      THREADLINE_MODEL_MAX_ATTEMPTS: '1',
      // Room for the whole thread: every message is counted, and sent.
      THREADLINE_MODEL_CONTEXT_TOKENS: '1000000',
    });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o' })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  const storedCounts = async (threadId: string) =>
    (
      await svc.running.db
        .selectFrom('messages')
        .select('token_count')
        .where('thread_id', '=', threadId)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
    ).map((row) => row.token_count);

  it('runs on long unbroken text while HTTP is answered and another run streams on the same worker', async () => {
    // Another run on the same worker streams for about 3 s: a blocked event loop would miss its heartbeats.
    const steady = 'steady '.repeat(30);
    model.setResponder((req) =>
      JSON.stringify(req.body.messages).includes('bystander')
        ? { kind: 'text', text: steady, chunkSize: 7, interChunkMs: 100 }
        : { kind: 'text', text: 'counted' },
    );
    const bystanderThread = await svc.openai.beta.threads.create({
      messages: [{ role: 'user', content: 'bystander' }],
    });
    const bystander = svc.openai.beta.threads.runs.createAndPoll(
      bystanderThread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 100 },
    );
    await model.waitForRequests(1);

    const thread = await svc.openai.beta.threads.create({
      messages: HOSTILE.map((content) => ({ role: 'user' as const, content })),
    });
    let counting = true;
    const pings: number[] = [];
    const pinger = (async () => {
      while (counting) {
        pings.push((await svc.http('GET', '/assistants?limit=1')).status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 100 },
    );
    counting = false;
    await pinger;

    expect(run.status).toBe('completed');
    expect(pings.length).toBeGreaterThan(0);
    expect(pings.every((status) => status === 200)).toBe(true);
    const done = await bystander;
    expect(done.status).toBe('completed');
    const bystanderRequests = model.requests.filter((r) => JSON.stringify(r.body.messages).includes('bystander'));
    expect(bystanderRequests).toHaveLength(1); // never timed out and retried
    const [reply] = (await svc.openai.beta.threads.messages.list(bystanderThread.id, { run_id: done.id })).data;
    expect(reply?.content).toEqual([{ type: 'text', text: { value: steady, annotations: [] } }]);

    // The whole thread went to the model, and each message's count was stored with it.
    // (Compared as lengths and booleans: a failure must not print megabytes.)
    const sent = model.requests.find((r) => r.body.messages.some((m) => m.content === HOSTILE[2]));
    const contents = sent?.body.messages.map((m) => m.content) ?? [];
    expect(contents.map((c) => c?.length)).toEqual(HOSTILE.map((text) => text.length));
    expect(contents.every((c, i) => c === HOSTILE[i])).toBe(true);
    const expected = HOSTILE.map((text) => countText(text) + MESSAGE_OVERHEAD_TOKENS);
    expect(await storedCounts(thread.id)).toEqual([...expected, null]);
  });

  it('counts a message once: later runs use the stored count', async () => {
    model.setDefault({ kind: 'text', text: 'ok' });
    const thread = await svc.openai.beta.threads.create({
      messages: [
        { role: 'user', content: 'old and long' },
        { role: 'user', content: 'recent' },
      ],
    });
    const first = await svc.openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId });
    expect(first.status).toBe('completed');
    const counts = await storedCounts(thread.id);
    expect(counts.slice(0, 2)).toEqual([
      countText('old and long') + MESSAGE_OVERHEAD_TOKENS,
      countText('recent') + MESSAGE_OVERHEAD_TOKENS,
    ]);
    // The assistant's reply was counted too, once that first run had finished writing it.
    await svc.openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId });
    expect((await storedCounts(thread.id))[2]).toBe(countText('ok') + MESSAGE_OVERHEAD_TOKENS);

    // Had the builder counted again it would find "old and long" small; the stored figure says it cannot fit.
    await svc.running.db
      .updateTable('messages')
      .set({ token_count: 10_000_000 })
      .where('thread_id', '=', thread.id)
      .where('content', 'like', '%old and long%')
      .execute();
    const before = model.requests.length;
    const third = await svc.openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId });
    expect(third.status).toBe('completed');
    const sent = await eventually(() => Promise.resolve(model.requests[before]));
    expect(sent.body.messages.map((m) => m.content)).toEqual(['recent', 'ok', 'ok']);
  });
});
