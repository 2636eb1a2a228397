import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { aspectOf, createCameraLink, presetPose, type CameraLink, type CameraPreset, type CameraState } from '../render/camera';
import { ColorBar } from '../render/ColorBar';
import { isColormapName, type ColormapName } from '../render/colormaps';
import { Heatmap2D } from '../render/Heatmap2D';
import { sharedZRange } from '../render/plot2d';
import { Slices1D } from '../render/Slices1D';
import { SurfaceView } from '../render/SurfaceView';
import { roundCamera, type SlotName } from '../state/config';
import { cancelSurface, currentSample, sameGrid } from '../state/lab';
import { useLab, type SurfaceSlot } from '../state/store';
import { fixed, pct } from './format';
import { exposeScriptingHandle } from './scripting';
import { Thumb } from './Thumb';

/** Stable fallbacks: a selector returning a fresh [] each call would re-render forever. */
const NO_CLASSES: string[] = [];
const MNIST_SHAPE = [28, 28, 1];

type Hover = { slot: SlotName; i: number; j: number; a: number; b: number } | null;

function HoverReadout({ hover, surface }: { hover: NonNullable<Hover>; surface: SurfaceSlot }) {
  const classes = useLab((s) => s.dataset?.manifest.classes ?? NO_CLASSES);
  const shape = useLab((s) => s.models[hover.slot].info?.inputShape ?? MNIST_SHAPE);
  const r = surface.result;
  const sample = currentSample();
  const perturbed = useMemo(() => {
    if (!sample || !surface.d1 || !surface.d2) return null;
    const out = new Float32Array(sample.x.length);
    for (let k = 0; k < out.length; k++) out[k] = Math.min(1, Math.max(0, sample.x[k] + hover.a * surface.d1[k] + hover.b * surface.d2[k]));
    return out;
  }, [sample?.id, hover.a, hover.b, surface.d1, surface.d2]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!r || !sample) return null;
  const p = hover.j * r.a.length + hover.i;
  const [h, w, ch] = shape;
  return (
    <div className="hover-readout" data-testid="hover-readout">
      <div className="hover-images">
        {ch === 1 && <Thumb values={sample.x} width={w} height={h} size={64} title="clean input" />}
        {ch === 1 && perturbed && <Thumb values={perturbed} width={w} height={h} size={64} title="perturbed input" />}
      </div>
      <table>
        <tbody>
          <tr><td>a, b</td><td>{fixed(hover.a, 3)}, {fixed(hover.b, 3)}</td></tr>
          <tr><td>loss</td><td>{fixed(r.loss[p], 3)}</td></tr>
          <tr><td>margin</td><td className={r.margin[p] < 0 ? 'neg' : 'pos'}>{fixed(r.margin[p], 3)}</td></tr>
          <tr><td>predicted</td><td>{classes[r.pred[p]] ?? r.pred[p]} ({pct(r.confidence[p])})</td></tr>
        </tbody>
      </table>
    </div>
  );
}

/** 2D and 1D views draw synchronously on commit: mark them drawn right after. */
function DrawnMarker({ onDrawn, token }: { onDrawn: () => void; token: unknown }) {
  useEffect(() => {
    const id = requestAnimationFrame(() => onDrawn());
    return () => cancelAnimationFrame(id);
  }, [token]); // eslint-disable-line react-hooks/exhaustive-deps
  return null;
}

/** Keeps the pose the user settled on in the config (URL hash, recipes). */
const commitCamera = (pose: CameraState) => useLab.getState().setConfig({ camera: roundCamera(pose) });

/** Poses that differ by less than this (world units) are the same view; rounding stays below it. */
const CAMERA_SAME = 1e-3;

function samePose(p: CameraState | null, q: CameraState | null): boolean {
  if (!p || !q) return p === q;
  for (let k = 0; k < 3; k++) {
    if (Math.abs(p.position[k] - q.position[k]) > CAMERA_SAME || Math.abs(p.target[k] - q.target[k]) > CAMERA_SAME) return false;
  }
  return Math.abs((p.zoom ?? 1) - (q.zoom ?? 1)) <= CAMERA_SAME;
}

function SlotView({ slot, zRange, cameraPreset, link, onHover }: { slot: SlotName; zRange: [number, number] | null; cameraPreset: CameraPreset; link: CameraLink; onHover: (h: Hover) => void }) {
  const { surface, c, eps, name } = useLab(useShallow((s) => ({ surface: s.surfaces[slot], c: s.config, eps: s.config.metric.eps ?? s.dataset?.manifest.defaultEps ?? null, name: s.models[slot].info?.name ?? '' })));
  const colormap: ColormapName = isColormapName(c.colormap) ? c.colormap : 'viridis';
  const r = surface.result;
  const key = surface.key;
  // A preview must not count as the drawn surface: the state turns 'ready' only when the full grid is on screen.
  const drawnKey = surface.preview ? `${key}#preview` : key;
  const markDrawn = () => useLab.setState((s) => (s.drawn[slot] === drawnKey ? s : { drawn: { ...s.drawn, [slot]: drawnKey } }));
  if (!r) {
    return <div className="view-empty">{surface.state === 'error' ? surface.error : surface.state === 'computing' ? 'Computing the surface…' : 'Load a model to see its surface.'}</div>;
  }
  const hover = (h: { i: number; j: number; a: number; b: number } | null) => onHover(h ? { slot, ...h } : null);
  return (
    <div className="slot-view">
      <div className="slot-tag"><span className="slot-letter small">{slot}</span> {name}</div>
      {c.view === '3d' && (
        <SurfaceView
          surface={r}
          quantity={c.quantity}
          colorBy={c.colorBy}
          colormap={colormap}
          zRange={zRange}
          wireframe={c.wireframe}
          epsBox={eps}
          theme={c.theme}
          cameraPreset={cameraPreset}
          onHover={hover}
          onRendered={markDrawn}
          cameraLink={link}
          onCameraCommit={commitCamera}
          onContextLost={(lost) => {
            const notify = useLab.getState().notify;
            if (lost) notify('error', `The browser took the 3D view's WebGL context away (slot ${slot}); waiting for it to come back.`);
            else notify('info', `The 3D view of slot ${slot} is back.`);
          }}
        />
      )}
      {c.view === '2d' && <Heatmap2D surface={r} quantity={c.quantity} colorBy={c.colorBy} colormap={colormap} zRange={zRange} epsBox={eps} theme={c.theme} onHover={hover} />}
      {c.view === '1d' && <Slices1D surface={r} quantity={c.quantity} epsBox={eps} theme={c.theme} zRange={zRange} />}
      {c.view !== '3d' && <DrawnMarker onDrawn={markDrawn} token={`${key}|${c.view}|${surface.preview}`} />}
    </div>
  );
}

/** The main view: the surface (3D, 2D or 1D; one slot or A|B split), its colour bar, progress and hover readout. */
export function MainView() {
  const { c, surfaces, drawn, classes, settling, loading } = useLab(
    useShallow((s) => ({ c: s.config, surfaces: s.surfaces, drawn: s.drawn, classes: s.dataset?.manifest.classes ?? NO_CLASSES, settling: s.settling, loading: s.models.A.loading || s.models.B.loading })),
  );
  const [hover, setHover] = useState<Hover>(null);
  const [preset, setPreset] = useState<CameraPreset>('iso');
  const views = useRef<HTMLDivElement>(null);
  // One camera for every view so the A/B flip keeps it; a new one when the split toggles, since
  // a half-width canvas needs the preset framed for its own aspect.
  // A pose in the config (from a link, a recipe or an earlier gesture) wins over the preset.
  const link = useMemo(() => createCameraLink(c.camera), [c.split]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => exposeScriptingHandle(link), [link]);
  // A pose set from outside the views (a recipe opened, the URL edited) moves them.
  useEffect(() => {
    if (c.camera && !samePose(c.camera, link.get())) link.set(c.camera, 'config');
    if (!c.camera && link.get()) {
      // The home pose is framed for the first slot's canvas (half the width in the split view).
      const canvas = views.current?.querySelector('.slot-view canvas');
      const aspect = aspectOf(canvas?.clientWidth ?? 0, canvas?.clientHeight ?? 0);
      const home = presetPose('iso', aspect);
      if (!samePose(home, link.get())) link.set(home, 'config');
    }
  }, [c.camera, link]);
  const active = surfaces[c.active];
  const shown: SlotName[] = c.split ? ['A', 'B'] : [c.active];
  const zRange = useMemo(() => {
    // A slot off screen joins the shared range with its full grid of the same sample and
    // settings only: not with its preview, nor with the surface of the sample before while its
    // own is still to come (each would move the range, and redraw the view, for nothing).
    const pool = c.zMode === 'shared' ? (['A', 'B'] as const).filter((s) => shown.includes(s) || (!surfaces[s].preview && sameGrid(surfaces[s].key, surfaces[c.active].key))) : shown;
    return sharedZRange(pool.flatMap((s) => surfaces[s].result ?? []), c.quantity);
  }, [surfaces, c.zMode, c.quantity, c.active, c.split]); // eslint-disable-line react-hooks/exhaustive-deps
  // 'ready' promises that what is drawn matches the settings on screen: never while a change
  // is still being scheduled or a model is loading.
  const state = shown.some((s) => surfaces[s].state === 'error')
    ? 'error'
    : settling || loading || shown.some((s) => surfaces[s].state === 'computing')
      ? 'computing'
      : shown.every((s) => surfaces[s].state === 'ready' && surfaces[s].result && drawn[s] === (surfaces[s].preview ? `${surfaces[s].key}#preview` : surfaces[s].key))
        ? 'ready'
        : shown.some((s) => surfaces[s].state === 'ready')
          ? 'computing'
          : 'idle';
  const colormap: ColormapName = isColormapName(c.colormap) ? c.colormap : 'viridis';
  const computing = shown.filter((s) => surfaces[s].state === 'computing');
  return (
    <div className={`main-view ${c.split ? 'split' : ''} view-${c.view}`} data-surface-state={state} data-testid="main-view">
      <div className="view-toolbar">
        <div className="seg" role="group" aria-label="View">
          {(['3d', '2d', '1d'] as const).map((v) => (
            <button key={v} type="button" aria-pressed={c.view === v} onClick={() => useLab.getState().setConfig({ view: v })}>
              {v === '3d' ? '3D' : v === '2d' ? 'Heatmap' : 'Slices'}
            </button>
          ))}
        </div>
        <button type="button" aria-pressed={c.split} onClick={() => useLab.getState().setConfig({ split: !c.split })} title="Side-by-side A | B (S)">
          A | B
        </button>
        {c.view === '3d' && (
          <select aria-label="Camera" value={preset} onChange={(e) => setPreset(e.target.value as CameraPreset)}>
            <option value="iso">Isometric</option>
            <option value="along-d1">Along d1</option>
            <option value="along-d2">Along d2</option>
            <option value="top">Top</option>
          </select>
        )}
        <span className="muted quantity-label">
          {c.quantity === 'loss' ? 'cross-entropy' : 'logit margin (0 = decision boundary)'} around sample{' '}
          {useLab.getState().customSample ? useLab.getState().customSample?.name : `#${c.sample}`}
          {active.d1Source === 'margin' ? ' · d1 from the margin gradient (CE saturated)' : ''}
        </span>
      </div>
      <div className="views" ref={views}>
        {shown.map((s) => (
          <SlotView key={`${s}-${c.split}`} slot={s} zRange={c.zMode === 'shared' || c.split ? zRange : null} cameraPreset={preset} link={link} onHover={setHover} />
        ))}
      </div>
      <div className="view-footer">
        {active.result && zRange && (
          <ColorBar colorBy={c.colorBy} colormap={colormap} domain={zRange} label={c.quantity === 'loss' ? 'cross-entropy' : 'margin z_y − max z_j'} classNames={classes} theme={c.theme} orientation="horizontal" length={320} />
        )}
        {computing.length > 0 && (
          <div className="compute-progress">
            <div className="progress" role="progressbar" aria-label="Surface progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(100 * surfaces[computing[0]].progress)}>
              <div style={{ transform: `scaleX(${surfaces[computing[0]].progress})` }} />
            </div>
            <span className="muted">
              {surfaces[computing[0]].preview ? 'preview shown; ' : ''}computing {c.resolution}² grid… {Math.round(100 * surfaces[computing[0]].progress)} %
            </span>
            <button type="button" onClick={() => computing.forEach(cancelSurface)} data-testid="cancel-surface">
              Cancel
            </button>
          </div>
        )}
      </div>
      {hover && surfaces[hover.slot].result && <HoverReadout hover={hover} surface={surfaces[hover.slot]} />}
    </div>
  );
}
