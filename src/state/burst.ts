/**
 * Coalescing of config changes into runs of one job ("bring every result in line"), for the
 * lab's schedule(). Changes closer together than `burstMs` form a burst (a slider drag,
 * typing): the first change runs at once, the rest wait until the burst has paused that long,
 * so a drag does not start a job per pixel. An isolated change (a click on a sample) runs at
 * once, in a microtask, so the changes made by one synchronous piece of code count as one.
 */
export interface BurstScheduler {
  /** Asks for a run; returns this request's generation (1, 2, …). */
  request(): number;
  /** The generation of the latest request: a run may call itself the last while it equals this. */
  readonly latest: number;
}

/**
 * @param run called with the latest generation when a run starts; it reads the state itself,
 *   so a run covers every request made before it started.
 * @param burstMs gap below which requests belong to one burst.
 * @param now clock in milliseconds (performance.now by default; tests pass their own).
 */
export function burstScheduler(run: (generation: number) => void, burstMs: number, now: () => number = () => performance.now()): BurstScheduler {
  let scheduled: ReturnType<typeof setTimeout> | null = null;
  /** A leading run queued as a microtask and not started yet. */
  let leading = false;
  let generation = 0;
  let last = -Infinity;
  return {
    get latest() {
      return generation;
    },
    request() {
      const mine = ++generation;
      const t = now();
      const burst = t - last < burstMs;
      last = t;
      // A queued leading run has not started yet: it reads the state when it does.
      if (leading) return mine;
      if (scheduled) clearTimeout(scheduled);
      scheduled = null;
      if (!burst) {
        leading = true;
        queueMicrotask(() => {
          leading = false;
          run(generation);
        });
        return mine;
      }
      scheduled = setTimeout(() => {
        scheduled = null;
        run(generation);
      }, burstMs);
      return mine;
    },
  };
}
