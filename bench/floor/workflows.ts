/**
 * Temporal's floor: workflows of Threadline's shapes with no-op activities, run by bench/floor/ beside
 * Threadline so each Threadline figure has the same server, flags and topology's own cost next to it.
 */
import {
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { FloorActivities } from './activities';

const act = proxyActivities<FloorActivities>({ startToCloseTimeout: '10s' });
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10s' });

export const floorOutputs = defineUpdate<string, [string]>('floorOutputs');

/** `n` no-op activities one after another (each marks when it runs). */
export async function floorChain(key: string, n: number, asLocal = false, pauseMs = 0): Promise<void> {
  for (let i = 0; i < n; i++) await (asLocal ? local : act).mark(key, i, pauseMs);
}

/**
 * One tool round as Threadline's run does it: a model activity, park for the client's outputs (an Update),
 * an activity writing them, a second model activity, the terminal write.
 */
export async function floorToolRound(key: string): Promise<void> {
  let outputs: string | undefined;
  setHandler(floorOutputs, (value) => {
    outputs = value;
    return 'accepted';
  });
  await act.mark(key, 0);
  await condition(() => outputs !== undefined);
  await act.mark(key, 1);
  await act.mark(key, 2);
  await act.mark(key, 3);
}

/**
 * The floor of a Threadline run with one tool round, same shape and no database: the model call (activity),
 * park until the client's outputs arrive (an Update), write them (activity), the second model call, and the
 * terminal write (activity). A `state` query tells the client it parked.
 */
export const floorParked = defineQuery<boolean>('floorParked');

export async function floorRun(): Promise<void> {
  let outputs: string | undefined;
  let parked = false;
  setHandler(floorParked, () => parked);
  setHandler(floorOutputs, (value) => {
    outputs = value;
    return 'accepted';
  });
  await act.model(false);
  parked = true;
  await condition(() => outputs !== undefined);
  await act.noop();
  await act.model(true);
  await act.noop();
}
