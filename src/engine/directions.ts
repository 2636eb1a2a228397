/**
 * The two directions that span a surface plot (PAPER.md §1).
 *
 * d1, the adversarial direction: sign(∇x CE(f(x), y)) so that the coefficient a is an
 * L∞ perturbation size directly; option 'gradient' scales the raw gradient to the L2 norm of
 * that sign vector. d2, the random direction: Rademacher (±1) from the seeded generator, or
 * Gaussian scaled to the L2 norm of a Rademacher vector (√D); optionally Gram–Schmidt
 * orthogonalised against d1 and rescaled to keep its norm. Directions are plain Float32Arrays
 * (shape of one input, row-major), so they cross a worker boundary and go into files as is.
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from './classifier';
import { EngineError } from './errors';
import { crossEntropy, logitMargin } from './ops';
import { createRng, gaussian, rademacher } from './rng';

export type AdversarialKind = 'sign' | 'gradient';
export type RandomKind = 'rademacher' | 'gaussian';

export interface DirectionSettings {
  /** How d1 is made from the input gradient. */
  adversarial: AdversarialKind;
  /** Distribution of d2. */
  random: RandomKind;
  /** Seed of d2's generator (integer). */
  seed: number;
  /** Gram–Schmidt d2 against d1 (then rescale d2 back to its own norm). */
  orthogonal: boolean;
}

export const DEFAULT_DIRECTION_SETTINGS: DirectionSettings = {
  adversarial: 'sign',
  random: 'rademacher',
  seed: 0,
  orthogonal: false,
};

/** Where d1's gradient came from. */
export type GradientSource =
  | 'cross-entropy' // ∇x CE, as PAPER.md defines
  | 'margin' // CE's gradient underflowed to exactly 0 (a saturated softmax); ∇x of -margin used instead
  | 'supplied'; // given by the user

export interface Directions {
  /** Adversarial direction, inputSize values. */
  d1: Float32Array;
  /** Random direction, inputSize values. */
  d2: Float32Array;
  /** How d1 was obtained. */
  d1Source: GradientSource;
  /** Whether d2 was supplied by the user. */
  d2Supplied: boolean;
}

function checkLength(name: string, v: ArrayLike<number>, size: number): void {
  if (v.length !== size) {
    throw new EngineError('input-shape', `${name} has ${v.length} values but the model's input has ${size}.`);
  }
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new EngineError('input-shape', `${name} contains NaN or Infinity at index ${i}.`);
  }
}

/**
 * ∇x of a per-sample objective at one input. `x`: inputSize values (caller owns). Returns a
 * new Float32Array. No tensors outlive the call.
 */
async function gradientAt(
  classifier: Classifier,
  x: Float32Array,
  label: number,
  objective: 'ce' | 'neg-margin',
): Promise<Float32Array> {
  const g = tf.tidy(() => {
    const xt = tf.tensor(x, [1, ...classifier.inputShape]);
    const y = tf.tensor1d([label], 'int32');
    return tf.grad((xi: tf.Tensor) => {
      const z = classifier.logits(xi);
      return objective === 'ce' ? tf.sum(crossEntropy(z, y)) : tf.neg(tf.sum(logitMargin(z, y)));
    })(xt);
  });
  try {
    return (await g.data()) as Float32Array;
  } finally {
    g.dispose();
  }
}

/**
 * The input gradient of the cross-entropy at (x, y), falling back to the gradient of the
 * negative margin when the softmax is so saturated that CE's gradient is exactly zero in
 * float32 (both point to where the decision moves towards another class).
 */
export async function adversarialGradient(
  classifier: Classifier,
  x: Float32Array,
  label: number,
): Promise<{ gradient: Float32Array; source: GradientSource }> {
  checkLength('The input', x, classifier.inputSize);
  checkLabel(classifier, label);
  const ce = await gradientAt(classifier, x, label, 'ce');
  if (ce.some((v) => v !== 0)) return { gradient: ce, source: 'cross-entropy' };
  return { gradient: await gradientAt(classifier, x, label, 'neg-margin'), source: 'margin' };
}

export function checkLabel(classifier: Classifier, label: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= classifier.numClasses) {
    throw new EngineError('bad-setting', `Label ${label} is outside the model's classes 0–${classifier.numClasses - 1}.`);
  }
}

/** sign(g) with sign(0) = 0, as FGSM uses it. */
export function signOf(g: Float32Array): Float32Array {
  return g.map((v) => Math.sign(v));
}

/** Euclidean norm, accumulated in float64. */
export function l2Norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Dot product in float64. */
export function dot(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
}

/** `v` rescaled to L2 norm `target` (a zero vector stays zero). */
export function scaleToNorm(v: Float32Array, target: number): Float32Array {
  const n = l2Norm(v);
  if (n === 0) return new Float32Array(v.length);
  const k = target / n;
  return v.map((x) => x * k);
}

/**
 * The random direction d2: Rademacher, or Gaussian scaled to √size (the norm of a Rademacher
 * vector of the same size), from stream 0 of `seed`. Identical on every backend and thread.
 */
export function randomDirection(size: number, seed: number, kind: RandomKind): Float32Array {
  const rng = createRng(seed, 0);
  if (kind === 'rademacher') return rademacher(rng, size);
  return scaleToNorm(gaussian(rng, size), Math.sqrt(size));
}

/**
 * Gram–Schmidt: d2 minus its projection on d1, rescaled to d2's original norm so that b keeps
 * the same scale. If d1 is zero, d2 is returned unchanged.
 */
export function orthogonalize(d2: Float32Array, d1: Float32Array): Float32Array {
  const d1d1 = dot(d1, d1);
  if (d1d1 === 0) return d2.slice();
  const k = dot(d2, d1) / d1d1;
  const out = new Float32Array(d2.length);
  for (let i = 0; i < d2.length; i++) out[i] = d2[i] - k * d1[i];
  return scaleToNorm(out, l2Norm(d2));
}

/**
 * Both directions for one sample. `supplied.d1` / `supplied.d2` replace the computed ones
 * (e.g. another model's gradient for a transfer view, or directions read from a recipe).
 * `x`: inputSize values in the model's input units.
 */
export async function computeDirections(
  classifier: Classifier,
  x: Float32Array,
  label: number,
  settings: DirectionSettings,
  supplied: { d1?: Float32Array; d2?: Float32Array } = {},
): Promise<Directions> {
  const size = classifier.inputSize;
  checkLength('The input', x, size);
  checkLabel(classifier, label);
  if (!Number.isInteger(settings.seed)) throw new EngineError('bad-setting', `The seed must be an integer; got ${settings.seed}.`);
  let d1: Float32Array;
  let d1Source: GradientSource;
  if (supplied.d1) {
    checkLength('The supplied direction d1', supplied.d1, size);
    d1 = Float32Array.from(supplied.d1);
    d1Source = 'supplied';
  } else {
    const { gradient, source } = await adversarialGradient(classifier, x, label);
    const sign = signOf(gradient);
    d1 = settings.adversarial === 'sign' ? sign : scaleToNorm(gradient, l2Norm(sign));
    d1Source = source;
  }
  let d2: Float32Array;
  if (supplied.d2) {
    checkLength('The supplied direction d2', supplied.d2, size);
    d2 = Float32Array.from(supplied.d2);
  } else {
    d2 = randomDirection(size, settings.seed, settings.random);
  }
  if (settings.orthogonal) d2 = orthogonalize(d2, d1);
  return { d1, d2, d1Source, d2Supplied: Boolean(supplied.d2) };
}
