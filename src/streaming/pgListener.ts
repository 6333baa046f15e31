import { Client } from 'pg';
import type { Logger } from '../logger';
import { RUN_EVENTS_CHANNEL } from '../store/repositories/runEvents';
import type { LoggedEvent, RunEventBus } from './bus';

/**
 * Carries what other processes (workers) append to run logs to this process's streams: one dedicated
 * connection LISTENing on the channel the appends NOTIFY at commit, each notification carrying the events
 * themselves or, when they did not fit, the seq the log reached (then the followers read it). A dropped
 * connection is reopened with backoff, and every follower is woken to re-read the log, since notifications
 * sent while it was down are lost (the log itself is not).
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
    let notice: { r?: unknown; s?: unknown; e?: unknown };
    try {
      notice = JSON.parse(payload) as typeof notice;
    } catch {
      return undefined; // not ours: the log is the truth, and the next poll reads it
    }
    const { r, s, e } = notice;
    if (typeof r !== 'string' || !r || !Number.isSafeInteger(s)) return undefined;
    const events = Array.isArray(e) ? e.map(loggedEvent) : [];
    // Anything odd in the events: a plain wake-up, and the followers read the log.
    if (events.length === 0 || events.some((event) => event === undefined)) return { runId: r, upTo: s as number };
    return { runId: r, upTo: s as number, events: events as LoggedEvent[] };
  }
  const at = payload.lastIndexOf(':');
  const runId = payload.slice(0, at);
  const seq = Number(payload.slice(at + 1));
  return runId ? { runId, ...(Number.isSafeInteger(seq) ? { upTo: seq } : {}) } : undefined;
}

function loggedEvent(item: unknown): LoggedEvent | undefined {
  if (!Array.isArray(item)) return undefined;
  const [seq, event, data] = item as unknown[];
  if (!Number.isSafeInteger(seq) || typeof event !== 'string' || typeof data !== 'string') return undefined;
  return { seq: seq as number, event, data };
}
