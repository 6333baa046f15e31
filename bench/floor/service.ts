/**
 * Temporal's floor as a process of its own, in the topology of `threadline start`: a worker and a client
 * sharing one NativeConnection (eager workflow start on, the same worker settings), against the benchmark's
 * Temporal server. The benchmark drives it over HTTP: `POST /run` runs one `floorRun` workflow (a model call to
 * the fake model, an Update with the tool outputs sent as soon as that call has finished, an activity, the
 * second model call, a last activity) and answers with its timings. Only the benchmark's own fetch crosses
 * HTTP; inside, there is no database and no SSE: what is left is what Temporal costs for that shape.
 *
 * Env: TEMPORAL_ADDRESS, MODEL_BASE_URL, TASK_QUEUE, EAGER (0: off); prints `listening <port>` when ready.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { floorActivities } from './activities';

interface Pending {
  firstModelDone: () => void;
  firstToken?: number;
  secondModelStart?: number;
}
const pending = new Map<string, Pending>();

async function main() {
  const address = process.env.TEMPORAL_ADDRESS!;
  const modelBaseURL = process.env.MODEL_BASE_URL!;
  const taskQueue = process.env.TASK_QUEUE ?? 'floor';
  Runtime.install({ telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  const connection = await NativeConnection.connect({ address });
  const base = floorActivities(modelBaseURL);
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: {
      ...base,
      async model(withToolOutput: boolean) {
        const run = pending.get(Context.current().info.workflowExecution?.workflowId ?? '');
        if (withToolOutput && run) run.secondModelStart = performance.now();
        await base.model(withToolOutput, (at) => {
          if (!withToolOutput && run && run.firstToken === undefined) run.firstToken = at;
        });
        if (!withToolOutput) run?.firstModelDone();
      },
    },
    // As Threadline's worker (src/temporal/worker.ts).
    stickyQueueScheduleToStartTimeout: '1s',
    maxCachedWorkflows: 100,
  });
  const running = worker.run();
  const client = new Client({ connection });
  let seq = 0;

  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/run') {
      res.writeHead(404).end();
      return;
    }
    const id = `floor-${process.pid}-${seq++}`;
    let parkedResolve!: () => void;
    const parked = new Promise<void>((resolve) => (parkedResolve = resolve));
    const run: Pending = { firstModelDone: parkedResolve };
    pending.set(id, run);
    const t0 = performance.now();
    void (async () => {
      const handle = await client.workflow.start('floorRun', {
        taskQueue,
        workflowId: id,
        args: [],
        // As `threadline start` (one process); `threadline api` + `worker` cannot, so neither does their floor.
        requestEagerStart: process.env.EAGER !== '0',
        workflowTaskTimeout: '2s',
      });
      await parked;
      const sent = performance.now();
      await handle.executeUpdate('floorOutputs', { args: ['ok'] });
      await handle.result();
      const end = performance.now();
      return {
        firstTokenMs: (run.firstToken ?? NaN) - t0,
        roundTripMs: (run.secondModelStart ?? NaN) - sent,
        totalMs: end - t0,
      };
    })().then(
      (timings) => {
        pending.delete(id);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(timings));
      },
      (error: unknown) => {
        pending.delete(id);
        res.writeHead(500).end(String((error as Error).stack ?? error));
      },
    );
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
  });
  const stop = () => {
    server.close();
    worker.shutdown();
    void running.then(() => connection.close()).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
