import { type BufferAttribute, BufferGeometry } from 'three';
import { describe, expect, it } from 'vitest';
import { CLASS_COLORS, colorFor, parseColor, srgbToLinear } from './colormaps';
import {
  SURFACE_HEIGHT,
  buildSurfaceArrays,
  createSurfaceGeometry,
  finiteExtent,
  nearestIndex,
  resolveZRange,
  surfaceFrame,
  surfaceIndices,
  updateSurfaceGeometry,
} from './mesh';
import { linspace, syntheticSurface } from './testGrids';

// A 3 × 2 grid: a ∈ {-1, 0, 1}, b ∈ {0, 2}; loss = a + b so the values are distinct.
const tiny = () =>
  syntheticSurface(linspace(-1, 1, 3), Float32Array.from([0, 2]), {
    margin: (a) => -a,
    loss: (a, b) => a + b,
    pred: (a) => (a < 0 ? 0 : 7),
  });

const vertex = (arr: Float32Array, p: number) => Array.from(arr.subarray(3 * p, 3 * p + 3));

describe('surface positions', () => {
  it('puts vertex j·Ga + i at (a[i], b[j]) on a square footprint, height through the z-range', () => {
    const s = tiny();
    const { positions, zRange } = buildSurfaceArrays(s, { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: null });
    expect(positions).toHaveLength(6 * 3);
    expect(zRange).toEqual([-1, 3]);
    // (a, b) = (-1, 0), loss -1 = bottom of the range: front-left corner on the base.
    expect(vertex(positions, 0)).toEqual([-1, 0, 1]);
    // (1, 0): front-right, loss 1 → half height.
    const p2 = vertex(positions, 2);
    expect(p2[0]).toBe(1);
    expect(p2[1]).toBeCloseTo(SURFACE_HEIGHT / 2, 6);
    expect(p2[2]).toBe(1);
    // (1, 2): back-right (b max → z = -1), loss 3 → top.
    const p5 = vertex(positions, 5);
    expect(p5[0]).toBe(1);
    expect(p5[1]).toBeCloseTo(SURFACE_HEIGHT, 6);
    expect(p5[2]).toBe(-1);
    // (0, 2) middle of the back row.
    expect(vertex(positions, 4)[0]).toBe(0);
  });

  it('clamps values outside a given z-range and maps the margin when asked', () => {
    const s = tiny();
    const { positions } = buildSurfaceArrays(s, { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: [0, 2] });
    const heights = Array.from({ length: 6 }, (_, p) => positions[3 * p + 1]);
    expect(Math.min(...heights)).toBe(0);
    expect(Math.max(...heights)).toBeCloseTo(SURFACE_HEIGHT, 6);
    // loss at (0, 0) is 0 = bottom of [0, 2]; at (-1, 2) is 1 → mid.
    expect(heights[1]).toBe(0);
    expect(heights[3]).toBeCloseTo(SURFACE_HEIGHT / 2, 6);
    const m = buildSurfaceArrays(s, { quantity: 'margin', colorBy: 'value', colormap: 'rdbu', zRange: null });
    // margin = -a: highest at a = -1.
    expect(m.positions[1]).toBeCloseTo(SURFACE_HEIGHT, 6);
    expect(m.positions[3 * 2 + 1]).toBe(0);
  });

  it('is robust to NaN and infinite values', () => {
    const s = tiny();
    s.loss[0] = NaN;
    s.loss[1] = Infinity;
    s.loss[2] = -Infinity;
    const { positions, colors, zRange } = buildSurfaceArrays(s, { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: null, colorSpace: 'srgb' });
    expect(zRange).toEqual([1, 3]);
    for (const v of positions) expect(Number.isFinite(v)).toBe(true);
    for (const v of colors) expect(Number.isFinite(v)).toBe(true);
    expect(positions[1]).toBe(0);
    expect(positions[4]).toBeCloseTo(SURFACE_HEIGHT, 6);
    expect(positions[7]).toBe(0);
    expect(vertex(colors, 0)).toEqual([0.5, 0.5, 0.5]);
  });
});

describe('surface colours', () => {
  it('follow the colour map over the z-range, in linear light for three.js', () => {
    const s = tiny();
    const opts = { quantity: 'loss', colorBy: 'value', colormap: 'magma', zRange: null } as const;
    const srgb = buildSurfaceArrays(s, { ...opts, colorSpace: 'srgb' }).colors;
    const lin = buildSurfaceArrays(s, opts).colors;
    for (let p = 0; p < 6; p++) {
      const want = colorFor(s.loss[p], [-1, 3], 'magma');
      const got = vertex(srgb, p);
      for (let c = 0; c < 3; c++) {
        expect(got[c]).toBeCloseTo(want[c], 5);
        expect(lin[3 * p + c]).toBeCloseTo(srgbToLinear(want[c]), 5);
      }
    }
  });

  it('show the predicted class when colouring by class', () => {
    const s = tiny();
    const { colors } = buildSurfaceArrays(s, { quantity: 'loss', colorBy: 'class', colormap: 'viridis', zRange: null, colorSpace: 'srgb' });
    const c0 = parseColor(CLASS_COLORS[0]);
    const c7 = parseColor(CLASS_COLORS[7]);
    vertex(colors, 0).forEach((v, c) => expect(v).toBeCloseTo(c0[c], 6));
    vertex(colors, 2).forEach((v, c) => expect(v).toBeCloseTo(c7[c], 6));
  });

  it('centre the diverging map on margin 0 (white)', () => {
    const s = tiny();
    const { colors } = buildSurfaceArrays(s, { quantity: 'margin', colorBy: 'value', colormap: 'rdbu', zRange: null, colorSpace: 'srgb' });
    // margin 0 at a = 0 (vertices 1 and 4).
    for (const p of [1, 4]) for (const v of vertex(colors, p)) expect(v).toBeGreaterThan(0.9);
    // positive margin (a = -1) blue, negative (a = 1) red.
    expect(colors[2]).toBeGreaterThan(colors[0]);
    expect(colors[6]).toBeGreaterThan(colors[8]);
  });
});

describe('triangle indices', () => {
  it('has two triangles per cell, all in range, facing up', () => {
    const idx = surfaceIndices(3, 2);
    expect(idx).toHaveLength((3 - 1) * (2 - 1) * 6);
    expect(Math.max(...idx)).toBe(5);
    expect(surfaceIndices(41, 41)).toHaveLength(40 * 40 * 6);
    expect(surfaceIndices(1, 5)).toHaveLength(0);
    const { positions } = buildSurfaceArrays(tiny(), { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: null });
    // Winding in the x–z plane (heights do not change which way the normal's y points).
    for (let t = 0; t < idx.length; t += 3) {
      const [p, q, r] = [idx[t], idx[t + 1], idx[t + 2]].map((k) => [positions[3 * k], positions[3 * k + 2]]);
      // y component of (q - p) × (r - p) in the x–z plane: z·x' − x·z'.
      const ny = (q[1] - p[1]) * (r[0] - p[0]) - (q[0] - p[0]) * (r[1] - p[1]);
      expect(ny).toBeGreaterThan(0);
    }
  });
});

describe('BufferGeometry', () => {
  it('is updated in place when the grid size is unchanged, refused otherwise', () => {
    const s = tiny();
    const opts = { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: [-1, 3] } as const;
    const g: BufferGeometry = createSurfaceGeometry(s, opts);
    expect(g.getIndex()!.count).toBe(12);
    const pos = g.getAttribute('position') as BufferAttribute;
    const arrayBefore = pos.array;
    const versionBefore = pos.version;
    const s2 = tiny();
    s2.loss.fill(3);
    expect(updateSurfaceGeometry(g, s2, opts)).toBe(true);
    expect(g.getAttribute('position')).toBe(pos);
    expect(pos.array).toBe(arrayBefore);
    expect(pos.version).toBeGreaterThan(versionBefore);
    expect(pos.getY(0)).toBeCloseTo(SURFACE_HEIGHT, 6);
    const bigger = syntheticSurface(linspace(-1, 1, 4), Float32Array.from([0, 2]), { margin: (a) => a });
    expect(updateSurfaceGeometry(g, bigger, opts)).toBe(false);
    expect(pos.getY(0)).toBeCloseTo(SURFACE_HEIGHT, 6);
    g.dispose();
  });

  it('rejects a surface whose arrays do not match its axes', () => {
    const s = tiny();
    s.loss = new Float32Array(5);
    expect(() => buildSurfaceArrays(s, { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: null })).toThrow(/loss/);
  });
});

describe('helpers', () => {
  it('resolveZRange: auto, given, reversed, degenerate', () => {
    expect(resolveZRange([1, NaN, 5, -Infinity], null)).toEqual([1, 5]);
    expect(resolveZRange([1, 5], [0, 10])).toEqual([0, 10]);
    expect(resolveZRange([1, 5], [10, 0])).toEqual([0, 10]);
    expect(resolveZRange([1, 5], [NaN, 3])).toEqual([1, 5]);
    expect(resolveZRange([2, 2], null)).toEqual([1.5, 2.5]);
    expect(resolveZRange([NaN], null)).toEqual([0, 1]);
    expect(finiteExtent([])).toBeNull();
  });

  it('surfaceFrame inverts itself and nearestIndex finds grid points', () => {
    const s = tiny();
    const f = surfaceFrame(s, [0, 4]);
    expect(f.a(f.x(0.37))).toBeCloseTo(0.37, 6);
    expect(f.b(f.z(1.3))).toBeCloseTo(1.3, 6);
    expect(f.value(f.y(2.5))).toBeCloseTo(2.5, 6);
    expect(nearestIndex(s.a, 0.4)).toBe(1);
    expect(nearestIndex(s.a, 0.6)).toBe(2);
    expect(nearestIndex(s.b, -5)).toBe(0);
  });
});
