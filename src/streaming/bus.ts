/** One logged event of a run, as stored and as sent over SSE (`id:` = seq). `data` is its JSON text. */
export interface LoggedEvent {
  seq: number;
  event: string;
  data: string;
}

/**
 * `events`: handed over by an in-process append, or carried by another process's PostgreSQL notification.
 * Without them, `upTo` is the seq the log reached when known (a notification says it), so a follower already
 * past it need not read.
 */
type Listener = (events: LoggedEvent[] | undefined, upTo?: number) => void;

/**
 * Wakes the streams following a run when its log grows. Appends hand over the events themselves (the fast
 * path: no read back from the database): in process directly, from other processes in their PostgreSQL
 * NOTIFY when the events fit in its payload; a wake-up without them makes the follower read the log. Either
 * way the log is the truth: a follower never relies on seeing every wake-up, it only uses them to stop waiting
 * (and reads the log at any gap in the seqs it was handed).
 */
export class RunEventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  subscribe(runId: string, listener: Listener): () => void {
    let set = this.listeners.get(runId);
    if (!set) this.listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  }

  publish(runId: string, events?: LoggedEvent[], upTo?: number): void {
    for (const listener of this.listeners.get(runId) ?? []) listener(events, upTo);
  }

  /** After a lost LISTEN connection: notifications may have been missed, so every follower re-reads. */
  wakeAll(): void {
    for (const set of this.listeners.values()) for (const listener of set) listener(undefined);
  }

  /** Open follower count (for tests and shutdown diagnostics). */
  get followers(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
