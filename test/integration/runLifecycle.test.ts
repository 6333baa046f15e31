import { Client, Connection } from '@temporalio/client';
import { RunStatusKey, ThreadIdKey, getRunQuery, toolOutputsSignal } from '../../src/temporal/shared';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { names, readSse } from '../support/sse';
import { DIALECTS, eventually, startTestService, startTestWorker, type TestService } from '../support/service';

const tool = {
  type: 'function' as const,
  function: { name: 'lookup', parameters: { type: 'object', properties: {} } },
};
const EXPIRY_SECONDS = 3;

/** A chat message's content as text (tests compare prompts the fake model received). */
const contentText = (content: unknown): string => (typeof content === 'string' ? content : JSON.stringify(content));

describe.each(DIALECTS)('run lifecycle (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let temporal: Client;
  let assistantId: string;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_RUN_EXPIRY_SECONDS: String(EXPIRY_SECONDS),
      THREADLINE_MAX_STEPS: '2',
      THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
    });
    temporal = new Client({
      connection: await Connection.connect({ address: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS! }),
    });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [tool] })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await temporal?.connection.close();
    await model?.close();
  });
  beforeEach(() => model.reset());

  async function pausedRun(calls = [{ id: 'call_1', name: 'lookup', arguments: '{}' }]) {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] });
    model.script({ kind: 'tool_calls', calls });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    return { thread, run };
  }

  const poll = (threadId: string, runId: string) =>
    svc.openai.beta.threads.runs.poll(runId, { thread_id: threadId }, { pollIntervalMs: 50 });
  /** SDK pollers stop at requires_action; this waits for a given status instead. */
  const waitForStatus = (threadId: string, runId: string, status: string) =>
    eventually(
      async () => {
        const run = await svc.openai.beta.threads.runs.retrieve(runId, { thread_id: threadId });
        return run.status === status ? run : undefined;
      },
      30_000,
      `run ${runId} to be ${status}`,
    );

  describe('cancel', () => {
    it('cancels a run waiting in requires_action: step cancelled, run cancelled', async () => {
      const { thread, run } = await pausedRun();
      const cancelling = await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
      expect(cancelling).toMatchObject({ status: 'cancelling', cancelled_at: null });
      const done = await poll(thread.id, run.id);
      expect(done).toMatchObject({ status: 'cancelled', required_action: null, expires_at: null });
      expect(done.cancelled_at).toEqual(expect.any(Number));
      const [step] = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
      expect(step).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(Number) });
      const again = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/cancel`);
      expect(again.status).toBe(400);
      expect(again.body).toMatchObject({ error: { message: "Cannot cancel run with status 'cancelled'." } });
    });

    it('cancels a streaming run promptly: the model call is aborted and the partial message is incomplete', async () => {
      const thread = await svc.openai.beta.threads.create({
        messages: [{ role: 'user', content: 'long answer please' }],
      });
      model.script({ kind: 'text', text: 'word '.repeat(400), chunkSize: 5, interChunkMs: 50 });
      const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistantId });
      const message = await eventually(
        async () => {
          const [m] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
          return m?.status === 'in_progress' ? m : undefined;
        },
        20_000,
        'the assistant message to start',
      );
      expect(message.status).toBe('in_progress');
      await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
      const done = await poll(thread.id, run.id);
      expect(done.status).toBe('cancelled');
      const [partial] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
      expect(partial).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'run_cancelled' } });
      const text = partial!.content[0]?.type === 'text' ? partial!.content[0].text.value : '';
      expect(text.length).toBeGreaterThan(0);
      expect(text.length).toBeLessThan('word '.repeat(400).length);
      const [step] = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
      expect(step).toMatchObject({ type: 'message_creation', status: 'cancelled' });
    });

    it('cancels a queued run that no worker has picked up yet', async () => {
      const apiOnly = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL }, { worker: false });
      try {
        const assistant = await apiOnly.openai.beta.assistants.create({ model: 'gpt-4o' });
        const thread = await apiOnly.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
        const run = await apiOnly.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
        expect(run.status).toBe('queued');
        const cancel = apiOnly.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
        const worker = await startTestWorker(apiOnly);
        try {
          expect((await cancel).status).toBe('cancelling');
          const done = await apiOnly.openai.beta.threads.runs.poll(
            run.id,
            { thread_id: thread.id },
            { pollIntervalMs: 50 },
          );
          expect(done.status).toBe('cancelled');
          expect(model.requests).toHaveLength(0);
        } finally {
          await worker.stop();
        }
      } finally {
        await apiOnly.stop();
      }
    });

    it('refuses to cancel a finished run', async () => {
      const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
      const run = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistantId },
        { pollIntervalMs: 50 },
      );
      expect(run.status).toBe('completed');
      const res = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/cancel`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: {
          message: "Cannot cancel run with status 'completed'.",
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });
  });

  it('expires a run left in requires_action, and refuses late outputs', async () => {
    const { thread, run } = await pausedRun();
    expect(run.expires_at).toBe(run.created_at + EXPIRY_SECONDS);
    // A client watching the waiting run sees it end: the step expires, then the run, then done.
    const events = `${svc.baseURL}/threads/${thread.id}/runs/${run.id}/events`;
    const sofar = await readSse(events); // up to the requires_action
    const watcher = readSse(events, { headers: { 'Last-Event-ID': sofar.frames.at(-2)!.id! } });
    const done = await waitForStatus(thread.id, run.id, 'expired');
    expect(names((await watcher).frames)).toEqual(['thread.run.step.expired', 'thread.run.expired', 'done']);
    expect(done).toMatchObject({ status: 'expired', required_action: null, expires_at: null });
    const [step] = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ status: 'expired', expired_at: expect.any(Number) });
    const late = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
      tool_outputs: [{ tool_call_id: 'call_1', output: 'late' }],
    });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ error: { message: 'Runs in status "expired" do not accept tool outputs.' } });
  });

  describe('submit_tool_outputs', () => {
    it('refuses unknown, duplicate and missing tool_call_ids and leaves the run waiting', async () => {
      const { thread, run } = await pausedRun([
        { id: 'call_a', name: 'lookup', arguments: '{}' },
        { id: 'call_b', name: 'lookup', arguments: '{}' },
      ]);
      const url = `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`;
      for (const tool_outputs of [
        [
          { tool_call_id: 'call_a', output: '1' },
          { tool_call_id: 'call_zzz', output: '2' },
        ],
        [
          { tool_call_id: 'call_a', output: '1' },
          { tool_call_id: 'call_a', output: '2' },
        ],
        [{ tool_call_id: 'call_b', output: '1' }],
      ]) {
        const res = await svc.http('POST', url, { tool_outputs });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: { type: 'invalid_request_error' } });
      }
      expect((await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status).toBe(
        'requires_action',
      );
      await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    });

    it('refuses outputs for a run that is not waiting for them', async () => {
      const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
      const run = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistantId },
        { pollIntervalMs: 50 },
      );
      const res = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
        tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { message: 'Runs in status "completed" do not accept tool outputs.' } });
    });

    it('treats a retried identical submission as the same one: the run resumes once', async () => {
      const { thread, run } = await pausedRun();
      model.script({ kind: 'text', text: 'done', ttftMs: 300 });
      const body = { tool_outputs: [{ tool_call_id: 'call_1', output: 'same' }] };
      const url = `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`;
      const [first, second] = await Promise.all([svc.http('POST', url, body), svc.http('POST', url, body)]);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.body).toMatchObject({ status: 'queued', required_action: null, expires_at: run.expires_at });
      expect(second.body).toEqual(first.body);
      // A retry after the first answer was lost, while the run is already on its way: same answer again.
      const third = await svc.http('POST', url, body);
      expect(third.status).toBe(200);
      // Same update, so no second resume; the body shows the run as it is now (it may have moved on).
      expect(third.body).toMatchObject({ id: run.id, required_action: null });
      const different = await svc.http('POST', url, {
        tool_outputs: [{ tool_call_id: 'call_1', output: 'changed my mind' }],
      });
      expect(different.status).toBe(400);
      const done = await poll(thread.id, run.id);
      expect(done.status).toBe('completed');
      expect(model.requests).toHaveLength(2);
      expect((await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data).toHaveLength(1);
    });

    it('gives each tool call a run-unique id even when the model reuses ids across rounds', async () => {
      const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'twice' }] });
      model.script(
        { kind: 'tool_calls', calls: [{ id: 'call_0', name: 'lookup', arguments: '{}' }] },
        { kind: 'tool_calls', calls: [{ id: 'call_0', name: 'lookup', arguments: '{}' }] },
        { kind: 'text', text: 'ok' },
      );
      const first = await svc.openai.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistantId },
        { pollIntervalMs: 50 },
      );
      const firstId = first.required_action!.submit_tool_outputs.tool_calls[0]!.id;
      const second = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
        first.id,
        { thread_id: thread.id, tool_outputs: [{ tool_call_id: firstId, output: 'same' }] },
        { pollIntervalMs: 50 },
      );
      expect(second.status).toBe('requires_action');
      const secondId = second.required_action!.submit_tool_outputs.tool_calls[0]!.id;
      expect(secondId).not.toBe(firstId);
      const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
        first.id,
        { thread_id: thread.id, tool_outputs: [{ tool_call_id: secondId, output: 'same' }] },
        { pollIntervalMs: 50 },
      );
      expect(done.status).toBe('completed');
    });

    it('refuses tool outputs too large to hand to the workflow', async () => {
      const { thread, run } = await pausedRun();
      const res = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
        tool_outputs: [{ tool_call_id: 'call_1', output: 'x'.repeat(1_600_000) }],
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { param: 'tool_outputs', message: expect.stringMatching(/too large/) } });
      expect((await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status).toBe(
        'requires_action',
      );
      await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    });

    it('accepts tool outputs as a Temporal signal and ignores an invalid one', async () => {
      const { thread, run } = await pausedRun();
      const handle = temporal.workflow.getHandle(run.id);
      await handle.signal(toolOutputsSignal, { tool_outputs: [{ tool_call_id: 'call_nope', output: 'x' }] });
      await handle.signal(toolOutputsSignal, { junk: true } as never);
      await handle.signal(toolOutputsSignal, { tool_outputs: 'not a list' } as never);
      await handle.signal(toolOutputsSignal, { tool_outputs: [{ tool_call_id: 5, output: {} }] } as never);
      expect((await handle.query(getRunQuery)).status).toBe('requires_action');
      await handle.signal(toolOutputsSignal, { tool_outputs: [{ tool_call_id: 'call_1', output: 'via signal' }] });
      const done = await waitForStatus(thread.id, run.id, 'completed');
      expect(done.status).toBe('completed');
      const tools = model.requests[1]?.body.messages.filter((m) => m.role === 'tool');
      expect(tools).toEqual([{ role: 'tool', tool_call_id: 'call_1', content: 'via signal' }]);
    });
  });

  describe('one active run per thread', () => {
    it('lets exactly one of 20 concurrent run creations through', async () => {
      const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'race' }] });
      model.setResponder(() => ({ kind: 'tool_calls', calls: [{ id: 'call_r', name: 'lookup', arguments: '{}' }] }));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => svc.http('POST', `/threads/${thread.id}/runs`, { assistant_id: assistantId })),
      );
      const ok = results.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      const winner = (ok[0]!.body as { id: string }).id;
      for (const refused of results.filter((r) => r.status !== 200)) {
        expect(refused.status).toBe(400);
        expect(refused.body).toMatchObject({
          error: { message: `Thread ${thread.id} already has an active run ${winner}.` },
        });
      }
      const message = await svc.http('POST', `/threads/${thread.id}/messages`, { role: 'user', content: 'sneaky' });
      expect(message.status).toBe(400);
      expect(message.body).toMatchObject({
        error: { message: `Can't add messages to ${thread.id} while a run ${winner} is active.` },
      });
      expect((await svc.openai.beta.threads.runs.list(thread.id)).data).toHaveLength(1);
      await svc.openai.beta.threads.runs.cancel(winner, { thread_id: thread.id });
      await poll(thread.id, winner);
      expect(
        (await svc.http('POST', `/threads/${thread.id}/messages`, { role: 'user', content: 'now fine' })).status,
      ).toBe(200);
    });
  });

  it('frees the thread on the next run creation when the active run was terminated in Temporal', async () => {
    const { thread, run } = await pausedRun();
    await temporal.workflow.getHandle(run.id).terminate('operator pressed Terminate');
    model.script({ kind: 'text', text: 'fresh start' });
    const next = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 50 },
    );
    expect(next.status).toBe('completed');
    expect((await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status).toBe('failed');
  });

  it('frees the thread of a run whose workflow was terminated from Temporal', async () => {
    const { thread, run } = await pausedRun();
    await temporal.workflow.getHandle(run.id).terminate('operator pressed Terminate');
    const res = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/cancel`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { message: "Cannot cancel run with status 'failed'." } });
    const failed = await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'server_error' }, expires_at: null });
    const [step] = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step?.status).toBe('failed');
    expect(
      (await svc.http('POST', `/threads/${thread.id}/messages`, { role: 'user', content: 'free again' })).status,
    ).toBe(200);
  });

  it('calls the model with tool_choice "none" once the step limit is spent', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'loop' }] });
    model.setResponder((req) =>
      req.body.tool_choice === 'none'
        ? { kind: 'text', text: 'Stopping here.' }
        : { kind: 'tool_calls', calls: [{ name: 'lookup', arguments: '{}' }] },
    );
    let run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 50 },
    );
    while (run.status === 'requires_action') {
      const outputs = run.required_action!.submit_tool_outputs.tool_calls.map((c) => ({
        tool_call_id: c.id,
        output: 'again',
      }));
      run = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
        run.id,
        { thread_id: thread.id, tool_outputs: outputs },
        { pollIntervalMs: 50 },
      );
    }
    expect(run.status).toBe('completed');
    expect(model.requests.map((r) => r.body.tool_choice)).toEqual(['auto', 'auto', 'none']);
  });

  it('ends incomplete when max_completion_tokens is reached', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'write a lot' }] });
    model.script({
      kind: 'text',
      text: 'cut short',
      finishReason: 'length',
      usage: { prompt_tokens: 10, completion_tokens: 256 },
    });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId, max_completion_tokens: 256 },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_completion_tokens' },
      usage: { completion_tokens: 256 },
    });
    expect(model.requests[0]?.body.max_completion_tokens).toBe(256);
    const [message] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect(message).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_tokens' } });
  });

  it('honours truncation_strategy and max_prompt_tokens in what the model receives', async () => {
    const thread = await svc.openai.beta.threads.create({
      messages: Array.from({ length: 6 }, (_, i) => ({
        role: 'user' as const,
        content: `message ${i} ${'pad '.repeat(200)}`,
      })),
    });
    await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId, truncation_strategy: { type: 'last_messages', last_messages: 2 } },
      { pollIntervalMs: 50 },
    );
    expect(model.requests[0]?.body.messages.map((m) => contentText(m.content).slice(0, 9))).toEqual([
      'message 4',
      'message 5',
    ]);
    model.reset();
    await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId, max_prompt_tokens: 700 },
      { pollIntervalMs: 50 },
    );
    const kept = model.requests[0]!.body.messages;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(7);
    expect(contentText(kept[kept.length - 1]?.content)).toMatch(/^Hello from the fake model|^message 5/);
    model.reset();
    const tooSmall = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId, instructions: 'x '.repeat(400), max_prompt_tokens: 256 },
      { pollIntervalMs: 50 },
    );
    expect(tooSmall).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_prompt_tokens' } });
    expect(model.requests).toHaveLength(0);
  });

  it('keeps RunStatus current in Temporal and answers the getRun query', async () => {
    const { thread, run } = await pausedRun();
    const handle = temporal.workflow.getHandle(run.id);
    // The search attribute is upserted with the workflow task that also wrote the row; it may trail the GET.
    const described = await eventually(
      async () => {
        const d = await handle.describe();
        return d.typedSearchAttributes.get(RunStatusKey) === 'requires_action' ? d : undefined;
      },
      10_000,
      'RunStatus=requires_action',
    );
    expect(described.typedSearchAttributes.get(ThreadIdKey)).toBe(thread.id);
    expect((await handle.query(getRunQuery)).status).toBe('requires_action');
    await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      run.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_1', output: 'ok' }] },
      { pollIntervalMs: 50 },
    );
    await handle.result();
    const after = await handle.describe();
    expect(after.typedSearchAttributes.get(RunStatusKey)).toBe('completed');
  });

  it('records tool outputs as the next model call begins: no write activity of their own between', async () => {
    const { thread, run } = await pausedRun();
    model.script({ kind: 'text', text: 'done' });
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      run.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_1', output: 'forty-two' }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    const handle = temporal.workflow.getHandle(run.id);
    await handle.result();
    const history = await handle.fetchHistory();
    const activities = (history.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    // The model, the durable `requires_action` write, the model again (which recorded the outputs first).
    expect(activities).toEqual(['callModel', 'persistRun', 'callModel']);
    const steps = await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    const toolStep = steps.data[0]!;
    expect(toolStep).toMatchObject({ type: 'tool_calls', status: 'completed' });
    expect(toolStep.step_details).toMatchObject({
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', output: 'forty-two' } }],
    });
    // The second model request carried the output: the write came before the prompt was built from the database.
    expect(model.requests[1]!.body.messages.at(-1)).toMatchObject({
      role: 'tool',
      tool_call_id: 'call_1',
      content: 'forty-two',
    });
  });
});
