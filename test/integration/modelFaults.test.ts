import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startTestService, type TestService } from '../support/service';

/**
 * Faults at the model boundary end runs in the right state after a bounded number of attempts. Retrying is
 * Temporal's job (the model client never retries itself), so each attempt is one request at the fake.
 */
describe('model faults', () => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;
  const MAX_ATTEMPTS = 3;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService('sqlite', {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_MODEL_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
      THREADLINE_MODEL_IDLE_TIMEOUT_SECONDS: '1',
    });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o' })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  async function run() {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] });
    const result = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 50 },
    );
    const messages = await svc.openai.beta.threads.messages.list(thread.id, { run_id: result.id });
    return { run: result, messages: messages.data, thread };
  }

  it('fails with server_error once every attempt got a 500', async () => {
    model.setDefault({ kind: 'error', status: 500 });
    const { run: failed, messages } = await run();
    expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'server_error' }, expires_at: null });
    expect(failed.last_error?.message).toMatch(/500/);
    expect(failed.failed_at).toEqual(expect.any(Number));
    expect(model.requests).toHaveLength(MAX_ATTEMPTS);
    expect(messages).toEqual([]);
  });

  it('retries a 429 after its retry-after and completes', async () => {
    model.script(
      { kind: 'error', status: 429, headers: { 'retry-after': '1' } },
      { kind: 'text', text: 'patience pays' },
    );
    const { run: done, messages } = await run();
    expect(done.status).toBe('completed');
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]!.receivedAt - model.requests[0]!.receivedAt).toBeGreaterThanOrEqual(900);
    expect(messages).toHaveLength(1);
  });

  it('fails with rate_limit_exceeded when every attempt is rate limited', async () => {
    model.setDefault({ kind: 'error', status: 429 });
    const { run: failed } = await run();
    expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'rate_limit_exceeded' } });
    expect(model.requests).toHaveLength(MAX_ATTEMPTS);
  });

  it('fails at once with invalid_prompt on a 400, without retrying', async () => {
    model.script({
      kind: 'error',
      status: 400,
      body: { error: { message: 'context too long', type: 'invalid_request_error', param: null, code: null } },
    });
    const { run: failed } = await run();
    expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'invalid_prompt' } });
    expect(failed.last_error?.message).toMatch(/context too long/);
    expect(model.requests).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', { kind: 'malformed' as const }],
    ['a stream cut before it finished', { kind: 'cut' as const, text: 'partial words that must not survive' }],
    ['a hung stream', { kind: 'hang' as const }],
  ])('retries after %s and keeps exactly one assistant message', async (_name, fault) => {
    model.script(fault, { kind: 'text', text: 'the real answer' });
    const { run: done, messages, thread } = await run();
    expect(done.status).toBe('completed');
    expect(model.requests).toHaveLength(2);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.content).toEqual([{ type: 'text', text: { value: 'the real answer', annotations: [] } }]);
    const steps = await svc.openai.beta.threads.runs.steps.list(done.id, { thread_id: thread.id });
    expect(steps.data.map((s) => [s.type, s.status])).toEqual([['message_creation', 'completed']]);
  });
});
