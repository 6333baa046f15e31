import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { MetricsBuffer, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import type { Logger } from '../logger';
import type { Tracing } from '../observability/tracing';
import { annotateActiveSpan, runAttributes } from '../observability/tracing';
import { temporalLogger } from './sdkLogger';

let installed: { buffer: MetricsBuffer; logger: ReturnType<typeof temporalLogger> } | undefined;

/**
 * Installs the Temporal runtime once per process, before the first NativeConnection: its logs go through
 * pino, its metrics into a buffer that /metrics folds in (see observability/temporalMetrics.ts), and the
 * SDK's own signal handlers are off because Threadline drains the worker itself on SIGINT/SIGTERM (after
 * the HTTP server stops accepting). Returns the runtime's metrics buffer.
 */
export function installTemporalRuntime(logger: Logger): MetricsBuffer {
  if (installed) {
    installed.logger.retarget(logger);
    return installed.buffer;
  }
  const buffer = new MetricsBuffer({ maxBufferSize: 20_000 });
  const verbose = logger.level === 'debug' || logger.level === 'trace';
  const sdkLogger = temporalLogger(logger);
  Runtime.install({
    shutdownSignals: [],
    logger: sdkLogger,
    telemetryOptions: {
      // Core's own (native) log lines reach the same logger instead of going straight to stderr.
      logging: { filter: { core: verbose ? 'DEBUG' : 'WARN', other: 'ERROR' }, forward: {} },
      metrics: { buffer },
    },
  });
  installed = { buffer, logger: sdkLogger };
  return buffer;
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
  /** maxCachedWorkflows; undefined keeps the SDK's default (sized from the heap). */
  workflowCacheSize?: number;
  /** stickyQueueScheduleToStartTimeout in ms (1 s unless set). */
  stickyTimeoutMs?: number;
  deps: ActivityDeps;
  tracing?: Tracing;
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
    stickyQueueScheduleToStartTimeout: opts.stickyTimeoutMs ?? 1_000,
    // Runs parked in requires_action would otherwise each keep a cached workflow (its sandbox context and
    // state) for as long as they wait; past this many the least recently used is evicted and replays from its
    // history when it resumes (bench/FINDINGS.md: parked runs).
    ...(opts.workflowCacheSize === undefined ? {} : { maxCachedWorkflows: opts.workflowCacheSize }),
    ...tracingOptions(opts.tracing),
  });
  const finished = worker.run();
  return { worker, finished, connection };
}

/**
 * With tracing on: the workflow's span (and one per activity it schedules) from Temporal's interceptors,
 * workflow spans leaving the sandbox through the exporter sink, each activity's span carrying the run's ids,
 * and the model call as a child of its activity's span (observability/modelCalls.ts).
 */
function tracingOptions(tracing: Tracing | undefined): Partial<WorkerOptions> {
  if (!tracing?.export) return {};
  const { spanProcessor, resource } = tracing.export;
  return {
    interceptors: {
      workflowModules: [require.resolve('../../workflows/tracing')],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
        () => ({
          inbound: {
            execute(input, next) {
              annotateActiveSpan(runAttributes((input.args[0] ?? {}) as Record<string, unknown>));
              return next(input);
            },
          },
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
  };
}
