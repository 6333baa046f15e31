import { Client } from 'pg';
import type { Logger } from '../logger';
import { RUN_EVENTS_CHANNEL } from '../store/repositories/runEvents';
import type { LoggedEvent, RunEventBus } from './bus';

/**
 * Carries run-log wake-ups from other processes (workers appending events) to this process's streams:
 * one dedicated connection LISTENing on the channel the appends NOTIFY at commit. A dropped connection is
 * reopened with backoff, and every follower is woken to re-read the log, since notifications sent while
 * it was down are lost (the log itself is not).
 */
export async function listenForRunEvents(
  connectionString: string,
  bus: RunEventBus,
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
  let client: Client | undefined;
  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const next = new Client({ connectionString });
    next.on('notification', (message) => {
      const notice = parseNotice(message.payload ?? '');
      if (notice) bus.publish(notice.runId, notice.events, notice.upTo);
    });
    next.on('error', (error) => {
      logger.warn({ err: error }, 'run-event listener connection lost; reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      scheduleReconnect(250);
    });
    await next.connect();
    await next.query(`LISTEN ${RUN_EVENTS_CHANNEL}`);
    if (closing) {
      await next.end();
      return;
    }
    client = next;
    bus.wakeAll();
  }

  function scheduleReconnect(delayMs: number): void {
    if (closing || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch((error: unknown) => {
        logger.warn({ err: error }, 'run-event listener could not reconnect');
        scheduleReconnect(Math.min(delayMs * 2, 5_000));
      });
    }, delayMs);
  }

  await connect();
  return {
    async close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
    },
  };
}

/**
 * An append's notification (migration 016): `{"r": run id, "s": last seq, "e": [[seq, event, data], …]}` with
 * the events themselves, or `<run id>:<last seq>` when they did not fit (or from a database before 016).
 */
export function parseNotice(payload: string): { runId: string; upTo?: number; events?: LoggedEvent[] } | undefined {
  if (payload.startsWith('{')) {
    try {
      const { r, s, e } = JSON.parse(payload) as { r: unknown; s: unknown; e: unknown };
      if (typeof r !== 'string' || !Number.isSafeInteger(s) || !Array.isArray(e)) return undefined;
      const events = e.map(([seq, event, data]: [number, string, string]) => ({ seq, event, data }));
      return { runId: r, upTo: s as number, events };
    } catch {
      return undefined; // not ours: the log is the truth, and the next poll reads it
    }
  }
  const at = payload.lastIndexOf(':');
  const runId = payload.slice(0, at);
  const seq = Number(payload.slice(at + 1));
  return runId ? { runId, ...(Number.isSafeInteger(seq) ? { upTo: seq } : {}) } : undefined;
}
