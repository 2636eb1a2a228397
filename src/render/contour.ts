/**
 * The decision boundary: the zero level set of the margin grid as polylines in (a, b) units,
 * from d3-contour's marching squares, plus helpers to read a grid between its samples.
 *
 * d3-contour's conventions (v4): the value at grid index (i, j) is the *centre* of the unit
 * pixel [i, i+1] × [j, j+1], so a sample sits at contour coordinate (i + 0.5, j + 0.5); and it
 * closes every ring along a frame half a pixel outside the samples (coordinate 0 or Ga on x,
 * 0 or Gb on y), treating the outside as below the threshold. We drop the frame pieces (they
 * are not part of the boundary) and map coordinates back to grid indices by subtracting 0.5.
 */
import { contours } from 'd3-contour';
import type { SurfaceResult } from '../engine/surface';
import type { SurfaceFrame } from './mesh';

/** A polyline of [a, b] points (input units). Closed loops repeat their first point at the end. */
export type Polyline = Array<[number, number]>;

/**
 * The position on an axis at a fractional index (linear between samples, clamped to the
 * ends), so non-uniform axes map correctly too.
 */
export function axisAt(axis: ArrayLike<number>, fi: number): number {
  const n = axis.length;
  if (n === 0) return NaN;
  if (n === 1 || fi <= 0) return axis[0];
  if (fi >= n - 1) return axis[n - 1];
  const k = Math.floor(fi);
  const f = fi - k;
  return axis[k] + f * (axis[k + 1] - axis[k]);
}

/**
 * The fractional index of `v` on a monotone (ascending or descending) axis, clamped to
 * [0, n - 1]: the inverse of `axisAt`.
 */
export function fractionalIndex(axis: ArrayLike<number>, v: number): number {
  const n = axis.length;
  if (n < 2) return 0;
  const asc = axis[n - 1] >= axis[0];
  const before = (x: number, y: number) => (asc ? x <= y : x >= y);
  if (before(v, axis[0])) return 0;
  if (before(axis[n - 1], v)) return n - 1;
  // Binary search for k with axis[k] ≤ v ≤ axis[k + 1] (ascending case).
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (before(axis[mid], v)) lo = mid;
    else hi = mid;
  }
  const d = axis[hi] - axis[lo];
  return d === 0 ? lo : lo + (v - axis[lo]) / d;
}

/**
 * Level-set polylines of a [gb, ga] row-major grid at `level`, in grid-index coordinates
 * [i, j] (i along the row, 0..ga-1). Values ≥ level count as above; NaN counts as below.
 * Lines that reach the grid's edge end on the outermost samples' row or column; loops
 * that close inside the grid repeat their first point.
 */
export function levelLines(values: ArrayLike<number>, ga: number, gb: number, level = 0): Polyline[] {
  if (ga < 2 || gb < 2 || values.length !== ga * gb) return [];
  const geometry = contours().size([ga, gb]).thresholds([level]).contour(Array.from(values), level);
  const onFrame = (p: [number, number]) => p[0] <= 0 || p[0] >= ga || p[1] <= 0 || p[1] >= gb;
  const toIndex = (p: [number, number]): [number, number] => [p[0] - 0.5, p[1] - 0.5];
  const out: Polyline[] = [];
  for (const polygon of geometry.coordinates) {
    for (const ringIn of polygon) {
      const ring = ringIn as Array<[number, number]>;
      // d3 closes rings by repeating the first point; work on the open cycle.
      const cycle = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1] ? ring.slice(0, -1) : ring.slice();
      const firstFrame = cycle.findIndex(onFrame);
      if (firstFrame < 0) {
        if (cycle.length >= 2) out.push([...cycle.map(toIndex), toIndex(cycle[0])]);
        continue;
      }
      // Walk the cycle starting on a frame point; every run of interior points is one line.
      let run: Polyline = [];
      for (let step = 1; step <= cycle.length; step++) {
        const p = cycle[(firstFrame + step) % cycle.length];
        if (onFrame(p)) {
          if (run.length >= 2) out.push(run);
          run = [];
        } else {
          run.push(toIndex(p));
        }
      }
      if (run.length >= 2) out.push(run);
    }
  }
  return out;
}

/**
 * The decision boundary of a surface, the set margin = 0, as polylines of [a, b] points in
 * input units (along d1, d2). Empty when the margin does not change sign on the grid (or
 * the grid has a single row or column).
 */
export function decisionBoundary(surface: Pick<SurfaceResult, 'a' | 'b' | 'margin'>, level = 0): Polyline[] {
  const ga = surface.a.length;
  const gb = surface.b.length;
  return levelLines(surface.margin, ga, gb, level).map((line) =>
    line.map(([fi, fj]) => [axisAt(surface.a, fi), axisAt(surface.b, fj)] as [number, number]),
  );
}

/**
 * Bilinear interpolation of a [gb, ga] row-major grid at fractional indices (fi, fj),
 * clamped to the grid. A NaN corner with non-zero weight gives NaN.
 */
export function sampleBilinear(values: ArrayLike<number>, ga: number, gb: number, fi: number, fj: number): number {
  const i = Math.min(Math.max(fi, 0), ga - 1);
  const j = Math.min(Math.max(fj, 0), gb - 1);
  const i0 = Math.min(Math.floor(i), Math.max(0, ga - 2));
  const j0 = Math.min(Math.floor(j), Math.max(0, gb - 2));
  const i1 = Math.min(i0 + 1, ga - 1);
  const j1 = Math.min(j0 + 1, gb - 1);
  const fx = i - i0;
  const fy = j - j0;
  const w = (v: number, weight: number) => (weight === 0 ? 0 : v * weight);
  return (
    w(values[j0 * ga + i0], (1 - fx) * (1 - fy)) +
    w(values[j0 * ga + i1], fx * (1 - fy)) +
    w(values[j1 * ga + i0], (1 - fx) * fy) +
    w(values[j1 * ga + i1], fx * fy)
  );
}

/** The value of a grid at (a, b) in input units, bilinear between samples. */
export function valueAt(surface: Pick<SurfaceResult, 'a' | 'b'>, values: ArrayLike<number>, a: number, b: number): number {
  return sampleBilinear(values, surface.a.length, surface.b.length, fractionalIndex(surface.a, a), fractionalIndex(surface.b, b));
}

/**
 * Lifts a polyline of [a, b] points onto the drawn surface: world (x, y, z) triples on the
 * height of the bilinearly interpolated value, moved `lift` world units off the surface so a
 * line drawn on it is not hidden in it. The offset is along the surface normal (estimated by
 * central differences half a grid cell wide), so on a steep wall the line steps out of the
 * wall instead of sliding up inside it; `alongNormal: false` lifts straight up instead.
 * Returns 3 × points.length floats.
 */
export function liftPolyline(
  line: Polyline,
  surface: Pick<SurfaceResult, 'a' | 'b'>,
  values: ArrayLike<number>,
  frame: SurfaceFrame,
  lift = 0,
  alongNormal = true,
): Float32Array {
  const out = new Float32Array(line.length * 3);
  const ga = surface.a.length;
  const gb = surface.b.length;
  const da = ga > 1 ? Math.abs(frame.aMax - frame.aMin) / (ga - 1) / 2 : 0;
  const db = gb > 1 ? Math.abs(frame.bMax - frame.bMin) / (gb - 1) / 2 : 0;
  const h = (a: number, b: number) => frame.y(valueAt(surface, values, a, b));
  line.forEach(([a, b], k) => {
    let nx = 0;
    let ny = 1;
    let nz = 0;
    if (alongNormal && lift !== 0 && da > 0 && db > 0) {
      const a0 = Math.max(frame.aMin, a - da);
      const a1 = Math.min(frame.aMax, a + da);
      const b0 = Math.max(frame.bMin, b - db);
      const b1 = Math.min(frame.bMax, b + db);
      const dhdx = (h(a1, b) - h(a0, b)) / (frame.x(a1) - frame.x(a0) || 1);
      const dhdz = (h(a, b1) - h(a, b0)) / (frame.z(b1) - frame.z(b0) || 1);
      // The height field y = h(x, z) has normal (−∂h/∂x, 1, −∂h/∂z).
      const n = Math.hypot(dhdx, 1, dhdz);
      if (Number.isFinite(n)) {
        nx = -dhdx / n;
        ny = 1 / n;
        nz = -dhdz / n;
      }
    }
    out[3 * k] = frame.x(a) + lift * nx;
    out[3 * k + 1] = h(a, b) + lift * ny;
    out[3 * k + 2] = frame.z(b) + lift * nz;
  });
  return out;
}
