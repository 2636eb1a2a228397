/** Pure helpers for the SVG plots: linear scales, path data, heatmap pixels and 1D slices. */
import { encode as encodePng } from 'fast-png';
import type { SurfaceResult } from '../engine/surface';
import { bytesToBase64 } from '../io/base64';
import { type ColormapName, classColor, normalize, sampleInto } from './colormaps';
import { type ColorBy, type Quantity, finiteExtent, nearestIndex, quantityValues, resolveZRange } from './mesh';


/** A linear map from [d0, d1] to [r0, r1] with its inverse. */
export interface Scale {
  (v: number): number;
  invert(p: number): number;
  domain: [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = ((v: number) => r0 + (v - d0) * k) as Scale;
  f.invert = (p: number) => (k === 0 ? d0 : d0 + (p - r0) / k);
  f.domain = [d0, d1];
  return f;
}

/** SVG path data for polylines of [x, y] pixel points ("M … L …" per line). */
export function pathData(lines: Array<Array<[number, number]>>): string {
  return lines
    .filter((l) => l.length >= 2)
    .map((l) => l.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${x.toFixed(2)} ${y.toFixed(2)}`).join(''))
    .join('');
}

/**
 * Splits a series at non-finite values into pixel polylines (a NaN or an infinite loss is a
 * gap, not a line to zero). With `clampY`, finite values outside the y domain are clamped.
 */
export function seriesLines(xs: ArrayLike<number>, ys: ArrayLike<number>, sx: Scale, sy: Scale, clampY = false): Array<Array<[number, number]>> {
  const [y0, y1] = sy.domain;
  const lo = Math.min(y0, y1);
  const hi = Math.max(y0, y1);
  const out: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> = [];
  for (let k = 0; k < xs.length; k++) {
    let y = ys[k];
    if (!Number.isFinite(y) || !Number.isFinite(xs[k])) {
      if (run.length) out.push(run);
      run = [];
      continue;
    }
    if (clampY) y = Math.min(hi, Math.max(lo, y));
    run.push([sx(xs[k]), sy(y)]);
  }
  if (run.length) out.push(run);
  return out;
}

export interface HeatmapOptions {
  quantity: Quantity;
  colorBy: ColorBy;
  colormap: ColormapName;
  zRange: readonly [number, number] | null;
}

/**
 * RGBA pixels of the heatmap image, one pixel per grid point, Ga wide and Gb tall, with b
 * increasing upwards: image row r holds grid row j = Gb - 1 - r. Colours as in the 3D view
 * (sRGB, diverging maps centred on 0, NaN grey).
 */
export function heatmapRGBA(surface: SurfaceResult, opts: HeatmapOptions): { data: Uint8ClampedArray; width: number; height: number; zRange: [number, number] } {
  const ga = surface.a.length;
  const gb = surface.b.length;
  const values = quantityValues(surface, opts.quantity);
  const zRange = resolveZRange(values, opts.zRange);
  const data = new Uint8ClampedArray(ga * gb * 4);
  const rgb = [0, 0, 0];
  for (let j = 0; j < gb; j++) {
    const r = gb - 1 - j;
    for (let i = 0; i < ga; i++) {
      const p = j * ga + i;
      if (opts.colorBy === 'class') {
        const c = classColor(surface.pred[p]);
        rgb[0] = c[0];
        rgb[1] = c[1];
        rgb[2] = c[2];
      } else {
        sampleInto(opts.colormap, normalize(values[p], zRange, opts.colormap), rgb);
      }
      const q = (r * ga + i) * 4;
      data[q] = Math.round(rgb[0] * 255);
      data[q + 1] = Math.round(rgb[1] * 255);
      data[q + 2] = Math.round(rgb[2] * 255);
      data[q + 3] = 255;
    }
  }
  return { data, width: ga, height: gb, zRange };
}

export interface Slice {
  /** Coefficients along the slice (a for the d1 slice, b for the d2 slice). */
  x: Float32Array;
  /** The quantity along the slice. */
  y: Float32Array;
  /** The other coefficient, held fixed: the grid value nearest 0. */
  at: number;
}

/**
 * The quantity along d1 at the b nearest 0 (a grid row) and along d2 at the a nearest 0
 * (a grid column).
 */
export function centralSlices(surface: SurfaceResult, quantity: Quantity): { alongA: Slice; alongB: Slice } {
  const ga = surface.a.length;
  const gb = surface.b.length;
  const values = quantityValues(surface, quantity);
  const j0 = Math.max(0, nearestIndex(surface.b, 0));
  const i0 = Math.max(0, nearestIndex(surface.a, 0));
  const rowY = values.slice(j0 * ga, j0 * ga + ga);
  const colY = new Float32Array(gb);
  for (let j = 0; j < gb; j++) colY[j] = values[j * ga + i0];
  return {
    alongA: { x: Float32Array.from(surface.a), y: rowY, at: surface.b[j0] ?? 0 },
    alongB: { x: Float32Array.from(surface.b), y: colY, at: surface.a[i0] ?? 0 },
  };
}

/**
 * The heatmap image as a PNG data: URL (one pixel per grid point). Pure, so the same SVG comes
 * out in the browser, in a worker and in Node (the validation study's figures).
 */
export function heatmapDataUrl(surface: SurfaceResult, opts: HeatmapOptions): string {
  const img = heatmapRGBA(surface, opts);
  const png = encodePng({ width: img.width, height: img.height, data: img.data, channels: 4, depth: 8 });
  return `data:image/png;base64,${bytesToBase64(png)}`;
}

/**
 * One colour/height range for several surfaces drawn side by side: the finite extent of the
 * quantity over all of them, symmetric about 0 for the margin (so 0, the decision boundary,
 * sits at the diverging map's centre). Null when no surface has a finite value.
 */
export function sharedZRange(surfaces: readonly SurfaceResult[], quantity: Quantity): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of surfaces) {
    const e = finiteExtent(quantityValues(s, quantity));
    if (e) {
      lo = Math.min(lo, e[0]);
      hi = Math.max(hi, e[1]);
    }
  }
  if (!(lo < hi)) return null;
  if (quantity === 'margin') {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [-m, m];
  }
  return [lo, hi];
}
