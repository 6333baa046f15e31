import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { eventually, startTestService, type TestService } from '../support/service';

const WORKFLOWS = path.resolve(__dirname, '../../workflows');
const FIXTURES = path.resolve(__dirname, '../fixtures/histories');
/**
 * `THREADLINE_RECORD_HISTORIES=<tag> npx jest test/integration/replay -t recorded` saves what the current code
 * records as `<scenario>-<tag>.json` (`1`: `<scenario>.json`). Keep the fixtures of every released shape of
 * the workflow: each one is a run that may still be in flight somewhere when the next version deploys.
 */
const RECORD = process.env.THREADLINE_RECORD_HISTORIES;

/**
 * Determinism: recorded histories of every way a run can end must replay against the current workflow
 * code. The committed fixtures catch a change that would break runs already in flight after a deploy; the
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
    let temporal: Client;
    let assistantId: string;
    const tool = {
      type: 'function' as const,
      function: { name: 'lookup', parameters: { type: 'object', properties: {} } },
    };

    beforeAll(async () => {
      model = await startFakeModel();
      svc = await startTestService('sqlite', {
        OPENAI_BASE_URL: model.baseURL,
        THREADLINE_RUN_EXPIRY_SECONDS: '2',
        THREADLINE_MODEL_MAX_ATTEMPTS: '2',
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
      if (RECORD) {
        const file = RECORD === '1' ? `${name}.json` : `${name}-${RECORD}.json`;
        fs.writeFileSync(path.join(FIXTURES, file), JSON.stringify(history));
      }
    });
  });
});
