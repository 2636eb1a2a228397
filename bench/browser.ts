/**
 * The benchmark in headless Chromium: builds the benchmark page (bench/browser/, Vite, into
 * .cache/bench/site), serves it with `vite preview` (cross-origin isolated, like the lab) and
 * drives it with Playwright's library API. Configurations: wasm with threads (one per logical
 * core, as the lab's worker now runs), wasm single-threaded (the fallback when a page is not
 * isolated), and WebGL on SwiftShader (scaled-down jobs: a software GPU is ~20× slower).
 */
import { chromium, type Browser, type Page } from 'playwright';
import { build, preview } from 'vite';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { jobPlan, loadF32, median, MODELS, SAMPLE_INDEX, type ModelId, type PlannedJob, type Row } from './common';
import { forwardPassesPerUnit, type JobKind, type JobSpec, type KernelTime } from './jobs';
import type { MetricProfile } from './metricProfile';
import { chromiumLaunchOptions } from '../e2e/chromium';
import type { WinogradHelperStats } from '../src/engine/winograd';
import { WEBGL_CONV_FLAG } from '../src/engine/webglConv';

const PORT = 4342;

export interface BrowserConfigResult {
  env: string;
  info: Record<string, unknown>;
  rows: Row[];
  /** max |diff| of the batched surface's loss against Node wasm's, per model (same grid). */
  agreement: Record<string, number>;
  peakBytes?: number;
  /** WebGL only: the CNN metric's batched and naive runs profiled per kernel (GPU time, tf.profile). */
  metricProfile?: MetricProfile;
  /** WebGL only: the CNN's batched surface and metric with Ravine's convolution shaders and with
   *  tfjs's own kernels (RAVINE_WEBGL_CONV=false), interleaved run by run; seconds per run. */
  convShaders?: ConvShaderAB[];
}

export interface ConvShaderAB {
  model: string;
  kind: JobKind;
  size: number;
  ravine: number[];
  tfjs: number[];
}

interface BenchApi {
  init(backend: string, threads: boolean): Promise<Record<string, unknown>>;
  load(modelId: string, n: number, x0: number, d1: number[], d2: number[]): Promise<void>;
  run(spec: JobSpec): Promise<{ seconds: number; loss?: number[] }>;
  memory(spec: JobSpec): Promise<{ peakBytes: number }>;
  helpers(): Promise<WinogradHelperStats | null>;
  gpuProfile(spec: JobSpec): Promise<{ kernels: KernelTime[]; wallMs: number; timer: { version: number; reliable: boolean } }>;
  setFlags(flags: Record<string, boolean | number>): Promise<Record<string, boolean | number>>;
}

/** Calls a method of the page's `window.bench` (the worker's comlink proxy) with plain-data arguments. */
function call<K extends keyof BenchApi>(page: Page, method: K, ...args: Parameters<BenchApi[K]>): Promise<Awaited<ReturnType<BenchApi[K]>>> {
  return page.evaluate(
    ([m, a]) => (window as unknown as { bench: Record<string, (...x: unknown[]) => Promise<unknown>> }).bench[m](...a),
    [method, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<BenchApi[K]>>>;
}

async function runConfig(
  browser: Browser,
  backend: 'wasm' | 'webgl',
  threads: boolean,
  plan: PlannedJob[],
  flopsPerSample: Record<ModelId, number>,
  log: (s: string) => void,
): Promise<BrowserConfigResult> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.waitForFunction(() => 'bench' in window);
    const info = await call(page, 'init', backend, threads);
    const nThreads = Number(info.threads ?? 0);
    const env = backend === 'webgl' ? `Chromium WebGL (${String(info.renderer).replace(/\s*\(.*$/, '') || 'unknown renderer'})` : `Chromium wasm SIMD (${nThreads} thread${nThreads > 1 ? 's' : ''})`;
    const rows: Row[] = [];
    const agreement: Record<string, number> = {};
    let peakBytes: number | undefined;
    let metricProfile: MetricProfile | undefined;
    let convShaders: ConvShaderAB[] | undefined;
    const nMax = Math.max(...plan.filter((p) => p.kind !== 'surface').map((p) => p.size), 1);
    for (const id of MODELS) {
      const d1 = Array.from(loadF32(`${id}-d1.npy`));
      const d2 = Array.from(loadF32(`${id}-d2.npy`));
      await call(page, 'load', id, nMax, SAMPLE_INDEX, d1, d2);
      for (const kind of [...new Set(plan.map((p) => p.kind))]) {
        const jobs = plan.filter((p) => p.kind === kind);
        const times = jobs.map(() => [] as number[]);
        // Each job's timed runs back to back after its warm-ups (see BATCHED_WARMUPS in bench/common.ts).
        for (const [k, j] of jobs.entries()) {
          for (let w = 0; w < j.warmups; w++) await call(page, 'run', { kind: j.kind, mode: j.mode, size: j.warmupSize });
          for (let r = 0; r < j.runs; r++) {
            const out = await call(page, 'run', { kind: j.kind, mode: j.mode, size: j.size });
            times[k].push(out.seconds);
            if (r === 0 && j.kind === 'surface' && j.mode === 'batched' && out.loss) {
              try {
                const ref = loadF32(`wasm1-${id}-surface-batched-${j.size}-loss.npy`);
                let m = 0;
                for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i] - out.loss[i]));
                agreement[id] = ref.length === out.loss.length ? m : Infinity;
              } catch {
                // Node ran another grid size (quick runs): nothing to compare with.
              }
            }
          }
        }
        for (const [k, j] of jobs.entries()) {
          const units = j.kind === 'surface' ? j.size * j.size : j.size;
          const row: Row = { env, model: id, kind: j.kind, mode: j.mode, size: j.size, times: times[k], seconds: median(times[k]), flops: units * forwardPassesPerUnit(j.kind) * flopsPerSample[id] };
          rows.push(row);
          log(`${env} ${id} ${j.kind}/${j.mode}/${j.size}: ${row.seconds.toFixed(3)} s`);
        }
      }
      if (id === 'mnist-cnn-natural') {
        const surf = plan.find((p) => p.kind === 'surface' && p.mode === 'batched');
        if (surf) peakBytes = (await call(page, 'memory', { kind: 'surface', mode: 'batched', size: surf.size })).peakBytes;
        // On WebGL, where the metric's batched run gains least over its naive loop: both profiled
        // per kernel, after their timed runs (the profile's timer queries slow a run down).
        const b = plan.find((p) => p.kind === 'metric' && p.mode === 'batched');
        const n = plan.find((p) => p.kind === 'metric' && p.mode === 'naive');
        if (backend === 'webgl' && b && n) {
          const pb = await call(page, 'gpuProfile', { kind: 'metric', mode: 'batched', size: b.size });
          const pn = await call(page, 'gpuProfile', { kind: 'metric', mode: 'naive', size: n.size });
          if (pb.kernels.every((k) => k.ms !== null) && pn.kernels.every((k) => k.ms !== null)) {
            metricProfile = { model: id, batched: { samples: b.size, kernels: pb.kernels, wallMs: pb.wallMs }, naive: { samples: n.size, kernels: pn.kernels, wallMs: pn.wallMs } };
            log(`${env} ${id} metric profiled: batched ${(pb.wallMs / 1000).toFixed(1)} s, naive ${(pn.wallMs / 1000).toFixed(1)} s`);
          } else {
            log(`${env}: no GPU timer for the metric's kernel profile`);
          }
        }
        if (backend === 'webgl') convShaders = await convShaderAB(page, id, plan, env, log);
      }
    }
    if (errors.length) log(`page errors: ${errors.join('; ')}`);
    const helpers = await call(page, 'helpers');
    if (helpers) info.winogradHelpers = helpers;
    return { env, info, rows, agreement, peakBytes, metricProfile, convShaders };
  } finally {
    await page.close();
  }
}

/**
 * The CNN's batched surface and metric (the plan's sizes) with Ravine's WebGL convolution shaders
 * (src/engine/webglConv.ts) and with tfjs's own kernels, interleaved run by run after a warm-up
 * of each, the flag restored after every tfjs run.
 */
async function convShaderAB(page: Page, model: string, plan: PlannedJob[], env: string, log: (s: string) => void): Promise<ConvShaderAB[]> {
  const out: ConvShaderAB[] = [];
  for (const kind of ['surface', 'metric'] as JobKind[]) {
    const j = plan.find((p) => p.kind === kind && p.mode === 'batched');
    if (!j) continue;
    const spec = { kind, mode: 'batched' as const, size: j.size };
    const ab: ConvShaderAB = { model, kind, size: j.size, ravine: [], tfjs: [] };
    for (let r = -1; r < j.runs; r++) {
      const a = await call(page, 'run', spec);
      const before = await call(page, 'setFlags', { [WEBGL_CONV_FLAG]: false });
      try {
        const b = await call(page, 'run', spec);
        if (r >= 0) ab.tfjs.push(b.seconds);
      } finally {
        await call(page, 'setFlags', before);
      }
      if (r >= 0) ab.ravine.push(a.seconds);
    }
    log(`${env} ${model} ${kind}/batched/${j.size}: Ravine's convolution shaders ${median(ab.ravine).toFixed(3)} s, tfjs's kernels ${median(ab.tfjs).toFixed(3)} s`);
    out.push(ab);
  }
  return out;
}

/** Builds the page, serves it, runs every configuration; the caller prints and reports. */
export async function runBrowserBench(runs: number, quick: boolean, flopsPerSample: Record<ModelId, number>, log: (s: string) => void): Promise<BrowserConfigResult[]> {
  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING = 'true';
  const configFile = join(REPO_ROOT, 'bench', 'vite.bench.config.ts');
  await build({ configFile, logLevel: 'error' });
  const server = await preview({ configFile, logLevel: 'error', preview: { port: PORT, strictPort: true, host: '127.0.0.1' } });
  const browser = await chromium.launch(chromiumLaunchOptions);
  try {
    const full = quick ? jobPlan('quick', 1) : jobPlan('full', runs);
    const configs: [('wasm' | 'webgl'), boolean, PlannedJob[]][] = [
      ['wasm', true, full],
      ['wasm', false, quick ? jobPlan('quick', 1).filter((p) => p.mode === 'batched') : jobPlan('threads', runs)],
      ['webgl', false, jobPlan(quick ? 'quick' : 'webgl', quick ? 1 : runs).filter((p) => !quick || p.mode === 'batched')],
    ];
    const out: BrowserConfigResult[] = [];
    for (const [backend, threads, plan] of configs) out.push(await runConfig(browser, backend, threads, plan, flopsPerSample, log));
    return out;
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
