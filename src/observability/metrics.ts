import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store';

/** Distinct `model` label values kept before further ones are counted as `other`. */
const MAX_MODEL_LABELS = 200;

/** Seconds; from a cached local call (5 ms) to a long model stream (10 min). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The Prometheus metrics of one Threadline process (prom-client, one registry per process, never the
 * library's global one). The API records HTTP requests and event streams, the worker model calls and
 * tokens; runs by status are read from the database at scrape time, so every process reports the same
 * numbers; Temporal's worker metrics join through src/observability/temporalMetrics.ts.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'threadline_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'threadline_http_request_duration_seconds',
    help: 'Time from request to the end of the response (event streams: their whole life), by route.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly timeToFirstToken = new Histogram({
    name: 'threadline_model_time_to_first_token_seconds',
    help: 'Time from sending a chat completion to its first content or tool-call delta, by model.',
    labelNames: ['model', 'provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly modelCallDuration = new Histogram({
    name: 'threadline_model_call_duration_seconds',
    help: 'Time from sending a chat completion to the end of its stream, by model and outcome (ok or error).',
    labelNames: ['model', 'provider', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'threadline_tokens_total',
    help: 'Tokens the model endpoints reported using, by project, model and type (prompt or completion).',
    labelNames: ['project', 'model', 'type'] as const,
    registers: [this.registry],
  });

  readonly toolExecutions = new Counter({
    name: 'threadline_tool_executions_total',
    help: 'Tool executions on the server, by tool and outcome.',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly eventStreamsOpen = new Gauge({
    name: 'threadline_event_streams_open',
    help: 'Server-sent event streams open now.',
    registers: [this.registry],
  });

  readonly eventStreams = new Counter({
    name: 'threadline_event_streams_total',
    help: 'Server-sent event streams opened.',
    registers: [this.registry],
  });

  private readonly scrapeHooks: Array<() => void> = [];
  private readonly modelNames = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'threadline_' });
  }

  /**
   * The `model` label for a model name. Names come from clients (any string a run names), so after
   * MAX_MODEL_LABELS distinct ones the rest are counted as `other`: a client cannot grow the page without bound.
   */
  modelLabel(model: string): string {
    if (this.modelNames.has(model)) return model;
    if (this.modelNames.size >= MAX_MODEL_LABELS) return 'other';
    this.modelNames.add(model);
    return model;
  }

  /** Runs `hook` before every scrape (e.g. folding in buffered Temporal metrics). */
  beforeScrape(hook: () => void): void {
    this.scrapeHooks.push(hook);
  }

  /**
   * For tool executors (the built-in tools): one execution of `tool` (`file_search`, `code_interpreter`, …)
   * that ended with `outcome` (`completed`, `failed`, `cancelled`, …). Nothing records into it yet.
   */
  recordToolExecution(tool: string, outcome: string): void {
    this.toolExecutions.inc({ tool, outcome });
  }

  /** Runs by status, counted in the database when scraped: the same figure whichever process is asked. */
  watchRuns(store: Store): void {
    const registry = this.registry;
    new Gauge({
      name: 'threadline_runs',
      help: 'Runs in the database, by status.',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const rows = await store.db
          .selectFrom('runs')
          .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('status')
          .execute();
        this.reset();
        for (const row of rows) this.set({ status: row.status }, Number(row.n));
      },
    });
  }

  /** The exposition text and its content type, for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    for (const hook of this.scrapeHooks) hook();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
