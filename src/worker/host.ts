/**
 * The engine's host: owns the tfjs backend, the loaded models (slots A and B) and the jobs.
 * Runs inside the Web Worker (engine.worker.ts) and, when a worker cannot start, on the main
 * thread with the same interface. Everything it takes and returns is plain data and typed
 * arrays; tensors never leave it.
 */
import * as tf from '@tensorflow/tfjs';
import { adversarialAccuracy, type AttackResult, type AttackSettings } from '../engine/attacks';
import { chooseBackend, probeWebGL, type BackendChoice, type BackendPreference, type WebGLProbe } from '../engine/backend';
import { createClassifier, isKnownLayerClass, type Classifier, type LogitsSource } from '../engine/classifier';
import { registerFastConvGradients } from '../engine/convGrad';
import { registerWebglConvolutions } from '../engine/webglConv';
import { computeDirections, type Directions, type DirectionSettings } from '../engine/directions';
import { computeMetric, type MetricResult, type MetricSettings, type MetricSummary } from '../engine/metric';
import type { JobOptions, Progress } from '../engine/schedule';
import { yieldToEventLoop } from '../engine/schedule';
import { computeSurface, type SurfaceResult, type SurfaceSpec } from '../engine/surface';
import { wasmThreadCount } from '../engine/winograd';
import { parseModelFiles, ModelFileError, type ModelFormat } from '../io/modelFiles';

export type Slot = 'A' | 'B';

export interface ModelFile {
  name: string;
  bytes: Uint8Array;
}

export interface ModelInfo {
  slot: Slot;
  /** Display name (built-in title or the dropped file's folder/name). */
  name: string;
  /** Built-in id when it came from the zoo. */
  builtinId?: string;
  /** sha256 (hex) over the model files, sorted by name: the model's identity in recipes. */
  sha256: string;
  format: ModelFormat;
  inputShape: number[];
  numClasses: number;
  logitsSource: LogitsSource;
  params: number;
  weightBytes: number;
}

export interface HostStatus {
  choice: BackendChoice;
  /** Threads of the wasm backend's XNNPACK pool (1 without threads); absent on other backends. */
  wasmThreads?: number;
}

async function sha256Hex(files: ModelFile[]): Promise<string> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const total = sorted.reduce((n, f) => n + f.bytes.byteLength, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const f of sorted) {
    all.set(f.bytes, o);
    o += f.bytes.byteLength;
  }
  const digest = await crypto.subtle.digest('SHA-256', all);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A deep copy of a Keras topology with every weight initialiser replaced by zeros. */
function zeroInitializers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(zeroInitializers);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const replaced = /(_i|I)nitializer$/.test(key) && typeof v === 'object' && v !== null ? { class_name: 'Zeros', config: {} } : zeroInitializers(v);
    // defineProperty: a "__proto__" key in the file stays a plain key.
    Object.defineProperty(out, key, { value: replaced, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * What tf.loadLayersModel does, except that a failure frees what it made: when the weights do
 * not fit the layers (a wrong shape, a missing or extra weight), tfjs throws from
 * model.loadWeights and drops both the half-built model and the decoded weight tensors
 * without disposing them. Initialisers become zeros: the file's weights overwrite them, and
 * zeros are cheaper than random or orthogonal initialisation.
 */
async function buildLayersModel(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  const model = await tf.models.modelFromJSON({ modelTopology: zeroInitializers(artifacts.modelTopology) } as Parameters<typeof tf.models.modelFromJSON>[0]);
  let decoded: tf.NamedTensorMap | null = null;
  try {
    const specs = artifacts.weightSpecs ?? [];
    decoded = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
    const weights: tf.NamedTensorMap = {};
    for (const spec of specs) if (spec.group !== 'optimizer') weights[spec.name] = decoded[spec.name];
    model.loadWeights(weights, true);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    // The model's variables now hold the values (reference-counted); these handles go.
    if (decoded) tf.dispose(Object.values(decoded));
  }
}

interface Loaded {
  info: ModelInfo;
  model: tf.LayersModel | tf.GraphModel;
  classifier: Classifier;
  /** Calls (jobs, predictions, directions) using this model right now. */
  users: number;
  /** Replaced or unloaded: disposed as soon as `users` drops to 0. */
  retired: boolean;
}

/**
 * A fault to inject into the next surface job: a test and diagnostic hook (reachable from the
 * page as `window.ravine.injectFault`, see ui/scripting.ts), never used by the app itself. It
 * lets an end-to-end test check what a user sees when a computation dies half-way (out of
 * memory, a failing kernel): a message, no leaked tensors, a lab that still works.
 */
export interface EngineFault {
  /** Chunks of the grid that complete before the failure (0: the first chunk fails). */
  afterChunks: number;
  /** The error's message; by default it says it was injected. */
  message?: string;
}

/**
 * Grid points per chunk while a fault is armed, so that even an 11² test grid runs in several
 * chunks and the failure lands mid-way, after some chunks have been read back.
 */
export const FAULT_CHUNK_POINTS = 16;

interface Job {
  controller: AbortController;
  slot: Slot;
}

export class EngineHost {
  private slots: Partial<Record<Slot, Loaded>> = {};
  private jobs = new Map<number, Job>();
  /** Foreground jobs (surfaces) running; background jobs wait while this is > 0. */
  private foreground = 0;
  /** Model loads run one at a time (see loadModel). */
  private loading: Promise<unknown> = Promise.resolve();
  private fault: EngineFault | null = null;

  /** @param onProbe sees the WebGL probe before a backend starts (the worker uses it to size the wasm pool). */
  constructor(private readonly onProbe: (probe: WebGLProbe) => void = () => {}) {}

  async init(preference: BackendPreference): Promise<HostStatus> {
    const probe = probeWebGL();
    this.onProbe(probe);
    const choice = await chooseBackend(preference, probe);
    registerFastConvGradients();
    registerWebglConvolutions();
    return choice.backend === 'wasm' ? { choice, wasmThreads: wasmThreadCount() } : { choice };
  }

  /**
   * Validates and loads model files into `slot`. On any error the slot keeps its previous
   * model, the error names the problem, and nothing the failed load allocated stays behind.
   * Jobs still running on the model being replaced are aborted; the old model is disposed
   * when the last of them has stopped (see release).
   */
  loadModel(slot: Slot, name: string, files: ModelFile[], builtinId?: string): Promise<ModelInfo> {
    // One load at a time: a failed build is cleaned up by disposing the variables it
    // registered, which is only safe when no other load is registering its own meanwhile.
    const run = this.loading.then(() => this.loadModelNow(slot, name, files, builtinId));
    this.loading = run.catch(() => undefined);
    return run;
  }

  private async loadModelNow(slot: Slot, name: string, files: ModelFile[], builtinId?: string): Promise<ModelInfo> {
    const jsonFiles = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
    if (jsonFiles.length === 0) {
      throw new ModelFileError(`No model.json among the ${files.length} file(s) given (${files.map((f) => f.name).join(', ')}); a TF.js model is a model.json plus its .bin weight files.`);
    }
    const jsonFile = jsonFiles.find((f) => f.name.endsWith('model.json')) ?? jsonFiles[0];
    const shards = new Map(files.filter((f) => f !== jsonFile).map((f) => [f.name.split('/').pop() as string, f.bytes]));
    const parsed = parseModelFiles(jsonFile.name, new TextDecoder().decode(jsonFile.bytes), shards, { knownLayer: isKnownLayerClass });
    const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
    let model: tf.LayersModel | tf.GraphModel;
    try {
      model = parsed.format === 'graph-model' ? await tf.loadGraphModel(tf.io.fromMemory(parsed.artifacts)) : await buildLayersModel(parsed.artifacts);
    } catch (e) {
      // A layer that fails to build leaves the variables of the layers built before it.
      const registered = tf.engine().registeredVariables;
      for (const key of Object.keys(registered)) if (!variablesBefore.has(key)) registered[key].dispose();
      throw new ModelFileError(`${jsonFile.name}: TF.js could not build the model: ${(e as Error).message}`);
    }
    let classifier: Classifier;
    try {
      classifier = createClassifier(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    let sha256: string;
    try {
      sha256 = await sha256Hex([jsonFile, ...files.filter((f) => f !== jsonFile && parsed.shardNames.some((s) => s.split('/').pop() === f.name.split('/').pop()))]);
    } catch (e) {
      classifier.dispose();
      model.dispose();
      throw e;
    }
    const params = model instanceof tf.LayersModel ? model.countParams() : parsed.weightBytes / 4;
    const info: ModelInfo = {
      slot,
      name,
      builtinId,
      sha256,
      format: parsed.format,
      inputShape: [...classifier.inputShape],
      numClasses: classifier.numClasses,
      logitsSource: classifier.logitsSource,
      params,
      weightBytes: parsed.weightBytes,
    };
    this.unloadModel(slot);
    this.slots[slot] = { info, model, classifier, users: 0, retired: false };
    return info;
  }

  /**
   * Empties `slot`. Jobs running on its model are aborted (they reject with an AbortError at
   * their next chunk) and the model is disposed once none of them uses it any more.
   */
  unloadModel(slot: Slot): void {
    const old = this.slots[slot];
    if (!old) return;
    delete this.slots[slot];
    old.retired = true;
    for (const job of this.jobs.values()) if (job.slot === slot) job.controller.abort();
    if (old.users === 0) this.disposeLoaded(old);
  }

  private disposeLoaded(loaded: Loaded): void {
    loaded.classifier.dispose();
    loaded.model.dispose();
  }

  /** The model in `slot`, held until `release` (so an unload in between cannot dispose it under a running call). */
  private acquire(slot: Slot): Loaded {
    const loaded = this.get(slot);
    loaded.users++;
    return loaded;
  }

  private release(loaded: Loaded): void {
    loaded.users--;
    if (loaded.retired && loaded.users === 0) this.disposeLoaded(loaded);
  }

  private get(slot: Slot): Loaded {
    const s = this.slots[slot];
    if (!s) throw new ModelFileError(`No model is loaded in slot ${slot}.`);
    return s;
  }

  /** Logits and softmax for a batch of samples (n × inputSize values). */
  async predict(slot: Slot, x: Float32Array): Promise<{ logits: Float32Array; probs: Float32Array }> {
    const loaded = this.acquire(slot);
    try {
      const { classifier } = loaded;
      const n = x.length / classifier.inputSize;
      const [z, p] = tf.tidy(() => {
        const logits = classifier.logits(tf.tensor(x, [n, ...classifier.inputShape]));
        return [logits, tf.softmax(logits)];
      });
      try {
        return { logits: (await z.data()) as Float32Array, probs: (await p.data()) as Float32Array };
      } finally {
        tf.dispose([z, p]);
      }
    } finally {
      this.release(loaded);
    }
  }

  async directions(slot: Slot, x: Float32Array, label: number, settings: DirectionSettings, supplied: { d1?: Float32Array; d2?: Float32Array } = {}): Promise<Directions> {
    const loaded = this.acquire(slot);
    try {
      return await computeDirections(loaded.classifier, x, label, settings, supplied);
    } finally {
      this.release(loaded);
    }
  }

  private startJob(id: number, slot: Slot): AbortController {
    this.jobs.get(id)?.controller.abort();
    const controller = new AbortController();
    this.jobs.set(id, { controller, slot });
    return controller;
  }

  /** Forgets job `id` unless a newer job has taken the same id meanwhile. */
  private endJob(id: number, controller: AbortController): void {
    if (this.jobs.get(id)?.controller === controller) this.jobs.delete(id);
  }

  /** Stops job `id` at its next chunk boundary; its promise rejects with an AbortError. */
  cancel(id: number): void {
    this.jobs.get(id)?.controller.abort();
  }

  /**
   * Test and diagnostic hook: arms `fault` for the next surface job (null disarms). That job
   * runs in chunks of {@link FAULT_CHUNK_POINTS} grid points and its model throws once
   * `fault.afterChunks` chunks have been computed, from inside the chunk's tensor work, as a
   * failing kernel would. The app never calls this.
   */
  injectFault(fault: EngineFault | null): void {
    if (fault !== null && !(Number.isInteger(fault.afterChunks) && fault.afterChunks >= 0)) {
      throw new Error(`injectFault: afterChunks must be a non-negative integer; got ${String(fault.afterChunks)}.`);
    }
    this.fault = fault;
  }

  /** The classifier and chunking a surface job runs with: the slot's own, or a faulty wrapper. */
  private surfaceRun(classifier: Classifier): { classifier: Classifier; chunkSize?: number } {
    const fault = this.fault;
    if (!fault) return { classifier };
    this.fault = null;
    let chunks = 0;
    const message = fault.message ?? `Out of memory in chunk ${fault.afterChunks + 1} (a fault injected for testing with window.ravine.injectFault).`;
    const faulty: Classifier = {
      ...classifier,
      logits: (x) => {
        // Compute first, then fail: the chunk's tensors exist when the error is thrown, as
        // they would when a kernel dies half-way, and must be freed by the caller's tidy.
        const z = classifier.logits(x);
        if (++chunks > fault.afterChunks) throw new Error(message);
        return z;
      },
    };
    return { classifier: faulty, chunkSize: FAULT_CHUNK_POINTS };
  }

  /** Background jobs wait here while a surface (foreground) job runs. */
  private readonly backgroundPause = async (): Promise<void> => {
    await yieldToEventLoop();
    while (this.foreground > 0) await new Promise((r) => setTimeout(r, 5));
  };

  async surface(id: number, slot: Slot, spec: SurfaceSpec, onProgress?: (p: Progress) => void): Promise<SurfaceResult> {
    const loaded = this.acquire(slot);
    const controller = this.startJob(id, slot);
    this.foreground++;
    try {
      const { classifier, chunkSize } = this.surfaceRun(loaded.classifier);
      const options: JobOptions = { signal: controller.signal, onProgress };
      if (chunkSize !== undefined) options.chunkSize = chunkSize;
      return await computeSurface(classifier, spec, options);
    } finally {
      this.foreground--;
      this.endJob(id, controller);
      this.release(loaded);
    }
  }

  async metric(id: number, slot: Slot, x: Float32Array, settings: MetricSettings, onPartial?: (psi: Float32Array, s: MetricSummary) => void): Promise<MetricResult> {
    const loaded = this.acquire(slot);
    const controller = this.startJob(id, slot);
    try {
      return await computeMetric(loaded.classifier, x, settings, { signal: controller.signal, pause: this.backgroundPause, onPartial });
    } finally {
      this.endJob(id, controller);
      this.release(loaded);
    }
  }

  async attack(id: number, slot: Slot, x: Float32Array, labels: number[], settings: AttackSettings, onProgress?: (p: Progress) => void): Promise<AttackResult> {
    const loaded = this.acquire(slot);
    const controller = this.startJob(id, slot);
    try {
      return await adversarialAccuracy(loaded.classifier, x, labels, settings, { signal: controller.signal, pause: this.backgroundPause, onProgress });
    } finally {
      this.endJob(id, controller);
      this.release(loaded);
    }
  }

  /** tfjs memory counters, for the leak checks. */
  memory(): { numTensors: number; numBytes: number; backend: string } {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, backend: tf.getBackend() };
  }
}
