/**
 * Summary statistics for the metric: mean, sample standard deviation and the 95 % confidence
 * interval of the mean from Student's t distribution.
 */

/** Two-sided 97.5 % quantiles of Student's t for 1–30 degrees of freedom (standard tables). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * t_{0.975, df}: the table up to 30, then the Cornish–Fisher expansion around the normal
 * quantile 1.959964 (error < 1e-4 for df > 30).
 */
export function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= 30) return T975[Math.floor(df) - 1];
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df);
}

export interface Summary {
  /** Mean of the values. */
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); 0 for n = 1. */
  std: number;
  /** Half width of the 95 % CI of the mean; NaN when n < 2. */
  halfWidth: number;
  /** [mean - halfWidth, mean + halfWidth]. */
  ci95: [number, number];
  /** Number of values. */
  n: number;
}

/** Mean, std and 95 % CI of `values` (accumulated in float64). */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, halfWidth: Number.NaN, ci95: [Number.NaN, Number.NaN], n: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const halfWidth = n > 1 ? (tQuantile975(n - 1) * std) / Math.sqrt(n) : Number.NaN;
  return { mean, std, halfWidth, ci95: [mean - halfWidth, mean + halfWidth], n };
}
