/**
 * Natural and adversarial training on tfjs (wasm in Node), shared by scripts/train.ts and
 * its test. Adversarial examples are made with the engine's own projection and loss, so the
 * models are trained against exactly the attack the lab later measures.
 */
import * as tf from '@tensorflow/tfjs';
import { createClassifier, type Classifier } from '../../src/engine/classifier';
import { crossEntropy, exactSign } from '../../src/engine/ops';
import { project } from '../../src/engine/pgd';
import { createRng } from '../../src/engine/rng';
import { buildArchitecture, type Architecture } from './architectures';

export type TrainingMethod = 'natural' | 'pgd' | 'fgsm-rs';

export interface TrainSpec {
  arch: Architecture;
  method: TrainingMethod;
  /** Training ε (L∞, input units on [0, 1]); 0 for natural training. */
  eps: number;
  /** PGD steps per batch (pgd only). */
  steps: number;
  /** Step size as a multiple of ε/steps for PGD (2.5 as in PAPER.md); FGSM-RS uses 1.25 ε. */
  stepFactor: number;
  epochs: number;
  /** Epochs over which ε rises linearly from 0 to its final value (a curriculum; 0 = none). */
  rampEpochs: number;
  batchSize: number;
  learningRate: number;
  /** Learning rate is multiplied by 0.1 for the last `decayEpochs` epochs. */
  decayEpochs: number;
  seed: number;
  /** Train on at most this many samples (the first of a seeded shuffle); 0 = all. */
  maxSamples: number;
}

export interface TrainData {
  /** n × size values in [0, 1]. */
  x: Float32Array;
  y: Int32Array;
  inputShape: number[];
  numClasses: number;
}

export interface EpochLog {
  epoch: number;
  eps: number;
  loss: number;
  /** Accuracy on the (adversarial, for adversarial training) training batches. */
  accuracy: number;
  seconds: number;
}

/** Adversarial examples for a training batch. `x` [B, ...], `y` [B]: caller owns; returns a new tensor. */
export function adversarialBatch(classifier: Classifier, x: tf.Tensor, y: tf.Tensor1D, method: TrainingMethod, eps: number, steps: number, stepFactor: number, seed: number): tf.Tensor {
  return tf.tidy(() => {
    if (method === 'natural' || eps <= 0) return tf.clone(x);
    const lossOf = (xa: tf.Tensor) => tf.sum(crossEntropy(classifier.logits(xa), y));
    const gradOf = tf.grad(lossOf);
    let xa = project(x, tf.add(x, tf.randomUniform(x.shape, -eps, eps, 'float32', seed)), 'linf', eps, 0, 1);
    const count = method === 'fgsm-rs' ? 1 : steps;
    const alpha = method === 'fgsm-rs' ? 1.25 * eps : (stepFactor * eps) / steps;
    for (let k = 0; k < count; k++) {
      const g = gradOf(xa);
      xa = project(x, tf.add(xa, tf.mul(alpha, exactSign(g))), 'linf', eps, 0, 1);
    }
    return xa;
  });
}

/**
 * Trains a fresh model of `spec.arch`. Returns the model (caller owns) and a log per epoch.
 * Deterministic for a given seed on a given backend.
 */
export async function trainModel(spec: TrainSpec, data: TrainData, log: (line: string) => void = () => {}): Promise<{ model: tf.LayersModel; history: EpochLog[]; seconds: number }> {
  const size = data.inputShape.reduce((a, b) => a * b, 1);
  const total = data.y.length;
  const rng = createRng(spec.seed, 'train-order');
  const order = Array.from({ length: total }, (_, i) => i);
  const shuffle = () => {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  };
  shuffle();
  const n = spec.maxSamples > 0 ? Math.min(spec.maxSamples, total) : total;
  const pool = order.slice(0, n);
  const model = buildArchitecture(spec.arch, data.inputShape, data.numClasses, spec.seed);
  // Training differentiates with respect to the weights as well.
  const classifier = createClassifier(model, { weightGradients: true });
  const optimizer = tf.train.adam(spec.learningRate);
  const history: EpochLog[] = [];
  const batches = Math.ceil(n / spec.batchSize);
  const t0 = performance.now();
  const xBuf = new Float32Array(spec.batchSize * size);
  const yBuf = new Int32Array(spec.batchSize);
  try {
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const te = performance.now();
      if (epoch === spec.epochs - spec.decayEpochs) (optimizer as unknown as { learningRate: number }).learningRate = spec.learningRate * 0.1;
      for (let i = pool.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }
      let lossSum = 0;
      let correct = 0;
      let epsNow = spec.eps;
      for (let b = 0; b < batches; b++) {
        const first = b * spec.batchSize;
        const m = Math.min(spec.batchSize, n - first);
        for (let k = 0; k < m; k++) {
          const idx = pool[first + k];
          xBuf.set(data.x.subarray(idx * size, (idx + 1) * size), k * size);
          yBuf[k] = data.y[idx];
        }
        const progress = (epoch + b / batches) / Math.max(spec.rampEpochs, 1e-9);
        epsNow = spec.rampEpochs > 0 ? spec.eps * Math.min(1, progress) : spec.eps;
        const xb = tf.tensor(xBuf.subarray(0, m * size), [m, ...data.inputShape]);
        const yb = tf.tensor1d(yBuf.subarray(0, m), 'int32');
        const xa = adversarialBatch(classifier, xb, yb, spec.method, epsNow, spec.steps, spec.stepFactor, spec.seed * 100003 + epoch * 1009 + b);
        let logits: tf.Tensor2D | undefined;
        const stats = tf.tidy(() => {
          const loss = optimizer.minimize(() => {
            // minimize() runs this in its own scope; keep the logits for the accuracy below.
            logits = tf.keep(classifier.logits(xa));
            return tf.mean(crossEntropy(logits, yb)) as tf.Scalar;
          }, true) as tf.Scalar;
          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits as tf.Tensor2D, 1), yb), 'int32'));
          return tf.stack([tf.mul(loss, m), tf.cast(hits, 'float32')]);
        });
        logits?.dispose();
        const [l, c] = await stats.data();
        tf.dispose([xb, yb, xa, stats]);
        lossSum += l;
        correct += c;
      }
      const entry = { epoch: epoch + 1, eps: epsNow, loss: lossSum / n, accuracy: correct / n, seconds: (performance.now() - te) / 1000 };
      history.push(entry);
      log(`epoch ${entry.epoch}/${spec.epochs}  eps ${entry.eps.toFixed(3)}  loss ${entry.loss.toFixed(4)}  train acc ${(100 * entry.accuracy).toFixed(2)} %  ${entry.seconds.toFixed(1)} s`);
    }
  } finally {
    optimizer.dispose();
    classifier.dispose();
  }
  return { model, history, seconds: (performance.now() - t0) / 1000 };
}
