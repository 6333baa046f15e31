import { sql } from 'kysely';
import type { Db } from '../store/db';

/** What `/readyz` can ask of Temporal: either SDK's connection has a health service and deadlines. */
export interface TemporalProbe {
  healthService: { check(request: object): Promise<unknown> };
  withDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T>;
}

export interface HealthSources {
  db: Db;
  temporal: TemporalProbe | undefined;
  /** The worker's state, where this process runs one (`RUNNING` means it polls its task queue). */
  workerState?: () => string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * `/readyz`: the database answers a query, Temporal's frontend answers its health check, and the worker (in
 * processes that run one) is polling. Each check has two seconds; a failed one names what failed.
 */
export async function readiness(sources: HealthSources): Promise<Readiness> {
  const checks: Readiness['checks'] = {};
  const run = async (name: string, check: () => Promise<void>) => {
    try {
      await withTimeout(check(), CHECK_TIMEOUT_MS);
      checks[name] = { ok: true };
    } catch (error) {
      checks[name] = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  };
  await Promise.all([
    run('database', async () => {
      await sql`select 1`.execute(sources.db);
    }),
    sources.temporal === undefined
      ? Promise.resolve()
      : run('temporal', async () => {
          const temporal = sources.temporal!;
          await temporal.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => temporal.healthService.check({}));
        }),
    sources.workerState === undefined
      ? Promise.resolve()
      : run('worker', () => {
          const state = sources.workerState!();
          return state === 'RUNNING' ? Promise.resolve() : Promise.reject(new Error(`worker is ${state}`));
        }),
  ]);
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
