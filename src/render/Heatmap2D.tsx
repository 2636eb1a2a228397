/**
 * The 2D view of a surface: a heatmap of the grid (a to the right, b upwards), the decision
 * boundary (margin = 0) on top, the ε-box, the clean point and axes in input units. One SVG:
 * the heatmap is an embedded PNG (one pixel per grid point, encoded in JS so it renders the
 * same outside a browser), the rest is vector, so the figure exports as a single self-contained file.
 */
import { type PointerEvent, useId, useMemo, useRef, useState } from 'react';
import type { SurfaceResult } from '../engine/surface';
import type { ColormapName } from './colormaps';
import { decisionBoundary } from './contour';
import { type ColorBy, type Quantity, nearestIndex } from './mesh';
import { heatmapDataUrl, linearScale, pathData } from './plot2d';
import { AxisBottom, AxisLeft, TITLE_FONT } from './plotParts';
import type { HoverPoint } from './SurfaceView';
import { AXIS_TITLES, FONT_FAMILY, THEMES } from './theme';
import { niceTicks } from './ticks';

export interface Heatmap2DProps {
  surface: SurfaceResult;
  quantity: Quantity;
  colorBy: ColorBy;
  /** Ignored when colorBy === 'class'. */
  colormap: ColormapName;
  /** [lo, hi] of the colour map (shared for A/B comparison); null = auto from this surface. */
  zRange: [number, number] | null;
  /** ε in a/b units; null = hide. */
  epsBox: number | null;
  theme: 'dark' | 'light';
  /** Same shape as SurfaceView's: the grid point under the pointer, or null on leave. */
  onHover?: (p: HoverPoint | null) => void;
  /** Outer size of the SVG in px (default 440 × 420). */
  width?: number;
  height?: number;
  /** Optional title above the plot. */
  title?: string;
  /** No background fill (for figures placed on coloured pages). */
  transparent?: boolean;
  /** False for a figure file: no hover target. Default true. */
  interactive?: boolean;
}

const MARGIN = { left: 62, right: 14, top: 12, bottom: 50 };

/** Where the square plot sits in a heatmap of this outer size (figures align colour bars to it). */
export function heatmapPlotBox(width: number, height: number, titled: boolean): { x0: number; y0: number; side: number } {
  const top = MARGIN.top + (titled ? TITLE_FONT + 10 : 0);
  // Square plot: a and b are on the same L∞ scale, so equal units read honestly.
  return { x0: MARGIN.left, y0: top, side: Math.max(40, Math.min(width - MARGIN.left - MARGIN.right, height - top - MARGIN.bottom)) };
}

export function Heatmap2D(props: Heatmap2DProps) {
  const { surface, quantity, colorBy, colormap, zRange, epsBox, onHover, title } = props;
  const theme = THEMES[props.theme];
  const width = props.width ?? 440;
  const height = props.height ?? 420;
  const { x0, y0, side } = heatmapPlotBox(width, height, Boolean(title));

  const ga = surface.a.length;
  const gb = surface.b.length;
  const aMin = surface.a[0];
  const aMax = surface.a[ga - 1];
  const bMin = surface.b[0];
  const bMax = surface.b[gb - 1];
  // Each grid value fills a cell centred on its sample: the image spans half a step beyond.
  const da = ga > 1 ? (aMax - aMin) / (ga - 1) : 1;
  const db = gb > 1 ? (bMax - bMin) / (gb - 1) : 1;
  const sx = useMemo(() => linearScale([aMin - da / 2, aMax + da / 2], [x0, x0 + side]), [aMin, aMax, da, x0, side]);
  const sy = useMemo(() => linearScale([bMin - db / 2, bMax + db / 2], [y0 + side, y0]), [bMin, bMax, db, y0, side]);

  const z0 = zRange?.[0];
  const z1 = zRange?.[1];
  const image = useMemo(
    () => heatmapDataUrl(surface, { quantity, colorBy, colormap, zRange: z0 !== undefined && z1 !== undefined ? [z0, z1] : null }),
    [surface, quantity, colorBy, colormap, z0, z1],
  );

  const boundaryPath = useMemo(
    () => pathData(decisionBoundary(surface).map((line) => line.map(([a, b]) => [sx(a), sy(b)] as [number, number]))),
    [surface, sx, sy],
  );

  const [hover, setHover] = useState<{ i: number; j: number } | null>(null);
  const last = useRef('');
  const onMove = (e: PointerEvent<SVGRectElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const a = sx.invert(x0 + ((e.clientX - r.left) / r.width) * side);
    const b = sy.invert(y0 + ((e.clientY - r.top) / r.height) * side);
    const i = nearestIndex(surface.a, a);
    const j = nearestIndex(surface.b, b);
    const key = `${i},${j}`;
    if (i < 0 || j < 0 || key === last.current) return;
    last.current = key;
    setHover({ i, j });
    onHover?.({ i, j, a: surface.a[i], b: surface.b[j] });
  };
  const onLeave = () => {
    last.current = '';
    setHover(null);
    onHover?.(null);
  };

  const clip = `hm-clip-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const eps = epsBox !== null && epsBox > 0 ? epsBox : null;
  const showClean = aMin <= 0 && aMax >= 0 && bMin <= 0 && bMax >= 0;

  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Heatmap of the ${quantity} over a and b with the decision boundary`}
      style={{ background: props.transparent ? 'none' : theme.background, display: 'block' }}
    >
      {!props.transparent && <rect width={width} height={height} fill={theme.background} />}
      {title && (
        <text x={x0 + side / 2} y={MARGIN.top + TITLE_FONT} textAnchor="middle" fill={theme.text} fontSize={TITLE_FONT + 1} fontFamily={FONT_FAMILY} fontWeight={600}>
          {title}
        </text>
      )}
      <defs>
        <clipPath id={clip}>
          <rect x={x0} y={y0} width={side} height={side} />
        </clipPath>
      </defs>
      <image href={image} x={x0} y={y0} width={side} height={side} preserveAspectRatio="none" style={{ imageRendering: 'pixelated' }} />
      <g clipPath={`url(#${clip})`} fill="none" strokeLinejoin="round" strokeLinecap="round">
        {eps !== null && (
          <g>
            <rect x={sx(-eps)} y={sy(eps)} width={sx(eps) - sx(-eps)} height={sy(-eps) - sy(eps)} stroke={theme.boundaryHalo} strokeOpacity={0.5} strokeWidth={3.5} />
            <rect x={sx(-eps)} y={sy(eps)} width={sx(eps) - sx(-eps)} height={sy(-eps) - sy(eps)} stroke={theme.eps} strokeWidth={1.6} strokeDasharray="6 4" />
          </g>
        )}
        {boundaryPath && (
          <g data-boundary="">
            <path d={boundaryPath} stroke={theme.boundaryHalo} strokeOpacity={0.7} strokeWidth={5} />
            <path d={boundaryPath} stroke={theme.boundary} strokeWidth={2.4} />
          </g>
        )}
        {showClean && <circle cx={sx(0)} cy={sy(0)} r={4.5} fill={theme.clean} stroke={theme.boundaryHalo} strokeWidth={1.5} />}
        {hover && (
          <rect
            x={sx(surface.a[hover.i] - da / 2)}
            y={sy(surface.b[hover.j] + db / 2)}
            width={Math.max(3, sx(da) - sx(0))}
            height={Math.max(3, sy(0) - sy(db))}
            stroke={theme.boundary}
            strokeWidth={1.5}
          />
        )}
      </g>
      <rect x={x0} y={y0} width={side} height={side} fill="none" stroke={theme.axis} strokeWidth={0.75} />
      <AxisBottom scale={sx} ticks={niceTicks(aMin, aMax, 6)} y={y0 + side} x0={x0} x1={x0 + side} title={AXIS_TITLES.a} theme={theme} />
      <AxisLeft scale={sy} ticks={niceTicks(bMin, bMax, 6)} x={x0} y0={y0} y1={y0 + side} title={AXIS_TITLES.b} theme={theme} />
      {props.interactive !== false && (
        <rect
          x={x0}
          y={y0}
          width={side}
          height={side}
          fill="transparent"
          onPointerMove={onMove}
          onPointerLeave={onLeave}
          style={{ cursor: 'crosshair' }}
          data-export-ignore=""
        />
      )}
    </svg>
  );
}
