import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import type { Logger } from '../logger';

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logs (its own, Core's forwarded ones, and what workflow and activity code logs through
 * `log`) as pino JSON lines beside Threadline's, tagged `component: temporal`. Workflow and activity lines
 * pass at pino's level; the SDK's own worker and Core lines from WARN up (at INFO they narrate every bundle
 * and state change) unless LOG_LEVEL is debug or trace.
 */
export function temporalLogger(root: Logger): TemporalLogger & { retarget(root: Logger): void } {
  let logger = root.child({ component: 'temporal' });
  let verbose = root.level === 'debug' || root.level === 'trace';
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const component = typeof meta?.sdkComponent === 'string' ? meta.sdkComponent : undefined;
    const own = component === 'workflow' || component === 'activity';
    if (!own && !verbose && RANK[level] < RANK.WARN) return;
    logger[PINO[level]]({ ...(meta ?? {}) }, message);
  };
  return {
    /** The runtime is installed once per process; a later worker in the same process (tests) takes its logs. */
    retarget(next: Logger) {
      logger = next.child({ component: 'temporal' });
      verbose = next.level === 'debug' || next.level === 'trace';
    },
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
