import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import os from 'node:os';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startOperatorWorker, type OperatorWorker } from '../support/operatorWorker';
import { eventually, startTestService, type TestService } from '../support/service';
import { startToolEndpoint, type ToolEndpoint } from '../support/toolEndpoint';
import { seedVectorStore } from '../support/vectorStores';

const WORKFLOWS = path.resolve(__dirname, '../../workflows');
const FIXTURES = path.resolve(__dirname, '../fixtures/histories');
/**
 * `THREADLINE_RECORD_HISTORIES=<tag> npx jest test/integration/replay -t recorded` saves what the current code
 * records as `<scenario>-<tag>.json` (`1`: `<scenario>.json`). Keep the fixtures of every released shape of
 * the workflow: each one is a run that may still be in flight somewhere when the next version deploys.
 */
const RECORD = process.env.THREADLINE_RECORD_HISTORIES;

/**
 * Determinism: recorded histories of every way a run can end (and of a template upgrade walk) must replay
 * against the current workflow code. The committed fixtures catch a change that would break runs already in flight after a deploy; the
 * live recordings catch nondeterminism in the code as it is now.
 */
describe('run workflow replay', () => {
  it.each(fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')))(
    'replays the committed history %s',
    async (file) => {
      // Stored with the proto message's own toJSON; fromObject restores int64s, enums and bytes from it.
      const history = temporal.api.history.v1.History.fromObject(
        JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as object,
      );
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, history, file);
    },
  );

  describe('fresh recordings', () => {
    let svc: TestService;
    let model: FakeModel;
    let endpoint: ToolEndpoint;
    let temporal: Client;
    let assistantId: string;
    let serverToolAssistantId: string;
    let codeAssistantId: string;
    let searchAssistantId: string;
    let operator: OperatorWorker;
    const operatorQueue = `replay-operator-${process.pid}`;
    const tool = {
      type: 'function' as const,
      function: { name: 'lookup', parameters: { type: 'object', properties: {} } },
    };

    beforeAll(async () => {
      model = await startFakeModel();
      // A server-side tool (extension) for the run that calls one.
      endpoint = await startToolEndpoint();
      endpoint.on('/weather', () => ({ body: '{"temp_c":4}' }));
      const toolsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-replay-')), 'tools.json');
      const weather = { type: 'http', url: `${endpoint.origin}/weather` };
      const ship = { type: 'temporal_activity', activity: 'ship', task_queue: operatorQueue };
      const tools = [
        { function: { name: 'weather' }, executor: weather },
        { function: { name: 'ship' }, executor: ship },
      ];
      fs.writeFileSync(toolsFile, JSON.stringify({ tools }));
      svc = await startTestService(
        'sqlite',
        {
          OPENAI_BASE_URL: model.baseURL,
          // Long enough for a code_interpreter round on a loaded machine; the expired scenario waits it out.
          THREADLINE_RUN_EXPIRY_SECONDS: '5',
          THREADLINE_MODEL_MAX_ATTEMPTS: '2',
          THREADLINE_MODEL_RETRY_INITIAL_MS: '50',
          THREADLINE_SERVER_TOOLS_FILE: toolsFile,
          THREADLINE_SERVER_TOOL_HOSTS: endpoint.host,
          // Small pages, a pause and continue-as-new: the template upgrade walk's whole command repertoire.
          THREADLINE_TEMPLATE_UPGRADE_PAGE_SIZE: '2',
          THREADLINE_TEMPLATE_UPGRADE_PAGES_PER_RUN: '2',
          THREADLINE_TEMPLATE_UPGRADE_PAUSE_MS: '10',
        },
        { sandbox: true },
      );
      temporal = new Client({
        connection: await Connection.connect({ address: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS! }),
      });
      // The operator's own worker for the Temporal-activity tool (after the service installed the runtime).
      operator = await startOperatorWorker(operatorQueue, { ship: () => Promise.resolve({ shipped: true }) });
      assistantId = (await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [tool] })).id;
      serverToolAssistantId = (
        await svc.openai.beta.assistants.create({
          model: 'gpt-4o',
          tools: [
            tool,
            { type: 'function', function: { name: 'weather' } },
            { type: 'function', function: { name: 'ship' } },
          ],
        })
      ).id;
      codeAssistantId = (
        await svc.openai.beta.assistants.create({ model: 'gpt-4o', tools: [tool, { type: 'code_interpreter' }] })
      ).id;
      await seedVectorStore(svc, 'vs_replay_books', [
        { filename: 'moby.txt', chunks: ['The white whale was hunted by Captain Ahab.'] },
      ]);
      searchAssistantId = (
        await svc.openai.beta.assistants.create({
          model: 'gpt-4o',
          tools: [tool, { type: 'file_search' }],
          tool_resources: { file_search: { vector_store_ids: ['vs_replay_books'] } },
        })
      ).id;
    });
    afterAll(async () => {
      await operator?.stop();
      await svc?.stop();
      await temporal?.connection.close();
      await endpoint?.close();
      await model?.close();
    });
    beforeEach(() => model.reset());

    async function finished(threadId: string, runId: string): Promise<WorkflowHandle> {
      await eventually(
        async () => {
          const run = await svc.openai.beta.threads.runs.retrieve(runId, { thread_id: threadId });
          return ['completed', 'failed', 'cancelled', 'expired', 'incomplete'].includes(run.status) ? run : undefined;
        },
        30_000,
        'the run to finish',
      );
      const handle = temporal.workflow.getHandle(runId);
      await handle.result();
      return handle;
    }

    const scenarios: Record<string, (threadId: string) => Promise<string>> = {
      completed: async (threadId) => {
        model.script({ kind: 'text', text: 'hi' });
        return (await svc.openai.beta.threads.runs.create(threadId, { assistant_id: assistantId })).id;
      },
      'tool-round': async (threadId) => {
        model.script(
          { kind: 'tool_calls', calls: [{ id: 'call_1', name: 'lookup', arguments: '{}' }] },
          { kind: 'text', text: 'done' },
        );
        const run = await svc.openai.beta.threads.runs.createAndPoll(
          threadId,
          { assistant_id: assistantId },
          { pollIntervalMs: 50 },
        );
        await svc.openai.beta.threads.runs.submitToolOutputs(run.id, {
          thread_id: threadId,
          tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
        });
        return run.id;
      },
      // Extension: a step of server-side calls only (the model goes on), then one that mixes server-side calls
      // (HTTP and Temporal activity) with a client function (requires_action for the client's only).
      'server-tool-round': async (threadId) => {
        model.script(
          { kind: 'tool_calls', calls: [{ id: 'call_w1', name: 'weather', arguments: '{}' }] },
          {
            kind: 'tool_calls',
            calls: [
              { id: 'call_w2', name: 'weather', arguments: '{}' },
              { id: 'call_s', name: 'ship', arguments: '{"order":"A"}' },
              { id: 'call_1', name: 'lookup', arguments: '{}' },
            ],
          },
          { kind: 'text', text: 'done' },
        );
        const run = await svc.openai.beta.threads.runs.createAndPoll(
          threadId,
          { assistant_id: serverToolAssistantId },
          { pollIntervalMs: 50 },
        );
        await svc.openai.beta.threads.runs.submitToolOutputs(run.id, {
          thread_id: threadId,
          tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
        });
        return run.id;
      },
      // A step of code_interpreter only (the model goes on), then one that mixes it with a client function.
      'code-interpreter-round': async (threadId) => {
        const code = (id: string, source: string) => ({
          id,
          name: 'code_interpreter',
          arguments: JSON.stringify({ code: source }),
        });
        model.script(
          { kind: 'tool_calls', calls: [code('call_c1', 'x = 1')] },
          {
            kind: 'tool_calls',
            calls: [code('call_c2', 'print(x + 1)'), { id: 'call_1', name: 'lookup', arguments: '{}' }],
          },
          { kind: 'text', text: 'done' },
        );
        const run = await svc.openai.beta.threads.runs.createAndPoll(
          threadId,
          { assistant_id: codeAssistantId },
          { pollIntervalMs: 50 },
        );
        await svc.openai.beta.threads.runs.submitToolOutputs(run.id, {
          thread_id: threadId,
          tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
        });
        return run.id;
      },
      // Two file_search calls in one step (run in parallel; the model goes on), then one that mixes a search
      // with a client function, then an answer citing a result.
      'file-search-round': async (threadId) => {
        const search = (id: string, query: string) => ({
          id,
          name: 'file_search',
          arguments: JSON.stringify({ queries: [query] }),
        });
        model.script(
          { kind: 'tool_calls', calls: [search('call_f1', 'whale'), search('call_f2', 'Ahab')] },
          {
            kind: 'tool_calls',
            calls: [search('call_f3', 'hunted'), { id: 'call_1', name: 'lookup', arguments: '{}' }],
          },
          { kind: 'text', text: 'Ahab{{cite:0}}.' },
        );
        const run = await svc.openai.beta.threads.runs.createAndPoll(
          threadId,
          { assistant_id: searchAssistantId },
          { pollIntervalMs: 50 },
        );
        await svc.openai.beta.threads.runs.submitToolOutputs(run.id, {
          thread_id: threadId,
          tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
        });
        return run.id;
      },
      cancelled: async (threadId) => {
        model.script({ kind: 'tool_calls', calls: [{ id: 'call_1', name: 'lookup', arguments: '{}' }] });
        const run = await svc.openai.beta.threads.runs.createAndPoll(
          threadId,
          { assistant_id: assistantId },
          { pollIntervalMs: 50 },
        );
        await svc.openai.beta.threads.runs.cancel(run.id, { thread_id: threadId });
        return run.id;
      },
      expired: async (threadId) => {
        model.script({ kind: 'tool_calls', calls: [{ id: 'call_1', name: 'lookup', arguments: '{}' }] });
        return (await svc.openai.beta.threads.runs.create(threadId, { assistant_id: assistantId })).id;
      },
      failed: async (threadId) => {
        model.setDefault({ kind: 'error', status: 500 });
        return (await svc.openai.beta.threads.runs.create(threadId, { assistant_id: assistantId })).id;
      },
    };

    it.each(Object.keys(scenarios))('replays a %s run it just recorded', async (name) => {
      const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: name }] });
      const runId = await scenarios[name]!(thread.id);
      const handle = await finished(thread.id, runId);
      const history = await handle.fetchHistory();
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, history, runId);
      record(name, history);
    });

    // Extension: a template upgrade walk's run that paused between pages and continued as new.
    it('replays a template upgrade walk it just recorded', async () => {
      const template = (await svc.http('POST', '/assistant_templates', { model: 'gpt-4o' })).body as { id: string };
      for (let i = 0; i < 5; i++) await svc.http('POST', '/assistants', { template_id: template.id });
      const published = await svc.http('POST', `/assistant_templates/${template.id}/versions`, { model: 'gpt-4.1' });
      const { upgrade_id: upgradeId } = published.body as { upgrade_id: string };
      await temporal.workflow.getHandle(upgradeId).result();
      const continued = await eventually(
        async () => {
          const query = `WorkflowId = "${upgradeId}" AND ExecutionStatus = "ContinuedAsNew"`;
          for await (const found of temporal.workflow.list({ query }).intoHistories()) return found.history;
          return undefined;
        },
        30_000,
        'the continued-as-new run to be listed',
      );
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, continued, upgradeId);
      record('template-upgrade', continued);
    });
  });
});

function record(name: string, history: unknown): void {
  if (!RECORD) return;
  const file = RECORD === '1' ? `${name}.json` : `${name}-${RECORD}.json`;
  fs.writeFileSync(path.join(FIXTURES, file), JSON.stringify(history));
}
