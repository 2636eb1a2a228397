/**
 * The engine's host: owns the tfjs backend, the loaded models (slots A and B) and the jobs.
 * Runs inside the Web Worker (engine.worker.ts) and, when a worker cannot start, on the main
 * thread with the same interface. Everything it takes and returns is plain data and typed
 * arrays; tensors never leave it.
 */
import * as tf from '@tensorflow/tfjs';
import { adversarialAccuracy, type AttackResult, type AttackSettings } from '../engine/attacks';
import { chooseBackend, probeWebGL, type BackendChoice, type BackendPreference } from '../engine/backend';
import { createClassifier, type Classifier, type LogitsSource } from '../engine/classifier';
import { registerFastConvGradients } from '../engine/convGrad';
import { computeDirections, type Directions, type DirectionSettings } from '../engine/directions';
import { computeMetric, type MetricResult, type MetricSettings, type MetricSummary } from '../engine/metric';
import type { Progress } from '../engine/schedule';
import { yieldToEventLoop } from '../engine/schedule';
import { computeSurface, type SurfaceResult, type SurfaceSpec } from '../engine/surface';
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

interface Loaded {
  info: ModelInfo;
  model: tf.LayersModel | tf.GraphModel;
  classifier: Classifier;
}

export class EngineHost {
  private slots: Partial<Record<Slot, Loaded>> = {};
  private jobs = new Map<number, AbortController>();
  /** Foreground jobs (surfaces) running; background jobs wait while this is > 0. */
  private foreground = 0;

  async init(preference: BackendPreference): Promise<HostStatus> {
    const choice = await chooseBackend(preference, probeWebGL());
    registerFastConvGradients();
    return { choice };
  }

  /**
   * Validates and loads model files into `slot`. On any error the slot keeps its previous
   * model and the error names the problem.
   */
  async loadModel(slot: Slot, name: string, files: ModelFile[], builtinId?: string): Promise<ModelInfo> {
    const jsonFiles = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
    if (jsonFiles.length === 0) {
      throw new ModelFileError(`No model.json among the ${files.length} file(s) given (${files.map((f) => f.name).join(', ')}); a TF.js model is a model.json plus its .bin weight files.`);
    }
    const jsonFile = jsonFiles.find((f) => f.name.endsWith('model.json')) ?? jsonFiles[0];
    const shards = new Map(files.filter((f) => f !== jsonFile).map((f) => [f.name.split('/').pop() as string, f.bytes]));
    const parsed = parseModelFiles(jsonFile.name, new TextDecoder().decode(jsonFile.bytes), shards);
    const handler = tf.io.fromMemory(parsed.artifacts);
    let model: tf.LayersModel | tf.GraphModel;
    try {
      model = parsed.format === 'graph-model' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
    } catch (e) {
      throw new ModelFileError(`${jsonFile.name}: TF.js could not build the model: ${(e as Error).message}`);
    }
    let classifier: Classifier;
    try {
      classifier = createClassifier(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    const params = model instanceof tf.LayersModel ? model.countParams() : parsed.weightBytes / 4;
    const info: ModelInfo = {
      slot,
      name,
      builtinId,
      sha256: await sha256Hex([jsonFile, ...files.filter((f) => f !== jsonFile && parsed.shardNames.some((s) => s.split('/').pop() === f.name.split('/').pop()))]),
      format: parsed.format,
      inputShape: [...classifier.inputShape],
      numClasses: classifier.numClasses,
      logitsSource: classifier.logitsSource,
      params,
      weightBytes: parsed.weightBytes,
    };
    this.unloadModel(slot);
    this.slots[slot] = { info, model, classifier };
    return info;
  }

  unloadModel(slot: Slot): void {
    const old = this.slots[slot];
    if (old) {
      old.classifier.dispose();
      old.model.dispose();
      delete this.slots[slot];
    }
  }

  private get(slot: Slot): Loaded {
    const s = this.slots[slot];
    if (!s) throw new ModelFileError(`No model is loaded in slot ${slot}.`);
    return s;
  }

  /** Logits and softmax for a batch of samples (n × inputSize values). */
  async predict(slot: Slot, x: Float32Array): Promise<{ logits: Float32Array; probs: Float32Array }> {
    const { classifier } = this.get(slot);
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
  }

  async directions(slot: Slot, x: Float32Array, label: number, settings: DirectionSettings, supplied: { d1?: Float32Array; d2?: Float32Array } = {}): Promise<Directions> {
    return computeDirections(this.get(slot).classifier, x, label, settings, supplied);
  }

  private startJob(id: number): AbortController {
    this.jobs.get(id)?.abort();
    const controller = new AbortController();
    this.jobs.set(id, controller);
    return controller;
  }

  /** Stops job `id` at its next chunk boundary; its promise rejects with an AbortError. */
  cancel(id: number): void {
    this.jobs.get(id)?.abort();
  }

  /** Background jobs wait here while a surface (foreground) job runs. */
  private readonly backgroundPause = async (): Promise<void> => {
    await yieldToEventLoop();
    while (this.foreground > 0) await new Promise((r) => setTimeout(r, 5));
  };

  async surface(id: number, slot: Slot, spec: SurfaceSpec, onProgress?: (p: Progress) => void): Promise<SurfaceResult> {
    const { classifier } = this.get(slot);
    const controller = this.startJob(id);
    this.foreground++;
    try {
      return await computeSurface(classifier, spec, { signal: controller.signal, onProgress });
    } finally {
      this.foreground--;
      this.jobs.delete(id);
    }
  }

  async metric(id: number, slot: Slot, x: Float32Array, settings: MetricSettings, onPartial?: (psi: Float32Array, s: MetricSummary) => void): Promise<MetricResult> {
    const { classifier } = this.get(slot);
    const controller = this.startJob(id);
    try {
      return await computeMetric(classifier, x, settings, { signal: controller.signal, pause: this.backgroundPause, onPartial });
    } finally {
      this.jobs.delete(id);
    }
  }

  async attack(id: number, slot: Slot, x: Float32Array, labels: number[], settings: AttackSettings, onProgress?: (p: Progress) => void): Promise<AttackResult> {
    const { classifier } = this.get(slot);
    const controller = this.startJob(id);
    try {
      return await adversarialAccuracy(classifier, x, labels, settings, { signal: controller.signal, pause: this.backgroundPause, onProgress });
    } finally {
      this.jobs.delete(id);
    }
  }

  /** tfjs memory counters, for the leak checks. */
  memory(): { numTensors: number; numBytes: number; backend: string } {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, backend: tf.getBackend() };
  }
}
