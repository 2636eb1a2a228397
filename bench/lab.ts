/**
 * The lab's latency and memory, measured on the built app in headless Chromium (not a test:
 * it reports figures). Builds the app with the project's vite.config.ts into
 * .cache/bench/app, serves it with `vite preview` (COOP/COEP, CSP as shipped) and drives it
 * with Playwright:
 *   - latency: click a test image not seen before; time from the click event to the first
 *     frame that shows the coarse preview of its surface, and to the frame with the full
 *     grid (read from window.ravine.state(): `drawn[slot]` is `<key>#preview`, then `<key>`);
 *     sampled once per animation frame, so each figure is late by at most one frame (~17 ms);
 *   - main-thread long tasks (PerformanceObserver 'longtask', > 50 ms) during those computations;
 *   - engine memory (window.ravine.memory(): live tensors and their bytes) over repeated new
 *     surfaces (→ key, one new sample each time).
 */
import { chromium, type Page } from 'playwright';
import { build, preview } from 'vite';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { BENCH_DIR, median } from './common';
import { chromiumLaunchOptions } from '../e2e/chromium';
import { labIdle, profileMainThread, type MainThreadProfile } from './labProfile';
import { installLabWatch, type LabWatchWindow } from './labWatch';

const PORT = 4343;

export interface LabResult {
  backend: string;
  thread: string;
  isolated: boolean;
  resolution: number;
  clicks: { index: number; previewMs: number | null; previewStoredMs: number | null; fullMs: number; longTasks: number[] }[];
  previewMedianMs: number | null;
  previewMaxMs: number | null;
  fullMedianMs: number;
  longTasksDuringCompute: number[];
  longTasksTotal: number[];
  memory: { run: number; numTensors: number; numBytes: number }[];
  setupSeconds: number;
  /** CPU profile of the main thread over a few more new samples (untimed). */
  mainThread?: MainThreadProfile;
}

const arm = (page: Page, trigger: 'click' | 'keydown') => page.evaluate((t) => (window as unknown as LabWatchWindow).__armSurfaceWatch(t), trigger);
const settle = (page: Page) => page.evaluate(() => (window as unknown as LabWatchWindow).__awaitSurfaceWatch(120_000));

export interface LabBenchOptions {
  /** Grid side, set through the URL hash (the lab's default when absent). */
  resolution?: number;
  /** Time the clicks only: no main-thread profile, no memory runs. */
  latencyOnly?: boolean;
  /** Serve the app an earlier call built into .cache/bench/app instead of building it again. */
  reuseBuild?: boolean;
}

export async function runLabBench(quick: boolean, log: (s: string) => void, options: LabBenchOptions = {}): Promise<LabResult> {
  const { resolution, latencyOnly = false, reuseBuild = false } = options;
  const t0 = performance.now();
  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING = 'true';
  const outDir = join(BENCH_DIR, 'app');
  if (!reuseBuild) await build({ configFile: join(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const server = await preview({ configFile: join(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'error', build: { outDir }, preview: { port: PORT, strictPort: true, host: '127.0.0.1' } });
  const browser = await chromium.launch(chromiumLaunchOptions);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // tsx compiles this file with esbuild's keepNames, which wraps the watcher's inner functions
    // in calls to its `__name` helper; the page needs one too when it runs the function's text.
    await page.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
    await page.addInitScript(installLabWatch);
    // The lab's defaults (CNN natural in A, CNN PGD in B, 41² grid, R on 100 samples).
    await page.goto(`http://127.0.0.1:${PORT}/${resolution === undefined ? '' : `#${encodeURIComponent(JSON.stringify({ resolution }))}`}`);
    await page.waitForFunction(() => 'ravine' in window, undefined, { timeout: 60_000 });
    // Let the first surface, the metric of both slots and the attacks finish: we time new
    // surfaces on an idle lab.
    await labIdle(page, 600_000);
    const env = await page.evaluate(() => {
      const s = (window as unknown as { ravine: { state(): { backend: { backend: string; reason: string } | null; thread: string; config: { resolution: number } } } }).ravine.state();
      return { backend: s.backend ? `${s.backend.backend} (${s.backend.reason})` : 'unknown', thread: s.thread, isolated: self.crossOriginIsolated, resolution: s.config.resolution };
    });
    log(`lab: backend ${env.backend}, ${env.thread}, cross-origin isolated ${env.isolated}, ${env.resolution}² grid; setup ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const setupSeconds = (performance.now() - t0) / 1000;
    const clicks: LabResult['clicks'] = [];
    const nClicks = quick ? 3 : 10;
    const during: number[] = [];
    for (let k = 0; k < nClicks; k++) {
      const index = 1 + k;
      const thumb = page.locator(`.thumbs button[data-index="${index}"]`);
      await arm(page, 'click');
      await thumb.click();
      const w = await settle(page);
      await labIdle(page, 120_000);
      const tasks = await page.evaluate(([a, b]) => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks.filter((t) => t.start + t.duration >= a && t.start <= b).map((t) => t.duration), [w.t0, w.t0 + w.fullMs]);
      during.push(...tasks);
      clicks.push({ index, previewMs: w.previewMs, previewStoredMs: w.previewStoredMs, fullMs: w.fullMs, longTasks: tasks });
      log(`lab: sample #${index}: preview in the store ${w.previewStoredMs === null ? 'not seen' : `${w.previewStoredMs.toFixed(0)} ms`}, drawn ${w.previewMs === null ? 'not seen' : `${w.previewMs.toFixed(0)} ms`}, full ${w.fullMs.toFixed(0)} ms, long tasks ${tasks.map((d) => d.toFixed(0)).join(', ') || 'none'}`);
    }
    // Where the main thread goes, as shipped (untimed clicks on further samples).
    const mainThread = latencyOnly ? undefined : await profileMainThread(page, quick ? 2 : 5, 40);
    // Memory over repeated new surfaces: → steps to the next test image.
    const runs = latencyOnly ? 0 : quick ? 10 : 100;
    const memory: LabResult['memory'] = [];
    const readMemory = () => page.evaluate(() => (window as unknown as { ravine: { memory(): Promise<{ numTensors: number; numBytes: number } | null> } }).ravine.memory());
    for (let r = 1; r <= runs; r++) {
      await arm(page, 'keydown');
      await page.keyboard.press('ArrowRight');
      await settle(page);
      if (r === 1 || r === 10 || r % 25 === 0 || r === runs) {
        // Read at rest: slot B's surface, the sample's psi and the predictions run after the
        // active surface; wait for idle, then for three equal readings 300 ms apart.
        await labIdle(page, 120_000);
        let m = await readMemory();
        for (let same = 0, tries = 0; m && same < 2 && tries < 50; tries++) {
          await page.waitForTimeout(300);
          const next = await readMemory();
          same = next && next.numTensors === m.numTensors && next.numBytes === m.numBytes ? same + 1 : 0;
          m = next;
        }
        if (m) memory.push({ run: r, numTensors: m.numTensors, numBytes: m.numBytes });
      }
    }
    const longTasksTotal = await page.evaluate(() => (window as unknown as { __longTasks: { duration: number }[] }).__longTasks.map((t) => t.duration));
    const previews = clicks.map((c) => c.previewMs).filter((v): v is number => v !== null);
    return {
      ...env,
      clicks,
      previewMedianMs: previews.length ? median(previews) : null,
      previewMaxMs: previews.length ? Math.max(...previews) : null,
      fullMedianMs: median(clicks.map((c) => c.fullMs)),
      longTasksDuringCompute: during,
      longTasksTotal,
      memory,
      setupSeconds,
      mainThread,
    };
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
