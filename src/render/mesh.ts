/**
 * Surface geometry from a SurfaceResult: vertex positions, vertex colours and triangle indices
 * as plain typed arrays (pure, unit-tested in Node), plus the two three.js calls that put them
 * into a BufferGeometry (create once, then update in place while the grid size is unchanged).
 *
 * World frame (three.js, y up): the grid's a range maps to x ∈ [-1, 1] (a increasing to the
 * right), its b range to z ∈ [1, -1] (b increasing away from the default camera, so the plan
 * view reads like the 2D heatmap: a right, b up, and the scene is not mirrored), and the
 * plotted value to y ∈ [0, SURFACE_HEIGHT] through the z-range.
 */
import { BufferAttribute, BufferGeometry } from 'three';
import type { SurfaceResult } from '../engine/surface';
import { type ColormapName, classColor, normalize, sampleInto, srgbToLinear } from './colormaps';

/** Half the side of the square footprint in world units: the grid spans x, z ∈ [-1, 1]. */
export const HALF_FOOTPRINT = 1;
/**
 * Height of the z-range in world units (the footprint is 2 wide), chosen by eye: tall enough
 * that a steep rise along d1 reads as steep, low enough that the default view keeps the
 * axes' labels apart.
 */
export const SURFACE_HEIGHT = 1.1;

export type Quantity = 'loss' | 'margin';
export type ColorBy = 'value' | 'class';

export interface MeshOptions {
  /** Which grid gives the height (and the colour when colorBy is 'value'). */
  quantity: Quantity;
  colorBy: ColorBy;
  /** Colour map for colorBy 'value'; ignored for 'class'. */
  colormap: ColormapName;
  /**
   * [lo, hi] in the quantity's units mapped to heights 0..SURFACE_HEIGHT and to the colour
   * map's ends (a shared range for A/B comparison; values outside clamp), or null for the
   * finite min/max of this surface.
   */
  zRange: readonly [number, number] | null;
  /**
   * Colour encoding of the output: 'linear' (what three.js expects in a colour attribute,
   * the default) or 'srgb' (what a canvas or CSS expects).
   */
  colorSpace?: 'linear' | 'srgb';
}

/** Maps between grid coordinates (a, b, value) and world coordinates (x, z, y). */
export interface SurfaceFrame {
  aMin: number;
  aMax: number;
  bMin: number;
  bMax: number;
  zRange: [number, number];
  x(a: number): number;
  z(b: number): number;
  /** Height of a value, clamped to [0, SURFACE_HEIGHT]; NaN → 0, +Infinity → top. */
  y(v: number): number;
  a(x: number): number;
  b(z: number): number;
  /** The value at height y (inverse of `y` inside the range). */
  value(y: number): number;
}

/** The values of the chosen quantity, [Gb, Ga] row-major. */
export function quantityValues(surface: SurfaceResult, quantity: Quantity): Float32Array {
  return quantity === 'loss' ? surface.loss : surface.margin;
}

/** Smallest and largest finite value; null when there is none. */
export function finiteExtent(values: ArrayLike<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v < lo && Number.isFinite(v)) lo = v;
    if (v > hi && Number.isFinite(v)) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The z-range to draw with: `given` when it is a usable [lo, hi] (ends in either order),
 * otherwise the finite min/max of `values` (NaN and ±Infinity ignored). An empty range is
 * widened by 0.5 each side so a flat surface sits at mid-height; no finite data gives [0, 1].
 */
export function resolveZRange(values: ArrayLike<number>, given: readonly [number, number] | null): [number, number] {
  let range: [number, number] | null = null;
  if (given && Number.isFinite(given[0]) && Number.isFinite(given[1])) {
    range = [Math.min(given[0], given[1]), Math.max(given[0], given[1])];
  }
  range ??= finiteExtent(values) ?? [0, 1];
  if (range[1] - range[0] <= 0) return [range[0] - 0.5, range[1] + 0.5];
  return range;
}

function axisExtent(axis: ArrayLike<number>): [number, number] {
  const e = finiteExtent(axis) ?? [-1, 1];
  // A single column or row still needs a footprint: give it unit width around its value.
  return e[1] > e[0] ? e : [e[0] - 1, e[0] + 1];
}

/** The frame for a surface's axes and a value range (see the file comment). */
export function surfaceFrame(surface: Pick<SurfaceResult, 'a' | 'b'>, zRange: readonly [number, number]): SurfaceFrame {
  const [aMin, aMax] = axisExtent(surface.a);
  const [bMin, bMax] = axisExtent(surface.b);
  const [lo, hi] = zRange;
  const sa = (2 * HALF_FOOTPRINT) / (aMax - aMin);
  const sb = (2 * HALF_FOOTPRINT) / (bMax - bMin);
  const sz = SURFACE_HEIGHT / (hi - lo);
  return {
    aMin,
    aMax,
    bMin,
    bMax,
    zRange: [lo, hi],
    x: (a) => -HALF_FOOTPRINT + (a - aMin) * sa,
    z: (b) => HALF_FOOTPRINT - (b - bMin) * sb,
    y: (v) => {
      if (Number.isNaN(v)) return 0;
      return Math.min(SURFACE_HEIGHT, Math.max(0, (v - lo) * sz));
    },
    a: (x) => aMin + (x + HALF_FOOTPRINT) / sa,
    b: (z) => bMin + (HALF_FOOTPRINT - z) / sb,
    value: (y) => lo + y / sz,
  };
}

/**
 * Triangle indices for a Ga × Gb grid: two triangles per cell, wound counter-clockwise seen
 * from +y so the front faces (and computed normals) point up. Length 6 (Ga-1)(Gb-1).
 */
export function surfaceIndices(ga: number, gb: number): Uint32Array {
  const cells = Math.max(0, ga - 1) * Math.max(0, gb - 1);
  const out = new Uint32Array(cells * 6);
  let k = 0;
  for (let j = 0; j + 1 < gb; j++) {
    for (let i = 0; i + 1 < ga; i++) {
      const p00 = j * ga + i;
      const p10 = p00 + 1;
      const p01 = p00 + ga;
      const p11 = p01 + 1;
      out[k++] = p00;
      out[k++] = p10;
      out[k++] = p01;
      out[k++] = p10;
      out[k++] = p11;
      out[k++] = p01;
    }
  }
  return out;
}

export interface SurfaceArrays {
  /** Ga·Gb × (x, y, z), vertex j·Ga + i at (a[i], b[j]). */
  positions: Float32Array;
  /** Ga·Gb × (r, g, b) in opts.colorSpace (linear by default). */
  colors: Float32Array;
  /** The z-range actually used (resolved from opts.zRange). */
  zRange: [number, number];
  frame: SurfaceFrame;
}

function checkShape(surface: SurfaceResult): [number, number] {
  const ga = surface.a.length;
  const gb = surface.b.length;
  const n = ga * gb;
  for (const [name, arr] of [
    ['loss', surface.loss],
    ['margin', surface.margin],
    ['pred', surface.pred],
  ] as const) {
    if (arr.length !== n) throw new Error(`Surface ${name} has ${arr.length} values, expected ${ga}×${gb} = ${n}.`);
  }
  return [ga, gb];
}

/**
 * Fills vertex positions and colours for a surface, into `target` arrays when given (reused
 * across updates of the same grid size) or new ones. Colours follow the value through the
 * colour map (diverging maps centred on 0), or the predicted class; NaN values are grey and
 * sit on the base.
 */
export function fillSurfaceArrays(
  surface: SurfaceResult,
  opts: MeshOptions,
  target?: { positions: Float32Array; colors: Float32Array },
): SurfaceArrays {
  const [ga, gb] = checkShape(surface);
  const n = ga * gb;
  const values = quantityValues(surface, opts.quantity);
  const zRange = resolveZRange(values, opts.zRange);
  const frame = surfaceFrame(surface, zRange);
  const positions = target?.positions ?? new Float32Array(n * 3);
  const colors = target?.colors ?? new Float32Array(n * 3);
  if (positions.length !== n * 3 || colors.length !== n * 3) throw new Error('Target arrays do not match the grid size.');
  const linear = (opts.colorSpace ?? 'linear') === 'linear';
  const xs = Array.from(surface.a, (a) => frame.x(a));
  const zs = Array.from(surface.b, (b) => frame.z(b));
  for (let j = 0; j < gb; j++) {
    for (let i = 0; i < ga; i++) {
      const p = j * ga + i;
      const v = values[p];
      positions[3 * p] = xs[i];
      positions[3 * p + 1] = frame.y(v);
      positions[3 * p + 2] = zs[j];
      if (opts.colorBy === 'class') {
        const c = classColor(surface.pred[p]);
        colors[3 * p] = c[0];
        colors[3 * p + 1] = c[1];
        colors[3 * p + 2] = c[2];
      } else {
        sampleInto(opts.colormap, normalize(v, zRange, opts.colormap), colors, 3 * p);
      }
      if (linear) {
        colors[3 * p] = srgbToLinear(colors[3 * p]);
        colors[3 * p + 1] = srgbToLinear(colors[3 * p + 1]);
        colors[3 * p + 2] = srgbToLinear(colors[3 * p + 2]);
      }
    }
  }
  return { positions, colors, zRange, frame };
}

/** Positions, colours and indices for a new geometry. */
export function buildSurfaceArrays(surface: SurfaceResult, opts: MeshOptions): SurfaceArrays & { indices: Uint32Array } {
  return { ...fillSurfaceArrays(surface, opts), indices: surfaceIndices(surface.a.length, surface.b.length) };
}

/** Grid size a geometry was built for (kept in userData so updates can check it). */
interface GridTag {
  ga: number;
  gb: number;
}

/**
 * A new BufferGeometry for the surface (position, color, normal, index). The caller owns it
 * and must `dispose()` it.
 */
export function createSurfaceGeometry(surface: SurfaceResult, opts: MeshOptions): BufferGeometry {
  const arrays = buildSurfaceArrays(surface, opts);
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new BufferAttribute(arrays.positions, 3));
  geometry.setAttribute('color', new BufferAttribute(arrays.colors, 3));
  geometry.setIndex(new BufferAttribute(arrays.indices, 1));
  geometry.computeVertexNormals();
  geometry.computeBoundingSphere();
  geometry.computeBoundingBox();
  geometry.userData.grid = { ga: surface.a.length, gb: surface.b.length } satisfies GridTag;
  return geometry;
}

/**
 * Rewrites an existing surface geometry's positions, colours and normals in place (marking
 * them `needsUpdate`) when its grid size matches the surface. Returns false, touching
 * nothing, when the size differs: the caller then creates a new geometry and disposes the old.
 */
export function updateSurfaceGeometry(geometry: BufferGeometry, surface: SurfaceResult, opts: MeshOptions): boolean {
  const tag = geometry.userData.grid as GridTag | undefined;
  if (!tag || tag.ga !== surface.a.length || tag.gb !== surface.b.length) return false;
  const position = geometry.getAttribute('position') as BufferAttribute;
  const color = geometry.getAttribute('color') as BufferAttribute;
  fillSurfaceArrays(surface, opts, { positions: position.array as Float32Array, colors: color.array as Float32Array });
  position.needsUpdate = true;
  color.needsUpdate = true;
  geometry.computeVertexNormals();
  geometry.computeBoundingSphere();
  geometry.computeBoundingBox();
  return true;
}

/**
 * The grid point nearest to `v` on one axis (index into `axis`); axis values ascending or
 * descending. −1 for an empty axis.
 */
export function nearestIndex(axis: ArrayLike<number>, v: number): number {
  let best = -1;
  let bestD = Infinity;
  for (let k = 0; k < axis.length; k++) {
    const d = Math.abs(axis[k] - v);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/** The distinct predicted classes on a surface, ascending (for the class legend). */
export function presentClasses(pred: ArrayLike<number>): number[] {
  const seen = new Set<number>();
  for (let k = 0; k < pred.length; k++) seen.add(pred[k]);
  return [...seen].sort((x, y) => x - y);
}
