import { useEffect, useState } from 'react';
import type { NamedBytes } from '../io/dropped';
import { looksLikeRecipe } from '../io/recipe';
import { openRecipeText, setCustomSample, startLab } from '../state/lab';
import { useLab } from '../state/store';
import { ControlsPanel } from './ControlsPanel';
import { DataPanel } from './DataPanel';
import { ExportPanel } from './ExportPanel';
import { readDataTransfer } from './dropFiles';
import { handleDroppedFiles } from './dropHandling';
import { MainView } from './MainView';
import { MetricPanel } from './MetricPanel';
import { ModelPanel } from './ModelPanel';
import { Notices } from './Notices';
import { AboutOverlay, HelpOverlay } from './Overlays';
import { StatusBar } from './StatusBar';

let started = false;

/** A single dropped .json that is a recipe opens as one; everything else goes to the file handler. */
async function routeDrop(files: NamedBytes[]): Promise<void> {
  if (files.length === 1 && /\.json$/i.test(files[0].name)) {
    const text = new TextDecoder().decode(files[0].bytes);
    if (looksLikeRecipe(text)) return openRecipeText(text, files[0].name);
  }
  return handleDroppedFiles(files);
}

function onKey(e: KeyboardEvent): void {
  const t = e.target as HTMLElement | null;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const s = useLab.getState();
  const c = s.config;
  const set = s.setConfig;
  switch (e.key) {
    case 'f':
    case 'F':
      set({ active: c.active === 'A' ? 'B' : 'A' });
      break;
    case 's':
    case 'S':
      set({ split: !c.split });
      break;
    case '1':
      set({ view: '3d' });
      break;
    case '2':
      set({ view: '2d' });
      break;
    case '3':
      set({ view: '1d' });
      break;
    case 'l':
    case 'L':
      set({ quantity: 'loss', colormap: c.colormap === 'rdbu' ? 'viridis' : c.colormap });
      break;
    case 'm':
    case 'M':
      set({ quantity: 'margin', colormap: 'rdbu' });
      break;
    case 'ArrowRight':
    case 'ArrowLeft': {
      const n = s.dataset?.labels.length ?? 1;
      if (s.customSample) setCustomSample(null);
      set({ sample: (c.sample + (e.key === 'ArrowRight' ? 1 : n - 1)) % n });
      break;
    }
    case 't':
    case 'T':
      set({ theme: c.theme === 'dark' ? 'light' : 'dark' });
      break;
    case '?':
      useLab.setState({ help: !s.help });
      break;
    case 'Escape':
      useLab.setState({ help: false, about: false });
      break;
    default:
      return;
  }
  e.preventDefault();
}

/** The lab: models and data on the left, the surface in the middle, settings and the metric on the right. */
export function App() {
  const theme = useLab((s) => s.config.theme);
  const active = useLab((s) => s.config.active);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    if (started) return;
    started = true;
    startLab().catch((e: Error) => useLab.getState().notify('error', `The lab could not start: ${e.message}`));
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => {
    window.addEventListener('keydown', onKey);
    // The whole window is a drop zone: a model, a folder, a zip, an image, a .npy or a recipe.
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setDragging(false);
      if (!e.dataTransfer) return;
      void readDataTransfer(e.dataTransfer).then(routeDrop, (err: Error) => useLab.getState().notify('error', `The dropped files could not be read: ${err.message}`));
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return (
    <div className="app">
      <header className="top-bar">
        <h1>Ravine</h1>
        <span className="tagline">input-space loss &amp; decision surfaces · robustness metric of Yu et al. (IJCAI 2019)</span>
        <span className="grow" />
        <div className="seg" role="group" aria-label="Active slot">
          {(['A', 'B'] as const).map((s) => (
            <button key={s} type="button" aria-pressed={active === s} onClick={() => useLab.getState().setConfig({ active: s })} data-testid={`flip-${s}`} title="Flip A/B (F)">
              {s}
            </button>
          ))}
        </div>
        <button type="button" onClick={() => useLab.getState().setConfig({ theme: theme === 'dark' ? 'light' : 'dark' })} title="Theme (T)">
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
        <button type="button" onClick={() => useLab.setState({ help: true })} title="Keyboard shortcuts (?)">
          Help
        </button>
        <button type="button" onClick={() => useLab.setState({ about: true })}>
          About
        </button>
      </header>
      <aside className="left">
        <ModelPanel />
        <DataPanel />
      </aside>
      <main className="center">
        <MainView />
      </main>
      <aside className="right">
        <ControlsPanel />
        <MetricPanel />
        <ExportPanel />
      </aside>
      <StatusBar />
      <Notices />
      <HelpOverlay />
      <AboutOverlay />
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop a TF.js model (model.json + .bin, folder or .zip) for slot {active}, an image / .npy as the sample, or a recipe
        </div>
      )}
    </div>
  );
}
