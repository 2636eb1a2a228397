/**
 * What the lab benchmarks install in the built lab's page before it loads: a log of main-thread
 * long tasks, and a surface watcher driven by requestAnimationFrame that times a click (or key
 * press) to the first frame showing its preview and to the frame showing the full grid, read
 * from window.ravine.state() (`drawn[slot]` is `<key>#preview`, then `<key>`). Each figure is
 * late by at most one frame (~17 ms).
 *
 * bench/lab.ts hands `installLabWatch` to Playwright's addInitScript, which sends the function's
 * source text to the page: it must use nothing from outside its own body. bench/gpu/labAuto.ts
 * (the GPU machine, no Playwright there) calls it directly.
 */

/** A click or key press timed to its preview and its full surface, in ms from the event. */
export interface LabWatch {
  t0: number;
  previewMs: number | null;
  /** When the preview's numbers reached the page's store (before React and three.js draw them). */
  previewStoredMs: number | null;
  fullMs: number;
}

/** What installLabWatch puts on `window`. */
export interface LabWatchWindow {
  __longTasks: { start: number; duration: number }[];
  /** Armed before the click or key press (so the listener is in place when it arrives). */
  __armSurfaceWatch(trigger: 'click' | 'keydown'): void;
  /** Resolves once the full surface the event asked for is drawn; rejects after `timeoutMs`. */
  __awaitSurfaceWatch(timeoutMs: number): Promise<LabWatch>;
}

export function installLabWatch(): void {
  interface Slot {
    key: string;
    preview: boolean;
    state: string;
    pending: string | null;
  }
  interface Ravine {
    state(): { drawn: Record<string, string>; surfaces: Record<string, Slot>; config: { active: string } };
  }
  const w = window as unknown as { ravine: Ravine; __surfaceWatch?: Promise<unknown> } & LabWatchWindow;
  w.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  w.__armSurfaceWatch = (trigger) => {
    w.__surfaceWatch = new Promise((resolve) => {
      const s0 = w.ravine.state();
      const before = s0.drawn[s0.config.active];
      const keyBefore = s0.surfaces[s0.config.active].key;
      let t0: number | null = null;
      let preview: number | null = null;
      let previewStored: number | null = null;
      const mark = () => {
        if (t0 === null) t0 = performance.now();
      };
      document.addEventListener(trigger, mark, { capture: true, once: true });
      const tick = () => {
        const s = w.ravine.state();
        const slot = s.config.active;
        const d = s.drawn[slot];
        const sf = s.surfaces[slot];
        if (t0 !== null && previewStored === null && sf.key !== keyBefore && sf.preview) previewStored = performance.now() - t0;
        if (t0 !== null && d !== before) {
          if (preview === null && d.endsWith('#preview')) preview = performance.now() - t0;
          if (!d.endsWith('#preview') && sf.state === 'ready' && d === sf.key && !sf.pending) {
            resolve({ t0, previewMs: preview, previewStoredMs: previewStored, fullMs: performance.now() - t0 });
            return;
          }
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  };
  w.__awaitSurfaceWatch = (timeoutMs) =>
    Promise.race([
      w.__surfaceWatch as Promise<LabWatch>,
      new Promise<LabWatch>((_, reject) => setTimeout(() => reject(new Error(`no new surface was drawn within ${timeoutMs} ms`)), timeoutMs)),
    ]);
}

/** The lab is idle: the active surface drawn, no surface pending, no metric or attack running. */
export function labIsIdle(): boolean {
  const r = (window as unknown as { ravine?: { state(): { surfaces: Record<string, { state: string; pending: string | null }>; metrics: Record<string, { running: boolean; attackRunning: boolean }>; config: { active: string } } } }).ravine;
  if (!r) return false;
  const s = r.state();
  const sf = s.surfaces[s.config.active];
  return sf.state === 'ready' && Object.values(s.surfaces).every((x) => !x.pending) && Object.values(s.metrics).every((m) => !m.running && !m.attackRunning);
}
