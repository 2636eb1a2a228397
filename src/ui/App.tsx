import { useEffect, useState } from 'react';
import type { BackendPreference } from '../engine/backend';
import { type Diagnostics, runDiagnostics } from './diagnostics';

function preferenceFromUrl(): BackendPreference {
  const value = new URLSearchParams(window.location.search).get('backend');
  return value === 'webgl' || value === 'wasm' || value === 'cpu' ? value : 'auto';
}

/** The lab's shell. For now: what the browser offers and which backend the engine runs on. */
export function App() {
  const [diag, setDiag] = useState<Diagnostics | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    runDiagnostics(preferenceFromUrl()).then(
      (d) => live && setDiag(d),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, []);

  return (
    <main className="shell" data-ready={diag || error ? 'true' : 'false'}>
      <header>
        <h1>Ravine</h1>
        <p className="tagline">Loss and decision surfaces in input space, and a robustness metric you can read live.</p>
      </header>
      <section className="panel" aria-label="Compute backend">
        <h2>Compute backend</h2>
        {error && <p role="alert" className="error">{error}</p>}
        {!diag && !error && <p>Probing WebGL and TensorFlow.js backends…</p>}
        {diag && (
          <dl>
            <dt>WebGL2</dt>
            <dd data-testid="webgl2">{diag.webgl.available ? 'available' : `unavailable (${diag.webgl.reason ?? 'unknown'})`}</dd>
            <dt>Renderer</dt>
            <dd data-testid="renderer">
              {diag.webgl.renderer || '—'}
              {diag.webgl.software ? ' (software renderer)' : ''}
            </dd>
            <dt>TF.js webgl backend</dt>
            <dd data-testid="tf-webgl" data-ok={String(diag.tfWebgl.ok)}>
              {diag.tfWebgl.ok ? 'ok' : 'failed'}: {diag.tfWebgl.detail}
            </dd>
            <dt>Engine runs on</dt>
            <dd data-testid="backend">
              <strong>{diag.choice.backend}</strong> — {diag.choice.reason}
            </dd>
            <dt>Cross-origin isolated</dt>
            <dd data-testid="isolated">{diag.crossOriginIsolated ? 'yes' : 'no'} (wasm runs single-threaded for now)</dd>
          </dl>
        )}
      </section>
      <footer>
        Method: F. Yu, Z. Qin, C. Liu, L. Zhao, Y. Wang, X. Chen, <em>Interpreting and Evaluating Neural Network Robustness</em>, IJCAI 2019
        (arXiv:1905.04270).
      </footer>
    </main>
  );
}
