/**
 * Projected gradient ascent in an L∞ or L2 ball intersected with the valid input range: the
 * shared core of the robustness metric (ascent on KL) and of the PGD attack (ascent on CE).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from './classifier';
import { LINF_STEP, withWeightCache } from './convGrad';
import { checkSetting, EngineError, throwIfAborted } from './errors';
import { kernelOrOps, l2PerSample, linfStepOps, perSample } from './ops';
import { createRng, gaussian, uniform } from './rng';
import { betweenChunks, type JobOptions } from './schedule';

export type Norm = 'linf' | 'l2';

export interface PgdSettings {
  norm: Norm;
  /** Radius of the ball, in input units. */
  eps: number;
  /** Gradient steps per restart (0 = evaluate the start point only). */
  steps: number;
  /** Step size α in input units (L∞: per coordinate; L2: length of the step). */
  stepSize: number;
  /** Start from a uniformly random point of the ball (true) or from x itself. */
  randomStart: boolean;
}

/** Default α of PAPER.md: 2.5 ε / steps (so a run can cross the ball 2.5 times). */
export function defaultStepSize(eps: number, steps: number): number {
  return steps > 0 ? (2.5 * eps) / steps : 0;
}

/** Upper bound of PGD steps (a setting beyond this would only waste time). */
export const MAX_STEPS = 1000;

/** Upper bound of random restarts (the best of 100 starts is already a thorough search). */
export const MAX_RESTARTS = 100;

export function checkPgdSettings(s: PgdSettings, epsMax: number): void {
  if (s.norm !== 'linf' && s.norm !== 'l2') throw new EngineError('bad-setting', `Unknown norm '${String(s.norm)}'; use 'linf' or 'l2'.`);
  checkSetting('ε', s.eps, 0, epsMax);
  checkSetting('The number of steps', s.steps, 0, MAX_STEPS, true);
  checkSetting('The step size', s.stepSize, 0, epsMax * 10 + 1);
}

/**
 * A random start for each sample of a chunk, drawn from its own seeded stream so the result
 * does not depend on how samples are chunked. Returns n × size values.
 * L∞: uniform in [-ε, ε]^D. L2: uniform in the ε ball (Gaussian direction, radius ε·U^(1/D)).
 */
export function randomStarts(
  seed: number,
  purpose: string,
  firstIndex: number,
  n: number,
  size: number,
  norm: Norm,
  eps: number,
): Float32Array {
  const out = new Float32Array(n * size);
  for (let k = 0; k < n; k++) {
    const rng = createRng(seed, `${purpose}/${firstIndex + k}`);
    if (norm === 'linf') {
      out.set(uniform(rng, size, -eps, eps), k * size);
    } else {
      const g = gaussian(rng, size);
      let s = 0;
      for (let i = 0; i < size; i++) s += g[i] * g[i];
      const r = (eps * Math.pow(rng.next(), 1 / size)) / (Math.sqrt(s) || 1);
      for (let i = 0; i < size; i++) out[k * size + i] = g[i] * r;
    }
  }
  return out;
}

/** Projects x + δ back onto the ball around x and the valid range. Tensors owned by caller. */
export function project(x: tf.Tensor, xAdv: tf.Tensor, norm: Norm, eps: number, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    let delta = tf.sub(xAdv, x);
    if (norm === 'linf') {
      delta = tf.clipByValue(delta, -eps, eps);
    } else {
      const n = l2PerSample(delta);
      const k = tf.minimum(1, tf.div(eps, tf.maximum(n, 1e-12))) as tf.Tensor1D;
      delta = tf.mul(delta, perSample(k, delta.shape.length));
    }
    return tf.clipByValue(tf.add(x, delta), lo, hi);
  });
}

/** One L2 ascent step from xAdv along gradient g: a step of length α along g's direction (L∞: {@link linfStep}). */
function ascendL2(xAdv: tf.Tensor, g: tf.Tensor, alpha: number): tf.Tensor {
  return tf.tidy(() => {
    const n = l2PerSample(g);
    const unit = tf.div(g, perSample(tf.maximum(n, 1e-12) as tf.Tensor1D, g.shape.length));
    return tf.add(xAdv, tf.mul(alpha, unit));
  });
}

/**
 * The next L∞ iterate, clip(x + clip(xAdv + α · sign(g) − x, −ε, ε), lo, hi): on wasm in one pass
 * of Ravine's kernel (registered by registerFastConvGradients), elsewhere as tfjs ops; the same
 * values either way. Tensors owned by the caller.
 */
export function linfStep(x: tf.Tensor, xAdv: tf.Tensor, g: tf.Tensor, alpha: number, eps: number, lo: number, hi: number): tf.Tensor {
  return kernelOrOps(LINF_STEP, { x, xAdv, g }, { alpha, eps, lo, hi }, () => linfStepOps(x, xAdv, g, alpha, eps, lo, hi));
}

/**
 * What PGD ascends: per-sample values [N] of a batch [N, ...], differentiable with respect to the
 * batch; and, where the classifier has its tape-free input gradient (Classifier.inputGradient),
 * `valueAndGrad`, which gives the same value and gradient without tfjs's tape. Tensors in and
 * out as for a tfjs function: inputs the caller's, outputs new.
 */
export interface PgdObjective {
  (xb: tf.Tensor): tf.Tensor1D;
  valueAndGrad?: (xb: tf.Tensor) => { value: tf.Tensor1D; grad: tf.Tensor };
}

/**
 * An objective of the classifier's logits as a PGD objective: `value(z, xb)` is differentiable in
 * the logits z of the batch xb; `withGrad(z, xb)` gives the same values with their gradient with
 * respect to z (of their sum), for the tape-free path where the classifier has it.
 */
export function logitObjective(
  classifier: Classifier,
  value: (z: tf.Tensor2D, xb: tf.Tensor) => tf.Tensor1D,
  withGrad: (z: tf.Tensor2D, xb: tf.Tensor) => { value: tf.Tensor1D; grad: tf.Tensor2D },
): PgdObjective {
  const objective: PgdObjective = (xb) => value(classifier.logits(xb), xb);
  const inputGradient = classifier.inputGradient;
  if (inputGradient) objective.valueAndGrad = (xb) => inputGradient(xb, (z) => withGrad(z, xb));
  return objective;
}

/**
 * Runs PGD from `start` (already projected) and calls `visit` with every iterate, the final
 * one included, and the objective's value there. `objective` maps a batch [N, ...] to [N]
 * and must be differentiable (its own `valueAndGrad`, where it has one, takes the gradients).
 * Tensors: `x` and `start` are owned by the caller; iterates passed to `visit` are disposed
 * after the call returns (keep what you need via tf.keep or by computing a new tensor). Awaits
 * `options.pause` (or yields) between steps and checks `options.signal`.
 */
export async function runPgd(
  x: tf.Tensor,
  start: tf.Tensor,
  objective: PgdObjective,
  settings: PgdSettings,
  range: readonly [number, number],
  visit: (xAdv: tf.Tensor, value: tf.Tensor1D) => void,
  options: Pick<JobOptions, 'signal' | 'pause'> = {},
): Promise<void> {
  const signal = options.signal;
  const valueAndGrad = objective.valueAndGrad ?? tf.valueAndGrad(objective);
  // Every step differentiates through the same weights: keep what the gradients derive from them.
  await withWeightCache(async () => {
    let xAdv = tf.clone(start);
    try {
      for (let step = 0; step < settings.steps; step++) {
        throwIfAborted(signal);
        const next = tf.tidy(() => {
          const { value, grad } = valueAndGrad(xAdv);
          visit(xAdv, value as tf.Tensor1D);
          if (settings.norm === 'linf') return linfStep(x, xAdv, grad, settings.stepSize, settings.eps, range[0], range[1]);
          return project(x, ascendL2(xAdv, grad, settings.stepSize), 'l2', settings.eps, range[0], range[1]);
        });
        xAdv.dispose();
        xAdv = next;
        await betweenChunks(options);
      }
      throwIfAborted(signal);
      tf.tidy(() => visit(xAdv, objective(xAdv)));
    } finally {
      xAdv.dispose();
    }
  });
}
