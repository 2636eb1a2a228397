import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { burstScheduler } from './burst';

/** A scheduler on a hand-moved clock, and the generations its runs were given. */
function setup(burstMs = 30) {
  let clock = 0;
  const runs: number[] = [];
  const s = burstScheduler((g) => runs.push(g), burstMs, () => clock);
  /** Moves the clock and the timers forward by `ms`, then lets queued microtasks run. */
  const advance = async (ms: number) => {
    clock += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };
  return { s, runs, advance };
}

describe('burstScheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs an isolated request at once, in a microtask, not synchronously', async () => {
    const { s, runs, advance } = setup();
    expect(s.request()).toBe(1);
    expect(runs).toEqual([]);
    await advance(0);
    expect(runs).toEqual([1]);
    // 100 ms later another isolated request: again at once.
    await advance(100);
    s.request();
    await advance(0);
    expect(runs).toEqual([1, 2]);
  });

  it('counts the requests of one synchronous piece of code as one run, with the last generation', async () => {
    const { s, runs, advance } = setup();
    s.request();
    s.request();
    s.request();
    await advance(0);
    expect(runs).toEqual([3]);
    expect(s.latest).toBe(3);
  });

  it('runs a burst (a drag: a request every 10 ms) once at its start and once when it pauses, not per request', async () => {
    const { s, runs, advance } = setup(30);
    for (let k = 0; k < 20; k++) {
      s.request();
      await advance(10);
    }
    // The first request ran at once; the 19 others were held while requests kept coming.
    expect(runs).toEqual([1]);
    // 30 ms after the last request the burst has paused: one run, with the latest generation.
    await advance(20);
    expect(runs).toEqual([1, 20]);
    await advance(1000);
    expect(runs).toEqual([1, 20]);
  });

  it('does not run a held burst early, and a request after the pause starts at once again', async () => {
    const { s, runs, advance } = setup(30);
    s.request();
    await advance(5);
    s.request(); // 5 ms later: part of a burst, held
    await advance(29);
    expect(runs).toEqual([1]);
    await advance(1);
    expect(runs).toEqual([1, 2]);
    await advance(200);
    s.request();
    await advance(0);
    expect(runs).toEqual([1, 2, 3]);
  });

  it('latest tells a finished run whether a newer request came after it started', async () => {
    const { s, runs, advance } = setup(30);
    s.request();
    await advance(0);
    const started = runs[0];
    expect(started === s.latest).toBe(true);
    await advance(10);
    s.request();
    expect(started === s.latest).toBe(false);
  });
});
