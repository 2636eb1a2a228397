/**
 * Vector figures of the 2D views: the heatmap (with its colour bar) or the 1D slices, of one
 * slot or of A and B side by side on one shared scale, with an optional title. The panels are
 * the very components the lab shows, rendered to static SVG markup, so the file is what the
 * user saw: real <text> for every label, the heatmap as an embedded PNG, no scripts.
 * Runs wherever React's server renderer does (browser, Node).
 */
import { renderToStaticMarkup } from 'react-dom/server';
import type { SurfaceResult } from '../engine/surface';
import { FigureColorBar } from './ColorBar';
import { Heatmap2D, type Heatmap2DProps, heatmapPlotBox } from './Heatmap2D';
import { sharedZRange } from './plot2d';
import { Slices1D } from './Slices1D';
import { FONT_FAMILY, THEMES } from './theme';

export interface FigurePanel {
  surface: SurfaceResult;
  /** Shown above the panel (e.g. "A · MNIST CNN, natural training"); '' = none. */
  label: string;
}

/** The figure draws its panels with the live heatmap's look props. */
export interface SvgFigureInput extends Pick<Heatmap2DProps, 'quantity' | 'colorBy' | 'colormap' | 'epsBox' | 'theme'> {
  kind: 'heatmap' | 'slices';
  /** One panel, or two (A and B) drawn side by side on one scale. */
  panels: FigurePanel[];
  /** Colour (heatmap) or y (slices) range; null = shared extent of the panels (the view's null means its own surface's). */
  zRange: [number, number] | null;
  transparent: boolean;
  /** Figure title ('' = none). */
  title: string;
  /** Class names for the legend when colouring by predicted class. */
  classNames?: readonly string[];
  /** Multiplies the width/height attributes (the drawing and its viewBox stay the same). */
  scale: number;
}

/** Natural panel sizes (CSS px), the same as the lab's defaults for the views. */
const HEATMAP = { width: 440, height: 420 };
const SLICES = { width: 560, height: 320 };
const GAP = 12;
const TITLE_HEIGHT = 30;
/** Room right of the heatmaps for the vertical colour bar (its own width is 88 px; 150 for the class legend). */
const BAR_COLUMN = { value: 100, class: 160 };

/** Natural size (before `scale`) of the figure an input describes. */
export function svgFigureSize(input: Pick<SvgFigureInput, 'kind' | 'panels' | 'title' | 'colorBy'>): { width: number; height: number } {
  const panel = input.kind === 'heatmap' ? HEATMAP : SLICES;
  const n = Math.max(1, input.panels.length);
  const bar = input.kind === 'heatmap' ? BAR_COLUMN[input.colorBy] : 0;
  return { width: n * panel.width + (n - 1) * GAP + bar, height: panel.height + (input.title ? TITLE_HEIGHT : 0) };
}

/** The figure as a standalone SVG document (with XML declaration). */
export function svgFigure(input: SvgFigureInput): string {
  if (input.panels.length === 0) throw new Error('A figure needs at least one surface.');
  const theme = THEMES[input.theme];
  const { width, height } = svgFigureSize(input);
  const top = input.title ? TITLE_HEIGHT : 0;
  const zRange = input.zRange ?? sharedZRange(input.panels.map((p) => p.surface), input.quantity);
  const panel = input.kind === 'heatmap' ? HEATMAP : SLICES;
  const parts = input.panels.map((p, k) => {
    const common = { surface: p.surface, quantity: input.quantity, epsBox: input.epsBox, theme: input.theme, width: panel.width, height: panel.height, title: p.label || undefined, transparent: true };
    const body =
      input.kind === 'heatmap' ? (
        <Heatmap2D {...common} colorBy={input.colorBy} colormap={input.colormap} zRange={zRange} interactive={false} />
      ) : (
        <Slices1D {...common} zRange={input.panels.length > 1 ? zRange : null} />
      );
    return (
      <g key={k} transform={`translate(${k * (panel.width + GAP)} ${top})`}>
        {body}
      </g>
    );
  });
  // Line the bar's gradient up with the heatmap's square plot (ColorBar pads its bar by 8 px).
  const box = heatmapPlotBox(panel.width, panel.height, input.panels.some((p) => p.label));
  const plotTop = top + box.y0;
  const barLength = box.side;
  const bar =
    input.kind === 'heatmap' && zRange ? (
      <g transform={`translate(${input.panels.length * (panel.width + GAP) - GAP + 8} ${plotTop - 8})`}>
        <FigureColorBar figure={input} domain={zRange} length={barLength} />
      </g>
    ) : null;
  const markup = renderToStaticMarkup(
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width={Math.round(width * input.scale)}
      height={Math.round(height * input.scale)}
      viewBox={`0 0 ${width} ${height}`}
      fontFamily={FONT_FAMILY}
    >
      {!input.transparent && <rect width={width} height={height} fill={theme.background} />}
      {input.title && (
        <text x={width / 2} y={21} textAnchor="middle" fill={theme.text} fontSize={16} fontWeight={600} data-role="title">
          {input.title}
        </text>
      )}
      {parts}
      {bar}
    </svg>,
  );
  // React escapes every text node and attribute (titles and labels come from users).
  return `<?xml version="1.0" encoding="UTF-8"?>\n${markup}\n`;
}
