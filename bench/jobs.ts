/**
 * The benchmark's jobs, shared by the Node runner (bench/run.ts) and the browser page
 * (bench/browser/bench.worker.ts) so that both time exactly the same engine calls.
 *
 * Engine-only imports: no Node, no DOM. Every job is one engine entry point as the lab or the
 * CLI calls it; "batched" uses the engine's own chunk size (CHUNK_BUDGET_BYTES), "naive" a
 * chunk of 1, i.e. one grid point or one sample per forward/backward pass, the loop most
 * loss-landscape scripts write.
 */
import * as tf from '@tensorflow/tfjs';
import { adversarialAccuracy } from '../src/engine/attacks';
import type { Classifier } from '../src/engine/classifier';
import { computeMetric, DEFAULT_METRIC_SETTINGS } from '../src/engine/metric';
import { computeSurface, gridAxis } from '../src/engine/surface';

/** L∞ radius of every job (MNIST's usual budget, PAPER.md §2) and the surface's half-width. */
export const BENCH_EPS = 0.3;
/** PGD steps of the metric and of the PGD attack (PAPER.md's default). */
export const BENCH_STEPS = 20;

export type JobKind = 'surface' | 'metric' | 'fgsm' | 'pgd';
export type JobMode = 'batched' | 'naive';

/** One timed job. `size` is the grid side (surface) or the number of samples (the rest). */
export interface JobSpec {
  kind: JobKind;
  mode: JobMode;
  size: number;
  /** Batched only: a chunk size other than the engine's (for the chunk-size sweep). */
  chunk?: number;
}

/** What the jobs run on: one sample with its two directions, and a block of test samples. */
export interface BenchInput {
  /** The surface's sample, inputSize values on [0, 1]. */
  x0: Float32Array;
  label0: number;
  d1: Float32Array;
  d2: Float32Array;
  /** Test samples (n × inputSize) and their labels, for the metric and the attacks. */
  xs: Float32Array;
  labels: Int32Array;
}

/** What a job returns beside its time: enough to check that two backends agree. */
export interface JobOutput {
  seconds: number;
  /** Surface: cross-entropy and margin per grid point (row-major [G, G]). */
  loss?: Float32Array;
  margin?: Float32Array;
  /** Metric: psi per sample and R. */
  psi?: Float32Array;
  R?: number;
  /** Attacks: samples still correct at ε, and clean accuracy. */
  correct?: number;
  cleanAccuracy?: number;
}

/** A short label for tables: "surface 101²", "metric 100 × PGD-20", "PGD-20 acc. 1000". */
export function jobLabel(kind: JobKind, size: number): string {
  switch (kind) {
    case 'surface':
      return `surface ${size}×${size}`;
    case 'metric':
      return `metric, ${size} samples × PGD-${BENCH_STEPS}`;
    case 'fgsm':
      return `FGSM accuracy, ${size} samples`;
    case 'pgd':
      return `PGD-${BENCH_STEPS} accuracy, ${size} samples`;
  }
}

/** Units a job processes (grid points or samples), for throughput. */
export function jobUnits(spec: Pick<JobSpec, 'kind' | 'size'>): { units: number; unit: string } {
  return spec.kind === 'surface' ? { units: spec.size * spec.size, unit: 'points' } : { units: spec.size, unit: 'samples' };
}

/**
 * Nominal floating-point operations of a job, in units of one forward pass F per sample
 * (multiply-adds counted as 2). Convention, the same for Ravine and the PyTorch peer: an
 * input-gradient step costs 2F (forward plus a backward pass to the input, whose convolutions
 * and matmuls have the forward's multiply-adds); softmax, losses and elementwise updates are
 * not counted. The counts follow what the engine evaluates:
 *   surface  one forward per point;
 *   metric   2F for the clean logits and scale, 2F per step, F at the last iterate;
 *   FGSM     clean check F, gradient 2F, adversarial check F;
 *   PGD      clean check F, per step 2F plus the iterate's check F, last iterate 2F.
 */
export function forwardPassesPerUnit(kind: JobKind): number {
  switch (kind) {
    case 'surface':
      return 1;
    case 'metric':
      return 2 + 2 * BENCH_STEPS + 1;
    case 'fgsm':
      return 4;
    case 'pgd':
      return 1 + 3 * BENCH_STEPS + 2;
  }
}

/** Runs one job and times it (wall seconds, including the reads back to JavaScript). */
export async function runJob(c: Classifier, input: BenchInput, spec: JobSpec): Promise<JobOutput> {
  const size = c.inputSize;
  const options = spec.mode === 'naive' ? { chunkSize: 1 } : spec.chunk ? { chunkSize: spec.chunk } : {};
  const t0 = performance.now();
  switch (spec.kind) {
    case 'surface': {
      const axis = gridAxis(BENCH_EPS, spec.size);
      const r = await computeSurface(c, { x: input.x0, label: input.label0, d1: input.d1, d2: input.d2, a: axis, b: axis }, options);
      return { seconds: (performance.now() - t0) / 1000, loss: r.loss, margin: r.margin };
    }
    case 'metric': {
      const r = await computeMetric(c, input.xs.subarray(0, spec.size * size), { ...DEFAULT_METRIC_SETTINGS, eps: BENCH_EPS, steps: BENCH_STEPS }, options);
      return { seconds: (performance.now() - t0) / 1000, psi: r.psi, R: r.R };
    }
    case 'fgsm':
    case 'pgd': {
      const r = await adversarialAccuracy(
        c,
        input.xs.subarray(0, spec.size * size),
        input.labels.subarray(0, spec.size),
        { method: spec.kind, norm: 'linf', eps: [BENCH_EPS], steps: spec.kind === 'pgd' ? BENCH_STEPS : 0, restarts: 1, seed: 0 },
        options,
      );
      return { seconds: (performance.now() - t0) / 1000, correct: r.correct[0], cleanAccuracy: r.cleanAccuracy };
    }
  }
}

/**
 * Peak tensor memory of a job on the active backend (tf.profile's peakBytes: the most bytes
 * held by live tensors at any moment, weights included) and the bytes it leaves behind.
 * Untimed: profiling wraps every kernel.
 */
export async function profileJobMemory(c: Classifier, input: BenchInput, spec: JobSpec): Promise<{ peakBytes: number; newBytes: number; newTensors: number }> {
  const info = await tf.profile(async () => {
    await runJob(c, input, spec);
  });
  return { peakBytes: info.peakBytes, newBytes: info.newBytes, newTensors: info.newTensors };
}

/** One kernel's share of a profiled job: its name and input shapes, and the time of all its calls. */
export interface KernelTime {
  name: string;
  /** Input shapes, e.g. `[100,7,7,32] [3,3,32,64]`, so the same kernel on different layers is
   *  listed apart; '' when grouped by name only. */
  shapes: string;
  /** null when the backend could not time one of the calls (WebGL without timer queries). */
  ms: number | null;
  calls: number;
}

/**
 * Whether a tf.profile entry is a kernel. tf.profile also lists the scopes that wrap kernels,
 * with the time of the kernels they ran: an op's (`logSoftmax__op`) and a custom gradient's,
 * named after the scope it ran in (`unnamed scope`, `forward`): the fused layers
 * (src/engine/layerChain.ts) and the closed-form losses (src/engine/ops.ts) are such. Kernel
 * names are capitalised (`Conv2D`, `_FusedMatMul`); those scopes' are not.
 */
export function isKernelEntry(name: string): boolean {
  return /^[A-Z_]/.test(name) && !name.endsWith('__op');
}

/**
 * tf.profile of one run of a job: milliseconds per kernel and input shapes (or per kernel name,
 * `byShapes` false), largest first, and the profiled run's wall time; wrapping scopes are left
 * out ({@link isKernelEntry}). Kernel times are
 * synchronous on wasm and cpu, GPU time from timer queries on WebGL.
 */
export async function kernelProfile(c: Classifier, input: BenchInput, spec: JobSpec, byShapes = true): Promise<{ kernels: KernelTime[]; wallMs: number }> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await runJob(c, input, spec);
  });
  const wallMs = performance.now() - t0;
  const by = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    if (!isKernelEntry(k.name)) continue;
    const shapes = byShapes ? k.inputShapes.map((sh) => (sh ? `[${sh.join(',')}]` : '–')).join(' ') : '';
    const key = `${k.name} ${shapes}`;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : null;
    const e = by.get(key) ?? { name: k.name, shapes, ms: 0, calls: 0 };
    e.ms = e.ms === null || ms === null ? null : e.ms + ms;
    e.calls += 1;
    by.set(key, e);
  }
  return { kernels: [...by.values()].sort((a, b) => (b.ms ?? -1) - (a.ms ?? -1)), wallMs };
}
