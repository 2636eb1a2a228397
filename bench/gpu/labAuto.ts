/**
 * The lab's latency without Playwright, for a GPU machine (no Node there). bench/gpu.ts bundles
 * this into the built lab it packs as `lab-auto.js`, and bench/gpu/serve.py (lab mode) adds it
 * to the page's index.html. Once the lab is idle it clicks test images as a user would, times
 * each click to the drawn preview and the drawn full surface (bench/labWatch.ts, the same
 * watcher as bench/lab.ts), collects the main-thread long tasks during each computation, and
 * posts the figures to `/lab-result`. The grid comes from the URL hash, as for any lab link.
 */
import { installLabWatch, labIsIdle, type LabWatch, type LabWatchWindow } from '../labWatch';

export interface LabAutoResult {
  resolution: number;
  backend: string;
  thread: string;
  renderer: string;
  isolated: boolean;
  /** From the page's start to the first idle lab (first surfaces, both metrics, attacks). */
  setupMs: number;
  clicks: (LabWatch & { index: number; longTasks: number[] })[];
  longTasksTotal: number[];
  error?: string;
}

interface LabState {
  backend: { backend: string; reason: string; webgl?: { renderer: string } } | null;
  thread: string;
  config: { resolution: number };
}

const CLICKS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

async function run(): Promise<LabAutoResult> {
  const w = window as unknown as LabWatchWindow & { ravine?: { state(): LabState } };
  await until(() => !!w.ravine, 60_000, 'window.ravine');
  await until(labIsIdle, 600_000, 'the first surfaces and metrics');
  const setupMs = performance.now();
  const s = (w.ravine as { state(): LabState }).state();
  const out: LabAutoResult = {
    resolution: s.config.resolution,
    backend: s.backend ? `${s.backend.backend} (${s.backend.reason})` : 'unknown',
    thread: s.thread,
    renderer: s.backend?.webgl?.renderer ?? '',
    isolated: self.crossOriginIsolated,
    setupMs,
    clicks: [],
    longTasksTotal: [],
  };
  for (let index = 1; index <= CLICKS; index++) {
    await sleep(1000);
    const thumb = document.querySelector<HTMLButtonElement>(`.thumbs button[data-index="${index}"]`);
    if (!thumb) throw new Error(`no thumbnail ${index}`);
    w.__armSurfaceWatch('click');
    thumb.click();
    const watch = await w.__awaitSurfaceWatch(120_000);
    await until(labIsIdle, 120_000, 'the lab to settle after a click');
    const longTasks = w.__longTasks.filter((t) => t.start + t.duration >= watch.t0 && t.start <= watch.t0 + watch.fullMs).map((t) => t.duration);
    out.clicks.push({ index, ...watch, longTasks });
    void post('/log', { line: `lab ${out.resolution}²: sample #${index}: preview drawn ${watch.previewMs?.toFixed(0) ?? 'not seen'} ms, full ${watch.fullMs.toFixed(0)} ms, long tasks ${longTasks.map((d) => d.toFixed(0)).join(', ') || 'none'}` });
  }
  out.longTasksTotal = w.__longTasks.map((t) => t.duration);
  return out;
}

installLabWatch();
if (new URLSearchParams(location.search).has('auto')) {
  run().then(
    (r) => post('/lab-result', r),
    (e: unknown) => post('/lab-result', { error: (e as Error).message }),
  );
}
