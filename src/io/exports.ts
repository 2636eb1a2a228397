/**
 * The numbers behind a surface, as files: CSV and JSON of the grid, and a zip of .npy arrays
 * (grids, directions, the clean input) with the metadata that rebuilds them.
 */
import { zipSync } from 'fflate';
import type { SurfaceResult } from '../engine/surface';
import { writeNpy } from './npy';

/** Everything needed to know what a grid is and to recompute it. */
export interface SurfaceMeta {
  ravineVersion: string;
  tfjsVersion: string;
  backend: string;
  model: { name: string; id?: string; sha256: string };
  sample: { id: string; label: number };
  directions: { adversarial: string; random: string; seed: number; orthogonal: boolean; d1Source: string };
  range: number;
  rangeB: number;
  /** The quantity on screen when exported (every quantity is in the file either way). */
  quantity?: 'loss' | 'margin';
  /** Row-major orientation of every grid array. */
  layout: string;
  inputShape: number[];
}

export const GRID_LAYOUT = 'row j is b[j], column i is a[i]; flat index j * Ga + i';

/** A float32 value with 9 significant digits: enough to read back the identical float32. */
function f32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return String(Number(v.toPrecision(9)));
}

/** CSV with one row per grid point (b outer, a inner) and a header line. */
export function surfaceCsv(s: SurfaceResult): string {
  const ga = s.a.length;
  const lines = ['a,b,loss,margin,pred,confidence'];
  for (let j = 0; j < s.b.length; j++) {
    for (let i = 0; i < ga; i++) {
      const p = j * ga + i;
      lines.push(`${f32(s.a[i])},${f32(s.b[j])},${f32(s.loss[p])},${f32(s.margin[p])},${s.pred[p]},${f32(s.confidence[p])}`);
    }
  }
  return lines.join('\n') + '\n';
}

const rows = (v: ArrayLike<number>, ga: number, gb: number): number[][] =>
  Array.from({ length: gb }, (_, j) => Array.from({ length: ga }, (_, i) => Number(f32(v[j * ga + i]))));

/** JSON: the metadata, the axes, and every quantity as Gb rows of Ga values. */
export function surfaceJson(s: SurfaceResult, meta: SurfaceMeta): string {
  const ga = s.a.length;
  const gb = s.b.length;
  return JSON.stringify({
    meta,
    a: Array.from(s.a, (v) => Number(f32(v))),
    b: Array.from(s.b, (v) => Number(f32(v))),
    loss: rows(s.loss, ga, gb),
    margin: rows(s.margin, ga, gb),
    pred: rows(s.pred, ga, gb),
    confidence: rows(s.confidence, ga, gb),
  });
}

/**
 * A zip of .npy files: loss, margin, confidence (float32 [Gb, Ga]), pred (int32 [Gb, Ga]),
 * a and b (float32), x, d1, d2 (float32, the model's input shape) and meta.json.
 */
export function surfaceNpyZip(s: SurfaceResult, x: Float32Array, d1: Float32Array, d2: Float32Array, meta: SurfaceMeta): Uint8Array {
  const grid = [s.b.length, s.a.length];
  const shape = meta.inputShape;
  return zipSync({
    'loss.npy': writeNpy({ dtype: 'float32', shape: grid, data: s.loss }),
    'margin.npy': writeNpy({ dtype: 'float32', shape: grid, data: s.margin }),
    'confidence.npy': writeNpy({ dtype: 'float32', shape: grid, data: s.confidence }),
    'pred.npy': writeNpy({ dtype: 'int32', shape: grid, data: s.pred }),
    'a.npy': writeNpy({ dtype: 'float32', shape: [s.a.length], data: s.a }),
    'b.npy': writeNpy({ dtype: 'float32', shape: [s.b.length], data: s.b }),
    'x.npy': writeNpy({ dtype: 'float32', shape, data: x }),
    'd1.npy': writeNpy({ dtype: 'float32', shape, data: d1 }),
    'd2.npy': writeNpy({ dtype: 'float32', shape, data: d2 }),
    'meta.json': new TextEncoder().encode(JSON.stringify(meta, null, 1)),
  });
}
