import { context, propagation, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config';
import type { Logger } from '../logger';

export interface Tracing {
  /** Set when traces are exported: the worker hands workflow spans to it through Temporal's sink. */
  export: { spanProcessor: SpanProcessor; resource: Resource } | undefined;
  /** Sends what is still buffered (called at shutdown, after the worker drained). */
  shutdown(): Promise<void>;
}

/** Every Threadline span comes from this tracer; with tracing off it is OpenTelemetry's no-op tracer. */
export const tracer = () => trace.getTracer('threadline');

/** Run, thread and project ids as span attributes, under one naming scheme everywhere. */
export function runAttributes(ids: {
  projectId?: unknown;
  runId?: unknown;
  threadId?: unknown;
}): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (typeof ids.projectId === 'string') attributes['threadline.project_id'] = ids.projectId;
  if (typeof ids.runId === 'string') attributes['threadline.run_id'] = ids.runId;
  if (typeof ids.threadId === 'string') attributes['threadline.thread_id'] = ids.threadId;
  return attributes;
}

/** Adds attributes to the span of whatever is running now (a request, an activity), if it is traced. */
export function annotateActiveSpan(attributes: Record<string, string>): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

export type { Span };

let installed: Tracing | undefined;

/**
 * OpenTelemetry traces over OTLP/HTTP when THREADLINE_OTLP_ENDPOINT is set; off (no-op, no cost beyond a
 * function call per span) otherwise. One trace follows a request: the HTTP span, the workflow start
 * (Temporal's client interceptor carries the context in the workflow's headers), the workflow, each
 * activity, and the model call inside the model activity. The provider is process-wide, as OpenTelemetry's
 * API is: the first call installs it and later calls in the same process share it.
 */
export function setupTracing(config: Pick<Config, 'tracing'>, logger: Logger): Tracing {
  if (installed) return installed;
  const endpoint = config.tracing.otlpEndpoint;
  if (endpoint === undefined) return { export: undefined, shutdown: () => Promise.resolve() };
  const url = /\/v1\/traces\/?$/.test(endpoint) ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  const resource = new Resource({ 'service.name': config.tracing.serviceName });
  // Short delay: a run's spans reach the collector within a second of ending, not after the default 5 s.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Async context (AsyncLocalStorage) carries the active span across awaits within a request or activity.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  logger.info({ url, serviceName: config.tracing.serviceName }, 'exporting traces over OTLP/HTTP');
  installed = {
    export: { spanProcessor, resource },
    async shutdown() {
      try {
        await provider.forceFlush();
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'could not flush traces');
      }
    },
  };
  return installed;
}
