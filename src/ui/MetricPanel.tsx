import { useShallow } from 'zustand/react/shallow';
import type { SlotName } from '../state/config';
import { cancelMetric, restartMetric } from '../state/lab';
import { useLab } from '../state/store';
import { fixed, pct } from './format';

function SlotMetric({ slot }: { slot: SlotName }) {
  const { m, info, zoo, active, eps } = useLab(
    useShallow((s) => ({ m: s.metrics[slot], info: s.models[slot].info, zoo: s.zoo, active: s.config.active === slot, eps: s.config.metric.eps ?? s.dataset?.manifest.defaultEps })),
  );
  if (!info) return null;
  const entry = zoo?.models.find((z) => z.id === info.builtinId);
  const s = m.summary;
  const half = s && s.n > 1 ? s.ci95[1] - s.R : null;
  return (
    <div className={`metric-slot ${active ? 'active' : ''}`} data-testid={`metric-${slot}`}>
      <div className="metric-head">
        <span className="slot-letter small">{slot}</span>
        <span className="metric-name">{info.name}</span>
      </div>
      <div className="metric-value">
        <span className="big" data-testid={`metric-${slot}-R`}>R = {fixed(s?.R, 3)}</span>
        <span className="ci" data-testid={`metric-${slot}-ci`}>{half != null ? `± ${fixed(half, 3)} (95 % CI, n = ${s?.n})` : s ? `n = ${s.n}` : ''}</span>
      </div>
      {m.running && (
        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(100 * m.progress)} aria-label={`Metric progress slot ${slot}`}>
          <div style={{ transform: `scaleX(${m.progress})` }} />
        </div>
      )}
      <div className="metric-actions">
        {m.running || m.attackRunning ? (
          <button type="button" onClick={() => cancelMetric(slot)}>Cancel</button>
        ) : (
          <button type="button" onClick={() => restartMetric(slot)}>Recompute</button>
        )}
        {active && m.samplePsi != null && <span className="muted">ψ(this sample) = {fixed(m.samplePsi, 3)}</span>}
      </div>
      {m.error && <p className="error">{m.error}</p>}
      <table className="acc">
        <thead>
          <tr>
            <th>ε</th>
            {(m.attack?.eps ?? entry?.accuracy.eps ?? []).map((e) => (
              <th key={e}>{e}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>FGSM (live, n = {m.fgsm?.n ?? '…'})</td>
            {m.fgsm ? m.fgsm.accuracy.map((a, i) => <td key={i}>{pct(a, 0)}</td>) : (entry?.accuracy.eps ?? []).map((e) => <td key={e}>{m.attackRunning ? '…' : '—'}</td>)}
          </tr>
          <tr>
            <td>PGD-20 (live)</td>
            {m.attack ? m.attack.accuracy.map((a, i) => <td key={i}>{pct(a, 0)}</td>) : (entry?.accuracy.eps ?? []).map((e) => <td key={e}>{m.attackRunning ? '…' : '—'}</td>)}
          </tr>
          {entry && (
            <tr className="muted">
              <td>PGD-20 (manifest, n = {entry.accuracy.attackSamples})</td>
              {entry.accuracy.pgd20.map((a, i) => (
                <td key={i}>{pct(a, 0)}</td>
              ))}
            </tr>
          )}
        </tbody>
      </table>
      {entry && (
        <p className="muted small">
          Manifest: clean {pct(entry.accuracy.clean)}, R = {fixed(entry.metric.R, 3)} on {entry.metric.n} samples at ε = {entry.metric.eps}. Live: ε = {eps}.
        </p>
      )}
    </div>
  );
}

/** R for both slots, filling in live, beside adversarial accuracy. */
export function MetricPanel() {
  const c = useLab(useShallow((s) => s.config.metric));
  const defaultEps = useLab((s) => s.dataset?.manifest.defaultEps ?? 0.3);
  const set = (patch: Partial<typeof c>) => useLab.getState().setConfig({ metric: { ...c, ...patch } });
  return (
    <section className="panel" aria-label="Robustness metric">
      <h2>
        Robustness metric <span className="muted">max KL of normalised softmax in the ε-ball (lower = more robust)</span>
      </h2>
      <div className="grid3">
        <label className="field">
          <span>Samples</span>
          <input type="number" min={1} max={2000} value={c.samples} onChange={(e) => Number(e.target.value) >= 1 && set({ samples: Math.min(2000, Math.round(Number(e.target.value))) })} />
        </label>
        <label className="field">
          <span>ε (L{c.norm === 'linf' ? '∞' : '2'})</span>
          <input type="number" min={0} max={1} step={0.01} value={c.eps ?? defaultEps} onChange={(e) => e.target.value !== '' && set({ eps: Math.min(1, Math.max(0, Number(e.target.value))) })} />
        </label>
        <label className="field">
          <span>PGD steps</span>
          <input type="number" min={1} max={200} value={c.steps} onChange={(e) => Number(e.target.value) >= 1 && set({ steps: Math.min(200, Math.round(Number(e.target.value))) })} />
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={c.normalize} onChange={(e) => set({ normalize: e.target.checked })} /> Logit-scale normaliser s(x) = std(z)
      </label>
      <SlotMetric slot="A" />
      <SlotMetric slot="B" />
    </section>
  );
}
