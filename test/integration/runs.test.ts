import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { DIALECTS, startTestService, type TestService } from '../support/service';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe.each(DIALECTS)('runs (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, {
      OPENAI_BASE_URL: model.baseURL,
      OPENAI_API_KEY: 'fake-key',
      THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  it('runs to completion with createAndPoll and records one assistant message', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.' });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Hi!' }] });
    model.script({ kind: 'text', text: 'Hello there, friend.', usage: { prompt_tokens: 12, completion_tokens: 5 } });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({
      status: 'completed',
      thread_id: thread.id,
      assistant_id: assistant.id,
      model: 'gpt-4o',
      instructions: 'Be brief.',
      expires_at: null,
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
      required_action: null,
      last_error: null,
    });
    expect(run.started_at).toEqual(expect.any(Number));
    expect(run.completed_at).toEqual(expect.any(Number));
    const messages = await svc.openai.beta.threads.messages.list(thread.id, { run_id: run.id });
    expect(messages.data).toHaveLength(1);
    expect(messages.data[0]).toMatchObject({
      role: 'assistant',
      status: 'completed',
      run_id: run.id,
      assistant_id: assistant.id,
      content: [{ type: 'text', text: { value: 'Hello there, friend.', annotations: [] } }],
    });
    expect(model.requests[0]?.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi!' },
    ]);
  });

  it('hands function calls to the client and resumes with their outputs', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [weatherTool] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { kind: 'text', text: 'It is sunny in Paris.' },
    );
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(paused.status).toBe('requires_action');
    expect(paused.required_action).toEqual({
      type: 'submit_tool_outputs',
      submit_tool_outputs: {
        tool_calls: [
          { id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
    });
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      paused.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_paris', output: 'sunny, 24C' }] },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    const steps = await svc.openai.beta.threads.runs.steps.list(done.id, { thread_id: thread.id, order: 'asc' });
    expect(steps.data.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ]);
    expect(steps.data[0]?.step_details).toEqual({
      type: 'tool_calls',
      tool_calls: [
        {
          id: 'call_paris',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}', output: 'sunny, 24C' },
        },
      ],
    });
    expect(model.requests[1]?.body.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_paris', content: 'sunny, 24C' },
    ]);
  });
});
