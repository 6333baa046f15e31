import { Router, type RequestHandler } from 'express';
import { readiness, type HealthSources } from '../../observability/health';
import type { Metrics } from '../../observability/metrics';

/**
 * What operators and orchestrators poll, outside `/v1` and without API keys: `/healthz` (the process
 * answers), `/readyz` (its database, Temporal and, where it runs one, its worker are usable; 503 naming
 * what is not) and `/metrics` (Prometheus text), behind `metricsGuard` on the API's own port.
 */
export function operatorRouter(health: HealthSources, metrics: Metrics, metricsGuard?: RequestHandler): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const result = await readiness(health);
    res.status(result.ready ? 200 : 503).json({ status: result.ready ? 'ready' : 'not_ready', checks: result.checks });
  });
  const scrape: RequestHandler = async (_req, res) => {
    const { contentType, body } = await metrics.scrape();
    res.setHeader('content-type', contentType);
    res.end(body);
  };
  if (metricsGuard) router.get('/metrics', metricsGuard, scrape);
  else router.get('/metrics', scrape);
  return router;
}
