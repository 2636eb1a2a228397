import { describe, expect, it } from 'vitest';
import { axisAt, decisionBoundary, fractionalIndex, levelLines, liftPolyline, sampleBilinear, valueAt } from './contour';
import { SURFACE_HEIGHT, surfaceFrame } from './mesh';
import { linspace, syntheticSurface } from './testGrids';

const axis = linspace(-0.3, 0.3, 41);
const cell = 0.6 / 40;

function allPoints(lines: Array<Array<[number, number]>>): Array<[number, number]> {
  return lines.flat();
}

describe('decisionBoundary', () => {
  it('finds the vertical line a = 0.1 of m(a, b) = a - 0.1, spanning the grid in b', () => {
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a) => a - 0.1 });
    const lines = decisionBoundary(s);
    expect(lines).toHaveLength(1);
    const pts = allPoints(lines);
    expect(pts.length).toBeGreaterThanOrEqual(41);
    for (const [a] of pts) expect(Math.abs(a - 0.1)).toBeLessThanOrEqual(cell / 2);
    const bs = pts.map((p) => p[1]);
    // The line runs from the first row of samples to the last: no frame pieces, no gap.
    expect(Math.min(...bs)).toBeCloseTo(-0.3, 5);
    expect(Math.max(...bs)).toBeCloseTo(0.3, 5);
    for (const [, b] of pts) {
      expect(b).toBeGreaterThanOrEqual(-0.3 - 1e-6);
      expect(b).toBeLessThanOrEqual(0.3 + 1e-6);
    }
  });

  it('is exact for a boundary between samples (linear interpolation), off the sample grid', () => {
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a) => a - 0.1037 });
    for (const [a] of allPoints(decisionBoundary(s))) expect(a).toBeCloseTo(0.1037, 5);
  });

  it('keeps a and b apart: m = b + 0.05 gives the horizontal line b = -0.05 on a non-square grid', () => {
    const a = linspace(-1, 1, 11);
    const b = linspace(-0.2, 0.2, 31);
    const s = syntheticSurface(a, b, { margin: (_a, bb) => bb + 0.05 });
    const lines = decisionBoundary(s);
    expect(lines).toHaveLength(1);
    const pts = allPoints(lines);
    for (const [, bb] of pts) expect(bb).toBeCloseTo(-0.05, 5);
    const as = pts.map((p) => p[0]);
    expect(Math.min(...as)).toBeCloseTo(-1, 5);
    expect(Math.max(...as)).toBeCloseTo(1, 5);
  });

  it('follows a diagonal boundary to within a cell', () => {
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a, b) => 0.05 - a - b });
    const lines = decisionBoundary(s);
    expect(lines).toHaveLength(1);
    for (const [a, b] of lines[0]) expect(Math.abs(a + b - 0.05)).toBeLessThanOrEqual(cell / 2);
  });

  it('returns a closed loop for a boundary inside the grid', () => {
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a, b) => a * a + b * b - 0.15 ** 2 });
    const lines = decisionBoundary(s);
    expect(lines).toHaveLength(1);
    const loop = lines[0];
    expect(loop[0]).toEqual(loop[loop.length - 1]);
    for (const [a, b] of loop) expect(Math.abs(Math.hypot(a, b) - 0.15)).toBeLessThan(cell / 2);
  });

  it('splits a boundary that leaves and re-enters the grid into separate lines', () => {
    // Two vertical lines a = ±0.2: the correct region is the band between them.
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a) => 0.2 - Math.abs(a) });
    const lines = decisionBoundary(s);
    expect(lines).toHaveLength(2);
    const centres = lines.map((l) => l.reduce((acc, p) => acc + p[0], 0) / l.length).sort((x, y) => x - y);
    expect(centres[0]).toBeCloseTo(-0.2, 2);
    expect(centres[1]).toBeCloseTo(0.2, 2);
  });

  it('gives no lines when the margin does not change sign (or is NaN)', () => {
    expect(decisionBoundary(syntheticSurface(axis, Float32Array.from(axis), { margin: (a, b) => 3 + a + b }))).toEqual([]);
    expect(decisionBoundary(syntheticSurface(axis, Float32Array.from(axis), { margin: (a, b) => -3 + a + b }))).toEqual([]);
    expect(decisionBoundary(syntheticSurface(axis, Float32Array.from(axis), { margin: () => NaN }))).toEqual([]);
    expect(decisionBoundary(syntheticSurface(axis, Float32Array.from([0]), { margin: (a) => a }))).toEqual([]);
  });
});

describe('levelLines', () => {
  it('works in grid-index coordinates (sample (i, j) at [i, j])', () => {
    // 5 × 3 grid, values = i - 1.5: level 0 between columns 1 and 2.
    const v = Array.from({ length: 15 }, (_, p) => (p % 5) - 1.5);
    const lines = levelLines(v, 5, 3, 0);
    expect(lines).toHaveLength(1);
    for (const [i, j] of lines[0]) {
      expect(i).toBeCloseTo(1.5, 9);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThanOrEqual(2);
    }
  });
});

describe('grid sampling', () => {
  it('axisAt and fractionalIndex are inverse, clamped, on uniform and non-uniform axes', () => {
    const u = linspace(-0.3, 0.3, 7);
    expect(axisAt(u, 3)).toBe(0);
    expect(axisAt(u, 0.5)).toBeCloseTo(-0.25, 6);
    expect(fractionalIndex(u, -0.25)).toBeCloseTo(0.5, 5);
    expect(fractionalIndex(u, 9)).toBe(6);
    expect(fractionalIndex(u, -9)).toBe(0);
    const nu = Float32Array.from([0, 1, 4, 10]);
    expect(fractionalIndex(nu, 7)).toBeCloseTo(2.5, 9);
    expect(axisAt(nu, 2.5)).toBeCloseTo(7, 9);
    const desc = Float32Array.from([3, 2, 1]);
    expect(fractionalIndex(desc, 1.5)).toBeCloseTo(1.5, 9);
  });

  it('bilinear interpolation reproduces a bilinear function exactly', () => {
    const a = linspace(0, 1, 5);
    const b = linspace(0, 2, 3);
    const f = (x: number, y: number) => 1 + 2 * x - y + 0.5 * x * y;
    const s = syntheticSurface(a, b, { margin: f });
    for (const [x, y] of [
      [0.1, 0.3],
      [0.55, 1.7],
      [1, 2],
      [0, 0],
    ]) {
      expect(valueAt(s, s.margin, x, y)).toBeCloseTo(f(x, y), 5);
    }
    expect(sampleBilinear([1, 2, 3, 4], 2, 2, 0.5, 0.5)).toBeCloseTo(2.5, 12);
    // A NaN corner with zero weight does not poison the result.
    expect(sampleBilinear([1, NaN, 3, 4], 2, 2, 0, 1)).toBe(3);
  });

  it('lifts boundary points onto the surface height (plus an offset)', () => {
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a) => a - 0.1, loss: (a) => 10 * a });
    const frame = surfaceFrame(s, [-3, 3]);
    const line = decisionBoundary(s)[0];
    const xyz = liftPolyline(line, s, s.loss, frame, 0.01, false);
    expect(xyz).toHaveLength(line.length * 3);
    for (let k = 0; k < line.length; k++) {
      expect(xyz[3 * k]).toBeCloseTo(frame.x(line[k][0]), 5);
      expect(xyz[3 * k + 2]).toBeCloseTo(frame.z(line[k][1]), 5);
      // loss at a = 0.1 is 1, i.e. 4/6 of the way up [-3, 3].
      expect(xyz[3 * k + 1]).toBeCloseTo((4 / 6) * SURFACE_HEIGHT + 0.01, 3);
    }
  });

  it('offsets along the surface normal by default (out of a steep wall, not up inside it)', () => {
    // loss = 10a: in world units the slope is ∂y/∂x = (10 · 0.3 / 1) · SURFACE_HEIGHT / 6.
    const s = syntheticSurface(axis, Float32Array.from(axis), { margin: (a) => a - 0.1, loss: (a) => 10 * a });
    const frame = surfaceFrame(s, [-3, 3]);
    const line = decisionBoundary(s)[0];
    const lift = 0.05;
    const xyz = liftPolyline(line, s, s.loss, frame, lift);
    const slope = (10 * 0.3 * SURFACE_HEIGHT) / 6;
    const n = Math.hypot(slope, 1);
    const k = Math.floor(line.length / 2);
    expect(xyz[3 * k] - frame.x(line[k][0])).toBeCloseTo((-slope / n) * lift, 3);
    expect(xyz[3 * k + 1] - frame.y(valueAt(s, s.loss, line[k][0], line[k][1]))).toBeCloseTo(lift / n, 3);
    expect(xyz[3 * k + 2] - frame.z(line[k][1])).toBeCloseTo(0, 4);
  });
});
