/**
 * 1D slices through the clean point as a self-contained SVG line plot: the quantity along d1
 * (a varies, b = 0) and along d2 (b varies, a = 0) on one shared axis of perturbation size,
 * with the ε marks, the margin's zero line (the decision boundary) and a legend. This is the
 * paper's contrast in one picture: steep along the adversarial direction, flat along the
 * random one.
 */
import { useId, useMemo } from 'react';
import type { SurfaceResult } from '../engine/surface';
import { finiteExtent, type Quantity } from './mesh';
import { centralSlices, linearScale, pathData, seriesLines } from './plot2d';
import { AxisBottom, AxisLeft, TICK_FONT, TITLE_FONT } from './plotParts';
import { FONT_FAMILY, QUANTITY_LABELS, THEMES } from './theme';
import { formatValue, niceTicks } from './ticks';

export interface Slices1DProps {
  surface: SurfaceResult;
  quantity: Quantity;
  /** y range (shared for A/B comparison; values outside are clamped); null = auto from both slices. */
  zRange: [number, number] | null;
  /** ε in a/b units; null = hide. */
  epsBox: number | null;
  theme: 'dark' | 'light';
  /** Outer size of the SVG in px (default 520 × 300). */
  width?: number;
  height?: number;
  title?: string;
  /** No background fill (for figures placed on coloured pages). */
  transparent?: boolean;
}

const MARGIN = { left: 62, right: 16, top: 34, bottom: 50 };

export function Slices1D(props: Slices1DProps) {
  const { surface, quantity, zRange, epsBox, title } = props;
  const theme = THEMES[props.theme];
  const width = props.width ?? 520;
  const height = props.height ?? 300;
  const top = MARGIN.top + (title ? TITLE_FONT + 8 : 0);
  const x0 = MARGIN.left;
  const x1 = width - MARGIN.right;
  const y0 = top;
  const y1 = height - MARGIN.bottom;
  const clip = `sl-clip-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;

  const { alongA, alongB } = useMemo(() => centralSlices(surface, quantity), [surface, quantity]);
  const xDomain: [number, number] = [
    Math.min(surface.a[0], surface.b[0], surface.a[surface.a.length - 1], surface.b[surface.b.length - 1]),
    Math.max(surface.a[0], surface.b[0], surface.a[surface.a.length - 1], surface.b[surface.b.length - 1]),
  ];
  const yDomain = useMemo((): [number, number] => {
    if (zRange && Number.isFinite(zRange[0]) && Number.isFinite(zRange[1]) && zRange[0] !== zRange[1]) {
      return [Math.min(...zRange), Math.max(...zRange)];
    }
    const both = new Float32Array(alongA.y.length + alongB.y.length);
    both.set(alongA.y);
    both.set(alongB.y, alongA.y.length);
    let [lo, hi] = finiteExtent(both) ?? [0, 1];
    // The margin's zero line is the point of this plot: keep it in view.
    if (quantity === 'margin') {
      lo = Math.min(lo, 0);
      hi = Math.max(hi, 0);
    }
    if (hi === lo) return [lo - 0.5, hi + 0.5];
    const pad = 0.06 * (hi - lo);
    return [quantity === 'loss' && lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad];
  }, [zRange, alongA, alongB, quantity]);

  const sx = linearScale(xDomain, [x0, x1]);
  const sy = linearScale(yDomain, [y1, y0]);
  const clampY = zRange !== null;
  const pathA = pathData(seriesLines(alongA.x, alongA.y, sx, sy, clampY));
  const pathB = pathData(seriesLines(alongB.x, alongB.y, sx, sy, clampY));
  const eps = epsBox !== null && epsBox > 0 ? epsBox : null;
  const clean = alongA.at === 0 && alongB.at === 0 ? alongA.y[alongA.x.indexOf(0)] : NaN;
  const fixedNote = (name: string, v: number) => (v === 0 ? `${name} = 0` : `${name} = ${formatValue(v)}`);
  // The zero-line label goes to the end of the plot where the curves stay furthest from 0.
  const clearance = (lo: number, hi: number) => {
    let best = Infinity;
    for (const sl of [alongA, alongB]) {
      sl.x.forEach((x, k) => {
        if (x >= lo && x <= hi && Number.isFinite(sl.y[k])) best = Math.min(best, Math.abs(sy(sl.y[k]) - sy(0)));
      });
    }
    return best;
  };
  const third = (xDomain[1] - xDomain[0]) / 3;
  const zeroLabelLeft = clearance(xDomain[0], xDomain[0] + third) > clearance(xDomain[1] - third, xDomain[1]);
  const legend = [
    { label: `along d1 (adversarial), ${fixedNote('b', alongA.at)}`, color: theme.sliceD1, dash: undefined },
    { label: `along d2 (random), ${fixedNote('a', alongB.at)}`, color: theme.sliceD2, dash: '7 4' },
  ];

  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`${QUANTITY_LABELS[quantity]} along d1 and along d2 through the clean point`}
      style={{ background: props.transparent ? 'none' : theme.background, display: 'block' }}
    >
      {!props.transparent && <rect width={width} height={height} fill={theme.background} />}
      {title && (
        <text x={(x0 + x1) / 2} y={TITLE_FONT + 4} textAnchor="middle" fill={theme.text} fontSize={TITLE_FONT + 1} fontFamily={FONT_FAMILY} fontWeight={600}>
          {title}
        </text>
      )}
      <defs>
        <clipPath id={clip}>
          <rect x={x0} y={y0 - 1} width={x1 - x0} height={y1 - y0 + 2} />
        </clipPath>
      </defs>
      {/* Legend, above the plot so it never covers a line. */}
      <g transform={`translate(${x0} ${y0 - 12})`} fontFamily={FONT_FAMILY} fontSize={TICK_FONT}>
        {legend.map((item, k) => (
          <g key={k} transform={`translate(${k * Math.min(250, (x1 - x0) / 2)} 0)`}>
            <line x1={0} x2={22} y1={0} y2={0} stroke={item.color} strokeWidth={2.2} strokeDasharray={item.dash} />
            <text x={28} dy="0.35em" fill={theme.text}>
              {item.label}
            </text>
          </g>
        ))}
      </g>
      {niceTicks(yDomain[0], yDomain[1], 5).map((v) => (
        <line key={v} x1={x0} x2={x1} y1={sy(v)} y2={sy(v)} stroke={theme.grid} />
      ))}
      <g clipPath={`url(#${clip})`}>
        {eps !== null &&
          [-eps, eps].map((e) => (
            <g key={e}>
              <line x1={sx(e)} x2={sx(e)} y1={y0} y2={y1} stroke={theme.eps} strokeWidth={1.3} strokeDasharray="3 3" />
              <text x={sx(e) + (e > 0 ? 4 : -4)} y={y0 + TICK_FONT + 2} textAnchor={e > 0 ? 'start' : 'end'} fill={theme.eps} fontSize={TICK_FONT} fontFamily={FONT_FAMILY}>
                {e > 0 ? '+ε' : '\u2212ε'}
              </text>
            </g>
          ))}
        {quantity === 'margin' && yDomain[0] <= 0 && yDomain[1] >= 0 && (
          <g>
            <line x1={x0} x2={x1} y1={sy(0)} y2={sy(0)} stroke={theme.text} strokeWidth={1.2} />
            <text x={zeroLabelLeft ? x0 + 4 : x1 - 4} y={sy(0) - 4} textAnchor={zeroLabelLeft ? 'start' : 'end'} fill={theme.text} fontSize={TICK_FONT} fontFamily={FONT_FAMILY}>
              margin = 0 (decision boundary)
            </text>
          </g>
        )}
        <path d={pathB} fill="none" stroke={theme.sliceD2} strokeWidth={2.2} strokeDasharray="7 4" strokeLinejoin="round" />
        <path d={pathA} fill="none" stroke={theme.sliceD1} strokeWidth={2.2} strokeLinejoin="round" />
        {Number.isFinite(clean) && <circle cx={sx(0)} cy={sy(clampY ? Math.min(yDomain[1], Math.max(yDomain[0], clean)) : clean)} r={4} fill={theme.clean} stroke={theme.boundaryHalo} strokeWidth={1.2} />}
      </g>
      <rect x={x0} y={y0} width={x1 - x0} height={y1 - y0} fill="none" stroke={theme.axis} strokeWidth={0.75} />
      <AxisBottom scale={sx} ticks={niceTicks(xDomain[0], xDomain[1], 8)} y={y1} x0={x0} x1={x1} title="perturbation size (a along d1, b along d2)" theme={theme} />
      <AxisLeft scale={sy} ticks={niceTicks(yDomain[0], yDomain[1], 5)} x={x0} y0={y0} y1={y1} title={QUANTITY_LABELS[quantity]} theme={theme} />
    </svg>
  );
}
