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

  it('loops through several tool rounds and keeps the whole exchange in the prompt', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [weatherTool] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Paris then Rome?' }] });
    model.script(
      { kind: 'tool_calls', calls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { kind: 'tool_calls', calls: [{ id: 'call_b', name: 'get_weather', arguments: '{"city":"Rome"}' }] },
      { kind: 'text', text: 'Both sunny.' },
    );
    let run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    for (const [id, output] of [
      ['call_a', 'sunny'],
      ['call_b', 'also sunny'],
    ] as const) {
      expect(run.status).toBe('requires_action');
      expect(run.required_action?.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual([id]);
      run = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
        run.id,
        { thread_id: thread.id, tool_outputs: [{ tool_call_id: id, output }] },
        { pollIntervalMs: 50 },
      );
    }
    expect(run.status).toBe('completed');
    expect(model.requests).toHaveLength(3);
    const roles = model.requests[2]?.body.messages.map((m) => m.role);
    expect(roles).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool']);
    const steps = await svc.openai.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    expect(steps.data).toHaveLength(3);
  });

  it('hands parallel tool calls over together and needs every output', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [weatherTool] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Two cities' }] });
    model.script(
      {
        kind: 'tool_calls',
        calls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { id: 'call_2', name: 'get_weather', arguments: '{"city":"Lima"}' },
        ],
      },
      { kind: 'text', text: 'Cold and warm.' },
    );
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(paused.required_action?.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual(['call_1', 'call_2']);
    expect(model.requests[0]?.body.parallel_tool_calls).toBe(true);
    const missing = await svc.http('POST', `/threads/${thread.id}/runs/${paused.id}/submit_tool_outputs`, {
      tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
    });
    expect(missing.status).toBe(400);
    expect((await svc.openai.beta.threads.runs.retrieve(paused.id, { thread_id: thread.id })).status).toBe(
      'requires_action',
    );
    const done = await svc.openai.beta.threads.runs.submitToolOutputsAndPoll(
      paused.id,
      {
        thread_id: thread.id,
        tool_outputs: [
          { tool_call_id: 'call_2', output: 'warm' },
          { tool_call_id: 'call_1', output: 'cold' },
        ],
      },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    const tools = model.requests[1]?.body.messages.filter((m) => m.role === 'tool');
    expect(tools).toEqual([
      { role: 'tool', tool_call_id: 'call_1', content: 'cold' },
      { role: 'tool', tool_call_id: 'call_2', content: 'warm' },
    ]);
  });

  it('respects parallel_tool_calls: false', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [weatherTool] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Two cities' }] });
    model.script({
      kind: 'tool_calls',
      calls: [
        { id: 'call_1', name: 'get_weather', arguments: '{}' },
        { id: 'call_2', name: 'get_weather', arguments: '{}' },
      ],
    });
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, parallel_tool_calls: false },
      { pollIntervalMs: 50 },
    );
    expect(model.requests[0]?.body.parallel_tool_calls).toBe(false);
    expect(paused.parallel_tool_calls).toBe(false);
    expect(paused.required_action?.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual(['call_1']);
    await svc.openai.beta.threads.runs.cancel(paused.id, { thread_id: thread.id });
  });

  it('creates a thread and runs it with createAndRunPoll', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    model.script({ kind: 'text', text: 'Fresh thread answer.' });
    const run = await svc.openai.beta.threads.createAndRunPoll(
      {
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: 'New here' }] },
        metadata: { via: 'createAndRun' },
      },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({ status: 'completed', metadata: { via: 'createAndRun' } });
    const messages = await svc.openai.beta.threads.messages.list(run.thread_id, { order: 'asc' });
    expect(messages.data.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('applies every override of the create-run request and reports the effective values', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      instructions: 'Assistant says hi.',
      temperature: 0.3,
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'first' }] });
    const schema = { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true };
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: assistant.id,
        model: 'gpt-4o-mini',
        instructions: 'Run says hi.',
        additional_instructions: 'Also be kind.',
        additional_messages: [{ role: 'user', content: 'added by the run' }],
        tools: [weatherTool],
        metadata: { k: 'v' },
        temperature: 0.9,
        top_p: 0.5,
        max_prompt_tokens: 5000,
        max_completion_tokens: 1000,
        truncation_strategy: { type: 'last_messages', last_messages: 5 },
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        response_format: { type: 'json_schema', json_schema: schema },
      },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({
      model: 'gpt-4o-mini',
      instructions: 'Run says hi.',
      tools: [weatherTool],
      metadata: { k: 'v' },
      temperature: 0.9,
      top_p: 0.5,
      max_prompt_tokens: 5000,
      max_completion_tokens: 1000,
      truncation_strategy: { type: 'last_messages', last_messages: 5 },
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: schema },
      parallel_tool_calls: true,
    });
    const sent = model.requests[0]!.body;
    expect(sent).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.9,
      top_p: 0.5,
      max_completion_tokens: 1000,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: schema },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Run says hi.\n\nAlso be kind.' },
      { role: 'user', content: 'first' },
      { role: 'user', content: 'added by the run' },
    ]);
  });

  it('lists, retrieves and modifies runs and steps; GET of a live run tells pollers when to come back', async () => {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [weatherTool] });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'x' }] });
    model.script({ kind: 'tool_calls', calls: [{ id: 'call_x', name: 'get_weather', arguments: '{}' }] });
    const paused = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    const live = await svc.http('GET', `/threads/${thread.id}/runs/${paused.id}`);
    expect(live.headers.get('openai-poll-after-ms')).toMatch(/^\d+$/);
    const runs = await svc.openai.beta.threads.runs.list(thread.id);
    expect(runs.data.map((r) => r.id)).toEqual([paused.id]);
    const modified = await svc.openai.beta.threads.runs.update(paused.id, {
      thread_id: thread.id,
      metadata: { tag: 'x' },
    });
    expect(modified).toMatchObject({ id: paused.id, metadata: { tag: 'x' }, status: 'requires_action' });
    const steps = await svc.openai.beta.threads.runs.steps.list(paused.id, {
      thread_id: thread.id,
      include: ['step_details.tool_calls[*].file_search.results[*].content'],
    });
    expect(steps.data).toHaveLength(1);
    expect(steps.data[0]).toMatchObject({
      object: 'thread.run.step',
      type: 'tool_calls',
      status: 'in_progress',
      usage: null,
      run_id: paused.id,
      expired_at: null,
      metadata: {},
    });
    const step = await svc.openai.beta.threads.runs.steps.retrieve(steps.data[0]!.id, {
      thread_id: thread.id,
      run_id: paused.id,
    });
    expect(step).toEqual(steps.data[0]);
    const badInclude = await svc.http('GET', `/threads/${thread.id}/runs/${paused.id}/steps?include[]=everything`);
    expect(badInclude.status).toBe(400);
    const cancelled = await svc.openai.beta.threads.runs.cancel(paused.id, { thread_id: thread.id });
    expect(cancelled.status).toBe('cancelling');
    const over = await svc.openai.beta.threads.runs.poll(paused.id, { thread_id: thread.id }, { pollIntervalMs: 50 });
    expect(over.status).toBe('cancelled');
    expect(
      (await svc.http('GET', `/threads/${thread.id}/runs/${paused.id}`)).headers.get('openai-poll-after-ms'),
    ).toBeNull();
  });
});
