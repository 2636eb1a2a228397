import { version as tfjsVersions } from '@tensorflow/tfjs';
import { useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { version as ravineVersion } from '../../package.json';
import { GRID_LAYOUT, surfaceCsv, surfaceJson, surfaceNpyZip, type SurfaceMeta } from '../io/exports';
import { DEFAULT_FIGURE_OPTIONS, FIGURE_MAX_SIDE, FIGURE_MIN_SIDE, FIGURE_SCALES, type FigureOptions } from '../io/figureOptions';
import { TITLE_MAX_LENGTH } from '../state/config';
import { currentSample, openRecipeText } from '../state/lab';
import { useLab } from '../state/store';
import { download, exportFigure, exportRecipe } from './figureExport';

const KINDS: Array<{ kind: FigureOptions['kind']; label: string; title: string }> = [
  { kind: 'png', label: '3D PNG', title: 'The 3D view rendered off-screen at the chosen size, with axes, colour bar and title' },
  { kind: 'svg-heatmap', label: 'Heatmap SVG', title: 'The heatmap with the decision boundary and colour bar, as vector graphics' },
  { kind: 'svg-slices', label: 'Slices SVG', title: 'The 1D slices along d1 and d2, as vector graphics' },
  { kind: 'glb', label: '3D GLB', title: 'The surface mesh as binary glTF, for Blender or ParaView' },
];

/** Figures, the numbers behind them, and recipes that rebuild them. */
export function ExportPanel() {
  // Only the fields the panel reads: a slot's progress changes many times per computation,
  // and the panel need not re-render for it.
  const { r, preview, d1, d2, d1Source, otherResult, otherPreview, info, config, backend } = useLab(
    useShallow((s) => {
      const surface = s.surfaces[s.config.active];
      const other = s.surfaces[s.config.active === 'A' ? 'B' : 'A'];
      return {
        r: surface.result,
        preview: surface.preview,
        d1: surface.d1,
        d2: surface.d2,
        d1Source: surface.d1Source,
        otherResult: other.result,
        otherPreview: other.preview,
        info: s.models[s.config.active].info,
        config: s.config,
        backend: s.backend?.backend ?? '',
      };
    }),
  );
  const [opts, setOpts] = useState<FigureOptions>(DEFAULT_FIGURE_OPTIONS);
  const [widthText, setWidthText] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ error: boolean; text: string } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const ready = Boolean(r && !preview && info && d1 && d2);
  const canCompare = ready && Boolean(otherResult && !otherPreview);
  const base = `ravine-${info?.builtinId ?? info?.sha256.slice(0, 8) ?? 'model'}-${config.active}`;
  const set = (patch: Partial<FigureOptions>) => setOpts((o) => ({ ...o, ...patch }));

  const meta = (): SurfaceMeta => {
    const sample = currentSample();
    return {
      ravineVersion,
      tfjsVersion: tfjsVersions.tfjs,
      backend,
      model: { name: info?.name ?? '', id: info?.builtinId, sha256: info?.sha256 ?? '' },
      sample: { id: sample?.id ?? '', label: sample?.label ?? -1 },
      directions: { ...config.directions, d1Source: d1Source ?? '' },
      range: config.range,
      rangeB: config.rangeB,
      quantity: config.quantity,
      layout: GRID_LAYOUT,
      inputShape: info?.inputShape ?? [],
    };
  };

  const figure = async () => {
    setBusy(true);
    setStatus({ error: false, text: 'Rendering…' });
    try {
      const started = performance.now();
      const file = await exportFigure({ ...opts, width: widthText.trim() === '' ? null : Number(widthText), title: config.title, compare: opts.compare && canCompare });
      download(file);
      setStatus({ error: false, text: `${file.name} (${(file.bytes.length / 1024).toFixed(0)} KB, ${((performance.now() - started) / 1000).toFixed(1)} s)` });
    } catch (e) {
      setStatus({ error: true, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const sized = opts.kind === 'png' || opts.kind === 'svg-heatmap' || opts.kind === 'svg-slices';
  return (
    <section className="panel" aria-label="Export">
      <h2>
        Export <span className="muted">figures, data, recipes</span>
      </h2>
      <div className="seg export-kinds" role="group" aria-label="Figure kind">
        {KINDS.map((k) => (
          <button key={k.kind} type="button" aria-pressed={opts.kind === k.kind} title={k.title} onClick={() => set({ kind: k.kind })}>
            {k.label}
          </button>
        ))}
      </div>
      {sized && (
        <div className="export-row">
          <span className="muted small">Size</span>
          <div className="seg" role="group" aria-label="Figure scale">
            {FIGURE_SCALES.map((sc) => (
              <button key={sc} type="button" aria-pressed={opts.scale === sc && widthText === ''} onClick={() => (set({ scale: sc }), setWidthText(''))}>
                {sc}×
              </button>
            ))}
          </div>
          {opts.kind === 'png' && (
            <label className="small">
              or width{' '}
              <input
                type="number"
                min={FIGURE_MIN_SIDE}
                max={FIGURE_MAX_SIDE}
                step={1}
                placeholder="px"
                value={widthText}
                onChange={(e) => setWidthText(e.target.value)}
                aria-label="Figure width in pixels"
                className="width-input"
              />
            </label>
          )}
        </div>
      )}
      {opts.kind !== 'glb' && (
        <div className="export-row">
          <label className="small">
            Background{' '}
            <select value={opts.background} onChange={(e) => set({ background: e.target.value as FigureOptions['background'] })} aria-label="Figure background">
              <option value="white">white</option>
              <option value="dark">dark</option>
              <option value="transparent">transparent</option>
            </select>
          </label>
          {opts.kind === 'png' && (
            <label className="small">
              Camera{' '}
              <select value={opts.camera} onChange={(e) => set({ camera: e.target.value as FigureOptions['camera'] })} aria-label="Figure camera">
                <option value="current">as on screen</option>
                <option value="iso">isometric</option>
                <option value="along-d1">along d1</option>
                <option value="along-d2">along d2</option>
                <option value="top">top</option>
              </select>
            </label>
          )}
        </div>
      )}
      {opts.kind !== 'glb' && (
        <div className="export-row">
          <input
            type="text"
            className="title-input"
            placeholder="Title (optional)"
            maxLength={TITLE_MAX_LENGTH}
            value={config.title}
            onChange={(e) => useLab.getState().setConfig({ title: e.target.value })}
            aria-label="Figure title"
          />
          <label className="small" title={canCompare ? 'A and B side by side on one colour scale' : 'Needs surfaces in both slots'}>
            <input type="checkbox" checked={opts.compare && canCompare} disabled={!canCompare} onChange={(e) => set({ compare: e.target.checked })} /> A | B
          </label>
        </div>
      )}
      <div className="export-row">
        <button type="button" className="primary" disabled={!ready || busy} onClick={() => void figure()} data-testid="export-figure">
          {busy ? 'Rendering…' : 'Download figure'}
        </button>
        {status && (
          <span className={`small export-status ${status.error ? 'error' : 'muted'}`} role={status.error ? 'alert' : 'status'} data-testid="export-status">
            {status.text}
          </span>
        )}
      </div>
      <h3 className="small">Data of the active grid</h3>
      <div className="export-row">
        <button type="button" disabled={!ready} onClick={() => r && download({ name: `${base}-surface.csv`, bytes: new TextEncoder().encode(surfaceCsv(r)), type: 'text/csv' })} data-testid="export-csv">
          CSV
        </button>
        <button type="button" disabled={!ready} onClick={() => r && download({ name: `${base}-surface.json`, bytes: new TextEncoder().encode(surfaceJson(r, meta())), type: 'application/json' })} data-testid="export-json">
          JSON
        </button>
        <button
          type="button"
          disabled={!ready}
          onClick={() => {
            const sample = currentSample();
            if (r && sample && d1 && d2) download({ name: `${base}-surface-npy.zip`, bytes: surfaceNpyZip(r, sample.x, d1, d2, meta()), type: 'application/zip' });
          }}
          data-testid="export-npy"
        >
          .npy (zip)
        </button>
      </div>
      <h3 className="small">Recipe</h3>
      <div className="export-row">
        <button
          type="button"
          disabled={!ready}
          onClick={() => {
            try {
              download(exportRecipe());
            } catch (e) {
              useLab.getState().notify('error', (e as Error).message);
            }
          }}
          data-testid="save-recipe"
          title="Models (id and hash), sample, directions, settings and camera in one file"
        >
          Save recipe
        </button>
        <button type="button" onClick={() => fileInput.current?.click()} data-testid="open-recipe" title="Rebuild a view from a recipe file (or drop it on the page)">
          Open recipe…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          hidden
          data-testid="recipe-input"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void file.text().then((text) => openRecipeText(text, file.name));
          }}
        />
      </div>
      <p className="muted small">Grids are row-major: {GRID_LAYOUT}. The URL keeps every setting (camera included); a recipe also keeps the directions and the sample.</p>
    </section>
  );
}
