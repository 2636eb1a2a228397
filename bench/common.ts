/**
 * What the benchmark's parts share: where files go, the job lists, timing helpers and the
 * shape of a result row. Node only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { parseNpy, writeNpy } from '../src/io/npy';
import { jobUnits, type JobKind, type JobMode, type JobSpec } from './jobs';

/** Scratch folder of a bench run: dumped arrays for the peer, per-part results, builds. */
export const BENCH_DIR = join(REPO_ROOT, '.cache', 'bench');
export const MODELS = ['mnist-cnn-natural', 'mnist-mlp-natural'] as const;
export type ModelId = (typeof MODELS)[number];

/** Index of the surface's test image (the lab's default sample). */
export const SAMPLE_INDEX = 0;

export function ensureBenchDir(): void {
  if (!existsSync(BENCH_DIR)) mkdirSync(BENCH_DIR, { recursive: true });
}

export const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** A job in a list: its spec, how many timed runs, and the size of its (untimed) warm-up. */
export interface PlannedJob extends JobSpec {
  runs: number;
  warmupSize: number;
  /** Untimed runs at warmupSize before the timed ones (see BATCHED_WARMUPS). */
  warmups: number;
}

/**
 * Untimed runs of a batched job before its timed ones. One was not enough: V8 moves the kernels'
 * WebAssembly from its baseline compiler to its optimising one, and tfjs's JavaScript through its
 * tiers, while they run, and the runs after a single warm-up were still slower. The CNN metric in
 * Node on one thread, 20 runs in a row: 193 169 153 148 153 153 148 147 140 133 138 … ms (with
 * V8's --no-liftoff, compiling the WebAssembly optimised from the start: 264 149 147 145 …).
 * The PyTorch peer gets more before its own timed runs: a warm-up and two timed passes of every
 * batch size it tries (bench/peer.py best_batch), then a warm-up of the one it keeps. A naive job
 * runs thousands of small passes, its own warm-up: one.
 *
 * Then each job's timed runs follow one another, as the peer's do (bench/peer.py timed), rather
 * than alternating with the other mode's: a naive loop keeps one core busy for seconds while the
 * other idles, and a batched run on 2 threads right after it measured up to 40 % slower while the
 * idle core woke (Chromium, CNN surface: 150–208 ms after 2 s of idling, 120–141 ms after a
 * 20 ms job; back to back, medians of 21 runs: 120–124 ms).
 */
export const BATCHED_WARMUPS = 3;

/**
 * The job lists. Naive jobs of the attacks run on fewer samples than the batched ones (a
 * sample at a time they take minutes); their throughput (samples/s) is what is compared.
 * Naive warm-ups are small: batch 1 has one shape, so a few units warm every kernel.
 */
export function jobPlan(profile: 'full' | 'threads' | 'cpu' | 'webgl' | 'gpu' | 'quick', runs: number): PlannedJob[] {
  const j = (kind: JobKind, mode: JobMode, size: number, warmupSize = size): PlannedJob => ({ kind, mode, size, runs, warmupSize, warmups: mode === 'batched' ? BATCHED_WARMUPS : 1 });
  /** A batched job and its naive twin (smaller, with a small warm-up), measured side by side. */
  const pair = (kind: JobKind, batched: number, naive: number, naiveWarmup: number): PlannedJob[] => [j(kind, 'batched', batched), j(kind, 'naive', naive, naiveWarmup)];
  switch (profile) {
    case 'full':
      return [...pair('surface', 101, 101, 11), ...pair('metric', 100, 100, 5), ...pair('fgsm', 1000, 200, 10), ...pair('pgd', 1000, 100, 3)];
    case 'threads':
      return [j('surface', 'batched', 101), j('metric', 'batched', 100), j('pgd', 'batched', 1000)];
    case 'cpu':
      return [...pair('surface', 31, 31, 5), ...pair('metric', 10, 10, 1), ...pair('fgsm', 100, 20, 2), ...pair('pgd', 20, 5, 1)];
    case 'webgl':
      // A software GPU is ~20× slower than wasm here: a smaller grid, fewer attack samples. The
      // metric keeps its 100 samples (one batch, the same job as elsewhere; with 30 the batched
      // run measured ×4.0–4.5 the naive one on SwiftShader, with 100 ×5.4).
      return [...pair('surface', 31, 11, 3), ...pair('metric', 100, 5, 1), j('fgsm', 'batched', 100), j('pgd', 'batched', 20)];
    case 'gpu':
      // A real GPU (bench/gpu.ts): every batched job at full size, the naive loops shorter.
      return [...pair('surface', 101, 21, 5), ...pair('metric', 100, 10, 2), ...pair('fgsm', 1000, 100, 5), ...pair('pgd', 1000, 10, 2)];
    case 'quick':
      return [...pair('surface', 31, 11, 3), ...pair('metric', 10, 5, 1), ...pair('fgsm', 50, 10, 2), ...pair('pgd', 20, 5, 1)];
  }
}

/** One timed job on one backend. */
export interface Row {
  /** Where it ran, e.g. "Node wasm (1 thread)", "Chromium wasm (2 threads)", "PyTorch". */
  env: string;
  model: ModelId;
  kind: JobKind;
  mode: JobMode;
  size: number;
  /** Every timed run (s), and their median. */
  times: number[];
  seconds: number;
  /** Nominal FLOPs of the job (see jobs.ts forwardPassesPerUnit). */
  flops: number;
  /** Peak tensor bytes (tf.profile) where measured. */
  peakBytes?: number;
  /** Agreement figures or results worth printing (R, correct count). */
  note?: string;
  /**
   * Node wasm: per timed run, the milliseconds the calling thread spent in Ravine's split kernels
   * (src/engine/winograd.ts ravineSplitMs: its shares and its waits for helpers), and their median.
   */
  splitMsTimes?: number[];
  splitMs?: number;
}

export function throughput(r: Pick<Row, 'kind' | 'size' | 'seconds'>): number {
  return jobUnits(r).units / r.seconds;
}

export function machineSummary(): { text: string; cores: number; load: string } {
  const cpus = os.cpus();
  const cores = cpus.length;
  const text = `${cpus[0]?.model ?? 'unknown CPU'} × ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  return { text, cores, load: os.loadavg().map((v) => v.toFixed(2)).join(' ') };
}

export function saveF32(name: string, data: Float32Array): void {
  writeFileSync(join(BENCH_DIR, name), writeNpy({ dtype: 'float32', shape: [data.length], data }, name));
}

export function loadF32(name: string): Float32Array {
  const a = parseNpy(new Uint8Array(readFileSync(join(BENCH_DIR, name))), name);
  if (a.dtype !== 'float32') throw new Error(`${name}: expected float32, got ${a.dtype}`);
  return a.data;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** A duration for the tables: "1.2 s", "0.34 s", "56.7 ms". */
export const fmtS = (s: number): string => (s >= 10 ? `${s.toFixed(1)} s` : s >= 0.1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`);

/** What bench/peer.py writes (peer.json): PyTorch's set-up and, per model, its jobs by `kind/mode/size`. */
export interface PeerResult {
  torch: string;
  numpy: string;
  python: string;
  threads: number;
  mkldnn: boolean;
  /** Whether glibc's malloc kept freed memory for PyTorch (bench/peer.py keep_freed_memory); absent in results from before it. */
  mallocTuned?: boolean;
  /** 'cpu', or the GPU's name with RAVINE_PEER_DEVICE=cuda. */
  device?: string;
  blas: string[];
  runs: number;
  /** Per model, per job key; `session: 'early'` marks a figure taken from the peer's first session (bench/run.ts keepFasterPeer). */
  models: Record<string, Record<string, { seconds: number; times: number[]; batch: number; ravineChunk?: number; R?: number; correct?: number; cleanAccuracy?: number; session?: 'early' }>>;
  /** Set by bench/run.ts: how many batched jobs took the first session's figure. */
  sessions?: { fromEarly: number; jobs: number };
}

export function fmtBytes(b: number): string {
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`;
}
