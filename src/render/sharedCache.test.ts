import { describe, expect, it } from 'vitest';
import { SharedCache } from './sharedCache';

/** A cache of labelled objects that records what it made and what it disposed. */
function labels(keepUnused: number) {
  const made: string[] = [];
  const disposed: string[] = [];
  const cache = new SharedCache<{ text: string }>(keepUnused, (v) => disposed.push(v.text));
  const get = (text: string) =>
    cache.acquire(text, () => {
      made.push(text);
      return { text };
    });
  return { cache, made, disposed, get };
}

describe('SharedCache (the 3D labels)', () => {
  it('makes a value once for any number of users and keeps it while one remains', () => {
    const { cache, made, disposed, get } = labels(0);
    const a = get('0.3');
    const b = get('0.3');
    expect(a).toBe(b);
    expect(made).toEqual(['0.3']);
    expect(cache.users('0.3')).toBe(2);
    cache.release('0.3');
    expect(disposed).toEqual([]);
    expect(cache.users('0.3')).toBe(1);
    cache.release('0.3');
    // keepUnused 0: the last user gone, the value goes.
    expect(disposed).toEqual(['0.3']);
    expect(cache.size).toBe(0);
  });

  it('keeps up to keepUnused unused values for reuse and disposes the least recently used beyond', () => {
    const { cache, made, disposed, get } = labels(2);
    for (const t of ['a', 'b', 'c']) get(t);
    // A new surface: the same tick labels again, before the old sprites are released.
    get('a');
    for (const t of ['a', 'b', 'c']) cache.release(t);
    expect(disposed).toEqual([]);
    cache.release('a');
    // Three unused, two kept: 'b' was acquired longest ago ('a' again after 'c').
    expect(disposed).toEqual(['b']);
    expect(cache.size).toBe(2);
    get('c');
    expect(made).toEqual(['a', 'b', 'c']);
  });

  it('never disposes a value in use, however many unused ones there are', () => {
    const { cache, disposed, get } = labels(1);
    get('kept');
    for (let i = 0; i < 5; i++) get(`t${i}`);
    for (let i = 0; i < 5; i++) cache.release(`t${i}`);
    expect(disposed).toEqual(['t0', 't1', 't2', 't3']);
    expect(cache.users('kept')).toBe(1);
    expect(cache.size).toBe(2);
  });

  it('ignores a release with no user left (a sprite disposed twice)', () => {
    const { cache, disposed, get } = labels(5);
    get('x');
    cache.release('x');
    cache.release('x');
    cache.release('never made');
    expect(cache.users('x')).toBe(0);
    expect(disposed).toEqual([]);
    expect(get('x').text).toBe('x');
    expect(cache.users('x')).toBe(1);
  });
});
