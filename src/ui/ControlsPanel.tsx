import { useShallow } from 'zustand/react/shallow';
import { COLORMAP_LABELS, COLORMAP_NAMES } from '../render/colormaps';
import { RESOLUTION_MAX, RESOLUTION_MIN, type LabConfig } from '../state/config';
import { useLab } from '../state/store';

function NumberField({ label, value, min, max, step, onCommit, testId }: { label: string; value: number; min: number; max: number; step: number; onCommit: (v: number) => void; testId?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        value={value}
        min={min}
        max={max}
        step={step}
        data-testid={testId}
        onChange={(e) => {
          const v = Number(e.target.value);
          // Out-of-range input is clamped (the browser's own min/max do not stop typing).
          if (e.target.value !== '' && Number.isFinite(v)) onCommit(Math.min(max, Math.max(min, v)));
        }}
      />
    </label>
  );
}

/** Surface settings: quantity, ranges, resolution, directions, colours, z-scale. */
export function ControlsPanel() {
  const c = useLab(useShallow((s) => s.config));
  const set = (patch: Partial<LabConfig>) => useLab.getState().setConfig(patch);
  return (
    <section className="panel" aria-label="Surface settings">
      <h2>Surface</h2>
      <div className="seg" role="group" aria-label="Quantity">
        {(['loss', 'margin'] as const).map((q) => (
          <button key={q} type="button" aria-pressed={c.quantity === q} onClick={() => set({ quantity: q, colormap: q === 'margin' ? 'rdbu' : c.colormap === 'rdbu' ? 'viridis' : c.colormap })}>
            {q === 'loss' ? 'Cross-entropy' : 'Decision margin'}
          </button>
        ))}
      </div>
      <div className="grid2">
        <NumberField label="Range a (±)" value={c.range} min={0.001} max={2} step={0.05} onCommit={(v) => set({ range: v })} testId="range" />
        <NumberField label="Range b (±)" value={c.rangeB} min={0.001} max={2} step={0.05} onCommit={(v) => set({ rangeB: v })} />
        <NumberField label="Resolution" value={c.resolution} min={RESOLUTION_MIN} max={RESOLUTION_MAX} step={10} onCommit={(v) => set({ resolution: Math.round(v) })} testId="resolution" />
        <NumberField label="Seed (d2)" value={c.directions.seed} min={0} max={2 ** 31 - 1} step={1} onCommit={(v) => set({ directions: { ...c.directions, seed: Math.round(v) } })} testId="seed" />
      </div>
      <div className="grid2">
        <label className="field">
          <span>d1</span>
          <select value={c.directions.adversarial} onChange={(e) => set({ directions: { ...c.directions, adversarial: e.target.value as 'sign' | 'gradient' } })}>
            <option value="sign">sign ∇CE (FGSM)</option>
            <option value="gradient">∇CE, L2-matched</option>
          </select>
        </label>
        <label className="field">
          <span>d2</span>
          <select value={c.directions.random} onChange={(e) => set({ directions: { ...c.directions, random: e.target.value as 'rademacher' | 'gaussian' } })}>
            <option value="rademacher">Rademacher</option>
            <option value="gaussian">Gaussian</option>
          </select>
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={c.directions.orthogonal} onChange={(e) => set({ directions: { ...c.directions, orthogonal: e.target.checked } })} /> Orthogonalise d2 against d1
      </label>
      <label className="check">
        <input type="checkbox" checked={c.shareDirection} onChange={(e) => set({ shareDirection: e.target.checked })} /> Use A’s adversarial direction for both
      </label>
      <div className="grid2">
        <label className="field">
          <span>Colour</span>
          <select value={c.colorBy === 'class' ? 'class' : c.colormap} onChange={(e) => (e.target.value === 'class' ? set({ colorBy: 'class' }) : set({ colorBy: 'value', colormap: e.target.value }))} aria-label="Colour map">
            {COLORMAP_NAMES.map((n) => (
              <option key={n} value={n}>
                {COLORMAP_LABELS[n]}
              </option>
            ))}
            <option value="class">Predicted class</option>
          </select>
        </label>
        <label className="field">
          <span>Height scale</span>
          <select value={c.zMode} onChange={(e) => set({ zMode: e.target.value as 'auto' | 'shared' })}>
            <option value="shared">Shared A/B</option>
            <option value="auto">Own</option>
          </select>
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={c.wireframe} onChange={(e) => set({ wireframe: e.target.checked })} /> Wireframe
      </label>
    </section>
  );
}
