import { Client, Connection } from '@temporalio/client';
import type { Running } from '../../src/runtime';
import { startFakeModel, type FakeModel } from '../support/fakeModel';
import { startTestService, startTestWorker, type TestService } from '../support/service';

/**
 * Eager workflow start: where the API and a worker share a process, the server hands a run's first workflow
 * task back with the start (the history's started event says it accepted that); `threadline api` alone, or the
 * setting off, starts runs as before. Either way the run completes.
 */
describe('eager workflow start', () => {
  let model: FakeModel;
  let temporal: Client;
  const services: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    model = await startFakeModel();
    model.setDefault({ kind: 'text', text: 'hello there' });
    temporal = new Client({
      connection: await Connection.connect({ address: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS! }),
    });
  });
  afterAll(async () => {
    for (const svc of services.reverse()) await svc.stop();
    await temporal?.connection.close();
    await model?.close();
  });

  async function runOnce(svc: TestService): Promise<boolean | null | undefined> {
    const assistant = await svc.openai.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await svc.openai.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
    const run = await svc.openai.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    const history = await temporal.workflow.getHandle(run.id).fetchHistory();
    return history.events?.[0]?.workflowExecutionStartedEventAttributes?.eagerExecutionAccepted;
  }

  it('is accepted when the API and the worker share a process (threadline start)', async () => {
    const svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL });
    services.push(svc);
    expect(await runOnce(svc)).toBe(true);
  });

  it('is not asked for when THREADLINE_EAGER_START=false', async () => {
    const svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL, THREADLINE_EAGER_START: 'false' });
    services.push(svc);
    expect(await runOnce(svc)).toBeFalsy();
  });

  it('falls back to an ordinary start for an API without a worker (threadline api)', async () => {
    const svc = await startTestService('sqlite', { OPENAI_BASE_URL: model.baseURL }, { worker: false });
    services.push(svc);
    const worker: Running = await startTestWorker(svc);
    services.push(worker);
    expect(await runOnce(svc)).toBeFalsy();
  });
});
