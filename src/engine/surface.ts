/**
 * The input-space surface S(a, b) = Q(f, clip(x + a·d1 + b·d2), y) on a grid (PAPER.md §1).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from './classifier';
import { checkLabel } from './directions';
import { checkSetting, EngineError, throwIfAborted } from './errors';
import { surfaceHead, surfaceInputs } from './ops';
import { chunkSizeFor, type JobOptions, betweenChunks } from './schedule';

/** Largest grid side the engine accepts (the lab offers 11–201). */
export const MAX_GRID_SIDE = 401;

export interface SurfaceSpec {
  /** Clean input, inputSize values in the model's input units. */
  x: Float32Array;
  /** True label y. */
  label: number;
  /** Direction of the a axis, inputSize values. */
  d1: Float32Array;
  /** Direction of the b axis, inputSize values. */
  d2: Float32Array;
  /** Coefficients along d1 (columns), length Ga. */
  a: ArrayLike<number>;
  /** Coefficients along d2 (rows), length Gb. */
  b: ArrayLike<number>;
}

/**
 * Every quantity on the grid. Arrays are row-major [Gb, Ga]: the value at (a[i], b[j]) is at
 * index j * Ga + i, so row j is one b and a column is one a (the orientation of a heatmap
 * with a on the horizontal axis).
 */
export interface SurfaceResult {
  a: Float32Array;
  b: Float32Array;
  /** Cross-entropy CE(z, y) (nats). */
  loss: Float32Array;
  /** Logit margin z_y - max_{j≠y} z_j; the decision boundary is margin = 0. */
  margin: Float32Array;
  /** Predicted class (argmax of the logits). */
  pred: Int32Array;
  /** Softmax probability of the predicted class. */
  confidence: Float32Array;
  /** Wall seconds spent evaluating the grid. */
  seconds: number;
}

/** `n` evenly spaced values from -range to +range (n odd puts 0 exactly in the middle). */
export function gridAxis(range: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (n === 1) return out;
  for (let i = 0; i < n; i++) out[i] = -range + (2 * range * i) / (n - 1);
  // Symmetric grids should contain the clean point exactly, not -1e-9.
  if (n % 2 === 1) out[(n - 1) / 2] = 0;
  return out;
}

function validate(classifier: Classifier, spec: SurfaceSpec): void {
  const size = classifier.inputSize;
  for (const [name, v] of [['The input', spec.x], ['Direction d1', spec.d1], ['Direction d2', spec.d2]] as const) {
    if (v.length !== size) throw new EngineError('input-shape', `${name} has ${v.length} values but the model's input has ${size}.`);
  }
  checkLabel(classifier, spec.label);
  checkSetting('The number of grid columns', spec.a.length, 1, MAX_GRID_SIDE, true);
  checkSetting('The number of grid rows', spec.b.length, 1, MAX_GRID_SIDE, true);
  for (const [name, axis] of [['a', spec.a], ['b', spec.b]] as const) {
    for (let i = 0; i < axis.length; i++) {
      if (!Number.isFinite(axis[i])) throw new EngineError('bad-setting', `Grid coefficient ${name}[${i}] is not a finite number.`);
    }
  }
}

/**
 * Evaluates the surface in chunks of grid points (size from the classifier's activation
 * budget, see schedule.ts), reading each chunk back with `data()` and yielding between chunks.
 * On a GPU backend a chunk's read-back is awaited only after the next chunk's work has been
 * issued, so the GPU computes one chunk while the engine waits for the one before; on wasm and
 * cpu, whose kernels finish as they are called, each chunk is read back before the next.
 * Rejects with an AbortError when `options.signal` fires; no tensors survive the call in any
 * outcome.
 */
export async function computeSurface(classifier: Classifier, spec: SurfaceSpec, options: JobOptions = {}): Promise<SurfaceResult> {
  validate(classifier, spec);
  const t0 = performance.now();
  const ga = spec.a.length;
  const gb = spec.b.length;
  const total = ga * gb;
  const result: SurfaceResult = {
    a: Float32Array.from(spec.a),
    b: Float32Array.from(spec.b),
    loss: new Float32Array(total),
    margin: new Float32Array(total),
    pred: new Int32Array(total),
    confidence: new Float32Array(total),
    seconds: 0,
  };
  const chunk = chunkSizeFor(classifier, false, options.chunkSize);
  const shape = [1, ...classifier.inputShape];
  const [lo, hi] = classifier.valueRange;
  const x = tf.tensor(spec.x, shape);
  const d1 = tf.tensor(spec.d1, shape);
  const d2 = tf.tensor(spec.d2, shape);
  const coefA = new Float32Array(chunk);
  const coefB = new Float32Array(chunk);
  const overlap = options.overlapReadback ?? !['wasm', 'cpu'].includes(tf.getBackend());
  /** The chunk issued last, whose values have not been read back yet. */
  let pending: { start: number; out: tf.Tensor[]; values: Promise<tf.backend_util.BackendValues[]> } | null = null;
  const collect = async (p: NonNullable<typeof pending>) => {
    try {
      const [loss, margin, pred, conf] = await p.values;
      result.loss.set(loss as Float32Array, p.start);
      result.margin.set(margin as Float32Array, p.start);
      result.pred.set(pred as Int32Array, p.start);
      result.confidence.set(conf as Float32Array, p.start);
    } finally {
      tf.dispose(p.out);
    }
    options.onProgress?.({ done: Math.min(p.start + chunk, total), total });
  };
  try {
    for (let start = 0; start < total; start += chunk) {
      throwIfAborted(options.signal);
      const n = Math.min(chunk, total - start);
      for (let k = 0; k < n; k++) {
        const p = start + k;
        coefA[k] = result.a[p % ga];
        coefB[k] = result.b[Math.floor(p / ga)];
      }
      const out = tf.tidy(() => {
        const batch = surfaceInputs(x, d1, d2, tf.tensor1d(coefA.subarray(0, n)), tf.tensor1d(coefB.subarray(0, n)), lo, hi);
        return surfaceHead(classifier.logits(batch), spec.label);
      });
      const issued = { start, out, values: Promise.all(out.map((t) => t.data())) };
      const previous = overlap ? pending : issued;
      pending = overlap ? issued : null;
      if (previous) {
        await collect(previous);
        await betweenChunks(options);
      }
    }
    const last = pending;
    pending = null;
    if (last) await collect(last);
  } finally {
    // Only after an error or an abort: the chunk issued last (its read-back may still be in
    // flight; tfjs frees a tensor whose read is pending once the read is done).
    if (pending) {
      pending.values.catch(() => undefined);
      tf.dispose(pending.out);
    }
    tf.dispose([x, d1, d2]);
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
