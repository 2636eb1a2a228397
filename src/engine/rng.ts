/**
 * Seeded pseudo-random numbers in plain JavaScript.
 *
 * Directions and PGD random starts are drawn here rather than with tf.random* so that the
 * same seed gives bit-identical numbers on every backend (webgl, wasm, cpu), in a worker, on
 * the main thread and in Node: the only arithmetic is 32-bit integer math and V8's Math.log /
 * Math.cos, which are the same code in Node and Chromium.
 */

/** A stream of uniform numbers in [0, 1). */
export interface Rng {
  /** Next uniform number in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Next standard normal number (Box–Muller, mean 0, variance 1). */
  normal(): number;
}

/**
 * Folds an arbitrary seed (any finite number, or a string) into a 32-bit state with a
 * splitmix-style avalanche, so that nearby seeds (0, 1, 2…) give unrelated streams.
 */
export function hashSeed(seed: number | string): number {
  let h = 0x9e3779b9;
  const text = typeof seed === 'number' ? String(Math.trunc(seed)) : seed;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * mulberry32: a tiny, well-distributed 32-bit generator (period 2^32), plenty for
 * directions of a few hundred thousand entries. `stream` separates independent draws that
 * share one user-facing seed (e.g. d2 versus PGD starts).
 */
export function createRng(seed: number | string, stream: number | string = 0): Rng {
  let state = hashSeed(`${seed}/${stream}`);
  let spare: number | null = null;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // 1 - u keeps the argument of log in (0, 1].
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { next, normal };
}

/** `n` entries, each +1 or -1 with equal chance. */
export function rademacher(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() < 0.5 ? -1 : 1;
  return out;
}

/** `n` standard normal entries. */
export function gaussian(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** `n` entries uniform in [lo, hi). */
export function uniform(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  const w = hi - lo;
  for (let i = 0; i < n; i++) out[i] = lo + w * rng.next();
  return out;
}
