/**
 * Shared fixtures for the engine's unit tests (Node, Vitest): backend set-up and small models
 * whose answers are known in closed form. Not imported by the app.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createClassifier, type Classifier } from './classifier';

/** Switches tfjs to `name` (wasm by default: SIMD, single-threaded in Node). */
export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}

/** Deterministic pseudo-random matrix entries in [-scale, scale] (no tf randomness). */
export function fixedValues(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 * scale - scale;
  }
  return out;
}

export interface LinearFixture {
  model: tf.LayersModel;
  classifier: Classifier;
  /** Kernel [D, K], row-major (input i, class k at i*K + k). */
  W: Float32Array;
  /** Bias [K]. */
  c: Float32Array;
  D: number;
  K: number;
}

/**
 * A linear softmax classifier z = x·W + c on inputs of `inputShape`, as a real tfjs
 * LayersModel (Flatten → Dense(softmax)), so the adapter's softmax stripping is exercised.
 */
export function linearModel(
  inputShape: number[],
  K: number,
  seed = 7,
  valueRange: readonly [number, number] = [0, 1],
  activation: 'softmax' | 'linear' = 'softmax',
): LinearFixture {
  const D = inputShape.reduce((a, b) => a * b, 1);
  const W = fixedValues(D * K, seed, 1);
  const c = fixedValues(K, seed + 1, 0.5);
  const dense = tf.layers.dense({ units: K, activation, ...(inputShape.length === 1 ? { inputShape } : {}) });
  const model = tf.sequential({ layers: inputShape.length === 1 ? [dense] : [tf.layers.flatten({ inputShape }), dense] });
  tf.tidy(() => dense.setWeights([tf.tensor2d(W, [D, K]), tf.tensor1d(c)]));
  const classifier = createClassifier(model, { valueRange });
  return { model, classifier, W, c, D, K };
}

/** Logits of the linear fixture at one input, in float64. */
export function linearLogits(f: LinearFixture, x: ArrayLike<number>): number[] {
  const z = Array.from(f.c, Number);
  for (let i = 0; i < f.D; i++) for (let k = 0; k < f.K; k++) z[k] += x[i] * f.W[i * f.K + k];
  return z;
}

/**
 * A small CNN (conv 3×3×4 stride 2 → ReLU → conv 3×3×8 stride 2 → ReLU → dense 10, softmax)
 * on 12×12×1 inputs with seeded weights; big enough to have nonlinear surfaces, small enough
 * for fast tests.
 */
export function smallCnn(seed = 3): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: 'zeros' }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

/** Multiplies the last layer's kernel and bias by `k` (a pure logit rescaling). */
export function scaleLastLayer(model: tf.LayersModel, k: number): void {
  const last = model.layers[model.layers.length - 1];
  const scaled = last.getWeights().map((w) => tf.mul(w, k));
  last.setWeights(scaled);
  tf.dispose(scaled);
}

/** Input values in [lo, hi], deterministic. */
export function fixedInputs(n: number, size: number, seed: number, lo = 0, hi = 1): Float32Array {
  return fixedValues(n * size, seed, 0.5).map((v) => lo + (v + 0.5) * (hi - lo));
}

/** max |a − b| over the elements, and max |b| (the reference's scale, for a relative tolerance). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; ref: number } {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: ${a.length} against ${b.length} values`);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return { diff, ref };
}
