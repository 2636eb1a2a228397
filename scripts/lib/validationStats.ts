/**
 * Small statistics for the evidence study (scripts/validate.ts): rank correlation, spreads,
 * and the two read-outs of a surface grid that the surfaces section tabulates. Plain numbers
 * in, plain numbers out; no tensors.
 */

/**
 * Ranks 1..n of `values`, ties sharing the average of the ranks they span (the "fractional"
 * ranking Spearman's coefficient needs when several models have the same accuracy, e.g. 0 %).
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const ranks = new Array<number>(values.length);
  let k = 0;
  while (k < order.length) {
    let end = k;
    while (end + 1 < order.length && order[end + 1][0] === order[k][0]) end++;
    // Positions k..end (0-based) hold ranks k+1..end+1; each gets their mean.
    const rank = (k + end + 2) / 2;
    for (let j = k; j <= end; j++) ranks[order[j][1]] = rank;
    k = end + 1;
  }
  return ranks;
}

/** Pearson's correlation of two equally long lists; NaN when either is constant or n < 2. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} vs ${y.length} values`);
  const n = x.length;
  if (n < 2) return Number.NaN;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's rank correlation ρ: Pearson's correlation of the average ranks (so ties are
 * handled exactly, not with the 1 − 6Σd²/(n(n²−1)) shortcut that assumes none).
 * NaN when either list is constant or has fewer than 2 values.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} vs ${y.length} values`);
  return pearson(averageRanks(x), averageRanks(y));
}

/** Spread of a list of measurements relative to its mean. */
export interface RelativeSpread {
  mean: number;
  min: number;
  max: number;
  /** Population standard deviation (the settings are the whole population, not a sample). */
  std: number;
  /** (max − min) / |mean|; NaN when the mean is 0. */
  relRange: number;
  /** std / |mean| (coefficient of variation); NaN when the mean is 0. */
  cv: number;
}

export function relativeSpread(values: readonly number[]): RelativeSpread {
  const n = values.length;
  if (n === 0) return { mean: NaN, min: NaN, max: NaN, std: NaN, relRange: NaN, cv: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
  const m = Math.abs(mean);
  return { mean, min, max, std, relRange: m > 0 ? (max - min) / m : NaN, cv: m > 0 ? std / m : NaN };
}

/** Median of the finite values (NaN when there are none). */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Where the margin along +d1 first reaches zero. */
export type Crossing =
  | { kind: 'crosses'; a: number }
  /** The margin stays positive up to the grid's largest a. */
  | { kind: 'beyond'; range: number }
  /** The clean input (a = 0) is already misclassified. */
  | { kind: 'misclassified' };

/**
 * The first a ≥ 0 at which `margin` (values at increasing coefficients `a`, which must
 * contain 0) reaches zero, linearly interpolated between the two grid points around the sign
 * change.
 */
export function firstZeroCrossing(a: ArrayLike<number>, margin: ArrayLike<number>): Crossing {
  let i0 = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) {
      i0 = i;
      break;
    }
  }
  if (i0 < 0) throw new Error('firstZeroCrossing: the axis has no a = 0');
  if (!(margin[i0] > 0)) return { kind: 'misclassified' };
  for (let i = i0 + 1; i < a.length; i++) {
    if (margin[i] <= 0) {
      const m0 = margin[i - 1];
      const m1 = margin[i];
      const t = m0 / (m0 - m1);
      return { kind: 'crosses', a: a[i - 1] + t * (a[i] - a[i - 1]) };
    }
  }
  return { kind: 'beyond', range: a[a.length - 1] };
}

/**
 * Largest value of a row-major [Gb, Ga] grid over the points with |a| ≤ eps and |b| ≤ eps
 * (a tiny relative slack keeps float32 grid coordinates such as 0.30000001 inside).
 */
export function maxInBox(a: ArrayLike<number>, b: ArrayLike<number>, values: ArrayLike<number>, eps: number): number {
  const lim = eps * (1 + 1e-6);
  let best = -Infinity;
  for (let j = 0; j < b.length; j++) {
    if (Math.abs(b[j]) > lim) continue;
    for (let i = 0; i < a.length; i++) {
      if (Math.abs(a[i]) > lim) continue;
      const v = values[j * a.length + i];
      if (v > best) best = v;
    }
  }
  return best;
}
