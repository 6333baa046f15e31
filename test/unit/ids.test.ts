import { millisFromId, newId, newObjectId } from '../../src/ids';

describe('object ids', () => {
  it('have the OpenAI prefix and sort in creation order as plain strings', () => {
    const ids = Array.from({ length: 2000 }, () => newId('message'));
    expect(ids.every((id) => /^msg_[0-9a-z]{24}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carry their creation time, matching created_at', () => {
    const before = Date.now();
    const { id, createdAt } = newObjectId('thread');
    const millis = millisFromId(id, 'thread_')!;
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(createdAt).toBe(Math.floor(millis / 1000));
    expect(millisFromId('thread_abc', 'thread_')).toBeNull();
    expect(millisFromId(id, 'asst_')).toBeNull();
  });
});
