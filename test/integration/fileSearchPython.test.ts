import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startTestService, type TestService } from '../support/service';
import { seedVectorStore } from '../support/vectorStores';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../python/stream_file_search.py');

interface PythonReport {
  status: string;
  text: string;
  annotations: unknown[];
  calls_created: unknown[];
  final_message: unknown[];
  steps_done: Array<{ step_details: { type: string; tool_calls?: unknown[] } }>;
}

/**
 * The Python SDK's AssistantEventHandler on a file_search run (the official package, installed from PyPI by
 * the test setup): it sees the call created with its empty `file_search`, the citation in `on_text_delta`'s
 * annotations, and with `include[]` on run create the results' text on the completed step.
 */
describe('the official Python SDK, file_search with citations', () => {
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

  it('streams the search and the citation as on_text_delta annotations', async () => {
    const [moby] = await seedVectorStore(svc, 'vs_py_books', [
      { filename: 'moby.txt', chunks: ['The white whale, Moby Dick, was hunted by Captain Ahab.'] },
    ]);
    const assistant = await svc.openai.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: ['vs_py_books'] } },
    });
    model.script(
      { kind: 'tool_calls', calls: [{ name: 'file_search', arguments: '{"queries":["whale Ahab"]}' }] },
      { kind: 'text', text: 'Captain Ahab{{cite:0}}.' },
    );
    const { stdout } = await run(process.env.THREADLINE_TEST_PYTHON!, [SCRIPT], {
      env: { ...process.env, THREADLINE_BASE_URL: svc.baseURL, THREADLINE_ASSISTANT_ID: assistant.id },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as PythonReport;
    expect(report.status).toBe('completed');
    expect(report.calls_created).toEqual([
      { id: expect.stringMatching(/^call_/), index: 0, type: 'file_search', file_search: {} },
    ]);
    expect(report.text).toBe('Captain Ahab【0:0†source】.');
    const citation = {
      type: 'file_citation',
      text: '【0:0†source】',
      file_citation: { file_id: moby },
      start_index: 12,
      end_index: 24,
    };
    expect(report.annotations).toEqual([{ index: 0, ...citation }]);
    expect(report.final_message).toEqual([
      { type: 'text', text: { value: 'Captain Ahab【0:0†source】.', annotations: [citation] } },
    ]);
    const toolStep = report.steps_done.find((step) => step.step_details.type === 'tool_calls');
    expect(toolStep?.step_details.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: 'file_search',
        file_search: {
          ranking_options: { ranker: 'auto', score_threshold: 0 },
          results: [
            {
              file_id: moby,
              file_name: 'moby.txt',
              score: 1,
              content: [{ type: 'text', text: 'The white whale, Moby Dick, was hunted by Captain Ahab.' }],
            },
          ],
        },
      },
    ]);
  });
});
