/**
 * SVG building blocks shared by the 2D plots (heatmap, slices): linear scales and axes with
 * ticks, tick labels and titles, all as real <text> so an exported SVG stays editable.
 */
import type { RenderTheme } from './theme';
import { FONT_FAMILY } from './theme';
import type { Scale } from './plot2d';
import { tickFormatter } from './ticks';

/** Tick labels and axis titles, px. */
export const TICK_FONT = 11;
export const TITLE_FONT = 12;
const TICK_LEN = 4;

/** Horizontal axis at y = `y` (plot bottom), ticks down, title centred below. */
export function AxisBottom(props: { scale: Scale; ticks: number[]; y: number; x0: number; x1: number; title: string; theme: RenderTheme }) {
  const { scale, ticks, y, x0, x1, title, theme } = props;
  const fmt = tickFormatter(ticks);
  return (
    <g>
      <line x1={x0} x2={x1} y1={y} y2={y} stroke={theme.axis} />
      {ticks.map((v) => (
        <g key={v} transform={`translate(${scale(v)} ${y})`}>
          <line y2={TICK_LEN} stroke={theme.axis} />
          <text y={TICK_LEN + TICK_FONT} textAnchor="middle" fill={theme.muted} fontSize={TICK_FONT} fontFamily={FONT_FAMILY}>
            {fmt(v)}
          </text>
        </g>
      ))}
      <text x={(x0 + x1) / 2} y={y + TICK_LEN + TICK_FONT + TITLE_FONT + 10} textAnchor="middle" fill={theme.text} fontSize={TITLE_FONT} fontFamily={FONT_FAMILY} fontWeight={600}>
        {title}
      </text>
    </g>
  );
}

/** Vertical axis at x = `x` (plot left), ticks left, title rotated along it. */
export function AxisLeft(props: { scale: Scale; ticks: number[]; x: number; y0: number; y1: number; title: string; theme: RenderTheme; titleOffset?: number }) {
  const { scale, ticks, x, y0, y1, title, theme } = props;
  const fmt = tickFormatter(ticks);
  const offset = props.titleOffset ?? 44;
  return (
    <g>
      <line x1={x} x2={x} y1={y0} y2={y1} stroke={theme.axis} />
      {ticks.map((v) => (
        <g key={v} transform={`translate(${x} ${scale(v)})`}>
          <line x2={-TICK_LEN} stroke={theme.axis} />
          <text x={-TICK_LEN - 3} dy="0.35em" textAnchor="end" fill={theme.muted} fontSize={TICK_FONT} fontFamily={FONT_FAMILY}>
            {fmt(v)}
          </text>
        </g>
      ))}
      <text
        transform={`translate(${x - offset} ${(y0 + y1) / 2}) rotate(-90)`}
        textAnchor="middle"
        fill={theme.text}
        fontSize={TITLE_FONT}
        fontFamily={FONT_FAMILY}
        fontWeight={600}
      >
        {title}
      </text>
    </g>
  );
}
