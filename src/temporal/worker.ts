import { NativeConnection, Runtime, Worker, DefaultLogger } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';

let runtimeInstalled = false;

/**
 * Threadline drains the worker itself on SIGINT/SIGTERM (after the HTTP server stops accepting), so the SDK's
 * own signal handlers are switched off. Must run before the first NativeConnection is made.
 */
export function installTemporalRuntime(logLevel: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = logLevel === 'debug' || logLevel === 'trace' ? 'DEBUG' : 'WARN';
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger(level) });
}

export interface RunningWorker {
  worker: Worker;
  /** Settles when the worker has stopped polling and drained its in-flight tasks. */
  finished: Promise<void>;
  connection: NativeConnection;
}

export async function startWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
}): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities: createActivities(opts.deps),
    // In-flight model streams get time to finish on a deploy before their activities are cancelled.
    shutdownGraceTime: '10s',
    // Heartbeats go out at least every second, so a cancel reaches a streaming model call within about a second.
    maxHeartbeatThrottleInterval: '1s',
    // After a worker dies, its cached runs move to another worker after this long instead of the default 10 s
    // (bench/FINDINGS.md: recovery time). A busy worker that misses it only costs the other a history replay.
    stickyQueueScheduleToStartTimeout: '1s',
  });
  const finished = worker.run();
  return { worker, finished, connection };
}
