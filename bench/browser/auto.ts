/**
 * The benchmark page without a driver: for machines that have a GPU but no Node or Playwright
 * (bench/gpu/serve.py serves the page and starts Chromium there). Reads `gpu-plan.json` (written by
 * bench/gpu.ts), runs its configurations through the same worker API that bench/browser.ts drives,
 * and posts progress to `/log` and the results to `/result`.
 */
import type { Remote } from 'comlink';
import type { BenchWorkerApi } from './bench.worker';
import type { PlannedJob } from '../common';
import type { JobKind } from '../jobs';

export interface AutoPlan {
  x0Index: number;
  nMax: number;
  configs: { backend: 'wasm' | 'webgl'; threads: boolean; jobs: PlannedJob[] }[];
  models: { id: string; d1: number[]; d2: number[]; refLoss: number[] | null; refSize: number }[];
  /** Where the time goes, on the WebGL configuration only: one model's batched surface at several
   *  chunk sizes, a kernel profile of it at the engine's own chunk size, and (`flags`) the surface
   *  and the metric under other tfjs flag settings, each against the defaults. */
  probe?: { model: string; size: number; chunks: number[]; runs: number; flags?: Record<string, boolean | number>[]; labSizes?: number[]; engineChunk: number };
}

export interface ProbeResult {
  /** Seconds of each timed run of the surface, per chunk size (points per batch). */
  chunks: { chunk: number; times: number[] }[];
  /** The engine's own chunk for the surface (the plan's); absent in results from before MAX_CHUNK was 2048, whose chunk was 1024. */
  engineChunk?: number;
  /** tf.profile of one surface at the engine's chunk size: GPU milliseconds per kernel (timer
   *  queries; null where the backend could not time it), and the profiled run's wall time. */
  kernels: { name: string; ms: number | null; calls: number }[];
  wallMs: number;
  /** WEBGL_DISJOINT_QUERY_TIMER_EXTENSION_VERSION and _RELIABLE as tfjs sees them. */
  timer: { version: number; reliable: boolean };
  /** The surface and the metric at the engine's chunk size under other tfjs WebGL flags (kernel
   *  variants), each against the same jobs with the defaults, interleaved run by run; the
   *  surface's max |diff| from the defaults' loss. */
  flags?: { flags: Record<string, boolean | number>; surface: number[]; metric: number[]; maxDiff: number }[];
  /** The surface at the lab's grid sides (its preview and its default grid) at the engine's own
   *  chunk size: seconds of each timed run, read-back included, drawing not. */
  labSizes?: { size: number; times: number[] }[];
}

export interface AutoResult {
  configs: {
    backend: string;
    threads: boolean;
    info: Record<string, unknown>;
    rows: { model: string; kind: JobKind; mode: string; size: number; times: number[] }[];
    /** Whether each job's timed runs ran back to back after its warm-ups (bench/common.ts BATCHED_WARMUPS); absent in older results, where batched and naive runs alternated. */
    backToBack?: boolean;
    /** Max |diff| of the batched surface's loss against Node wasm's, per model. */
    agreement: Record<string, number>;
    peakBytes: Record<string, number>;
    probe?: ProbeResult;
    error?: string;
  }[];
}

const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const log = (s: string) => void post('/log', { line: s }).catch(() => undefined);

/** The plan's probe: chunk sizes interleaved run by run (after a warm-up each), then the profile. */
async function probe(bench: Remote<BenchWorkerApi>, plan: AutoPlan, p: NonNullable<AutoPlan['probe']>): Promise<ProbeResult> {
  const m = plan.models.find((x) => x.id === p.model);
  if (!m) throw new Error(`probe: no model ${p.model} in the plan`);
  await bench.load(m.id, plan.nMax, plan.x0Index, m.d1, m.d2);
  const spec = (chunk?: number) => ({ kind: 'surface' as const, mode: 'batched' as const, size: p.size, chunk });
  for (const c of p.chunks) await bench.run(spec(c));
  const chunks = p.chunks.map((chunk) => ({ chunk, times: [] as number[] }));
  for (let r = 0; r < p.runs; r++) for (const c of chunks) c.times.push((await bench.run(spec(c.chunk))).seconds);
  for (const c of chunks) log(`probe ${p.model} surface ${p.size} chunk ${c.chunk}: ${c.times.map((t) => t.toFixed(4)).join(' ')} s`);
  const labSizes = (p.labSizes ?? []).map((size) => ({ size, times: [] as number[] }));
  const labSpec = (size: number) => ({ kind: 'surface' as const, mode: 'batched' as const, size });
  for (const l of labSizes) await bench.run(labSpec(l.size));
  for (let r = 0; r < 2 * p.runs + 1; r++) for (const l of labSizes) l.times.push((await bench.run(labSpec(l.size))).seconds);
  for (const l of labSizes) log(`probe ${p.model} surface ${l.size} (lab size): ${l.times.map((t) => t.toFixed(4)).join(' ')} s`);
  const prof = await bench.gpuProfile(spec());
  log(`probe profile: wall ${prof.wallMs.toFixed(1)} ms, timer ${JSON.stringify(prof.timer)}, ${prof.kernels.length} kernels`);
  if (!p.flags?.length) return { chunks, engineChunk: p.engineChunk, labSizes, ...prof };
  const variants = [{}, ...p.flags].map((flags) => ({ flags, surface: [] as number[], metric: [] as number[], maxDiff: 0 }));
  const metric = { kind: 'metric' as const, mode: 'batched' as const, size: 100 };
  let ref: number[] | undefined;
  for (let r = -1; r < p.runs; r++) {
    for (const v of variants) {
      const before = await bench.setFlags(v.flags);
      try {
        const s = await bench.run(spec());
        const m = await bench.run(metric);
        if (r < 0) {
          // Warm-up (shaders compile); the surface's values against the defaults'.
          ref ??= s.loss;
          if (ref && s.loss) for (let i = 0; i < ref.length; i++) v.maxDiff = Math.max(v.maxDiff, Math.abs(ref[i] - s.loss[i]));
          continue;
        }
        v.surface.push(s.seconds);
        v.metric.push(m.seconds);
      } finally {
        await bench.setFlags(before);
      }
    }
  }
  for (const v of variants) log(`probe flags ${JSON.stringify(v.flags)}: surface ${v.surface.map((t) => t.toFixed(4)).join(' ')} s, metric ${v.metric.map((t) => t.toFixed(4)).join(' ')} s, max|diff| ${v.maxDiff.toExponential(1)}`);
  return { chunks, engineChunk: p.engineChunk, labSizes, ...prof, flags: variants };
}

export async function runAuto(bench: Remote<BenchWorkerApi>): Promise<void> {
  const plan = (await (await fetch('gpu-plan.json')).json()) as AutoPlan;
  const result: AutoResult = { configs: [] };
  for (const cfg of plan.configs) {
    const out: AutoResult['configs'][number] = { backend: cfg.backend, threads: cfg.threads, info: {}, rows: [], backToBack: true, agreement: {}, peakBytes: {} };
    result.configs.push(out);
    try {
      out.info = await bench.init(cfg.backend, cfg.threads);
      log(`${cfg.backend}: ${JSON.stringify(out.info)}`);
      for (const m of plan.models) {
        await bench.load(m.id, plan.nMax, plan.x0Index, m.d1, m.d2);
        for (const kind of [...new Set(cfg.jobs.map((j) => j.kind))]) {
          const jobs = cfg.jobs.filter((j) => j.kind === kind);
          const times = jobs.map(() => [] as number[]);
          // Each job's timed runs back to back after its warm-ups (see BATCHED_WARMUPS in bench/common.ts).
          for (const [k, j] of jobs.entries()) {
            for (let w = 0; w < j.warmups; w++) await bench.run({ kind: j.kind, mode: j.mode, size: j.warmupSize });
            for (let r = 0; r < j.runs; r++) {
              const res = await bench.run({ kind: j.kind, mode: j.mode, size: j.size });
              times[k].push(res.seconds);
              if (r === 0 && j.kind === 'surface' && j.mode === 'batched' && res.loss && m.refLoss && j.size === m.refSize) {
                let d = 0;
                for (let i = 0; i < m.refLoss.length; i++) d = Math.max(d, Math.abs(m.refLoss[i] - res.loss[i]));
                out.agreement[m.id] = res.loss.length === m.refLoss.length ? d : Infinity;
              }
            }
          }
          for (const [k, j] of jobs.entries()) {
            out.rows.push({ model: m.id, kind: j.kind, mode: j.mode, size: j.size, times: times[k] });
            log(`${cfg.backend} ${m.id} ${j.kind}/${j.mode}/${j.size}: ${times[k].map((t) => t.toFixed(4)).join(' ')} s`);
          }
        }
        const surf = cfg.jobs.find((j) => j.kind === 'surface' && j.mode === 'batched');
        if (surf) out.peakBytes[m.id] = (await bench.memory({ kind: 'surface', mode: 'batched', size: surf.size })).peakBytes;
      }
      if (cfg.backend === 'webgl' && plan.probe) out.probe = await probe(bench, plan, plan.probe);
    } catch (e) {
      out.error = (e as Error).message;
      log(`${cfg.backend}: failed: ${out.error}`);
    }
    await post('/partial', result);
  }
  await post('/result', result);
}
