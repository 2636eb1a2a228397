import { useEffect, useState } from 'react';
import { engineMemory } from '../state/lab';
import { useLab } from '../state/store';

/** Which backend and thread the engine runs on and why, and its live tensor count. */
export function StatusBar() {
  const backend = useLab((s) => s.backend);
  const thread = useLab((s) => s.thread);
  const [mem, setMem] = useState<{ numTensors: number; numBytes: number } | null>(null);
  useEffect(() => {
    const t = setInterval(() => void engineMemory().then(setMem, () => undefined), 2000);
    return () => clearInterval(t);
  }, []);
  return (
    <footer className="status-bar">
      <span className="backend" data-testid="backend" title={[backend?.reason ?? '', ...(backend?.skipped.map((s) => `${s.backend}: ${s.reason}`) ?? [])].join('\n')}>
        {backend ? (
          <>
            Engine: <strong>{backend.backend}</strong> — {backend.reason}
          </>
        ) : (
          'Starting the engine…'
        )}
      </span>
      <span>{thread}</span>
      {mem && (
        <span data-testid="memory">
          {mem.numTensors} tensors · {(mem.numBytes / 2 ** 20).toFixed(1)} MB
        </span>
      )}
      <span className="grow" />
      <span className="muted">Backend:</span>
      {(['auto', 'webgl', 'wasm'] as const).map((b) => (
        <button
          key={b}
          type="button"
          className="link"
          title={b === 'auto' ? 'Let Ravine choose (wasm on software WebGL)' : `Reload with the ${b} backend forced`}
          onClick={() => {
            const url = new URL(window.location.href);
            if (b === 'auto') url.searchParams.delete('backend');
            else url.searchParams.set('backend', b);
            window.location.assign(url.href);
          }}
        >
          {b === 'webgl' ? 'force WebGL' : b === 'wasm' ? 'force wasm' : 'auto'}
        </button>
      ))}
    </footer>
  );
}
