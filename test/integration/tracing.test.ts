import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp';
import { eventually, startTestService, type TestService } from '../support/service';

describe('OpenTelemetry traces', () => {
  let model: FakeModel;
  let receiver: OtlpReceiver;
  let svc: TestService;

  beforeAll(async () => {
    model = await startFakeModel();
    receiver = await startOtlpReceiver();
    svc = await startTestService('sqlite', {
      OPENAI_BASE_URL: model.baseURL,
      THREADLINE_OTLP_ENDPOINT: receiver.url,
      THREADLINE_OTEL_SERVICE_NAME: 'threadline-test',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await model?.close();
  });

  it('follows one run in one trace: HTTP request, workflow start, workflow, each activity and the model call', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'trace me' }] });
    model.script({ kind: 'text', text: 'traced', usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');

    const ids = {
      'threadline.project_id': 'proj_default',
      'threadline.run_id': run.id,
      'threadline.thread_id': thread.id,
    };
    const find = (name: string, where: (s: ReceivedSpan) => boolean = () => true) =>
      receiver.spans.find((s) => s.name === name && where(s));
    // The workflow span ends when the workflow does, just after the run's last write.
    const workflow = await eventually(
      () => Promise.resolve(find('RunWorkflow:runWorkflow', (s) => s.attributes['threadline.run_id'] === run.id)),
      15_000,
      'the workflow span',
    );
    const http = find('POST /v1/threads/:thread_id/runs', (s) => s.traceId === workflow.traceId)!;
    expect(http).toBeDefined();
    expect(http.kind).toBe(2); // SERVER
    expect(http.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/threads/:thread_id/runs',
      'http.response.status_code': 200,
      'threadline.project_id': 'proj_default',
      'threadline.thread_id': thread.id,
    });
    expect(http.service).toBe('threadline-test');

    const inTrace = receiver.spans.filter((s) => s.traceId === http.traceId);
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);

    const start = inTrace.find((s) => s.name === 'StartWorkflow:runWorkflow')!;
    expect(parentOf(start)).toBe(http);
    expect(start.attributes).toMatchObject({ temporalWorkflowId: run.id });
    expect(parentOf(workflow)).toBe(start);
    expect(workflow.attributes).toMatchObject(ids);

    const scheduled = inTrace.find((s) => s.name === 'StartActivity:callModel')!;
    expect(parentOf(scheduled)).toBe(workflow);
    const activity = inTrace.find((s) => s.name === 'RunActivity:callModel')!;
    expect(parentOf(activity)).toBe(scheduled);
    expect(activity.attributes).toMatchObject(ids);

    const call = inTrace.find((s) => s.name === 'chat.completions gpt-4o')!;
    expect(parentOf(call)).toBe(activity);
    expect(call.kind).toBe(3); // CLIENT
    expect(call.attributes).toMatchObject({
      ...ids,
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 2,
      'http.response.status_code': 200,
      'threadline.time_to_first_token_ms': expect.any(Number),
    });
    // The run's persistence writes are (local) activities of the same workflow, in the same trace; their
    // input names the project and the run.
    const persisted = inTrace.filter((s) => s.name === 'RunActivity:persistRun');
    expect(persisted.length).toBeGreaterThan(0);
    for (const span of persisted) {
      expect(parentOf(parentOf(span)!)).toBe(workflow);
      expect(span.attributes).toMatchObject({ 'threadline.project_id': 'proj_default', 'threadline.run_id': run.id });
    }
  });

  it('puts a cancel (a Temporal update) in the trace of its own request', async () => {
    model.setDefault({ kind: 'hang' });
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create();
    const run = await svc.openai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    const http = await eventually(
      () =>
        Promise.resolve(
          receiver.spans.find(
            (s) =>
              s.name === 'POST /v1/threads/:thread_id/runs/:run_id/cancel' &&
              s.attributes['threadline.run_id'] === run.id,
          ),
        ),
      15_000,
      'the cancel request span',
    );
    const update = await eventually(
      () =>
        Promise.resolve(
          receiver.spans.find((s) => s.name === 'StartWorkflowUpdate:cancelRun' && s.traceId === http.traceId),
        ),
      15_000,
      'the update span',
    );
    expect(update.parentSpanId).toBe(http.spanId);
    model.setDefault({ kind: 'text', text: 'Hello from the fake model.' });
  });
});
