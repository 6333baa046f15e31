import type { FakeModel } from '../test/support/fakeModel';
import type { Summary } from './stats';
import type { Deployment } from './topology';

/** One figure of the report. Latencies in ms; `direct` is the fake model called straight, same run, interleaved. */
export interface Row {
  scenario: string;
  dialect: string;
  case: string;
  metric: string;
  unit: string;
  value: Summary;
  direct?: Summary;
  /** value.p50 / direct.p50 */
  ratio?: number;
  /** The same figure for Temporal's floor (scenario 0), measured in the same run. */
  floor?: Summary;
  /** value.p50 / floor.p50 */
  floorRatio?: number;
  target?: string;
  meets?: boolean;
  note?: string;
}

export interface ScenarioContext {
  dep: Deployment;
  model: FakeModel;
  /** The size of a setting for this pass: quick (`npm run bench`), full (`-- --full`), or the smoke test's. */
  pick<T>(quick: T, full: T, smoke: T): T;
  temporalPid: number | undefined;
  /** Another deployment like `dep` with extra settings (the caller stops it). */
  deployAnother(env: Record<string, string>, shape?: Deployment['shape']): Promise<Deployment>;
  log(message: string): void;
}

export function compared(
  base: Omit<Row, 'value' | 'direct' | 'ratio'>,
  value: Summary,
  direct: Summary | undefined,
): Row {
  return { ...base, value, direct, ratio: direct && direct.p50 > 0 ? value.p50 / direct.p50 : undefined };
}
