/// <reference lib="webworker" />
/**
 * The engine inside the benchmark page's worker: the lab's backend set-up (src/worker/backends.ts,
 * including its rule for wasm threads) and the shared jobs of bench/jobs.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { expose } from 'comlink';
import '../../src/worker/backends';
import { probeWebGL } from '../../src/engine/backend';
import { createClassifier, type Classifier } from '../../src/engine/classifier';
import { registerFastConvGradients } from '../../src/engine/convGrad';
import { registerWebglConvolutions } from '../../src/engine/webglConv';
import { wasmThreadCount, winogradHelpers } from '../../src/engine/winograd';
import { datasetToFloat, fetchDataset } from '../../src/io/dataset';
import { kernelProfile, profileJobMemory, runJob, type BenchInput, type JobOutput, type JobSpec } from '../jobs';

let model: tf.LayersModel | null = null;
let classifier: Classifier | null = null;
let input: BenchInput | null = null;

const root = new URL('../', self.location.href).href;

const api = {
  /** Starts `backend`; `threads: false` forces wasm's single-threaded SIMD build. */
  async init(backend: 'wasm' | 'webgl', threads: boolean) {
    if (!threads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);
    await tf.ready();
    registerFastConvGradients();
    registerWebglConvolutions();
    const webgl = backend === 'webgl' ? probeWebGL() : null;
    return {
      backend: tf.getBackend(),
      isolated: self.crossOriginIsolated,
      threads: backend === 'wasm' ? wasmThreadCount() : 0,
      simd: backend === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : false,
      renderer: webgl?.renderer ?? '',
      userAgent: self.navigator.userAgent,
      hardwareConcurrency: self.navigator.hardwareConcurrency,
      threadedBuild: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    };
  },
  /** Sets tfjs environment flags (WebGL kernel variants, say) and returns their previous values. */
  setFlags(flags: Record<string, boolean | number>): Record<string, boolean | number> {
    const before: Record<string, boolean | number> = {};
    for (const [k, v] of Object.entries(flags)) {
      before[k] = tf.env().get(k) as boolean | number;
      tf.env().set(k, v);
    }
    return before;
  },
  /** Loads a built-in model and the first `n` MNIST test images; d1, d2 come from Node. */
  async load(modelId: string, n: number, x0Index: number, d1: number[], d2: number[]) {
    classifier?.dispose();
    model?.dispose();
    model = await tf.loadLayersModel(new URL(`models/${modelId}/model.json`, root).href);
    classifier = createClassifier(model);
    const ds = await fetchDataset(new URL('data/', root).href, 'mnist');
    input = {
      x0: datasetToFloat(ds, [x0Index]),
      label0: ds.labels[x0Index],
      d1: Float32Array.from(d1),
      d2: Float32Array.from(d2),
      xs: datasetToFloat(ds, Array.from({ length: n }, (_, i) => i)),
      labels: Int32Array.from(ds.labels.subarray(0, n)),
    };
  },
  /** Runs one job; typed arrays come back as plain arrays (Playwright serialises those). */
  async run(spec: JobSpec): Promise<Omit<JobOutput, 'loss' | 'margin' | 'psi'> & { loss?: number[]; margin?: number[]; psi?: number[] }> {
    if (!classifier || !input) throw new Error('load a model first');
    const out = await runJob(classifier, input, spec);
    return { ...out, loss: out.loss && Array.from(out.loss), margin: out.margin && Array.from(out.margin), psi: out.psi && Array.from(out.psi) };
  },
  /** The Winograd kernel's helper threads on wasm (src/engine/winogradHelpers.ts): started, ready, jobs done. */
  helpers() {
    return tf.getBackend() === 'wasm' ? winogradHelpers() : null;
  },
  async memory(spec: JobSpec) {
    if (!classifier || !input) throw new Error('load a model first');
    const m = await profileJobMemory(classifier, input, spec);
    return { ...m, ...tf.memory() };
  },
  /** tf.profile of one job per kernel name (null ms where the backend could not time a kernel), its
   *  wall time, and whether WebGL timer queries are on (they are what times WebGL kernels). */
  async gpuProfile(spec: JobSpec) {
    if (!classifier || !input) throw new Error('load a model first');
    const { kernels, wallMs } = await kernelProfile(classifier, input, spec, false);
    const timer = { version: tf.env().getNumber('WEBGL_DISJOINT_QUERY_TIMER_EXTENSION_VERSION'), reliable: tf.env().getBool('WEBGL_DISJOINT_QUERY_TIMER_EXTENSION_RELIABLE') };
    return { kernels, wallMs, timer };
  },
};

export type BenchWorkerApi = typeof api;
expose(api);
