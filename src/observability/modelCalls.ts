import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Metrics } from './metrics';
import { runAttributes, tracer } from './tracing';

export interface ModelCallLabels {
  projectId: string;
  runId: string;
  threadId: string;
  model: string;
  /** The provider entry's name or id. */
  provider: string;
  baseURL: string;
}

type Fetch = typeof fetch;

/**
 * A `fetch` for the model client that measures each chat completion where it happens, on the wire: a span
 * for the call (inside the model activity's span), the time to the first content or tool-call delta, the
 * time to the end of the stream, and the tokens the endpoint reports in its usage chunk. The body passes
 * through untouched; only lines that can matter are looked at (a cheap substring test per line, JSON parsing
 * for the one usage line).
 */
export function instrumentedFetch(metrics: Metrics | undefined, labels: ModelCallLabels): Fetch {
  return async (input, init) => {
    const model = metrics?.modelLabel(labels.model) ?? labels.model;
    const started = performance.now();
    const span = tracer().startSpan(`chat.completions ${labels.model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.system': 'openai',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': labels.model,
        'server.address': safeHost(labels.baseURL),
        'threadline.provider': labels.provider,
        ...runAttributes(labels),
      },
    });
    const seconds = () => (performance.now() - started) / 1000;
    let finished = false;
    const finish = (outcome: 'ok' | 'error', error?: unknown) => {
      if (finished) return;
      finished = true;
      metrics?.modelCallDuration.observe({ model, provider: labels.provider, outcome }, seconds());
      if (outcome === 'error') {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    };

    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      finish('error', error);
      throw error;
    }
    span.setAttribute('http.response.status_code', response.status);
    if (!response.ok || !response.body) {
      finish(response.ok ? 'ok' : 'error', response.ok ? undefined : new Error(`HTTP ${response.status}`));
      return response;
    }

    let firstToken = false;
    let pending = '';
    const decoder = new TextDecoder();
    const onLine = (line: string) => {
      if (!line.startsWith('data:')) return;
      if (!firstToken && (/"content"\s*:\s*"[^"]/.test(line) || line.includes('"tool_calls"'))) {
        firstToken = true;
        const ttft = seconds();
        metrics?.timeToFirstToken.observe({ model, provider: labels.provider }, ttft);
        span.setAttribute('threadline.time_to_first_token_ms', Math.round(ttft * 1000));
      }
      if (line.includes('"usage":{')) {
        try {
          const usage = (
            JSON.parse(line.slice(5)) as { usage?: { prompt_tokens?: number; completion_tokens?: number } }
          ).usage;
          if (usage) {
            const project = labels.projectId;
            metrics?.tokens.inc({ project, model, type: 'prompt' }, usage.prompt_tokens ?? 0);
            metrics?.tokens.inc({ project, model, type: 'completion' }, usage.completion_tokens ?? 0);
            span.setAttributes({
              'gen_ai.usage.input_tokens': usage.prompt_tokens ?? 0,
              'gen_ai.usage.output_tokens': usage.completion_tokens ?? 0,
            });
          }
        } catch {
          // Not ours to judge: the client reports a malformed stream.
        }
      }
    };
    const watch = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      },
      flush() {
        if (pending) onLine(pending);
        finish('ok');
      },
    });
    const body = response.body.pipeThrough(watch);
    // A cut stream or a cancelled call (the run was cancelled) ends the span as an error.
    const reader = body.getReader();
    const passthrough = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          finish('error', error);
          controller.error(error);
        }
      },
      async cancel(reason) {
        finish('error', reason ?? new Error('cancelled'));
        await reader.cancel(reason);
      },
    });
    return new Response(passthrough, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function safeHost(baseURL: string): string {
  try {
    return new URL(baseURL).host;
  } catch {
    return '';
  }
}
