import { useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SlotName } from '../state/config';
import { loadBuiltin, loadPair } from '../state/lab';
import { useLab } from '../state/store';
import { bytes, count, pct } from './format';
import { handlePickedFiles } from './dropHandling';

function SlotCard({ slot }: { slot: SlotName }) {
  const { model, active, zoo } = useLab(useShallow((s) => ({ model: s.models[slot], active: s.config.active === slot, zoo: s.zoo })));
  const entry = zoo?.models.find((m) => m.id === model.info?.builtinId);
  return (
    <button type="button" className={`slot-card ${active ? 'active' : ''}`} onClick={() => useLab.getState().setConfig({ active: slot })} aria-pressed={active} data-testid={`slot-${slot}`}>
      <span className="slot-letter">{slot}</span>
      <span className="slot-body">
        <span className="slot-name">{model.loading ? 'Loading…' : (model.info?.name ?? 'empty')}</span>
        {model.info && (
          <span className="slot-meta">
            {count(model.info.params)} params · {bytes(model.info.weightBytes)} · {model.info.numClasses} classes
            {entry ? ` · clean ${pct(entry.accuracy.clean)}` : ''}
          </span>
        )}
      </span>
    </button>
  );
}

/** Slots A/B, the built-in zoo (pairs load with one click), and a file picker. */
export function ModelPanel() {
  const zoo = useLab((s) => s.zoo);
  const active = useLab((s) => s.config.active);
  const picker = useRef<HTMLInputElement>(null);
  const pairs = (zoo?.models ?? []).filter((m) => !m.robust && zoo?.models.some((r) => r.id === m.pair));
  return (
    <section className="panel" aria-label="Models">
      <h2>Models</h2>
      <div className="slots">
        <SlotCard slot="A" />
        <SlotCard slot="B" />
      </div>
      <h3>Built-in pairs (natural → A, adversarial → B)</h3>
      <ul className="zoo">
        {pairs.map((m) => {
          const robust = zoo?.models.find((r) => r.id === m.pair);
          return (
            <li key={m.id}>
              <button type="button" onClick={() => robust && void loadPair(m.id, robust.id)} data-testid={`pair-${m.id}`}>
                <strong>{m.dataset === 'mnist' ? 'MNIST' : 'Fashion'} {m.arch.toUpperCase()}</strong>
                <span className="muted">
                  natural {pct(m.accuracy.clean)} vs {robust?.training.method.toUpperCase()} ε {robust?.training.eps} {pct(robust?.accuracy.clean)}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      <h3>Single models → slot {active}</h3>
      <select aria-label={`Built-in model for slot ${active}`} value="" onChange={(e) => e.target.value && void loadBuiltin(active, e.target.value)}>
        <option value="">Choose a built-in model…</option>
        {(zoo?.models ?? []).map((m) => (
          <option key={m.id} value={m.id}>
            {m.title}
          </option>
        ))}
      </select>
      <div className="file-row">
        <button type="button" onClick={() => picker.current?.click()}>
          Open model files…
        </button>
        <span className="muted">or drop model.json + .bin, a folder, or a .zip anywhere</span>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="model-picker"
          accept=".json,.bin,.zip,.png,.jpg,.jpeg,.npy"
          onChange={async (e) => {
            if (e.target.files?.length) await handlePickedFiles(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
    </section>
  );
}
