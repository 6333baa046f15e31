import type { Store } from '../store';
import { runObject } from '../wire/runs';
import type { LoggedEvent, RunEventBus } from './bus';
import { FINAL_RUN_EVENTS } from './events';

export interface FollowSink {
  /** Writes one logged event; resolves once the socket can take more (backpressure). */
  event(e: LoggedEvent): Promise<void>;
  /** Writes an event that is not in the log (no `id:`): only the final run event of a run that predates it. */
  unlogged(event: string, data: unknown): Promise<void>;
  keepAlive(): Promise<void>;
}

export interface FollowOptions {
  store: Store;
  bus: RunEventBus;
  projectId: string;
  runId: string;
  /** Send the events after this seq (0: from the start; a client's Last-Event-ID to resume). */
  afterSeq: number;
  sink: FollowSink;
  /** Aborted when the client goes away: the follower stops, the run does not. */
  signal: AbortSignal;
  keepAliveMs: number;
  /** Re-read the log this often even without a wake-up: a missed notification costs latency, never events. */
  pollMs: number;
  /**
   * Called when the run should long have ended (a minute past its `expires_at`) but is still active: its
   * workflow was probably closed from outside, and reconciling it ends the run and so the stream.
   */
  reconcile?: () => Promise<void>;
}

const OVERDUE_SECONDS = 60;

const PAGE = 500;

/**
 * Sends a run's logged events in order from `afterSeq` and follows the log live until the run stops for the
 * client (a final run event: requires_action or an end). Says how it stopped: `final` (the stream is
 * complete), `left` (the client went away first) or `gone` (the run was deleted with its thread).
 */
export type FollowEnd = 'final' | 'left' | 'gone';

export async function followRun(options: FollowOptions): Promise<FollowEnd> {
  const { store, bus, runId, sink, signal } = options;
  let last = options.afterSeq;
  let inbox: LoggedEvent[] = [];
  let woken = false;
  // Whether the log may hold events this follower was not handed: at the start, after a wake-up that carried
  // none (a lost LISTEN connection; a notification too large to carry them), after a gap in what was handed
  // over, after a full page, and at every poll. Otherwise the events handed over (by an append in this process,
  // or in another process's PostgreSQL notification) are the whole story, and reading the log back after each
  // of them (one read per append, a dozen per run) only confirmed it.
  let mustRead = true;
  let wake: (() => void) | undefined;
  const unsubscribe = bus.subscribe(runId, (events, upTo) => {
    if (events) {
      const fresh = events.filter((e) => e.seq > last);
      // Already sent: e.g. this process's own append, heard again through PostgreSQL's NOTIFY.
      if (fresh.length === 0) return;
      inbox.push(...fresh);
    } else if (upTo === undefined || upTo > last) mustRead = true;
    else return; // a notification of what this follower has already sent
    woken = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  let lastWrite = Date.now();
  // Whether the log went quiet for a whole wait: only then is it worth asking if the run is still there.
  let quiet = true;
  try {
    while (!signal.aborted) {
      woken = false;
      let batch = takeContiguous(inbox, last);
      let read = false;
      if (!batch) {
        if (inbox.some((e) => e.seq > last)) mustRead = true; // a gap: an append in between was not handed over
        batch = [];
        if (mustRead) {
          mustRead = false;
          read = true;
          batch = await store.runEvents.after(runId, last, PAGE);
          if (batch.length === PAGE) mustRead = true;
        }
      }
      inbox = inbox.filter((e) => e.seq > last + batch.length);
      for (const e of batch) {
        if (signal.aborted) return 'left';
        await sink.event(e);
        last = e.seq;
        lastWrite = Date.now();
        if (FINAL_RUN_EVENTS.has(e.event)) return 'final';
      }
      if (batch.length > 0 || woken) continue;
      const end = quiet ? await nothingMoreToCome(options, last) : undefined;
      if (end === 'behind' && !read) {
        mustRead = true; // logged by a process this one hears nothing from (or not yet)
        continue;
      }
      if (end && end !== 'behind') return end;
      if (woken) continue; // events arrived while the run was being checked
      quiet = await new Promise<boolean>((resolve) => {
        const wait = Math.max(1, Math.min(options.pollMs, options.keepAliveMs - (Date.now() - lastWrite)));
        const timer = setTimeout(() => resolve(true), wait);
        wake = () => {
          clearTimeout(timer);
          resolve(false);
        };
      });
      wake = undefined;
      if (quiet) mustRead = true; // the poll: a missed wake-up costs latency, never events
      if (!signal.aborted && Date.now() - lastWrite >= options.keepAliveMs) {
        await sink.keepAlive();
        lastWrite = Date.now();
      }
    }
    return 'left';
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

/** The handed-over events that continue exactly from `last`, or undefined when the log must be read. */
function takeContiguous(inbox: LoggedEvent[], last: number): LoggedEvent[] | undefined {
  const next = inbox.filter((e) => e.seq > last).sort((a, b) => a.seq - b.seq);
  if (next.length === 0 || next[0]!.seq !== last + 1) return undefined;
  const run: LoggedEvent[] = [];
  for (const e of next) {
    if (e.seq !== last + 1 + run.length) break;
    run.push(e);
  }
  return run;
}

/**
 * Whether waiting is pointless: the run is gone, or it has ended and the client already has its final event
 * (resuming past the end). A run that ended before this server logged events (created by an older version)
 * gets its final state sent from the row, so the stream still ends the way the SDKs need. `behind`: the log
 * holds events this follower has not sent (it must read).
 */
async function nothingMoreToCome(options: FollowOptions, last: number): Promise<FollowEnd | 'behind' | undefined> {
  const { store, projectId, runId, sink } = options;
  const row = await store.runs.findById(projectId, runId);
  if (!row) return 'gone';
  const final = FINAL_RUN_EVENTS.has(`thread.run.${row.status}`);
  const logged = Number(row.event_seq);
  if (last < logged) return 'behind';
  if (logged === 0) {
    if (!final) return undefined;
    await sink.unlogged(`thread.run.${row.status}`, runObject(row));
    return 'final';
  }
  if (!final && row.expires_at !== null && Date.now() / 1000 > row.expires_at + OVERDUE_SECONDS) {
    await options.reconcile?.();
    return undefined;
  }
  // requires_action is final for one stream but not for the run: a watcher waits for what comes next.
  if (!final || row.status === 'requires_action') return undefined;
  const [latest] = await store.runEvents.after(runId, logged - 1, 1);
  return latest !== undefined && FINAL_RUN_EVENTS.has(latest.event) ? 'final' : undefined;
}
