import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startTestService, type TestService } from '../support/service';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../python/stream_function_call.py');

interface PythonReport {
  paused_status: string;
  required_calls: Array<{ id: string; name: string; arguments: string }>;
  calls_created: string[];
  streamed_arguments: string[];
  first_events: string[];
  final_status: string;
  text: string;
  final_message_text: string | null;
  second_events: string[];
  steps_done: string[];
}

/**
 * Most users of this API are Python users, and the Python SDK parses streams its own way (a delta for a
 * step it did not see created raises KeyError; no final run raises). The official package, installed from
 * PyPI by the test setup, drives a streamed function-calling round trip with an AssistantEventHandler.
 */
describe('the official Python SDK, streaming', () => {
  let svc: TestService;
  let model: FakeModel;

  beforeAll(async () => {
    model = await startFakeModel();
    svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL });
  });
  afterAll(async () => {
    await svc?.stop();
    await model?.close();
  });

  it('streams parallel function calls, submits outputs with submit_tool_outputs_stream, and completes', async () => {
    const tools = ['get_weather', 'get_time'].map((name) => ({
      type: 'function' as const,
      function: { name, parameters: { type: 'object', properties: { place: { type: 'string' } } } },
    }));
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools });
    const calls = [
      { id: 'call_py_weather', name: 'get_weather', arguments: '{"place":"Paris"}' },
      { id: 'call_py_time', name: 'get_time', arguments: '{"place":"Paris, France"}' },
    ];
    model.script({ kind: 'tool_calls', calls, argumentChunkSize: 6 }, { kind: 'text', text: 'Sunny, and noon.' });

    const { stdout } = await run(process.env.THREADLINE_TEST_PYTHON!, [SCRIPT], {
      env: { ...process.env, THREADLINE_BASE_URL: svc.baseURL, THREADLINE_ASSISTANT_ID: assistant.id },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as PythonReport;

    expect(report.paused_status).toBe('requires_action');
    expect(report.required_calls).toEqual(calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })));
    expect(report.calls_created).toEqual(['call_py_weather', 'call_py_time']);
    expect(report.streamed_arguments).toEqual(calls.map((c) => c.arguments));
    expect(report.first_events.at(-1)).toBe('thread.run.requires_action');
    expect(report.second_events[0]).toBe('thread.run.step.completed');
    expect(report.second_events).not.toContain('thread.run.created');
    expect(report.final_status).toBe('completed');
    expect(report.text).toBe('Sunny, and noon.');
    expect(report.final_message_text).toBe('Sunny, and noon.');
    expect(report.steps_done).toEqual(['tool_calls', 'message_creation']);
  });
});
