import { Client, Connection } from '@temporalio/client';
import { MAX_TOOL_OUTPUT_CHARS } from '../../src/schemas/runs';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, startTestService, type TestService } from '../support/service';

/**
 * Tool outputs never travel in Temporal payloads: the API stores them and the workflow gets their ids. Outputs
 * under the character cap but far over Temporal's 2 MB payload limit once encoded (multi-byte text) resume the
 * run like any other; over the cap is a clear 400 and nothing changes.
 */
const lookup = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };

/** `chars` characters of 3-byte UTF-8 text, broken by punctuation like real prose. */
const chinese = (chars: number) => '今天的天气很好。'.repeat(Math.ceil(chars / 8)).slice(0, chars);

describe.each(DIALECTS)('large tool outputs (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let temporal: Client;
  let assistantId: string;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_MAX_BODY_BYTES: '16777216',
      // The outputs alone are about a million tokens: a context window that holds them, so the run can go on.
      THREADLINE_MODEL_CONTEXT_TOKENS: '4000000',
    });
    temporal = new Client({
      connection: await Connection.connect({ address: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS! }),
    });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [lookup] })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await temporal?.connection.close();
    await model?.close();
  });
  beforeEach(() => model.reset());

  async function waitingRun() {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Look it up' }] });
    model.script({ kind: 'tool_calls', calls: [{ id: 'call_big', name: 'lookup', arguments: '{}' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistantId },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    return { thread, run };
  }

  /** Answers the waiting run's call with `output`; the model then says 'ok' and the run completes. */
  async function completeWith(thread: { id: string }, run: { id: string }, output: string) {
    model.script({ kind: 'text', text: 'ok' });
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      run.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_big', output }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
  }

  it.each([
    ['760,000 characters (2.2 MB of UTF-8)', 760_000],
    ['exactly the cap', MAX_TOOL_OUTPUT_CHARS - 'call_big'.length],
  ])('resumes the run with %s of multi-byte output, none of it in the workflow history', async (_what, chars) => {
    const { thread, run } = await waitingRun();
    const output = chinese(chars);
    expect(Buffer.byteLength(output)).toBeGreaterThan(2 * 1024 * 1024);
    await completeWith(thread, run, output);
    const steps = await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    const details = steps.data[0]!.step_details;
    expect(details.type === 'tool_calls' && details.tool_calls[0]).toMatchObject({
      id: 'call_big',
      type: 'function',
      function: { output },
    });
    expect(model.requests[1]!.body.messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'call_big',
      content: output,
    });
    const history = await temporal.workflow.getHandle(run.id).fetchHistory();
    expect(JSON.stringify(history).length).toBeLessThan(200_000);
  });

  it('refuses outputs over the cap with a 400 naming the param, and the run still waits for them', async () => {
    const { thread, run } = await waitingRun();
    const response = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
      tool_outputs: [{ tool_call_id: 'call_big', output: chinese(MAX_TOOL_OUTPUT_CHARS) }],
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: {
        type: 'invalid_request_error',
        param: 'tool_outputs',
        code: 'string_above_max_length',
        message: expect.stringContaining(`at most ${MAX_TOOL_OUTPUT_CHARS} characters`),
      },
    });
    const still = await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(still.status).toBe('requires_action');
    await completeWith(thread, run, 'small');
  });

  it('refuses a call answered twice in one submission with a 400, and the run still takes a good one', async () => {
    const { thread, run } = await waitingRun();
    const response = await svc.http('POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
      tool_outputs: [
        { tool_call_id: 'call_big', output: 'first' },
        { tool_call_id: 'call_big', output: 'second' },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: {
        type: 'invalid_request_error',
        param: null,
        code: null,
        message: "Duplicate tool_call_id 'call_big' in tool_outputs.",
      },
    });
    await completeWith(thread, run, 'only');
    const steps = await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    const details = steps.data[0]!.step_details;
    expect(details.type === 'tool_calls' && details.tool_calls[0]).toMatchObject({ function: { output: 'only' } });
  });
});
