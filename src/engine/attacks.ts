/**
 * The conventional baseline of PAPER.md §3: accuracy under FGSM and PGD attacks (L∞ or L2)
 * over a list of ε. A sample counts as robust at ε only if it is classified correctly when
 * clean and at every point the attack visits (PGD: every iterate of every restart), so an
 * adversarial example found mid-way is never forgotten.
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from './classifier';
import { checkSetting, EngineError, throwIfAborted } from './errors';
import { crossEntropy, crossEntropyWithGrad, exactSign, l2PerSample, perSample } from './ops';
import { checkPgdSettings, defaultStepSize, logitObjective, MAX_RESTARTS, type Norm, project, randomStarts, runPgd } from './pgd';
import { chunkSizeFor, type JobOptions, betweenChunks } from './schedule';

export type AttackMethod = 'fgsm' | 'pgd';

export interface AttackSettings {
  method: AttackMethod;
  norm: Norm;
  /** Radii to attack at, input units. */
  eps: number[];
  /** PGD steps per restart (ignored by FGSM). */
  steps: number;
  /** PGD step size as a multiple of ε/steps; default 2.5 (PAPER.md's α = 2.5 ε / steps). */
  stepFactor?: number;
  /** PGD random restarts (ignored by FGSM). */
  restarts: number;
  /** Seed of PGD's random starts. */
  seed: number;
}

export interface AttackResult {
  eps: number[];
  /** Fraction of samples still classified correctly, per ε. */
  accuracy: number[];
  /** Count of samples still classified correctly, per ε. */
  correct: number[];
  /** Fraction classified correctly without attack. */
  cleanAccuracy: number;
  /** Samples evaluated. */
  n: number;
  seconds: number;
}

export const MAX_EPS_VALUES = 64;

function checkLabels(classifier: Classifier, labels: ArrayLike<number>, n: number): void {
  if (labels.length !== n) throw new EngineError('input-shape', `There are ${n} samples but ${labels.length} labels.`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classifier.numClasses) {
      throw new EngineError('bad-setting', `Label ${y} of sample ${i} is outside the model's classes 0–${classifier.numClasses - 1}.`);
    }
  }
}

/** 1 where the batch is classified as `y`, else 0; [N] int32. */
function correctMask(classifier: Classifier, xb: tf.Tensor, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.equal(tf.argMax(classifier.logits(xb), 1), y), 'int32') as tf.Tensor1D);
}

/**
 * FGSM / PGD accuracy of `classifier` on samples `x` (n × inputSize, input units) with
 * `labels`. Chunked over samples; progress counts (sample, ε) pairs. No tensors survive the
 * call in any outcome.
 */
export async function adversarialAccuracy(
  classifier: Classifier,
  x: Float32Array,
  labels: ArrayLike<number>,
  settings: AttackSettings,
  options: JobOptions = {},
): Promise<AttackResult> {
  const size = classifier.inputSize;
  if (x.length === 0 || x.length % size !== 0) {
    throw new EngineError('input-shape', `The samples hold ${x.length} values, not a whole number of inputs of ${size} values.`);
  }
  const n = x.length / size;
  checkLabels(classifier, labels, n);
  if (settings.method !== 'fgsm' && settings.method !== 'pgd') {
    throw new EngineError('bad-setting', `Unknown attack '${String(settings.method)}'; use 'fgsm' or 'pgd'.`);
  }
  checkSetting('The number of ε values', settings.eps.length, 1, MAX_EPS_VALUES, true);
  const width = classifier.valueRange[1] - classifier.valueRange[0];
  const epsMax = settings.norm === 'linf' ? width : width * 1e3;
  const stepFactor = settings.stepFactor ?? 2.5;
  checkSetting('The step-size factor', stepFactor, 0, 100);
  for (const eps of settings.eps) {
    checkPgdSettings({ norm: settings.norm, eps, steps: settings.steps, stepSize: defaultStepSize(eps, settings.steps), randomStart: true }, epsMax);
  }
  checkSetting('The number of restarts', settings.restarts, 1, MAX_RESTARTS, true);
  const t0 = performance.now();
  const range = classifier.valueRange;
  const correct = new Array<number>(settings.eps.length).fill(0);
  let cleanCorrect = 0;
  const chunk = chunkSizeFor(classifier, true, options.chunkSize);
  const total = n * settings.eps.length;
  let done = 0;
  for (let first = 0; first < n; first += chunk) {
    throwIfAborted(options.signal);
    const m = Math.min(chunk, n - first);
    const shape = [m, ...classifier.inputShape];
    const labelChunk = Int32Array.from({ length: m }, (_, k) => labels[first + k]);
    const xb = tf.tensor(x.subarray(first * size, (first + m) * size), shape);
    const y = tf.tensor1d(labelChunk, 'int32');
    const objective = (xa: tf.Tensor): tf.Tensor1D => crossEntropy(classifier.logits(xa), y);
    // PGD asks "still correct?" at every iterate, and runPgd evaluates the objective at that
    // very iterate just before visiting it. Reading the answer off the same logits saves a
    // forward pass per step (a third of a PGD attack). `seen` holds the mask and the iterate
    // it belongs to; a visit to any other tensor falls back to a forward pass of its own.
    let seen: { at: tf.Tensor; correct: tf.Tensor1D } | null = null;
    const forget = () => {
      seen?.correct.dispose();
      seen = null;
    };
    const remember = (xa: tf.Tensor, z: tf.Tensor2D) => {
      forget();
      seen = { at: xa, correct: tf.keep(tf.cast(tf.equal(tf.argMax(z, 1), y), 'int32') as tf.Tensor1D) };
    };
    const pgdObjective = logitObjective(
      classifier,
      (z, xa) => {
        remember(xa, z);
        return crossEntropy(z, y);
      },
      (z, xa) => {
        remember(xa, z);
        return crossEntropyWithGrad(z, y);
      },
    );
    const correctAt = (xa: tf.Tensor): tf.Tensor1D => {
      if (seen && seen.at === xa) {
        const c = seen.correct;
        seen = null;
        return c;
      }
      return correctMask(classifier, xa, y);
    };
    try {
      const clean = correctMask(classifier, xb, y);
      const cleanValues = await clean.data();
      clean.dispose();
      for (let k = 0; k < m; k++) cleanCorrect += cleanValues[k];
      for (let e = 0; e < settings.eps.length; e++) {
        const eps = settings.eps[e];
        let robust = tf.tensor1d(Int32Array.from(cleanValues), 'int32');
        try {
          if (settings.method === 'fgsm') {
            const adv = tf.tidy(() => {
              const g = tf.grad((xi: tf.Tensor) => tf.sum(objective(xi)))(xb);
              const step =
                settings.norm === 'linf'
                  ? tf.mul(eps, exactSign(g))
                  : tf.mul(eps, tf.div(g, perSample(tf.maximum(l2PerSample(g), 1e-12) as tf.Tensor1D, g.shape.length)));
              return tf.clipByValue(tf.add(xb, step), range[0], range[1]);
            });
            const next = tf.tidy(() => tf.mul(robust, correctMask(classifier, adv, y)) as tf.Tensor1D);
            adv.dispose();
            robust.dispose();
            robust = next;
          } else {
            const pgd = {
              norm: settings.norm,
              eps,
              steps: settings.steps,
              stepSize: (stepFactor * eps) / Math.max(1, settings.steps),
              randomStart: true,
            };
            for (let r = 0; r < settings.restarts; r++) {
              // Keyed by the ε itself, not its place in the list: `--eps 0.3` and
              // `--eps 0.1,0.2,0.3` attack from the same starts at 0.3.
              const noise = randomStarts(settings.seed, `attack/${eps}/${r}`, first, m, size, settings.norm, eps);
              const start = tf.tidy(() => project(xb, tf.add(xb, tf.tensor(noise, shape)), settings.norm, eps, range[0], range[1]));
              try {
                await runPgd(
                  xb,
                  start,
                  pgdObjective,
                  pgd,
                  range,
                  (xa) => {
                    const correct = correctAt(xa);
                    const next = tf.keep(tf.mul(robust, correct)) as tf.Tensor1D;
                    correct.dispose();
                    robust.dispose();
                    robust = next;
                  },
                  options,
                );
              } finally {
                forget();
                start.dispose();
              }
            }
          }
          const values = await robust.data();
          for (let k = 0; k < m; k++) correct[e] += values[k];
        } finally {
          robust.dispose();
        }
        done += m;
        options.onProgress?.({ done, total });
        await betweenChunks(options);
      }
    } finally {
      tf.dispose([xb, y]);
    }
  }
  return {
    eps: [...settings.eps],
    accuracy: correct.map((c) => c / n),
    correct,
    cleanAccuracy: cleanCorrect / n,
    n,
    seconds: (performance.now() - t0) / 1000,
  };
}
