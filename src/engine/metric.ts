/**
 * The robustness metric of PAPER.md §2: the upper bound of the prediction divergence
 *
 *   psi(x) = max_{||δ||_p <= ε, x+δ valid} KL( p(x) || p(x+δ) ),   p = softmax(z / s(x)),
 *   R      = mean psi over the samples (lower = more robust),
 *
 * with s(x) = std of the clean logits (population std over the K classes), held fixed while δ
 * moves, so that rescaling the logits leaves R unchanged. The max is approximated by PGD on
 * the KL with a random start and restarts; the best value seen at any iterate is kept.
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from './classifier';
import { checkSetting, EngineError, throwIfAborted } from './errors';
import { KlToTarget } from './ops';
import { checkPgdSettings, defaultStepSize, logitObjective, MAX_RESTARTS, type Norm, project, randomStarts, runPgd } from './pgd';
import { chunkSizeFor, type JobOptions, betweenChunks } from './schedule';
import { type Summary, summarize } from './stats';

export interface MetricSettings {
  /** Radius of the perturbation ball in input units (MNIST 0.3, Fashion-MNIST 0.1 on [0, 1]). */
  eps: number;
  norm: Norm;
  /** PGD steps per restart. */
  steps: number;
  /** Step size α; default 2.5 ε / steps. */
  stepSize?: number;
  /** Independent random starts; the largest KL over all of them is kept. */
  restarts: number;
  /** Divide logits by their clean spread s(x) (on by default); off means s = 1. */
  normalize: boolean;
  /** Seed of the random starts. */
  seed: number;
}

export const DEFAULT_METRIC_SETTINGS: Omit<MetricSettings, 'eps'> = {
  norm: 'linf',
  steps: 20,
  restarts: 1,
  normalize: true,
  seed: 0,
};

/** The aggregate R with its spread. */
export interface MetricSummary extends Summary {
  /** R: mean of psi over the samples processed. */
  R: number;
}

export interface MetricResult extends MetricSummary {
  /** psi per sample, in input order. */
  psi: Float32Array;
  /** The settings used, step size resolved. */
  settings: Required<MetricSettings>;
  /** Wall seconds. */
  seconds: number;
}

export interface MetricOptions extends JobOptions {
  /** Called after every chunk with the psi values so far and the running estimate of R. */
  onPartial?: (psi: Float32Array, summary: MetricSummary) => void;
}

/** Floor of s(x): a model whose clean logits are all equal has no scale to normalise by. */
const MIN_LOGIT_SCALE = 1e-6;


export function resolveMetricSettings(s: MetricSettings, valueRange: readonly [number, number]): Required<MetricSettings> {
  const stepSize = s.stepSize ?? defaultStepSize(s.eps, s.steps);
  const width = valueRange[1] - valueRange[0];
  const epsMax = s.norm === 'linf' ? width : width * 1e3;
  checkPgdSettings({ norm: s.norm, eps: s.eps, steps: s.steps, stepSize, randomStart: true }, epsMax);
  checkSetting('The number of restarts', s.restarts, 1, MAX_RESTARTS, true);
  if (!Number.isInteger(s.seed)) throw new EngineError('bad-setting', `The seed must be an integer; got ${s.seed}.`);
  return { eps: s.eps, norm: s.norm, steps: s.steps, stepSize, restarts: s.restarts, normalize: s.normalize, seed: s.seed };
}

/**
 * psi for every sample of `x` (n × inputSize values, the model's input units) and R.
 * Batches samples under the chunk budget, yields between PGD steps, reports progress and
 * partial estimates per chunk, and rejects with an AbortError when `signal` fires. No
 * tensors survive the call in any outcome.
 */
export async function computeMetric(
  classifier: Classifier,
  x: Float32Array,
  settings: MetricSettings,
  options: MetricOptions = {},
): Promise<MetricResult> {
  const size = classifier.inputSize;
  if (x.length === 0 || x.length % size !== 0) {
    throw new EngineError('input-shape', `The samples hold ${x.length} values, not a whole number of inputs of ${size} values.`);
  }
  const s = resolveMetricSettings(settings, classifier.valueRange);
  const t0 = performance.now();
  const n = x.length / size;
  const psi = new Float32Array(n);
  const chunk = chunkSizeFor(classifier, true, options.chunkSize);
  const range = classifier.valueRange;
  for (let first = 0; first < n; first += chunk) {
    throwIfAborted(options.signal);
    const m = Math.min(chunk, n - first);
    const shape = [m, ...classifier.inputShape];
    let xb: tf.Tensor | undefined;
    let kl: KlToTarget | undefined;
    let best: tf.Tensor1D | undefined;
    try {
      xb = tf.tensor(x.subarray(first * size, (first + m) * size), shape);
      const clean = xb;
      // s(x) [m, 1] (or 1) and the clean scaled logits z0 / s: constants of the ascent.
      const [zpScaled, scale] = tf.tidy(() => {
        const z0 = classifier.logits(clean);
        if (!s.normalize) return [z0, tf.ones([m, 1])];
        const centred = tf.sub(z0, tf.mean(z0, 1, true));
        const sd = tf.maximum(tf.sqrt(tf.mean(tf.square(centred), 1, true)), MIN_LOGIT_SCALE);
        return [tf.div(z0, sd), sd];
      });
      try {
        kl = new KlToTarget(zpScaled as tf.Tensor2D, scale);
      } finally {
        tf.dispose([zpScaled, scale]);
      }
      const target = kl;
      const objective = logitObjective(
        classifier,
        (z) => target.at(z),
        (z) => target.withGrad(z),
      );
      best = tf.fill([m], -Infinity) as tf.Tensor1D;
      for (let r = 0; r < s.restarts; r++) {
        const noise = randomStarts(s.seed, `metric/${r}`, first, m, size, s.norm, s.eps);
        const start = tf.tidy(() => project(clean, tf.add(clean, tf.tensor(noise, shape)), s.norm, s.eps, range[0], range[1]));
        try {
          await runPgd(
            clean,
            start,
            objective,
            { norm: s.norm, eps: s.eps, steps: s.steps, stepSize: s.stepSize, randomStart: true },
            range,
            (_xa, value) => {
              const next = tf.keep(tf.maximum(best as tf.Tensor1D, value)) as tf.Tensor1D;
              best?.dispose();
              best = next;
            },
            options,
          );
        } finally {
          start.dispose();
        }
      }
      // KL is >= 0 in exact arithmetic; float rounding can give -1e-9 at δ = 0.
      const values = (await best.data()) as Float32Array;
      for (let k = 0; k < m; k++) psi[first + k] = Math.max(0, values[k]);
    } finally {
      kl?.dispose();
      tf.dispose([xb, best].filter((t): t is tf.Tensor => t !== undefined));
    }
    const done = first + m;
    options.onProgress?.({ done, total: n });
    if (options.onPartial) {
      const sofar = psi.slice(0, done);
      const sum = summarize(sofar);
      options.onPartial(sofar, { ...sum, R: sum.mean });
    }
    await betweenChunks(options);
  }
  const summary = summarize(psi);
  return { ...summary, R: summary.mean, psi, settings: s, seconds: (performance.now() - t0) / 1000 };
}
