import type { Running } from '../../src/runtime';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { eventually, startTestService, startTestWorker, type TestService } from '../support/service';

/**
 * `submit_tool_outputs` is a Temporal Update, answered by the worker that holds the run. With no worker, the
 * API gives up after 15 s with a 503, but Temporal keeps the Update and applies it once a worker comes: the
 * 503 must say so, and an identical retry must be safe (the same outputs carry the same update id).
 */
jest.setTimeout(90_000);

describe('an update no worker answered in time (sqlite)', () => {
  let svc: TestService;
  let model: FakeModel;
  let worker: Running | undefined;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL }, { worker: false });
  });
  afterAll(async () => {
    await worker?.stop();
    await svc?.stop();
    await model?.close();
  });

  it('answers 503 saying the outputs may still be applied, and an identical retry returns the first result', async () => {
    worker = await startTestWorker(svc);
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_once', name: 'lookup', arguments: '{}' }] },
      // Slow enough that the run is still working when the client retries.
      { kind: 'text', text: 'used the output', ttftMs: 3_000 },
    );
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'look it up' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    await worker.stop();
    worker = undefined;

    const path = `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`;
    const body = { tool_outputs: [{ tool_call_id: 'call_once', output: 'looked up' }] };
    const unanswered = await svc.http('POST', path, body);
    expect(unanswered.status).toBe(503);
    expect(unanswered.headers.get('x-should-retry')).toBe('true');
    expect(unanswered.body).toMatchObject({
      error: {
        type: 'server_error',
        message: expect.stringMatching(/may still be applied.*retrying the identical request is safe/),
      },
    });

    // A worker comes back and applies the submission Temporal kept; the next model call is under way (its
    // first token is 3 s away) …
    worker = await startTestWorker(svc);
    await eventually(async () => {
      const now = await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
      return now.status === 'in_progress' ? now : undefined;
    });
    // … and the client's identical retry is answered instead of refused: Temporal gives back the first Update's
    // outcome (same update id: `queued`, as the run stood then), and the answer is the newer of that and the
    // stored run (wire/runs.ts runObject), so the run as it stands now. The outputs are applied once: the steps
    // below show one tool round and one answer.
    const retried = await svc.http('POST', path, body);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: run.id, status: 'in_progress' });
    // Different outputs now are refused: nothing is applied twice.
    const other = await svc.http('POST', path, { tool_outputs: [{ tool_call_id: 'call_once', output: 'other' }] });
    expect(other.status).toBe(400);

    const done = await eventually(async () => {
      const now = await svc.openai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
      return now.status === 'completed' ? now : undefined;
    });
    expect(done.status).toBe('completed');
    const steps = (await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
    expect(steps.map((s) => s.type)).toEqual(['tool_calls', 'message_creation']);
    expect(model.requests).toHaveLength(2);
    const toolMessages = model.requests[1]!.body.messages.filter((m) => m.role === 'tool');
    expect(toolMessages).toEqual([{ role: 'tool', tool_call_id: 'call_once', content: 'looked up' }]);
  });
});
