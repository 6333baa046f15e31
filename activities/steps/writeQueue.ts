import type { NewRunEvent } from '../../src/store/repositories/runEvents';

/** A write to make, returning the events it reports (logged in the same order, after it). */
export type Op = () => Promise<NewRunEvent[]>;

/**
 * Writes in order on a single background queue, so the model stream is never held up by the database, and
 * whatever arrives while a write is in flight goes out together in the next one: deltas are model tokens or
 * larger, and a slow database coalesces more. The first failure stops the queue; `settle()` reports it.
 */
export class WriteQueue {
  private readonly queue: Op[] = [];
  private draining: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly log: (events: NewRunEvent[]) => Promise<void>) {}

  enqueue(op: Op): void {
    if (this.failure !== undefined) return; // settle() reports it; nothing more is written
    this.queue.push(op);
    this.kick();
  }

  /** Waits until every queued write is done; rethrows the first that failed. */
  async settle(): Promise<void> {
    while (this.draining && this.failure === undefined) await this.draining;
    if (this.failure !== undefined) {
      const failure = this.failure;
      throw failure instanceof Error ? failure : new Error(`event log write failed: ${JSON.stringify(failure)}`);
    }
  }

  /**
   * Starts a drain unless one is running. A drain that finishes re-checks the queue itself: an op queued
   * between its last look and its end would otherwise wait for the next op, or be missed by settle().
   */
  private kick(): void {
    if (this.draining || this.failure !== undefined || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const events: NewRunEvent[] = [];
        for (const op of this.queue.splice(0)) events.push(...(await op()));
        await this.log(events);
      }
    } catch (error) {
      this.failure = error;
      this.queue.length = 0;
    }
  }
}
