import { trace } from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * Workflow interceptors the worker loads only when traces are exported: Temporal's OpenTelemetry ones (the
 * workflow's span continues the trace the API started, and every activity it schedules gets a span), plus
 * the run's ids on the workflow's span. Spans leave the sandbox through a sink, so replay stays
 * deterministic and writes nothing.
 */
class RunIdsOnSpan implements WorkflowInboundCallsInterceptor {
  execute: NonNullable<WorkflowInboundCallsInterceptor['execute']> = (input, next) => {
    const ids = (input.args[0] ?? {}) as { projectId?: unknown; runId?: unknown; threadId?: unknown };
    const attributes: Record<string, string> = {};
    if (typeof ids.projectId === 'string') attributes['threadline.project_id'] = ids.projectId;
    if (typeof ids.runId === 'string') attributes['threadline.run_id'] = ids.runId;
    if (typeof ids.threadId === 'string') attributes['threadline.thread_id'] = ids.threadId;
    trace.getActiveSpan()?.setAttributes(attributes);
    return next(input);
  };
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new OpenTelemetryInboundInterceptor(), new RunIdsOnSpan()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
