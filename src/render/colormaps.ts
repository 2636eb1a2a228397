/**
 * Named colour scales for the surface, the heatmap and the colour bar, as plotly-style
 * `[t, colour]` stops: perceptual sequential maps for the loss, a diverging map centred on 0
 * for the margin (blue = positive margin = still correct, red = negative = misclassified),
 * and a categorical palette for predicted classes.
 *
 * Colours are sRGB floats in [0, 1]. three.js treats vertex colours as linear sRGB, so code
 * that writes them into a BufferAttribute converts with `srgbToLinear` first (see mesh.ts).
 */
import {
  interpolateCividis,
  interpolateInferno,
  interpolateMagma,
  interpolateRdBu,
  interpolateTurbo,
  interpolateViridis,
  schemeTableau10,
} from 'd3-scale-chromatic';

/** An sRGB colour, each channel in [0, 1]. */
export type RGB = [number, number, number];

/** The colour maps the UI offers, in the order it lists them. */
export const COLORMAP_NAMES = ['viridis', 'magma', 'inferno', 'cividis', 'turbo', 'rdbu'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

/** 'sequential' maps run low → high; 'diverging' maps are centred on 0 by `normalize`. */
export const COLORMAP_KIND: Record<ColormapName, 'sequential' | 'diverging'> = {
  viridis: 'sequential',
  magma: 'sequential',
  inferno: 'sequential',
  cividis: 'sequential',
  turbo: 'sequential',
  rdbu: 'diverging',
};

/** Names shown in menus. */
export const COLORMAP_LABELS: Record<ColormapName, string> = {
  viridis: 'Viridis',
  magma: 'Magma',
  inferno: 'Inferno',
  cividis: 'Cividis (colour-blind safe)',
  turbo: 'Turbo (rainbow)',
  rdbu: 'Red–blue (diverging, 0 = white)',
};

/** The default map for each plotted quantity. */
export const DEFAULT_COLORMAP: Record<'loss' | 'margin', ColormapName> = { loss: 'viridis', margin: 'rdbu' };

/**
 * Samples per map in the lookup table. 256 stops is the resolution of the published 8-bit
 * tables these maps come from; linear interpolation between them is visually exact.
 */
export const COLORMAP_STOPS = 256;

/** Colour for a value that is not a number (NaN), and for a class index outside the palette. */
export const MISSING_COLOR: RGB = [0.5, 0.5, 0.5];

const INTERPOLATORS: Record<ColormapName, (t: number) => string> = {
  viridis: interpolateViridis,
  magma: interpolateMagma,
  inferno: interpolateInferno,
  cividis: interpolateCividis,
  turbo: interpolateTurbo,
  // d3's RdBu runs red (0) → white (0.5) → blue (1): negative margins red, positive blue.
  rdbu: interpolateRdBu,
};

/** Parses the CSS colours d3 produces: `#rrggbb`, `#rgb` and `rgb(r, g, b)`. */
export function parseColor(css: string): RGB {
  const s = css.trim();
  let m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) {
    const n = parseInt(m[1], 16);
    return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
  }
  m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) {
    return [0, 1, 2].map((k) => parseInt(m![1][k] + m![1][k], 16) / 255) as RGB;
  }
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)$/i.exec(s);
  if (m) return [Number(m[1]) / 255, Number(m[2]) / 255, Number(m[3]) / 255];
  throw new Error(`Not a colour: ${css}`);
}

/** `#rrggbb` for an sRGB float colour (channels clamped). */
export function toHex([r, g, b]: RGB): string {
  const h = (v: number) =>
    Math.round(Math.min(1, Math.max(0, v)) * 255)
      .toString(16)
      .padStart(2, '0');
  return `#${h(r)}${h(g)}${h(b)}`;
}

const tables = new Map<ColormapName, Float32Array>();

/** The lookup table of a map: COLORMAP_STOPS × 3 sRGB floats, built once. */
function table(name: ColormapName): Float32Array {
  let lut = tables.get(name);
  if (!lut) {
    const interp = INTERPOLATORS[name];
    if (!interp) throw new Error(`Unknown colour map: ${name}`);
    lut = new Float32Array(COLORMAP_STOPS * 3);
    for (let k = 0; k < COLORMAP_STOPS; k++) lut.set(parseColor(interp(k / (COLORMAP_STOPS - 1))), 3 * k);
    tables.set(name, lut);
  }
  return lut;
}

/** True when `name` is one of COLORMAP_NAMES (for values read from a URL or a recipe). */
export function isColormapName(name: unknown): name is ColormapName {
  return typeof name === 'string' && (COLORMAP_NAMES as readonly string[]).includes(name);
}

/**
 * Writes the colour of `t` into `out` at `offset` (3 floats) without allocating: the hot path
 * for meshes and heatmaps. t is clamped to [0, 1]; NaN gives MISSING_COLOR.
 */
export function sampleInto(name: ColormapName, t: number, out: Float32Array | number[], offset = 0): void {
  if (Number.isNaN(t)) {
    out[offset] = MISSING_COLOR[0];
    out[offset + 1] = MISSING_COLOR[1];
    out[offset + 2] = MISSING_COLOR[2];
    return;
  }
  const lut = table(name);
  const x = Math.min(1, Math.max(0, t)) * (COLORMAP_STOPS - 1);
  const k = Math.min(COLORMAP_STOPS - 2, Math.floor(x));
  const f = x - k;
  for (let c = 0; c < 3; c++) out[offset + c] = lut[3 * k + c] * (1 - f) + lut[3 * k + 3 + c] * f;
}

/** The map as a function of t ∈ [0, 1] (clamped; NaN → MISSING_COLOR) to an sRGB colour. */
export function colormap(name: ColormapName): (t: number) => RGB {
  table(name);
  return (t: number) => {
    const out: number[] = [0, 0, 0];
    sampleInto(name, t, out);
    return out as RGB;
  };
}

/** `[t, '#rrggbb']` stops (plotly's colorscale form) with `n` evenly spaced t. */
export function colormapStops(name: ColormapName, n = 11): Array<[number, string]> {
  const f = colormap(name);
  const out: Array<[number, string]> = [];
  for (let k = 0; k < n; k++) {
    const t = n === 1 ? 0 : k / (n - 1);
    out.push([t, toHex(f(t))]);
  }
  return out;
}

/**
 * The position in [0, 1] of `value` on the map for `domain` = [lo, hi]. Sequential maps put
 * lo at 0 and hi at 1. Diverging maps are centred on 0, whatever the domain: 0 maps to 0.5
 * and ±max(|lo|, |hi|) to the ends, so white always means margin 0 and a domain that is all
 * positive uses only the blue half. Not clamped (sampling clamps); NaN stays NaN.
 */
export function normalize(value: number, domain: readonly [number, number], name: ColormapName): number {
  const [lo, hi] = domain;
  if (COLORMAP_KIND[name] === 'diverging') {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    if (!(m > 0) || !Number.isFinite(m)) return value > 0 ? 1 : value < 0 ? 0 : 0.5;
    return 0.5 + value / (2 * m);
  }
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return value > lo ? 1 : value < lo ? 0 : 0.5;
  return (value - lo) / span;
}

/** The colour of `value` for a domain [lo, hi] (see `normalize`); values outside clamp. */
export function colorFor(value: number, domain: readonly [number, number], name: ColormapName): RGB {
  return colormap(name)(normalize(value, domain, name));
}

/**
 * Ten categorical colours for predicted classes 0–9: Tableau 10, designed to stay
 * distinguishable with the common colour-vision deficiencies and on both light and dark
 * backgrounds. Class k uses CLASS_COLORS[k % 10].
 */
export const CLASS_COLORS: readonly string[] = schemeTableau10.slice(0, 10);
const CLASS_RGB: RGB[] = CLASS_COLORS.map(parseColor);

/** The colour of predicted class `k` (sRGB floats); negative or non-integer k → MISSING_COLOR. */
export function classColor(k: number): RGB {
  if (!Number.isInteger(k) || k < 0) return MISSING_COLOR;
  return CLASS_RGB[k % CLASS_RGB.length];
}

/** sRGB transfer function inverse: encoded channel → linear light (IEC 61966-2-1). */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

/** CIE L* (0–100) of an sRGB colour (D65), for lightness checks. */
export function lightness([r, g, b]: RGB): number {
  const y = 0.2126 * srgbToLinear(r) + 0.7152 * srgbToLinear(g) + 0.0722 * srgbToLinear(b);
  return y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (24389 / 27) * y;
}
