import type { MetricsBuffer } from '@temporalio/worker';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

/** Temporal reports durations in milliseconds. */
const MS_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000];
const PLAIN_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

const bridged = new WeakSet<MetricsBuffer>();

type Labels = Record<string, string>;
interface Series {
  labels: Labels;
  value: number;
  buckets?: number[];
  sum?: number;
}
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  bounds: number[];
  series: Map<string, Series>;
}

/**
 * The Temporal SDK's own worker metrics (task slots, pollers, schedule-to-start and execution latencies,
 * sticky cache, request counts…) on Threadline's /metrics, so one scrape sees everything.
 *
 * The SDK can export them itself to Prometheus, but only from an HTTP server of its own on a port of its
 * own (`telemetryOptions.metrics.prometheus.bindAddress`): a second port per worker process to open, route
 * and secure. Instead the runtime is installed with a metrics buffer (`telemetryOptions.metrics.buffer`),
 * and every update it records is folded here into counters, gauges and histograms under the SDK's names
 * (`temporal_…`). The buffer is drained before each scrape and every second: at 5 s it filled up while 1,000
 * parked runs resumed at once (the SDK logged "metrics buffer is full" hundreds of times and dropped updates).
 *
 * Reading the buffer is the SDK's native code and is marked experimental. In that same benchmark it threw from
 * the drain timer ("internal error in Neon module: You must initialize the reference before using it": in the
 * SDK's source, an update of a metric whose creating entry the full buffer had dropped), and an exception
 * thrown from a timer ends the process: a worker died over its metrics, twice in two benchmarks. A failed read now
 * costs only that read's updates and a warning (one per minute at most); metrics are never worth a crash.
 */
export function bridgeTemporalMetrics(buffer: MetricsBuffer, metrics: Metrics, logger?: Logger): () => void {
  // One runtime (and buffer) per process; a second consumer at the same time would steal half its updates.
  if (bridged.has(buffer)) return () => undefined;
  bridged.add(buffer);
  const families = new Map<string, Family>();
  let active = true;

  let lastWarnedAt = 0;
  let failures = 0;
  const drain = () => {
    if (!active) return;
    let updates: ReturnType<MetricsBuffer['retrieveUpdates']>;
    try {
      updates = buffer.retrieveUpdates();
    } catch (error) {
      failures += 1;
      if (Date.now() - lastWarnedAt >= 60_000) {
        lastWarnedAt = Date.now();
        logger?.warn({ err: error, failures }, 'reading the Temporal SDK metrics buffer failed; its updates are lost');
      }
      return;
    }
    for (const update of updates) {
      const { metric } = update;
      let family = families.get(metric.name);
      if (!family) {
        const type = metric.kind === 'counter' ? 'counter' : metric.kind === 'histogram' ? 'histogram' : 'gauge';
        family = {
          name: metric.name,
          help: metric.description || metric.name,
          type,
          bounds: metric.unit === 'ms' ? MS_BUCKETS : PLAIN_BUCKETS,
          series: new Map(),
        };
        families.set(metric.name, family);
        register(family);
      }
      const labels: Labels = {};
      for (const [key, value] of Object.entries(update.attributes)) labels[key] = String(value);
      const key = JSON.stringify(Object.entries(labels).sort());
      let series = family.series.get(key);
      if (!series) {
        series = { labels, value: 0 };
        if (family.type === 'histogram') {
          series.buckets = family.bounds.map(() => 0);
          series.sum = 0;
        }
        family.series.set(key, series);
      }
      if (family.type === 'counter') series.value += update.value;
      else if (family.type === 'gauge') series.value = update.value;
      else {
        series.value += 1;
        series.sum! += update.value;
        family.bounds.forEach((bound, i) => {
          if (update.value <= bound) series.buckets![i]! += 1;
        });
      }
    }
  };

  const register = (family: Family) => {
    metrics.registry.registerMetric({
      name: family.name,
      // prom-client formats whatever get() returns; a histogram is its _bucket, _sum and _count series.
      get: () =>
        Promise.resolve({
          name: family.name,
          help: family.help,
          type: family.type,
          aggregator: 'sum',
          values: [...family.series.values()].flatMap((s) =>
            family.type !== 'histogram'
              ? [{ labels: s.labels, value: s.value }]
              : [
                  ...family.bounds.map((bound, i) => ({
                    metricName: `${family.name}_bucket`,
                    labels: { ...s.labels, le: String(bound) },
                    value: s.buckets![i]!,
                  })),
                  { metricName: `${family.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.value },
                  { metricName: `${family.name}_sum`, labels: s.labels, value: s.sum! },
                  { metricName: `${family.name}_count`, labels: s.labels, value: s.value },
                ],
          ),
        }),
    } as unknown as Parameters<typeof metrics.registry.registerMetric>[0]);
  };

  metrics.beforeScrape(drain);
  const timer = setInterval(drain, 1_000);
  timer.unref();
  // Once this process's worker stopped, another Threadline instance in the process (tests) may take over.
  return () => {
    active = false;
    clearInterval(timer);
    bridged.delete(buffer);
  };
}
