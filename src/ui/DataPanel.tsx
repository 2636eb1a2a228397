import { useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Dataset } from '../io/dataset';
import { setCustomSample, setUserSet } from '../state/lab';
import { useLab } from '../state/store';
import { Thumb } from './Thumb';

/** Thumbnails shown per page; 60 keeps the grid light to draw. */
const PAGE = 60;

/**
 * One pixel array per test image for the dataset's lifetime: a Thumb redraws its canvas only
 * when its array changes, so picking a sample repaints no thumbnail.
 */
const thumbValues = new WeakMap<Dataset, Map<number, Float32Array>>();

function thumbOf(dataset: Dataset, i: number): Float32Array {
  let byIndex = thumbValues.get(dataset);
  if (!byIndex) thumbValues.set(dataset, (byIndex = new Map()));
  let values = byIndex.get(i);
  if (!values) {
    const [h, w] = dataset.manifest.shape;
    const size = h * w;
    values = new Float32Array(size);
    for (let p = 0; p < size; p++) values[p] = dataset.images[i * size + p] / 255;
    byIndex.set(i, values);
  }
  return values;
}

/** The test images with label and prediction, a class / misclassified filter, and the sample's label. */
export function DataPanel() {
  const { dataset, sample, preds, custom, active, numClasses } = useLab(
    useShallow((s) => ({ dataset: s.dataset, sample: s.config.sample, preds: s.predictions[s.config.active], custom: s.customSample, active: s.config.active, numClasses: s.models[s.config.active].info?.numClasses ?? 10 })),
  );
  const userSet = useLab((s) => s.userSet);
  const [cls, setCls] = useState<number | 'all'>('all');
  const [wrongOnly, setWrongOnly] = useState(false);
  const [page, setPage] = useState(0);
  const userThumbs = useMemo(() => (userSet ? Array.from({ length: Math.min(PAGE, userSet.count) }, (_, i) => userSet.x.subarray(i * userSet.size, (i + 1) * userSet.size)) : []), [userSet]);
  const indices = useMemo(() => {
    if (!dataset) return [];
    const out: number[] = [];
    for (let i = 0; i < dataset.labels.length; i++) {
      if (cls !== 'all' && dataset.labels[i] !== cls) continue;
      if (wrongOnly && (!preds || preds[i] === dataset.labels[i])) continue;
      out.push(i);
    }
    return out;
  }, [dataset, cls, wrongOnly, preds]);
  if (!dataset) return <section className="panel" aria-label="Data"><h2>Data</h2><p className="muted">Loading test images…</p></section>;
  const classes = dataset.manifest.classes;
  const [h, w] = dataset.manifest.shape;
  const pages = Math.max(1, Math.ceil(indices.length / PAGE));
  const shown = indices.slice(page * PAGE, page * PAGE + PAGE);
  return (
    <section className="panel" aria-label="Data">
      <h2>
        Data <span className="muted">{dataset.manifest.name} test split · {dataset.labels.length} images</span>
      </h2>
      {custom && (
        <div className="custom-sample">
          <Thumb values={custom.x} width={w} height={h} size={48} />
          <div>
            <div>
              Your sample: <strong>{custom.name}</strong>
            </div>
            <label>
              True label{' '}
              <select value={custom.label} onChange={(e) => setCustomSample({ ...custom, label: Number(e.target.value) })} aria-label="True label of your sample">
                {Array.from({ length: numClasses }, (_, k) => (
                  <option key={k} value={k}>
                    {classes[k] ?? k}
                  </option>
                ))}
              </select>
            </label>{' '}
            <button type="button" onClick={() => setCustomSample(null)}>
              Back to test images
            </button>
          </div>
        </div>
      )}
      {userSet && (
        <div className="user-set">
          <div className="user-set-head">
            <span>
              Your array <strong>{userSet.name}</strong> · {userSet.count} images{userSet.labels ? ' with labels' : ''}
            </span>
            <button type="button" onClick={() => setUserSet(null)}>
              Forget
            </button>
          </div>
          <div className="thumbs" role="listbox" aria-label="Your images">
            {userThumbs.map((values, i) => {
              const label = userSet.labels ? userSet.labels[i] : (custom?.label ?? 0);
              const name = `${userSet.name} #${i}`;
              return (
                <button type="button" key={i} role="option" aria-selected={custom?.name === name} className={`thumb-btn ${custom?.name === name ? 'selected' : ''}`} onClick={() => setCustomSample({ name, x: values.slice(), label })} title={name}>
                  <Thumb values={values} width={w} height={h} size={36} />
                  <span className="thumb-label">{userSet.labels ? (classes[label] ?? label).slice(0, 6) : `#${i}`}</span>
                </button>
              );
            })}
          </div>
          {userSet.count > PAGE && <p className="muted small">Showing the first {PAGE} of {userSet.count}.</p>}
        </div>
      )}
      <div className="filters">
        <select aria-label="Filter by class" value={cls} onChange={(e) => { setCls(e.target.value === 'all' ? 'all' : Number(e.target.value)); setPage(0); }}>
          <option value="all">All classes</option>
          {classes.map((c, k) => (
            <option key={k} value={k}>
              {c}
            </option>
          ))}
        </select>
        <label title={preds ? '' : 'Predictions are still being computed'}>
          <input type="checkbox" checked={wrongOnly} onChange={(e) => { setWrongOnly(e.target.checked); setPage(0); }} disabled={!preds} /> misclassified by {active}
        </label>
      </div>
      <div className="thumbs" role="listbox" aria-label="Test images">
        {shown.map((i) => {
          const wrong = preds && preds[i] !== dataset.labels[i];
          const values = thumbOf(dataset, i);
          return (
            <button
              type="button"
              key={i}
              role="option"
              aria-selected={!custom && i === sample}
              className={`thumb-btn ${!custom && i === sample ? 'selected' : ''} ${wrong ? 'wrong' : ''}`}
              onClick={() => {
                if (custom) setCustomSample(null);
                useLab.getState().setConfig({ sample: i });
              }}
              title={`#${i} label ${classes[dataset.labels[i]]}${preds ? `, predicted ${classes[preds[i]]}` : ''}`}
              data-index={i}
            >
              <Thumb values={values} width={w} height={h} size={36} />
              <span className="thumb-label">
                {classes[dataset.labels[i]].slice(0, 6)}
                {wrong ? `→${classes[preds[i]].slice(0, 6)}` : ''}
              </span>
            </button>
          );
        })}
        {shown.length === 0 && <p className="muted">No image matches the filter.</p>}
      </div>
      <div className="pager">
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)} aria-label="Previous page">‹</button>
        <span className="muted">
          {indices.length} images · page {page + 1}/{pages}
        </span>
        <button type="button" disabled={page >= pages - 1} onClick={() => setPage(page + 1)} aria-label="Next page">›</button>
      </div>
    </section>
  );
}
