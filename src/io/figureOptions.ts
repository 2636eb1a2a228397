/**
 * Export options of a figure as a checked schema (plotly's lesson: export settings are input,
 * and bad input gets a message, not a crash or a 0-pixel file). Pure: no DOM, no three.
 */

export const FIGURE_KINDS = ['png', 'svg-heatmap', 'svg-slices', 'glb'] as const;
/**
 * 'png': the 3D view rendered off-screen at the figure's size. 'svg-heatmap' / 'svg-slices':
 * the 2D views as vector files with real text. 'glb': the surface mesh for Blender/ParaView.
 */
export type FigureKind = (typeof FIGURE_KINDS)[number];

export const FIGURE_BACKGROUNDS = ['white', 'dark', 'transparent'] as const;
export type FigureBackground = (typeof FIGURE_BACKGROUNDS)[number];

export const FIGURE_CAMERAS = ['current', 'iso', 'along-d1', 'along-d2', 'top'] as const;
export type FigureCamera = (typeof FIGURE_CAMERAS)[number];

/** Size multipliers offered as buttons; any value in [FIGURE_SCALE_MIN, FIGURE_SCALE_MAX] is accepted. */
export const FIGURE_SCALES = [1, 2, 4] as const;
export const FIGURE_SCALE_MIN = 0.25;
export const FIGURE_SCALE_MAX = 8;
/**
 * Longest side of a PNG figure, px: 8192 is the smallest maximum render-buffer size of the
 * WebGL implementations we target (SwiftShader and most desktop GPUs allow at least this).
 */
export const FIGURE_MAX_SIDE = 8192;
/** Pixels of a PNG figure at most: 40 MP is 160 MB of RGBA while encoding, the most a tab can safely hold twice. */
export const FIGURE_MAX_PIXELS = 40e6;
/** Narrowest figure that still fits the axes and the colour bar. */
export const FIGURE_MIN_SIDE = 200;
/**
 * Shape (width / height) of one panel's share of a PNG figure, at least and at most. Inside
 * this range a figure keeps the on-screen view's shape; outside it the height is cut or grown
 * to the nearest bound. A view taller than square (a tall window, or the narrow layout where
 * the panels stack and leave the view 600 px wide and over 1000 px high) would otherwise give a
 * figure in which the surface, framed for its width, is a strip between blank bands; a view
 * wider than 2:1 would be mostly empty at the sides. 1 keeps the usual 1280 × 800 view
 * (660 × 617 px) as it is on screen.
 */
export const FIGURE_PANEL_ASPECT = { min: 1, max: 2 } as const;

export interface FigureOptions {
  kind: FigureKind;
  /** Multiplier of the on-screen view's size (PNG) or of the plot's natural size (SVG). */
  scale: number;
  /** Total width in pixels; when set it replaces `scale` (PNG only). */
  width: number | null;
  background: FigureBackground;
  camera: FigureCamera;
  /** Drawn above the plot; '' = none. */
  title: string;
  /** A and B side by side with one shared colour scale. */
  compare: boolean;
}

export const DEFAULT_FIGURE_OPTIONS: FigureOptions = { kind: 'png', scale: 2, width: null, background: 'white', camera: 'current', title: '', compare: false };

export class FigureOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FigureOptionError';
  }
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], key: string): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new FigureOptionError(`${key} must be one of ${allowed.join(', ')}; got '${String(v)}'.`);
}

/** Validates options from the export panel (or a script); throws FigureOptionError naming the bad field. */
export function checkFigureOptions(raw: Partial<Record<keyof FigureOptions, unknown>>): FigureOptions {
  const o = { ...DEFAULT_FIGURE_OPTIONS, ...raw };
  const scale = Number(o.scale);
  if (!Number.isFinite(scale) || scale < FIGURE_SCALE_MIN || scale > FIGURE_SCALE_MAX) {
    throw new FigureOptionError(`scale must be a number from ${FIGURE_SCALE_MIN} to ${FIGURE_SCALE_MAX}; got '${String(o.scale)}'.`);
  }
  let width: number | null = null;
  if (o.width !== null && o.width !== undefined && o.width !== '') {
    width = Number(o.width);
    if (!Number.isInteger(width) || width < FIGURE_MIN_SIDE || width > FIGURE_MAX_SIDE) {
      throw new FigureOptionError(`width must be a whole number of pixels from ${FIGURE_MIN_SIDE} to ${FIGURE_MAX_SIDE}; got '${String(o.width)}'.`);
    }
  }
  if (typeof o.title !== 'string') throw new FigureOptionError('title must be text.');
  return {
    kind: oneOf(o.kind, FIGURE_KINDS, 'kind'),
    scale,
    width,
    background: oneOf(o.background, FIGURE_BACKGROUNDS, 'background'),
    camera: oneOf(o.camera, FIGURE_CAMERAS, 'camera'),
    title: o.title.replace(/\p{Cc}/gu, ' ').slice(0, 120),
    compare: o.compare === true,
  };
}

/**
 * Pixel size of a PNG figure: `panels` views of the on-screen size `view` side by side, times
 * the scale (or stretched to `width`, keeping the aspect), each view's height first brought
 * into FIGURE_PANEL_ASPECT of its width. Throws when the result would be too small or too
 * large to render.
 */
export function figurePixelSize(view: { width: number; height: number }, panels: number, o: Pick<FigureOptions, 'scale' | 'width'>): { width: number; height: number; scale: number } {
  if (!(view.width > 0 && view.height > 0)) throw new FigureOptionError('The 3D view has no size on screen; show it before exporting.');
  const natural = view.width * panels;
  const panelHeight = Math.min(view.width / FIGURE_PANEL_ASPECT.min, Math.max(view.width / FIGURE_PANEL_ASPECT.max, view.height));
  const scale = o.width !== null ? o.width / natural : o.scale;
  const width = Math.round(natural * scale);
  const height = Math.round(panelHeight * scale);
  if (width > FIGURE_MAX_SIDE || height > FIGURE_MAX_SIDE) {
    throw new FigureOptionError(`A ${width} × ${height} px figure exceeds the ${FIGURE_MAX_SIDE} px limit per side; choose a smaller scale or width.`);
  }
  if (width * height > FIGURE_MAX_PIXELS) {
    throw new FigureOptionError(`A ${width} × ${height} px figure has ${((width * height) / 1e6).toFixed(0)} MP, more than the ${FIGURE_MAX_PIXELS / 1e6} MP limit; choose a smaller scale or width.`);
  }
  if (width < FIGURE_MIN_SIDE || height < FIGURE_MIN_SIDE / 2) {
    throw new FigureOptionError(`A ${width} × ${height} px figure is too small for its axes and colour bar; choose a larger scale or width.`);
  }
  return { width, height, scale };
}

/** Theme of the drawing for a background: dark text on white, light text on dark. */
export function figureTheme(background: FigureBackground, uiTheme: 'dark' | 'light'): 'dark' | 'light' {
  return background === 'white' ? 'light' : background === 'dark' ? 'dark' : uiTheme;
}
