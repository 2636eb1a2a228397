/**
 * Colours of everything that is not data: background, text, axes, the decision boundary, the
 * ε-box and the slice lines, for the dark and the light theme. One table so the 3D view, the
 * SVG plots and exported figures agree.
 */

export type ThemeName = 'dark' | 'light';

export interface RenderTheme {
  /** Canvas / figure background. */
  background: string;
  /** Labels and titles. */
  text: string;
  /** Tick labels and secondary text. */
  muted: string;
  /** Axis lines and tick marks. */
  axis: string;
  /** Faint grid lines on the base plane and behind plots. */
  grid: string;
  /** The decision boundary: bold, contrasting with the background and most map colours. */
  boundary: string;
  /** Outline drawn under the boundary so it stays visible over light and dark colours alike. */
  boundaryHalo: string;
  /** The ε-box outline. */
  eps: string;
  /** The clean point (a = b = 0). */
  clean: string;
  /** Slice along d1 (adversarial) and along d2 (random): Okabe–Ito vermillion and blue. */
  sliceD1: string;
  sliceD2: string;
  /** Wireframe overlay on the surface. */
  wire: string;
}

export const THEMES: Record<ThemeName, RenderTheme> = {
  dark: {
    background: '#0f1115',
    text: '#e6e8ee',
    muted: '#a3acbb',
    axis: '#7d8698',
    grid: '#2a303b',
    boundary: '#ffffff',
    boundaryHalo: '#000000',
    eps: '#ffd34d',
    clean: '#ffffff',
    sliceD1: '#ff8c42',
    sliceD2: '#56b4e9',
    wire: '#000000',
  },
  light: {
    background: '#ffffff',
    text: '#16181d',
    muted: '#4b5261',
    axis: '#5b6272',
    grid: '#e3e6eb',
    boundary: '#000000',
    boundaryHalo: '#ffffff',
    eps: '#9a6700',
    clean: '#000000',
    sliceD1: '#d55e00',
    sliceD2: '#0072b2',
    wire: '#000000',
  },
};

/** Font stack for every label: local system fonts only (no web fonts are fetched). */
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'DejaVu Sans', Arial, sans-serif";

/** Axis titles, shared by the 3D view and the 2D plots. */
export const AXIS_TITLES = {
  a: 'a · d1 (adversarial)',
  b: 'b · d2 (random)',
} as const;

/** How each plotted quantity is named on axes and colour bars. */
export const QUANTITY_LABELS: Record<'loss' | 'margin', string> = {
  loss: 'cross-entropy loss',
  margin: 'logit margin',
};

/** Title of a colour bar: the quantity's name, or the class legend's when colouring by class. */
export function colorKeyLabel(colorBy: 'value' | 'class', quantity: 'loss' | 'margin'): string {
  return colorBy === 'class' ? 'predicted class' : QUANTITY_LABELS[quantity];
}
