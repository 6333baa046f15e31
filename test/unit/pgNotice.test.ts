import { parseNotice } from '../../src/streaming/pgListener';

describe('parseNotice (the run-event channel of PostgreSQL)', () => {
  it('reads the events a notification carries (migration 016)', () => {
    const payload = JSON.stringify({
      r: 'run_1',
      s: 8,
      e: [
        [7, 'a', '{"x":1}'],
        [8, 'b', '{}'],
      ],
    });
    expect(parseNotice(payload)).toEqual({
      runId: 'run_1',
      upTo: 8,
      events: [
        { seq: 7, event: 'a', data: '{"x":1}' },
        { seq: 8, event: 'b', data: '{}' },
      ],
    });
  });

  it('reads run_id:seq, sent when the events did not fit and by databases before 016', () => {
    expect(parseNotice('run_1:12')).toEqual({ runId: 'run_1', upTo: 12 });
    expect(parseNotice('run_1:x')).toEqual({ runId: 'run_1' });
  });

  it('turns a notification with anything odd in its events into a plain wake-up, so followers read the log', () => {
    expect(parseNotice(JSON.stringify({ r: 'run_1', s: 3, e: [[3, 'a', '{}'], 'junk'] }))).toEqual({
      runId: 'run_1',
      upTo: 3,
    });
    expect(parseNotice(JSON.stringify({ r: 'run_1', s: 3, e: [['3', 'a', '{}']] }))).toEqual({
      runId: 'run_1',
      upTo: 3,
    });
    expect(parseNotice(JSON.stringify({ r: 'run_1', s: 3 }))).toEqual({ runId: 'run_1', upTo: 3 });
  });

  it('ignores what is not a notice of a run', () => {
    expect(parseNotice('{not json')).toBeUndefined();
    expect(parseNotice(JSON.stringify({ r: 7, s: 3, e: [] }))).toBeUndefined();
    expect(parseNotice('')).toBeUndefined();
  });
});
