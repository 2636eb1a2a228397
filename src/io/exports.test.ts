import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { SurfaceResult } from '../engine/surface';
import { GRID_LAYOUT, surfaceCsv, surfaceJson, surfaceNpyZip, type SurfaceMeta } from './exports';
import { parseNpy } from './npy';

/** A 3 × 2 grid (Ga = 3 columns of a, Gb = 2 rows of b) with awkward float32 values. */
const s: SurfaceResult = {
  a: Float32Array.from([-0.3, 0, 0.3]),
  b: Float32Array.from([-0.1, 0.1]),
  loss: Float32Array.from([0.1, 1 / 3, 2e-8, 12.5, Math.PI, 7]),
  margin: Float32Array.from([5, 1e-7, -2, -0.5, 0, 3]),
  pred: Int32Array.from([1, 1, 3, 3, 1, 1]),
  confidence: Float32Array.from([0.99, 0.5, 0.8, 0.7, 0.51, 0.999999]),
  seconds: 0.1,
};
const meta: SurfaceMeta = {
  ravineVersion: '0.1.0',
  tfjsVersion: '4.22.0',
  backend: 'wasm',
  model: { name: 'm', sha256: 'ab' },
  sample: { id: 'mnist:0', label: 1 },
  directions: { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false, d1Source: 'cross-entropy' },
  range: 0.3,
  rangeB: 0.1,
  layout: GRID_LAYOUT,
  inputShape: [2, 1],
};

describe('surface exports', () => {
  it('CSV has one row per grid point, b outer and a inner, and reads back to the same float32 values', () => {
    const lines = surfaceCsv(s).trim().split('\n');
    expect(lines[0]).toBe('a,b,loss,margin,pred,confidence');
    expect(lines).toHaveLength(1 + 6);
    const cells = lines.slice(1).map((l) => l.split(','));
    cells.forEach((c, p) => {
      expect(Math.fround(Number(c[0]))).toBe(s.a[p % 3]);
      expect(Math.fround(Number(c[1]))).toBe(s.b[Math.floor(p / 3)]);
      expect(Math.fround(Number(c[2]))).toBe(s.loss[p]);
      expect(Math.fround(Number(c[3]))).toBe(s.margin[p]);
      expect(Number(c[4])).toBe(s.pred[p]);
      expect(Math.fround(Number(c[5]))).toBe(s.confidence[p]);
    });
  });

  it('JSON holds the metadata and Gb rows of Ga values', () => {
    const j = JSON.parse(surfaceJson(s, meta)) as { meta: SurfaceMeta; loss: number[][]; pred: number[][] };
    expect(j.meta).toEqual(meta);
    expect(j.loss).toHaveLength(2);
    expect(j.loss[1]).toHaveLength(3);
    expect(Math.fround(j.loss[1][1])).toBe(s.loss[4]);
    expect(j.pred).toEqual([
      [1, 1, 3],
      [3, 1, 1],
    ]);
  });

  it('the .npy zip holds every array with its stated shape and dtype', () => {
    const files = unzipSync(surfaceNpyZip(s, Float32Array.from([0.2, 0.4]), Float32Array.from([1, -1]), Float32Array.from([-1, 1]), meta));
    expect(Object.keys(files).sort()).toEqual(['a.npy', 'b.npy', 'confidence.npy', 'd1.npy', 'd2.npy', 'loss.npy', 'margin.npy', 'meta.json', 'pred.npy', 'x.npy']);
    const loss = parseNpy(files['loss.npy']);
    expect(loss.shape).toEqual([2, 3]);
    expect(Array.from(loss.data)).toEqual(Array.from(s.loss));
    expect(parseNpy(files['pred.npy'])).toMatchObject({ dtype: 'int32', shape: [2, 3] });
    expect(parseNpy(files['d1.npy']).shape).toEqual([2, 1]);
    expect(JSON.parse(new TextDecoder().decode(files['meta.json']))).toEqual(meta);
  });
});
