/**
 * Dev harness for src/render (served by `npx vite` at /src/render/demo.html; not part of the
 * production build): a synthetic surface shown in every view, with toggles for theme,
 * quantity, colouring, colour map, wireframe, ε and camera preset. URL parameters set the
 * initial state for screenshots, e.g. ?theme=light&colorBy=class&quantity=margin&preset=top
 * &pair=1 (two linked 3D views). `data-ready="true"` appears once the 3D view has drawn.
 */
import { StrictMode, useCallback, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ColorBar } from './ColorBar';
import { COLORMAP_LABELS, COLORMAP_NAMES, type ColormapName, DEFAULT_COLORMAP, isColormapName } from './colormaps';
import { Heatmap2D } from './Heatmap2D';
import { type ColorBy, type Quantity, presentClasses, quantityValues, resolveZRange } from './mesh';
import { Slices1D } from './Slices1D';
import { CAMERA_PRESETS, type CameraPreset, createCameraLink, type HoverPoint, SurfaceView } from './SurfaceView';
import { demoSurface, linspace, syntheticSurface } from './testGrids';
import { colorKeyLabel, FONT_FAMILY, THEMES, type ThemeName } from './theme';
import { formatValue } from './ticks';

const params = new URLSearchParams(window.location.search);
const pick = <T extends string>(name: string, options: readonly T[], fallback: T): T => {
  const v = params.get(name);
  return v !== null && (options as readonly string[]).includes(v) ? (v as T) : fallback;
};

/** A "robust model" companion for the linked pair: flat and correct in the whole box. */
function robustSurface(n = 41) {
  const axis = linspace(-0.3, 0.3, n);
  return syntheticSurface(axis, Float32Array.from(axis), {
    margin: (a, b) => 3 - 2.2 * a * a * 40 + 0.3 * Math.sin(5 * b),
    pred: (_a, _b, m) => (m > 0 ? 3 : 8),
  });
}

function Demo() {
  const [theme, setTheme] = useState<ThemeName>(pick('theme', ['dark', 'light'] as const, 'dark'));
  const [quantity, setQuantity] = useState<Quantity>(pick('quantity', ['loss', 'margin'] as const, 'loss'));
  const [colorBy, setColorBy] = useState<ColorBy>(pick('colorBy', ['value', 'class'] as const, 'value'));
  const cm = params.get('colormap');
  const [colormap, setColormap] = useState<ColormapName>(isColormapName(cm) ? cm : DEFAULT_COLORMAP[quantity]);
  const [wireframe, setWireframe] = useState(params.get('wire') === '1');
  const [eps, setEps] = useState<number | null>(params.get('eps') === 'none' ? null : Number(params.get('eps') ?? 0.1));
  const [preset, setPreset] = useState<CameraPreset>(pick('preset', CAMERA_PRESETS, 'iso'));
  const [grid, setGrid] = useState(Number(params.get('n') ?? 41));
  const [hover, setHover] = useState<HoverPoint | null>(null);
  const [renders, setRenders] = useState(0);
  const pair = params.get('pair') === '1';
  const t = THEMES[theme];

  const surface = useMemo(() => demoSurface(grid), [grid]);
  const robust = useMemo(() => robustSurface(grid), [grid]);
  const link = useMemo(() => createCameraLink(), []);
  const values = quantityValues(surface, quantity);
  const sharedRange = useMemo<[number, number] | null>(() => {
    if (!pair) return null;
    const r1 = resolveZRange(quantityValues(surface, quantity), null);
    const r2 = resolveZRange(quantityValues(robust, quantity), null);
    return [Math.min(r1[0], r2[0]), Math.max(r1[1], r2[1])];
  }, [pair, surface, robust, quantity]);
  const domain = sharedRange ?? resolveZRange(values, null);
  const onRendered = useCallback(() => setRenders((n) => n + 1), []);
  const classNames = ['0 T-shirt', '1 trouser', '2 pullover', '3 dress', '4 coat', '5 sandal', '6 shirt', '7 sneaker', '8 bag', '9 boot'];

  const setQ = (q: Quantity) => {
    setQuantity(q);
    setColormap(DEFAULT_COLORMAP[q]);
  };
  const button = (active: boolean) => ({
    background: active ? t.text : 'transparent',
    color: active ? t.background : t.text,
    border: `1px solid ${t.axis}`,
    borderRadius: 4,
    padding: '3px 8px',
    cursor: 'pointer',
    font: `12px ${FONT_FAMILY}`,
  });
  const bar = (
    <ColorBar
      colorBy={colorBy}
      colormap={colormap}
      domain={domain}
      label={colorKeyLabel(colorBy, quantity)}
      theme={theme}
      classes={presentClasses(surface.pred)}
      classNames={classNames}
      length={300}
    />
  );

  return (
    <div
      data-ready={renders > 0 ? 'true' : 'false'}
      data-surface-state={renders > 0 ? 'ready' : 'drawing'}
      style={{ background: t.background, color: t.text, minHeight: '100vh', padding: 16, boxSizing: 'border-box', fontFamily: FONT_FAMILY }}
    >
      <div style={{ display: 'flex', gap: 6, flexWrap: 'wrap', alignItems: 'center', marginBottom: 12, fontSize: 12 }}>
        <strong style={{ marginRight: 8 }}>Ravine render demo</strong>
        {(['dark', 'light'] as const).map((v) => (
          <button key={v} style={button(theme === v)} onClick={() => setTheme(v)}>
            {v}
          </button>
        ))}
        <span style={{ width: 8 }} />
        {(['loss', 'margin'] as const).map((v) => (
          <button key={v} style={button(quantity === v)} onClick={() => setQ(v)}>
            {v}
          </button>
        ))}
        <span style={{ width: 8 }} />
        {(['value', 'class'] as const).map((v) => (
          <button key={v} style={button(colorBy === v)} onClick={() => setColorBy(v)}>
            colour by {v}
          </button>
        ))}
        <select value={colormap} onChange={(e) => setColormap(e.target.value as ColormapName)} style={button(false)}>
          {COLORMAP_NAMES.map((n) => (
            <option key={n} value={n}>
              {COLORMAP_LABELS[n]}
            </option>
          ))}
        </select>
        <label>
          <input type="checkbox" checked={wireframe} onChange={(e) => setWireframe(e.target.checked)} /> wireframe
        </label>
        <label>
          <input type="checkbox" checked={eps !== null} onChange={(e) => setEps(e.target.checked ? 0.1 : null)} /> ε-box (0.1)
        </label>
        <span style={{ width: 8 }} />
        {CAMERA_PRESETS.map((p) => (
          <button key={p} style={button(preset === p)} onClick={() => setPreset(p)}>
            {p}
          </button>
        ))}
        <span style={{ width: 8 }} />
        {[21, 41, 81].map((n) => (
          <button key={n} style={button(grid === n)} onClick={() => setGrid(n)}>
            {n}²
          </button>
        ))}
        <span data-testid="hover" style={{ marginLeft: 12, color: t.muted }}>
          {hover
            ? `(i, j) = (${hover.i}, ${hover.j})  a = ${formatValue(hover.a)}  b = ${formatValue(hover.b)}  ${quantity} = ${formatValue(values[hover.j * surface.a.length + hover.i])}`
            : 'hover the surface'}
        </span>
        <span style={{ marginLeft: 8, color: t.muted }}>frames signalled: {renders}</span>
      </div>
      <div style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
        <div style={{ width: pair ? 560 : 760, height: 470 }}>
          <SurfaceView
            surface={surface}
            quantity={quantity}
            colorBy={colorBy}
            colormap={colormap}
            zRange={sharedRange}
            wireframe={wireframe}
            epsBox={eps}
            theme={theme}
            cameraPreset={preset}
            onHover={setHover}
            onRendered={onRendered}
            cameraLink={pair ? link : undefined}
          />
        </div>
        {pair && (
          <div style={{ width: 560, height: 470 }}>
            <SurfaceView
              surface={robust}
              quantity={quantity}
              colorBy={colorBy}
              colormap={colormap}
              zRange={sharedRange}
              wireframe={wireframe}
              epsBox={eps}
              theme={theme}
              cameraPreset={preset}
              onHover={setHover}
              cameraLink={link}
            />
          </div>
        )}
        {bar}
      </div>
      {!pair && (
        <div style={{ display: 'flex', gap: 16, alignItems: 'center', marginTop: 12 }}>
          <Heatmap2D
            surface={surface}
            quantity={quantity}
            colorBy={colorBy}
            colormap={colormap}
            zRange={null}
            epsBox={eps}
            theme={theme}
            onHover={setHover}
            width={400}
            height={380}
          />
          {bar}
          <Slices1D surface={surface} quantity={quantity} zRange={null} epsBox={eps} theme={theme} width={560} height={340} />
        </div>
      )}
    </div>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Demo />
  </StrictMode>,
);
