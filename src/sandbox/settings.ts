import type { Config } from '../config';
import type { CodeInterpreterSettings } from './shared';

/** Room an attempt gets beyond the execution's wall clock: copying files in, storing what it produced. */
const FILE_TRANSFER_ALLOWANCE_MS = 10 * 60 * 1000;

/** What a run needs to call the code interpreter (carried in the run workflow's input). */
export function codeInterpreterSettings(config: Pick<Config, 'sandbox'>): CodeInterpreterSettings {
  return {
    taskQueue: config.sandbox.taskQueue,
    heartbeatTimeoutMs: config.sandbox.heartbeatTimeoutMs,
    affinityWaitMs: config.sandbox.affinityWaitMs,
    attemptTimeoutMs: config.sandbox.timeoutMs + FILE_TRANSFER_ALLOWANCE_MS,
  };
}
