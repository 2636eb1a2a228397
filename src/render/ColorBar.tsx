/**
 * The colour key of a view as a self-contained SVG (real <text>, inline gradient), so it can be
 * exported with a figure: a gradient bar with ticks and a label for a colour map over a
 * domain, or a legend of class swatches when the surface is coloured by predicted class.
 */
import { useId } from 'react';
import { type ColormapName, CLASS_COLORS, colorFor, toHex } from './colormaps';
import type { Quantity } from './mesh';
import { colorKeyLabel, FONT_FAMILY, THEMES } from './theme';
import { niceTicks, tickFormatter } from './ticks';

export interface ColorBarProps {
  colorBy: 'value' | 'class';
  /** Colour map of the bar (colorBy 'value'). Diverging maps are centred on 0 as in the views. */
  colormap: ColormapName;
  /** [lo, hi] the views map to the colour map's ends (their z-range). */
  domain: [number, number];
  /** Title of the bar (the quantity), or of the legend. */
  label: string;
  theme: 'dark' | 'light';
  /** Classes listed in the legend (e.g. those present on the surface); default 0–9. */
  classes?: readonly number[];
  /** Names by class index (e.g. dataset labels); default "class k". */
  classNames?: readonly string[];
  orientation?: 'vertical' | 'horizontal';
  /** Length of the bar in px (default 220). */
  length?: number;
}

/** Stops in the SVG gradient: enough that the piecewise-linear gradient matches the map. */
const GRADIENT_STOPS = 48;
const THICKNESS = 14;
const TICK = 4;
const FONT = 11;

export function ColorBar(props: ColorBarProps) {
  return props.colorBy === 'class' ? <ClassLegend {...props} /> : <GradientBar {...props} />;
}

function GradientBar({ colormap, domain, label, theme: themeName, orientation = 'vertical', length = 220 }: ColorBarProps) {
  const theme = THEMES[themeName];
  const id = `cb-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const [lo, hi] = domain[0] <= domain[1] ? domain : [domain[1], domain[0]];
  const span = hi - lo || 1;
  const ticks = niceTicks(lo, hi, Math.max(3, Math.round(length / 45)));
  const fmt = tickFormatter(ticks);
  const stops = Array.from({ length: GRADIENT_STOPS }, (_, k) => {
    const t = k / (GRADIENT_STOPS - 1);
    return <stop key={k} offset={t} stopColor={toHex(colorFor(lo + t * span, [lo, hi], colormap))} />;
  });
  const vertical = orientation === 'vertical';
  const pos = (v: number) => ((v - lo) / span) * length;
  const text = { fill: theme.muted, fontSize: FONT, fontFamily: FONT_FAMILY };

  if (vertical) {
    const top = 8;
    const width = THICKNESS + TICK + 52 + 18;
    const height = length + 2 * top;
    return (
      <svg xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Colour bar: ${label}`}>
        <defs>
          <linearGradient id={id} x1="0" y1="1" x2="0" y2="0">
            {stops}
          </linearGradient>
        </defs>
        <rect x={0} y={top} width={THICKNESS} height={length} fill={`url(#${id})`} stroke={theme.axis} strokeWidth={0.75} />
        {ticks.map((v) => {
          const y = top + length - pos(v);
          return (
            <g key={v}>
              <line x1={THICKNESS} x2={THICKNESS + TICK} y1={y} y2={y} stroke={theme.axis} />
              <text x={THICKNESS + TICK + 3} y={y} dy="0.35em" {...text}>
                {fmt(v)}
              </text>
            </g>
          );
        })}
        <text
          transform={`translate(${width - 6} ${top + length / 2}) rotate(-90)`}
          textAnchor="middle"
          fill={theme.text}
          fontSize={FONT + 1}
          fontFamily={FONT_FAMILY}
          fontWeight={600}
        >
          {label}
        </text>
      </svg>
    );
  }

  const left = 14;
  const width = length + 2 * left;
  const height = 18 + THICKNESS + TICK + FONT + 6;
  return (
    <svg xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Colour bar: ${label}`}>
      <defs>
        <linearGradient id={id} x1="0" y1="0" x2="1" y2="0">
          {stops}
        </linearGradient>
      </defs>
      <text x={left + length / 2} y={12} textAnchor="middle" fill={theme.text} fontSize={FONT + 1} fontFamily={FONT_FAMILY} fontWeight={600}>
        {label}
      </text>
      <rect x={left} y={18} width={length} height={THICKNESS} fill={`url(#${id})`} stroke={theme.axis} strokeWidth={0.75} />
      {ticks.map((v) => {
        const x = left + pos(v);
        return (
          <g key={v}>
            <line x1={x} x2={x} y1={18 + THICKNESS} y2={18 + THICKNESS + TICK} stroke={theme.axis} />
            <text x={x} y={18 + THICKNESS + TICK + FONT} textAnchor="middle" {...text}>
              {fmt(v)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function ClassLegend({ label, theme: themeName, classes, classNames, orientation = 'vertical', length = 220 }: ColorBarProps) {
  const theme = THEMES[themeName];
  const list = classes ?? Array.from({ length: 10 }, (_, k) => k);
  const name = (k: number) => classNames?.[k] ?? `class ${k}`;
  const row = 18;
  const swatch = 12;
  const text = { fill: theme.muted, fontSize: FONT, fontFamily: FONT_FAMILY };
  if (orientation === 'vertical') {
    const width = 150;
    const height = 22 + list.length * row;
    return (
      <svg xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Legend: ${label}`}>
        <text x={0} y={12} fill={theme.text} fontSize={FONT + 1} fontFamily={FONT_FAMILY} fontWeight={600}>
          {label}
        </text>
        {list.map((k, n) => (
          <g key={k} transform={`translate(0 ${22 + n * row})`}>
            <rect width={swatch} height={swatch} rx={2} fill={CLASS_COLORS[((k % 10) + 10) % 10]} stroke={theme.axis} strokeWidth={0.5} />
            <text x={swatch + 6} y={swatch / 2} dy="0.35em" {...text}>
              {name(k)}
            </text>
          </g>
        ))}
      </svg>
    );
  }
  // Horizontal: items flow left to right and wrap at `length`.
  const itemWidth = 86;
  const perRow = Math.max(1, Math.floor(length / itemWidth));
  const rows = Math.ceil(list.length / perRow);
  const width = Math.max(length, 10);
  const height = 22 + rows * row;
  return (
    <svg xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Legend: ${label}`}>
      <text x={0} y={12} fill={theme.text} fontSize={FONT + 1} fontFamily={FONT_FAMILY} fontWeight={600}>
        {label}
      </text>
      {list.map((k, n) => (
        <g key={k} transform={`translate(${(n % perRow) * itemWidth} ${22 + Math.floor(n / perRow) * row})`}>
          <rect width={swatch} height={swatch} rx={2} fill={CLASS_COLORS[((k % 10) + 10) % 10]} stroke={theme.axis} strokeWidth={0.5} />
          <text x={swatch + 6} y={swatch / 2} dy="0.35em" {...text}>
            {name(k)}
          </text>
        </g>
      ))}
    </svg>
  );
}

/**
 * The colour key of an exported figure (3D PNG, heatmap SVG): the figure's colouring and
 * theme, titled as the view titles it, vertical and `length` px long.
 */
export function FigureColorBar({ figure, domain, length }: { figure: Pick<ColorBarProps, 'colorBy' | 'colormap' | 'classNames' | 'theme'> & { quantity: Quantity }; domain: [number, number]; length: number }) {
  return (
    <ColorBar
      colorBy={figure.colorBy}
      colormap={figure.colormap}
      domain={domain}
      label={colorKeyLabel(figure.colorBy, figure.quantity)}
      classNames={figure.classNames}
      theme={figure.theme}
      orientation="vertical"
      length={length}
    />
  );
}
