import type { Message, TextContentBlock } from 'openai/resources/beta/threads/messages';
import type { CodeInterpreterToolCall, RunStep } from 'openai/resources/beta/threads/runs/steps';
import { toFile } from 'openai';
import { startFakeModel, type FakeModel, type Step, type ToolCallsStep } from '../support/fakeModel';
import { decodePng } from '../support/sandbox';
import { DIALECTS, startTestService, type TestService } from '../support/service';

/**
 * code_interpreter in runs, end to end through the official SDK: the model (fake) writes code, the run hands it
 * to a real sandbox worker (bubblewrap + Debian's python3), and the step, the message and the files show what
 * it printed, drew and wrote, as OpenAI showed them.
 */
jest.setTimeout(120_000);

const code = (source: string): ToolCallsStep => ({
  kind: 'tool_calls',
  calls: [{ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) }],
});

/** The code_interpreter calls of a run, in step order. */
async function codeCalls(svc: TestService, threadId: string, runId: string): Promise<CodeInterpreterToolCall[]> {
  const steps = await svc.openai.beta.threads.runs.steps.list(runId, { thread_id: threadId, order: 'asc' });
  return steps.data.flatMap((step: RunStep) =>
    step.step_details.type === 'tool_calls'
      ? step.step_details.tool_calls.filter((c): c is CodeInterpreterToolCall => c.type === 'code_interpreter')
      : [],
  );
}

async function download(svc: TestService, fileId: string): Promise<Buffer> {
  return Buffer.from(await (await svc.openai.files.content(fileId)).arrayBuffer());
}

describe.each(DIALECTS)('code_interpreter in runs (%s)', (dialect) => {
  let svc: TestService;
  let model: FakeModel;
  let assistantId: string;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(dialect, { OPENAI_BASE_URL: model.baseURL }, { sandbox: true });
    assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] }))
      .id;
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });
  beforeEach(() => model.reset());

  async function run(threadId: string, ...steps: Step[]) {
    model.script(...steps);
    return svc.openai.beta.threads.runs.createAndPoll(threadId, { assistant_id: assistantId }, { pollIntervalMs: 50 });
  }

  it('offers the tool, runs the code, shows its logs on the step and gives them to the model', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: '6 times 7?' }] });
    const done = await run(thread.id, code('print(6 * 7)'), { kind: 'text', text: 'It is 42.' });
    expect(done.status).toBe('completed');
    expect(model.requests[0]!.body.tools).toEqual([
      expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'code_interpreter' }) }),
    ]);
    const [call] = await codeCalls(svc, thread.id, done.id);
    expect(call).toEqual({
      id: expect.stringMatching(/^call_/),
      type: 'code_interpreter',
      code_interpreter: { input: 'print(6 * 7)', outputs: [{ type: 'logs', logs: '42' }] },
    });
    const lastTwo = model.requests[1]!.body.messages.slice(-2);
    expect(lastTwo[0]).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: call!.id, function: { name: 'code_interpreter', arguments: '{"code":"print(6 * 7)"}' } }],
    });
    expect(lastTwo[1]).toEqual({ role: 'tool', tool_call_id: call!.id, content: '42' });
  });

  it('finds the assistant’s CSV in /mnt/data under its own name and reads it with pandas', async () => {
    const csv = await svc.openai.files.create({
      file: await toFile(Buffer.from('region,sales\nnorth,10\nsouth,32\n'), 'sales.csv'),
      purpose: 'assistants',
    });
    const analyst = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'code_interpreter' }],
      tool_resources: { code_interpreter: { file_ids: [csv.id] } },
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Total sales?' }] });
    model.script(code("import pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\nprint(df['sales'].sum())"), {
      kind: 'text',
      text: 'Total: 42.',
    });
    const done = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: analyst.id },
      { pollIntervalMs: 50 },
    );
    expect(done.status).toBe('completed');
    const [call] = await codeCalls(svc, thread.id, done.id);
    expect(call!.code_interpreter.outputs).toEqual([{ type: 'logs', logs: '42' }]);
  });

  it('shows a matplotlib chart as an image output and an image_file part that downloads as a PNG', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Plot it' }] });
    const done = await run(
      thread.id,
      code('import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.title("trend")\nplt.show()'),
      { kind: 'text', text: 'Here is the chart.' },
    );
    expect(done.status).toBe('completed');
    const [call] = await codeCalls(svc, thread.id, done.id);
    const image = call!.code_interpreter.outputs.find((o) => o.type === 'image');
    expect(image).toEqual({ type: 'image', image: { file_id: expect.stringMatching(/^file-/) } });
    const fileId = (image as CodeInterpreterToolCall.CodeInterpreter.Image).image.file_id;
    const [reply] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    expect(reply!.content).toEqual([
      { type: 'image_file', image_file: { file_id: fileId } },
      { type: 'text', text: { value: 'Here is the chart.', annotations: [] } },
    ]);
    const png = await download(svc, fileId);
    expect(decodePng(png).width).toBeGreaterThan(100);
    expect(await svc.openai.files.retrieve(fileId)).toMatchObject({ purpose: 'assistants_output' });
  });

  it('turns a sandbox: link to a written file into a file_path annotation that downloads byte-exact', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Export' }] });
    const answer = 'Download it: [out.csv](sandbox:/mnt/data/out.csv). Also sandbox:/mnt/data/missing.txt.';
    const done = await run(thread.id, code("open('/mnt/data/out.csv', 'w').write('a,b\\n1,2\\n')"), {
      kind: 'text',
      text: answer,
    });
    expect(done.status).toBe('completed');
    const [reply] = (await svc.openai.beta.threads.messages.list(thread.id, { run_id: done.id })).data;
    const text = reply!.content[0] as TextContentBlock;
    const link = 'sandbox:/mnt/data/out.csv';
    expect(text.text.value).toBe(answer);
    expect(text.text.annotations).toEqual([
      {
        type: 'file_path',
        text: link,
        file_path: { file_id: expect.stringMatching(/^file-/) },
        start_index: answer.indexOf(link),
        end_index: answer.indexOf(link) + link.length,
      },
    ]);
    const fileId = (text.text.annotations[0] as { file_path: { file_id: string } }).file_path.file_id;
    expect((await download(svc, fileId)).toString()).toBe('a,b\n1,2\n');
  });

  it('keeps the session’s state between two runs on one thread', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Remember 41' }] });
    expect((await run(thread.id, code('x = 41'), { kind: 'text', text: 'Noted.' })).status).toBe('completed');
    await svc.openai.beta.threads.messages.create(thread.id, { role: 'user', content: 'Add one' });
    const second = await run(thread.id, code('print(x + 1)'), { kind: 'text', text: '42.' });
    const [call] = await codeCalls(svc, thread.id, second.id);
    expect(call!.code_interpreter.outputs).toEqual([{ type: 'logs', logs: '42' }]);
  });

  it('streams the code as code_interpreter.input deltas and the logs as outputs, as the Node SDK shows them', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Stream it' }] });
    const source = 'for i in range(3):\n    print("line", i)';
    // Paced like a real model, so the write queue cannot fold the whole input into one delta.
    model.script({ ...code(source), interChunkMs: 15 }, { kind: 'text', text: 'Printed three lines.' });
    const stream = svc.openai.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
    const inputs: string[] = [];
    const logs: string[] = [];
    const created: string[] = [];
    stream.on('toolCallCreated', (call) => created.push(call.type));
    stream.on('toolCallDelta', (delta) => {
      if (delta.type !== 'code_interpreter') return;
      if (delta.code_interpreter?.input) inputs.push(delta.code_interpreter.input);
      for (const output of delta.code_interpreter?.outputs ?? [])
        if (output.type === 'logs') logs.push(output.logs ?? '');
    });
    const final = await stream.finalRun();
    expect(final.status).toBe('completed');
    expect(created).toEqual(['code_interpreter']);
    expect(inputs.join('')).toBe(source);
    expect(inputs.length).toBeGreaterThan(1); // streamed as the model wrote it, not at once
    expect(logs.join('')).toBe('line 0\nline 1\nline 2');
    const steps = await stream.finalRunSteps();
    const toolStep = steps.find((s) => s.step_details.type === 'tool_calls')!;
    expect(toolStep.status).toBe('completed');
    const messages: Message[] = await stream.finalMessages();
    expect(messages.at(-1)!.content).toMatchObject([{ type: 'text', text: { value: 'Printed three lines.' } }]);
  });

  it('gives the model an exception as logs it can recover from; the run does not fail', async () => {
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'Divide' }] });
    const done = await run(thread.id, code('1 / 0'), code('print(1 / 2)'), { kind: 'text', text: '0.5' });
    expect(done.status).toBe('completed');
    const [failed, fixed] = await codeCalls(svc, thread.id, done.id);
    expect(failed!.code_interpreter.outputs[0]).toEqual({
      type: 'logs',
      logs: expect.stringContaining('ZeroDivisionError'),
    });
    expect(fixed!.code_interpreter.outputs).toEqual([{ type: 'logs', logs: '0.5' }]);
  });
});

describe('code_interpreter sessions that expire', () => {
  let svc: TestService;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService(
      'sqlite',
      { OPENAI_BASE_URL: model.baseURL, THREADLINE_SANDBOX_IDLE_TIMEOUT_SECONDS: '1' },
      { sandbox: true },
    );
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });

  it('tells the model the state was reset when the thread’s session timed out', async () => {
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'code_interpreter' }],
    });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'x = 1' }] });
    model.script(code('x = 1'), { kind: 'text', text: 'ok' });
    await svc.openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the idle timeout
    await svc.openai.beta.threads.messages.create(thread.id, { role: 'user', content: 'print x' });
    model.script(code('print(x)'), { kind: 'text', text: 'It was reset.' });
    const second = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(second.status).toBe('completed');
    const toolMessage = model.requests.at(-1)!.body.messages.at(-1)!;
    expect(toolMessage).toMatchObject({ role: 'tool', content: expect.stringContaining('session was reset') });
    expect(toolMessage.content).toContain('NameError');
  });
});
