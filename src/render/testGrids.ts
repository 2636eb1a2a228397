/**
 * Synthetic SurfaceResults from closed-form functions, for unit tests and the render demo:
 * no model, no tfjs.
 */
import type { SurfaceResult } from '../engine/surface';

/** `n` evenly spaced values from lo to hi inclusive (the middle one exactly 0 when symmetric). */
export function linspace(lo: number, hi: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = n === 1 ? lo : lo + ((hi - lo) * k) / (n - 1);
  if (n % 2 === 1 && lo === -hi) out[(n - 1) / 2] = 0;
  return out;
}

/**
 * A SurfaceResult on the grid a × b whose margin, loss and prediction are the given functions
 * of (a, b); confidence is a logistic of the margin.
 */
export function syntheticSurface(
  a: Float32Array,
  b: Float32Array,
  fn: { margin: (a: number, b: number) => number; loss?: (a: number, b: number) => number; pred?: (a: number, b: number, margin: number) => number },
): SurfaceResult {
  const ga = a.length;
  const gb = b.length;
  const loss = new Float32Array(ga * gb);
  const margin = new Float32Array(ga * gb);
  const pred = new Int32Array(ga * gb);
  const confidence = new Float32Array(ga * gb);
  for (let j = 0; j < gb; j++) {
    for (let i = 0; i < ga; i++) {
      const p = j * ga + i;
      const m = fn.margin(a[i], b[j]);
      margin[p] = m;
      loss[p] = fn.loss ? fn.loss(a[i], b[j]) : Math.log1p(Math.exp(-m));
      pred[p] = fn.pred ? fn.pred(a[i], b[j], m) : m > 0 ? 0 : 1;
      confidence[p] = 1 / (1 + Math.exp(-Math.abs(m)));
    }
  }
  return { a, b, loss, margin, pred, confidence, seconds: 0 };
}

/**
 * The render demo's surface: on a 41 × 41 grid over [-0.3, 0.3]², margin = 2 - 8a + 0.5 sin(6b)
 * (the boundary is a wavy line near a = 0.25), loss a softplus bowl that rises along a,
 * prediction 3 while the margin is positive and 5 after.
 */
export function demoSurface(n = 41, range = 0.3): SurfaceResult {
  const axis = linspace(-range, range, n);
  return syntheticSurface(axis, Float32Array.from(axis), {
    margin: (a, b) => 2 - 8 * a + 0.5 * Math.sin(6 * b),
    loss: (a, b) => softplus(-(2 - 8 * a + 0.5 * Math.sin(6 * b))) + 3 * b * b,
    pred: (_a, _b, m) => (m > 0 ? 3 : 5),
  });
}

function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}
