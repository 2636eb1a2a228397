/**
 * Axis ticks shared by the 3D axes and the SVG plots: "nice" round values (1, 2, 2.5, 5 × 10^k)
 * inside a range, and one number format per axis so every label has the same decimals.
 */

/** Step multipliers tried per decade, the classic 1-2-5 series plus 2.5 for quarter steps. */
const NICE_STEPS = [1, 2, 2.5, 5, 10];

/**
 * Round step size for about `count` intervals over `span` (> 0): the smallest 1/2/2.5/5 × 10^k
 * not below span / count.
 */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of NICE_STEPS) {
    // The 1e-6 slack keeps float32 ranges (0.6000000238 / 6) from choosing the next step up.
    if (m * power >= raw * (1 - 1e-6)) return m * power;
  }
  return 10 * power;
}

/**
 * About `count` round tick values inside [min, max] (both ends inclusive; the order of min
 * and max does not matter). Returns [] for non-finite input and the single value for an empty
 * range. Values are snapped so that 0.1 + 0.2 prints as 0.3 and 0 is exactly 0, never -0.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  let lo = Math.min(min, max);
  let hi = Math.max(min, max);
  if (lo === hi) return [lo === 0 ? 0 : lo];
  const step = niceStep(hi - lo, count);
  const decimals = stepDecimals(step);
  // Tolerate range ends that miss a tick by float noise (e.g. -0.30000001 from Float32Array).
  const eps = step * 1e-6;
  lo -= eps;
  hi += eps;
  const first = Math.ceil(lo / step);
  const last = Math.floor(hi / step);
  const out: number[] = [];
  for (let k = first; k <= last; k++) {
    const v = Number((k * step).toFixed(decimals));
    out.push(v === 0 ? 0 : v);
  }
  return out;
}

/** Decimals needed to print multiples of `step` exactly (0.25 → 2, 0.1 → 1, 5 → 0). */
export function stepDecimals(step: number): number {
  if (!Number.isFinite(step) || step <= 0) return 0;
  for (let d = 0; d <= 12; d++) {
    const scaled = step * Math.pow(10, d);
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

/**
 * A formatter for one axis' ticks: the same number of decimals for every label (taken from
 * the spacing of the ticks), a true minus sign (U+2212) as typeset figures use, and
 * exponent notation when the magnitudes are very large or very small.
 */
export function tickFormatter(ticks: readonly number[]): (v: number) => string {
  const finite = ticks.filter(Number.isFinite);
  const maxAbs = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let step = Infinity;
  for (let k = 1; k < finite.length; k++) step = Math.min(step, Math.abs(finite[k] - finite[k - 1]));
  if (!Number.isFinite(step) || step === 0) step = maxAbs || 1;
  const useExp = maxAbs >= 1e5 || (maxAbs > 0 && maxAbs < 1e-3);
  const decimals = stepDecimals(step);
  // Mantissa decimals for exponent notation: those of the step in units of the largest power.
  const expDecimals = useExp ? Math.min(3, stepDecimals(step / Math.pow(10, Math.floor(Math.log10(maxAbs))))) : 0;
  return (v: number) => {
    if (!Number.isFinite(v)) return String(v);
    const text = useExp ? v.toExponential(expDecimals) : v.toFixed(decimals);
    // "-0.0" after rounding is still zero.
    const clean = /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
    return clean.replace('-', '\u2212');
  };
}

/** Formats a single value with a sensible precision (hover read-outs, colour bar ends). */
export function formatValue(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const abs = Math.abs(v);
  const text = abs >= 1e5 || abs < 1e-3 ? v.toExponential(digits - 1) : Number(v.toPrecision(digits)).toString();
  return text.replace('-', '\u2212');
}
