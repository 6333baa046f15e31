import type { Store } from '../../src/store';
import { RunEventBus, type LoggedEvent } from '../../src/streaming/bus';
import { followRun } from '../../src/streaming/follow';

/**
 * How often a follower reads the log: once to catch up, then only when it may hold events the follower was not
 * handed (a wake-up without events, a gap, a poll). The log is a stand-in here; what is counted is the reads.
 */
describe('following a run', () => {
  const runId = 'run_1';
  const event = (seq: number, name = 'thread.message.delta'): LoggedEvent => ({ seq, event: name, data: '{}' });

  function setup(logged: LoggedEvent[]) {
    const bus = new RunEventBus();
    const reads: number[] = [];
    const log = [...logged];
    const store = {
      runEvents: {
        after: (_run: string, seq: number, limit: number) => {
          reads.push(seq);
          return Promise.resolve(log.filter((e) => e.seq > seq).slice(0, limit));
        },
      },
      runs: {
        findById: () => Promise.resolve({ status: 'in_progress', event_seq: log.at(-1)?.seq ?? 0, expires_at: null }),
      },
    } as unknown as Store;
    const sent: number[] = [];
    const follow = followRun({
      store,
      bus,
      projectId: 'proj_1',
      runId,
      afterSeq: 0,
      sink: {
        event: (e) => {
          sent.push(e.seq);
          return Promise.resolve();
        },
        unlogged: () => Promise.resolve(),
        keepAlive: () => Promise.resolve(),
      },
      signal: new AbortController().signal,
      keepAliveMs: 60_000,
      pollMs: 60_000,
    });
    /** Appends in process, as the repository does after a commit: to the log, then to the bus. */
    const append = (events: LoggedEvent[]) => {
      log.push(...events);
      bus.publish(runId, events);
    };
    return { bus, reads, sent, follow, append, log };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('reads the log once to catch up, then takes in-process events as they are handed over', async () => {
    const { reads, sent, follow, append } = setup([event(1, 'thread.run.created'), event(2, 'thread.run.queued')]);
    await settle();
    for (let seq = 3; seq <= 12; seq++) {
      append([event(seq)]);
      await settle();
    }
    append([event(13, 'thread.run.completed')]);
    await expect(follow).resolves.toBe('final');
    expect(sent).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(reads).toEqual([0]);
  });

  it('reads on a notification past what it sent, not on one it already has, and fills a gap from the log', async () => {
    const { bus, reads, sent, follow, append, log } = setup([event(1, 'thread.run.created')]);
    await settle();
    append([event(2)]);
    await settle();
    bus.publish(runId, undefined, 2); // another process's notification of seq 2, already sent
    await settle();
    expect(reads).toEqual([0]);
    log.push(event(3)); // appended by another process
    bus.publish(runId, undefined, 3);
    await settle();
    expect(reads).toEqual([0, 2]);
    log.push(event(4)); // not handed over in process ...
    append([event(5)]); // ... so 5 arrives with a gap before it
    await settle();
    expect(reads).toEqual([0, 2, 3]);
    append([event(6, 'thread.run.completed')]);
    await expect(follow).resolves.toBe('final');
    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("takes another process's events from its notification without a read, once each", async () => {
    const { bus, reads, sent, follow, append, log } = setup([event(1, 'thread.run.created')]);
    await settle();
    append([event(2)]);
    bus.publish(runId, [event(2)], 2); // its own append heard again through NOTIFY: dropped
    await settle();
    log.push(event(3), event(4)); // appended by another process, whose notification carries them
    bus.publish(runId, [event(3), event(4)], 4);
    await settle();
    expect(reads).toEqual([0]);
    log.push(event(5, 'thread.run.completed'));
    bus.publish(runId, [event(5, 'thread.run.completed')], 5);
    await expect(follow).resolves.toBe('final');
    expect(sent).toEqual([1, 2, 3, 4, 5]);
    expect(reads).toEqual([0]);
  });
});
