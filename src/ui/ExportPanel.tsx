import { version as tfjsVersions } from '@tensorflow/tfjs';
import { useShallow } from 'zustand/react/shallow';
import { version as ravineVersion } from '../../package.json';
import { GRID_LAYOUT, surfaceCsv, surfaceJson, surfaceNpyZip, type SurfaceMeta } from '../io/exports';
import { currentSample } from '../state/lab';
import { useLab } from '../state/store';

function download(name: string, data: string | Uint8Array, type: string): void {
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The click has started the download; the object URL is not needed afterwards.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Downloads of the numbers behind the active surface. */
export function ExportPanel() {
  const { surface, info, config, backend } = useLab(
    useShallow((s) => ({ surface: s.surfaces[s.config.active], info: s.models[s.config.active].info, config: s.config, backend: s.backend?.backend ?? '' })),
  );
  const r = surface.result;
  const ready = r && !surface.preview && info && surface.d1 && surface.d2;
  const base = `ravine-${info?.builtinId ?? info?.sha256.slice(0, 8) ?? 'model'}-${config.active}`;
  const meta = (): SurfaceMeta => {
    const sample = currentSample();
    return {
      ravineVersion,
      tfjsVersion: tfjsVersions.tfjs,
      backend,
      model: { name: info?.name ?? '', id: info?.builtinId, sha256: info?.sha256 ?? '' },
      sample: { id: sample?.id ?? '', label: sample?.label ?? -1 },
      directions: { ...config.directions, d1Source: surface.d1Source ?? '' },
      range: config.range,
      rangeB: config.rangeB,
      layout: GRID_LAYOUT,
      inputShape: info?.inputShape ?? [],
    };
  };
  return (
    <section className="panel" aria-label="Export">
      <h2>
        Export <span className="muted">the active slot’s grid</span>
      </h2>
      <div className="export-row">
        <button type="button" disabled={!ready} onClick={() => r && download(`${base}-surface.csv`, surfaceCsv(r), 'text/csv')} data-testid="export-csv">
          CSV
        </button>
        <button type="button" disabled={!ready} onClick={() => r && download(`${base}-surface.json`, surfaceJson(r, meta()), 'application/json')} data-testid="export-json">
          JSON
        </button>
        <button
          type="button"
          disabled={!ready}
          onClick={() => {
            const sample = currentSample();
            if (r && sample && surface.d1 && surface.d2) download(`${base}-surface-npy.zip`, surfaceNpyZip(r, sample.x, surface.d1, surface.d2, meta()), 'application/zip');
          }}
          data-testid="export-npy"
        >
          .npy (zip)
        </button>
      </div>
      <p className="muted small">Grids are row-major: {GRID_LAYOUT}. The page’s URL keeps every setting; bookmark it to come back to this view.</p>
    </section>
  );
}
