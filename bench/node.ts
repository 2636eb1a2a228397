/**
 * One backend configuration of the Node benchmark, in its own process (bench/run.ts starts
 * it): `tsx bench/node.ts <config> <runs> [--quick]`, config one of
 *   wasm1  tfjs-wasm, SIMD, 1 thread (the CLI's default); also dumps the peer's inputs,
 *          measures memory and profiles kernels;
 *   wasm2  tfjs-wasm, SIMD, 2 threads (src/cli/wasmThreads.ts; must start before the
 *          backend does, hence a process of its own);
 *   cpu    tfjs's plain-JavaScript backend (scaled-down jobs).
 * Writes .cache/bench/node-<config>.json, and the surfaces and psi it computed as .npy.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { createClassifier, type Classifier } from '../src/engine/classifier';
import { registerFastConvGradients } from '../src/engine/convGrad';
import { computeDirections } from '../src/engine/directions';
import { klDivergence } from '../src/engine/ops';
import { project, randomStarts } from '../src/engine/pgd';
import { chunkSizeFor } from '../src/engine/schedule';
import { computeSurface, gridAxis } from '../src/engine/surface';
import { ravineSplitMs, wasmThreadCount, winogradHelpers, type WinogradHelperStats } from '../src/engine/winograd';
import { datasetToFloat } from '../src/io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR, REPO_ROOT } from '../src/io/datasetNode';
import { loadModelFromPath } from '../src/io/modelNode';
import { writeNpy } from '../src/io/npy';
import { BENCH_DIR, ensureBenchDir, jobPlan, median, MODELS, SAMPLE_INDEX, saveF32, type ModelId, type Row } from './common';
import { forwardFlopsPerSample, describeLayers, winogradFlopsPerSample, WINOGRAD_TILE } from './flops';
import { measureKernelLayers, type LayerTiming } from './kernels';
import { BENCH_EPS, BENCH_STEPS, forwardPassesPerUnit, kernelProfile, profileJobMemory, runJob, type BenchInput, type JobSpec, type KernelTime } from './jobs';
import { enableNodeWasmThreads } from '../src/cli/wasmThreads';
import { enableNodeRelaxedSimd } from '../src/cli/relaxedSimd';

export interface NodeResult {
  config: string;
  env: string;
  threads: number;
  rows: Row[];
  /** wasm1 only. */
  memory?: {
    surfacePeakBytes: number;
    metricPeakBytes: number;
    heapBytesAfterFirst: number;
    heapBytesAfterLast: number;
    tensorsAfterFirst: number;
    tensorsAfterLast: number;
    bytesAfterFirst: number;
    bytesAfterLast: number;
    repeats: number;
    grid: number;
  };
  profile?: { job: string; kernels: KernelTime[]; wallMs: number }[];
  /** Per model: forward FLOPs per sample, nominal and with F(m×m) Winograd convolutions (bench/flops.ts). */
  flopsPerSample?: Record<string, { nominal: number; winograd: number; tile: number }>;
  /** Ravine's wasm kernels against wasm's own, per CNN layer (wasm only; bench/kernels.ts). */
  kernelLayers?: LayerTiming[];
  /** The Winograd kernel's helper threads after the run (wasm only; src/engine/winogradHelpers.ts). */
  winogradHelpers?: WinogradHelperStats;
  /** CNN surface time (median) by chunk size, wasm configurations only. */
  chunkSweep?: { chunk: number; seconds: number }[];
  chunks?: Record<string, { forward: number; gradient: number }>;
}

const config = process.argv[2] as 'wasm1' | 'wasm2' | 'cpu';
const runs = Number(process.argv[3] ?? 3);
const quick = process.argv.includes('--quick');

function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

async function main(): Promise<void> {
  ensureBenchDir();
  const cleanup = config === 'wasm2' ? enableNodeWasmThreads(Math.min(2, os.cpus().length)) : () => {};
  if (config !== 'cpu') enableNodeRelaxedSimd(); // as the CLI does
  await tf.setBackend(config === 'cpu' ? 'cpu' : 'wasm');
  await tf.ready();
  registerFastConvGradients();
  const threads = config === 'cpu' ? 1 : wasmThreadCount();
  const env = config === 'cpu' ? 'Node cpu (JavaScript)' : `Node wasm SIMD (${threads} thread${threads > 1 ? 's' : ''})`;
  const plan = jobPlan(quick ? 'quick' : config === 'cpu' ? 'cpu' : config === 'wasm2' ? 'threads' : 'full', runs);
  const nMax = Math.max(...plan.filter((p) => p.kind !== 'surface').map((p) => p.size));
  const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, 'mnist');
  const base = {
    x0: datasetToFloat(ds, [SAMPLE_INDEX]),
    label0: ds.labels[SAMPLE_INDEX],
    xs: datasetToFloat(ds, Array.from({ length: nMax }, (_, i) => i)),
    labels: Int32Array.from(ds.labels.subarray(0, nMax)),
  };
  const result: NodeResult = { config, env, threads, rows: [], chunks: {} };
  const dump: Record<string, unknown> = {};
  for (const id of MODELS) {
    const model = (await loadModelFromPath(join(REPO_ROOT, 'public', 'models', id))) as tf.LayersModel;
    const c = createClassifier(model);
    result.chunks![id] = { forward: chunkSizeFor(c, false), gradient: chunkSizeFor(c, true) };
    // Directions on the CPU-exact path: d2 is seeded JS; d1 is the gradient's sign here.
    const dirs = await computeDirections(c, base.x0, base.label0, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false });
    const input: BenchInput = { ...base, d1: dirs.d1, d2: dirs.d2 };
    if (config === 'wasm1') dump[id] = await dumpForPeer(id, model, c, input, plan);
    const fpp = forwardFlopsPerSample(model);
    (result.flopsPerSample ??= {})[id] = { nominal: fpp, winograd: winogradFlopsPerSample(model, WINOGRAD_TILE), tile: WINOGRAD_TILE };
    // Each job's timed runs back to back after its warm-ups, as the peer's (see BATCHED_WARMUPS in bench/common.ts).
    const kinds = [...new Set(plan.map((p) => p.kind))];
    for (const kind of kinds) {
      const jobs = plan.filter((p) => p.kind === kind);
      const times = jobs.map(() => [] as number[]);
      const split = jobs.map(() => [] as number[]);
      for (const [k, j] of jobs.entries()) {
        for (let w = 0; w < j.warmups; w++) await runJob(c, input, { ...j, size: j.warmupSize });
        for (let r = 0; r < j.runs; r++) {
          const before = ravineSplitMs();
          const out = await runJob(c, input, j);
          split[k].push(ravineSplitMs() - before);
          times[k].push(out.seconds);
          if (r === 0) saveOutputs(id, j, out);
        }
      }
      for (const [k, j] of jobs.entries()) {
        const units = j.kind === 'surface' ? j.size * j.size : j.size;
        const row: Row = { env, model: id, kind: j.kind, mode: j.mode, size: j.size, times: times[k], seconds: median(times[k]), flops: units * forwardPassesPerUnit(j.kind) * fpp };
        if (config !== 'cpu') Object.assign(row, { splitMsTimes: split[k], splitMs: median(split[k]) });
        result.rows.push(row);
        console.error(`${env} ${id} ${j.kind}/${j.mode}/${j.size}: ${row.seconds.toFixed(3)} s`);
      }
    }
    if (config === 'wasm1' && id === 'mnist-cnn-natural') await memoryAndProfile(c, input, result, quick);
    if (config !== 'cpu' && id === 'mnist-cnn-natural') result.chunkSweep = await chunkSweep(c, input, quick ? 31 : 101, runs);
    c.dispose();
    model.dispose();
  }
  if (config !== 'cpu') {
    result.winogradHelpers = winogradHelpers();
    result.kernelLayers = await measureKernelLayers(quick ? 3 : 15);
  }
  if (config === 'wasm1') {
    const meta = {
      eps: BENCH_EPS,
      steps: BENCH_STEPS,
      label0: base.label0,
      x0: 'x0.npy',
      xs: 'xs.npy',
      labels: 'labels.npy',
      metricStarts: 'metric-starts.npy',
      attackStarts: 'attack-starts.npy',
      jobs: plan.map((p) => ({ kind: p.kind, mode: p.mode, size: p.size, runs: p.runs })),
      models: dump,
    };
    const shape = [1, 28, 28, 1];
    writeFileSync(join(BENCH_DIR, 'x0.npy'), writeNpy({ dtype: 'float32', shape, data: base.x0 }));
    writeFileSync(join(BENCH_DIR, 'xs.npy'), writeNpy({ dtype: 'float32', shape: [nMax, 28, 28, 1], data: base.xs }));
    writeFileSync(join(BENCH_DIR, 'labels.npy'), writeNpy({ dtype: 'int32', shape: [nMax], data: base.labels }));
    const size = 28 * 28;
    writeFileSync(join(BENCH_DIR, 'metric-starts.npy'), writeNpy({ dtype: 'float32', shape: [nMax, 28, 28, 1], data: randomStarts(0, 'metric/0', 0, nMax, size, 'linf', BENCH_EPS) }));
    writeFileSync(join(BENCH_DIR, 'attack-starts.npy'), writeNpy({ dtype: 'float32', shape: [nMax, 28, 28, 1], data: randomStarts(0, 'attack/0/0', 0, nMax, size, 'linf', BENCH_EPS) }));
    writeFileSync(join(BENCH_DIR, 'bench.json'), JSON.stringify(meta, null, 1));
  }
  writeFileSync(join(BENCH_DIR, `node-${config}.json`), JSON.stringify(result));
  cleanup();
  process.exit(0);
}

/** Surfaces and psi of the first timed run, for the agreement checks. */
function saveOutputs(id: ModelId, j: JobSpec, out: Awaited<ReturnType<typeof runJob>>): void {
  const tag = `${config}-${id}-${j.kind}-${j.mode}-${j.size}`;
  if (out.loss) saveF32(`${tag}-loss.npy`, out.loss);
  if (out.margin) saveF32(`${tag}-margin.npy`, out.margin);
  if (out.psi) saveF32(`${tag}-psi.npy`, out.psi);
  if (out.correct !== undefined) writeFileSync(join(BENCH_DIR, `${tag}.json`), JSON.stringify({ correct: out.correct, cleanAccuracy: out.cleanAccuracy }));
}

/**
 * The peer's inputs for one model: Keras-layout weights and the layer list, d1/d2, and the
 * KL at each metric sample's random start (the first point both PGD runs evaluate, before any
 * sign step can make them diverge).
 */
async function dumpForPeer(id: ModelId, model: tf.LayersModel, c: Classifier, input: BenchInput, plan: { kind: string; size: number }[]): Promise<unknown> {
  const layers = describeLayers(model, id);
  for (const l of layers) {
    for (const key of ['kernel', 'bias'] as const) {
      const file = l[key];
      const w = l.weights?.[key];
      if (file && w) writeFileSync(join(BENCH_DIR, file), writeNpy({ dtype: 'float32', shape: w.shape, data: w.data }));
    }
    delete l.weights;
  }
  saveF32(`${id}-d1.npy`, input.d1);
  saveF32(`${id}-d2.npy`, input.d2);
  const n = Math.max(...plan.filter((p) => p.kind === 'metric').map((p) => p.size));
  const size = c.inputSize;
  const startKl = tf.tidy(() => {
    const x = tf.tensor(input.xs.subarray(0, n * size), [n, ...c.inputShape]);
    const z0 = c.logits(x);
    const s = tf.maximum(tf.sqrt(tf.mean(tf.square(tf.sub(z0, tf.mean(z0, 1, true))), 1, true)), 1e-6);
    const start = project(x, tf.add(x, tf.tensor(randomStarts(0, 'metric/0', 0, n, size, 'linf', BENCH_EPS), x.shape)), 'linf', BENCH_EPS, 0, 1);
    return klDivergence(tf.div(z0, s) as tf.Tensor2D, tf.div(c.logits(start), s) as tf.Tensor2D);
  });
  saveF32(`wasm1-${id}-startkl.npy`, startKl.dataSync() as Float32Array);
  startKl.dispose();
  return {
    layers,
    inputShape: c.inputShape,
    d1: `${id}-d1.npy`,
    d2: `${id}-d2.npy`,
    chunkForward: chunkSizeFor(c, false),
    chunkGradient: chunkSizeFor(c, true),
  };
}

/** The surface's time for several chunk sizes (interleaved runs; medians). */
async function chunkSweep(c: Classifier, input: BenchInput, grid: number, n: number): Promise<{ chunk: number; seconds: number }[]> {
  const chunks = [128, 256, 512, 1024, 2048, 4096];
  const times = chunks.map(() => [] as number[]);
  for (const chunk of chunks) await runJob(c, input, { kind: 'surface', mode: 'batched', size: grid, chunk });
  for (let r = 0; r < n; r++) {
    for (const [k, chunk] of chunks.entries()) times[k].push((await runJob(c, input, { kind: 'surface', mode: 'batched', size: grid, chunk })).seconds);
  }
  return chunks.map((chunk, k) => ({ chunk, seconds: median(times[k]) }));
}

/** Peak memory of a surface and a metric chunk, growth over repeated surfaces, kernel profiles. */
async function memoryAndProfile(c: Classifier, input: BenchInput, result: NodeResult, short: boolean): Promise<void> {
  const surfaceSpec: JobSpec = { kind: 'surface', mode: 'batched', size: short ? 31 : 101 };
  const metricSpec: JobSpec = { kind: 'metric', mode: 'batched', size: short ? 10 : 100 };
  const surfacePeak = await profileJobMemory(c, input, surfaceSpec);
  const metricPeak = await profileJobMemory(c, input, metricSpec);
  // The lab's default grid, again and again: tensors and the wasm heap must not grow.
  const grid = 41;
  const repeats = short ? 10 : 100;
  const axis = gridAxis(BENCH_EPS, grid);
  const spec = { x: input.x0, label: input.label0, d1: input.d1, d2: input.d2, a: axis, b: axis };
  await computeSurface(c, spec);
  const first = { heap: wasmHeapBytes(), ...tf.memory() };
  for (let i = 1; i < repeats; i++) await computeSurface(c, spec);
  const last = { heap: wasmHeapBytes(), ...tf.memory() };
  result.memory = {
    surfacePeakBytes: surfacePeak.peakBytes,
    metricPeakBytes: metricPeak.peakBytes,
    heapBytesAfterFirst: first.heap,
    heapBytesAfterLast: last.heap,
    tensorsAfterFirst: first.numTensors,
    tensorsAfterLast: last.numTensors,
    bytesAfterFirst: first.numBytes,
    bytesAfterLast: last.numBytes,
    repeats,
    grid,
  };
  result.profile = [];
  for (const spec of [surfaceSpec, metricSpec]) {
    const { kernels, wallMs } = await kernelProfile(c, input, spec);
    result.profile.push({ job: `${spec.kind} ${spec.size}`, kernels, wallMs });
  }
}

await main();
