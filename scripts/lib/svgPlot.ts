/**
 * Hand-written SVG charts for the evidence study's figures (docs/validation/*.svg): scatter
 * and line plots on linear or log axes, real <text> for ticks, axis titles and legends, a white
 * background, and a font stack that renders the same in a browser and in a Markdown viewer.
 * Not a general plotting library: just enough for paper-like figures, with no dependencies.
 */
import { niceTicks, tickFormatter } from '../../src/render/ticks';

export type Marker = 'circle' | 'square' | 'triangle' | 'diamond';

export interface Point {
  x: number;
  y: number;
  /** Text drawn beside the point (e.g. a model name). */
  label?: string;
}

export interface Series {
  /** Legend entry. */
  name: string;
  color: string;
  points: Point[];
  marker?: Marker;
  /** Join the points (in the given order) with a line. */
  line?: boolean;
  dashed?: boolean;
}

export interface Axis {
  title: string;
  log?: boolean;
  /** Data range shown; defaults to the points' range (padded). */
  min?: number;
  max?: number;
  /** Tick label format; defaults to a shared-decimals formatter (linear) or plain numbers (log). */
  format?: (v: number) => string;
}

/** A horizontal (`y`) or vertical (`x`) reference line across the panel. */
export interface RefLine {
  axis: 'x' | 'y';
  value: number;
  label?: string;
  color?: string;
}

/** A straight segment in data coordinates (e.g. the diagonal y = x). */
export interface Segment {
  from: [number, number];
  to: [number, number];
  label?: string;
  color?: string;
}

export interface Panel {
  title?: string;
  x: Axis;
  y: Axis;
  series: Series[];
  refLines?: RefLine[];
  segments?: Segment[];
}

export interface Figure {
  panels: Panel[];
  /** Size of one panel including its axis titles, px. */
  panelWidth?: number;
  panelHeight?: number;
  /** Figure title above the panels. */
  title?: string;
  /** Legend below the panels (entries from every panel's series, deduplicated by name). */
  legend?: boolean;
}

/** Colour-blind-safe palette (Okabe & Ito 2008, its yellow swapped for a brown that reads on white) plus grey, for up to nine series. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999999', '#8C510A'];

const FONT = 'Helvetica, Arial, sans-serif';
const FONT_SIZE = 12;
/** Average glyph width of the font at FONT_SIZE, px: used to size legend rows and avoid label overlaps. */
const CHAR_W = 6.4;
const MARGIN = { left: 62, right: 16, top: 30, bottom: 46 };

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '0');

interface Scale {
  map: (v: number) => number;
  ticks: number[];
  format: (v: number) => string;
  domain: [number, number];
}

/** Powers of ten in [lo, hi], plus 2× and 5× when the range spans at most 2.5 decades. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const p0 = Math.floor(Math.log10(lo));
  const p1 = Math.ceil(Math.log10(hi));
  const mults = Math.log10(hi / lo) <= 2.5 ? [1, 2, 5] : [1];
  for (let p = p0; p <= p1; p++) {
    for (const m of mults) {
      const v = Number((m * Math.pow(10, p)).toPrecision(6));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/** Plain decimal label for a log tick (0.001, 0.01 … 1000), exponent form beyond. */
function logFormat(v: number): string {
  if (v >= 1e5 || v < 1e-4) return v.toExponential(0);
  return String(Number(v.toPrecision(6)));
}

function makeScale(axis: Axis, values: number[], pixels: [number, number]): Scale {
  const finite = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let lo = axis.min ?? (finite.length ? Math.min(...finite) : axis.log ? 1 : 0);
  let hi = axis.max ?? (finite.length ? Math.max(...finite) : axis.log ? 10 : 1);
  if (axis.log) {
    lo = Math.max(lo, 1e-12);
    hi = Math.max(hi, lo * 1.0001);
    // Pad by ~10 % of a decade, then round out to quarter decades, so no point or reference line sits on the frame.
    if (axis.min === undefined) lo = Math.pow(10, Math.floor((Math.log10(lo) - 0.05) * 4) / 4);
    if (axis.max === undefined) hi = Math.pow(10, Math.ceil((Math.log10(hi) + 0.05) * 4) / 4);
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    const map = (v: number) => pixels[0] + ((Math.log10(Math.max(v, 1e-300)) - l0) / (l1 - l0)) * (pixels[1] - pixels[0]);
    return { map, ticks: logTicks(lo, hi), format: axis.format ?? logFormat, domain: [lo, hi] };
  }
  if (hi === lo) {
    hi = lo + 1;
    lo = lo - 1;
  }
  const pad = (hi - lo) * 0.06;
  if (axis.min === undefined) lo -= pad;
  if (axis.max === undefined) hi += pad;
  const ticks = niceTicks(lo, hi, 5);
  const map = (v: number) => pixels[0] + ((v - lo) / (hi - lo)) * (pixels[1] - pixels[0]);
  return { map, ticks, format: axis.format ?? tickFormatter(ticks), domain: [lo, hi] };
}

function markerSvg(kind: Marker, x: number, y: number, color: string): string {
  const r = 4.5;
  switch (kind) {
    case 'square':
      return `<rect x="${num(x - r)}" y="${num(y - r)}" width="${num(2 * r)}" height="${num(2 * r)}" fill="${color}" stroke="#fff" stroke-width="0.8"/>`;
    case 'triangle':
      return `<path d="M${num(x)},${num(y - r * 1.2)}L${num(x + r * 1.1)},${num(y + r * 0.8)}L${num(x - r * 1.1)},${num(y + r * 0.8)}Z" fill="${color}" stroke="#fff" stroke-width="0.8"/>`;
    case 'diamond':
      return `<path d="M${num(x)},${num(y - r * 1.2)}L${num(x + r * 1.2)},${num(y)}L${num(x)},${num(y + r * 1.2)}L${num(x - r * 1.2)},${num(y)}Z" fill="${color}" stroke="#fff" stroke-width="0.8"/>`;
    default:
      return `<circle cx="${num(x)}" cy="${num(y)}" r="${r}" fill="${color}" stroke="#fff" stroke-width="0.8"/>`;
  }
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** One panel's SVG, its plotting area at (ox, oy) of size w × h including margins. */
function panelSvg(p: Panel, ox: number, oy: number, w: number, h: number): string {
  const px0 = ox + MARGIN.left;
  const px1 = ox + w - MARGIN.right;
  const py0 = oy + h - MARGIN.bottom;
  const py1 = oy + MARGIN.top;
  const xs = p.series.flatMap((s) => s.points.map((q) => q.x)).concat((p.refLines ?? []).filter((r) => r.axis === 'x').map((r) => r.value));
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y)).concat((p.refLines ?? []).filter((r) => r.axis === 'y').map((r) => r.value));
  const sx = makeScale(p.x, xs, [px0, px1]);
  const sy = makeScale(p.y, ys, [py0, py1]);
  const out: string[] = [];
  const clipId = `clip-${Math.round(ox)}-${Math.round(oy)}`;
  out.push(`<clipPath id="${clipId}"><rect x="${num(px0)}" y="${num(py1)}" width="${num(px1 - px0)}" height="${num(py0 - py1)}"/></clipPath>`);
  // Grid and ticks.
  for (const t of sx.ticks) {
    const x = sx.map(t);
    out.push(`<line x1="${num(x)}" y1="${num(py0)}" x2="${num(x)}" y2="${num(py1)}" stroke="#e6e6e6" stroke-width="1"/>`);
    out.push(`<line x1="${num(x)}" y1="${num(py0)}" x2="${num(x)}" y2="${num(py0 + 5)}" stroke="#333"/>`);
    out.push(`<text x="${num(x)}" y="${num(py0 + 18)}" text-anchor="middle">${escapeXml(sx.format(t))}</text>`);
  }
  for (const t of sy.ticks) {
    const y = sy.map(t);
    out.push(`<line x1="${num(px0)}" y1="${num(y)}" x2="${num(px1)}" y2="${num(y)}" stroke="#e6e6e6" stroke-width="1"/>`);
    out.push(`<line x1="${num(px0 - 5)}" y1="${num(y)}" x2="${num(px0)}" y2="${num(y)}" stroke="#333"/>`);
    out.push(`<text x="${num(px0 - 8)}" y="${num(y + 4)}" text-anchor="end">${escapeXml(sy.format(t))}</text>`);
  }
  out.push(`<rect x="${num(px0)}" y="${num(py1)}" width="${num(px1 - px0)}" height="${num(py0 - py1)}" fill="none" stroke="#333" stroke-width="1"/>`);
  // Axis titles and panel title.
  out.push(`<text class="axis-title" x="${num((px0 + px1) / 2)}" y="${num(oy + h - 8)}" text-anchor="middle">${escapeXml(p.x.title)}</text>`);
  const ty = (py0 + py1) / 2;
  const tx = ox + 16;
  out.push(`<text class="axis-title" x="${num(tx)}" y="${num(ty)}" text-anchor="middle" transform="rotate(-90 ${num(tx)} ${num(ty)})">${escapeXml(p.y.title)}</text>`);
  if (p.title) out.push(`<text class="panel-title" x="${num((px0 + px1) / 2)}" y="${num(oy + 18)}" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`);
  // Reference lines and segments, clipped to the plotting area.
  const ref: string[] = [];
  for (const r of p.refLines ?? []) {
    const color = r.color ?? '#666';
    if (r.axis === 'y') {
      const y = sy.map(r.value);
      ref.push(`<line x1="${num(px0)}" y1="${num(y)}" x2="${num(px1)}" y2="${num(y)}" stroke="${color}" stroke-dasharray="5 4"/>`);
      if (r.label) ref.push(`<text x="${num(px1 - 4)}" y="${num(y - 4)}" text-anchor="end" fill="${color}">${escapeXml(r.label)}</text>`);
    } else {
      const x = sx.map(r.value);
      ref.push(`<line x1="${num(x)}" y1="${num(py0)}" x2="${num(x)}" y2="${num(py1)}" stroke="${color}" stroke-dasharray="5 4"/>`);
      if (r.label) ref.push(`<text x="${num(x + 4)}" y="${num(py1 + 14)}" fill="${color}">${escapeXml(r.label)}</text>`);
    }
  }
  for (const s of p.segments ?? []) {
    const color = s.color ?? '#666';
    const [x0, y0] = [sx.map(s.from[0]), sy.map(s.from[1])];
    const [x1, y1] = [sx.map(s.to[0]), sy.map(s.to[1])];
    ref.push(`<line x1="${num(x0)}" y1="${num(y0)}" x2="${num(x1)}" y2="${num(y1)}" stroke="${color}" stroke-dasharray="5 4"/>`);
    if (s.label) ref.push(`<text x="${num(Math.min(x1, px1) - 4)}" y="${num(Math.max(y1, py1) + 14)}" text-anchor="end" fill="${color}">${escapeXml(s.label)}</text>`);
  }
  out.push(`<g clip-path="url(#${clipId})">${ref.join('')}</g>`);
  // Series: lines first, then markers, then labels placed greedily around overlaps.
  for (const s of p.series) {
    if (!s.line || s.points.length < 2) continue;
    const d = s.points.map((q, i) => `${i ? 'L' : 'M'}${num(sx.map(q.x))},${num(sy.map(q.y))}`).join('');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
  }
  const placed: Box[] = [];
  const labels: string[] = [];
  for (const s of p.series) {
    for (const q of s.points) {
      const x = sx.map(q.x);
      const y = sy.map(q.y);
      out.push(markerSvg(s.marker ?? 'circle', x, y, s.color));
      placed.push({ x0: x - 5, y0: y - 5, x1: x + 5, y1: y + 5 });
    }
  }
  for (const s of p.series) {
    for (const q of s.points) {
      if (!q.label) continue;
      const x = sx.map(q.x);
      const y = sy.map(q.y);
      const wText = q.label.length * CHAR_W * (11 / FONT_SIZE);
      // Right of the point if it fits, else left; then step down/up until it overlaps nothing.
      const right = x + 8 + wText <= px1;
      const bx = right ? x + 8 : x - 8 - wText;
      let chosen: Box | undefined;
      for (const dy of [0, 12, -12, 24, -24, 36, -36, 48, -48]) {
        const box = { x0: bx, y0: y - 8 + dy, x1: bx + wText, y1: y + 4 + dy };
        if (box.y0 < py1 || box.y1 > py0) continue;
        if (!placed.some((b) => overlaps(b, box))) {
          chosen = box;
          break;
        }
      }
      chosen ??= { x0: bx, y0: y - 8, x1: bx + wText, y1: y + 4 };
      placed.push(chosen);
      if (Math.abs(chosen.y0 - (y - 8)) > 1) {
        labels.push(`<line x1="${num(x)}" y1="${num(y)}" x2="${num(right ? chosen.x0 - 1 : chosen.x1 + 1)}" y2="${num(chosen.y0 + 6)}" stroke="#bbb" stroke-width="0.8"/>`);
      }
      labels.push(`<text class="point-label" x="${num(chosen.x0)}" y="${num(chosen.y1 - 1)}" font-size="11" fill="#222">${escapeXml(q.label)}</text>`);
    }
  }
  out.push(...labels);
  return out.join('\n');
}

/** Legend entries in rows under the panels; returns the SVG and the height it takes. */
function legendSvg(series: Series[], width: number, top: number): { svg: string; height: number } {
  const seen = new Set<string>();
  const entries = series.filter((s) => (seen.has(s.name) ? false : (seen.add(s.name), true)));
  const out: string[] = [];
  let x = 20;
  let y = top + 14;
  for (const s of entries) {
    const w = 34 + s.name.length * CHAR_W + 18;
    if (x + w > width - 10 && x > 20) {
      x = 20;
      y += 20;
    }
    if (s.line) out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(markerSvg(s.marker ?? 'circle', x + 12, y - 4, s.color));
    out.push(`<text class="legend" x="${x + 30}" y="${y}">${escapeXml(s.name)}</text>`);
    x += w;
  }
  return { svg: out.join('\n'), height: entries.length ? y - top + 12 : 0 };
}

/** A complete SVG document: the panels side by side, an optional title and a legend below. */
export function svgFigure(fig: Figure): string {
  const pw = fig.panelWidth ?? 420;
  const ph = fig.panelHeight ?? 320;
  const width = pw * fig.panels.length;
  const titleH = fig.title ? 26 : 0;
  const body = fig.panels.map((p, i) => panelSvg(p, i * pw, titleH, pw, ph));
  const legend = fig.legend === false ? { svg: '', height: 0 } : legendSvg(fig.panels.flatMap((p) => p.series), width, titleH + ph);
  const height = titleH + ph + legend.height + 6;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${num(height)}" viewBox="0 0 ${width} ${num(height)}" font-family="${FONT}" font-size="${FONT_SIZE}" fill="#222">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    fig.title ? `<text class="figure-title" x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(fig.title)}</text>` : '',
    ...body,
    legend.svg,
    '</svg>',
  ]
    .filter((s) => s !== '')
    .join('\n') + '\n';
}
