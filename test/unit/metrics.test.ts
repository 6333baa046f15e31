import type { MetricsBuffer } from '@temporalio/worker';
import type { Logger } from '../../src/logger';
import { Metrics } from '../../src/observability/metrics';
import { bridgeTemporalMetrics } from '../../src/observability/temporalMetrics';

describe('metrics labels', () => {
  it('keeps the model label set bounded however many names clients send', () => {
    const metrics = new Metrics();
    for (let i = 0; i < 200; i++) expect(metrics.modelLabel(`model-${i}`)).toBe(`model-${i}`);
    expect(metrics.modelLabel('one-too-many')).toBe('other');
    expect(metrics.modelLabel('model-7')).toBe('model-7');
  });
});

describe('the Temporal SDK metrics bridge', () => {
  /** A stand-in for the SDK's MetricsBuffer: the bridge only calls retrieveUpdates. */
  const bufferReturning = (read: () => unknown[]) =>
    ({ retrieveUpdates: () => read().values() }) as unknown as MetricsBuffer;
  const counterUpdate = (value: number) => ({
    metric: { name: 'temporal_test_requests', kind: 'counter', unit: '', description: 'test counter' },
    value,
    attributes: { task_queue: 'q' },
  });

  it('folds buffered updates into /metrics under the SDK names', async () => {
    const metrics = new Metrics();
    const unbridge = bridgeTemporalMetrics(
      bufferReturning(() => [counterUpdate(2), counterUpdate(3)]),
      metrics,
    );
    try {
      const { body } = await metrics.scrape();
      expect(body).toMatch(/^temporal_test_requests\{task_queue="q"\} 5$/m);
    } finally {
      unbridge();
    }
  });

  it('survives a buffer read that throws: the scrape answers, later reads still count, one warning', async () => {
    const metrics = new Metrics();
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    let reads = 0;
    const unbridge = bridgeTemporalMetrics(
      bufferReturning(() => {
        reads += 1;
        if (reads <= 2)
          throw new Error('internal error in Neon module: You must initialize the reference before using it');
        return [counterUpdate(7)];
      }),
      metrics,
      logger,
    );
    try {
      await expect(metrics.scrape()).resolves.toBeDefined();
      await expect(metrics.scrape()).resolves.toBeDefined();
      const { body } = await metrics.scrape();
      expect(body).toMatch(/^temporal_test_requests\{task_queue="q"\} 7$/m);
      expect(warnings).toHaveLength(1);
    } finally {
      unbridge();
    }
  });
});
