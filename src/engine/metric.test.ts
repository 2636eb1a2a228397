import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from './classifier';
import { computeMetric } from './metric';
import { klDivergence } from './ops';
import { project, randomStarts, runPgd } from './pgd';
import { createRng } from './rng';
import { fixedInputs, scaleLastLayer, smallCnn, useBackend } from './testSupport';

beforeAll(() => useBackend('wasm'));

/** The normalised KL objective of the metric at arbitrary points, computed independently. */
async function klAt(model: tf.LayersModel, x: Float32Array, points: Float32Array, shape: number[]): Promise<Float32Array> {
  const n = points.length / x.length;
  const out = tf.tidy(() => {
    const z0 = model.predict(tf.tensor(x, [1, ...shape])) as tf.Tensor2D;
    const logits0 = tf.log(z0); // model ends in softmax: log-probabilities = logits + const
    const centred = tf.sub(logits0, tf.mean(logits0, 1, true));
    const s = tf.sqrt(tf.mean(tf.square(centred), 1, true));
    const zq = tf.log(model.predict(tf.tensor(points, [n, ...shape])) as tf.Tensor2D);
    return klDivergence(tf.div(logits0, s).tile([n, 1]) as tf.Tensor2D, tf.div(zq, s) as tf.Tensor2D);
  });
  const v = (await out.data()) as Float32Array;
  out.dispose();
  return v;
}

describe('psi by PGD on the KL', () => {
  it('finds at least the best of 200 random points in the same ball', async () => {
    const model = smallCnn(5);
    const c = createClassifier(model);
    const eps = 0.1;
    const xs = fixedInputs(4, c.inputSize, 17);
    const result = await computeMetric(c, xs, { eps, norm: 'linf', steps: 20, restarts: 1, normalize: true, seed: 0 });
    for (let k = 0; k < 4; k++) {
      const x = xs.slice(k * c.inputSize, (k + 1) * c.inputSize);
      const rng = createRng(99, k);
      const pts = new Float32Array(200 * c.inputSize);
      // Random corners of the L∞ ball (where a random search does best), clipped to [0, 1].
      for (let p = 0; p < 200; p++) {
        for (let i = 0; i < c.inputSize; i++) {
          pts[p * c.inputSize + i] = Math.min(1, Math.max(0, x[i] + (rng.next() < 0.5 ? -eps : eps)));
        }
      }
      const kl = await klAt(model, x, pts, [...c.inputShape]);
      const bestRandom = Math.max(...kl);
      expect(result.psi[k]).toBeGreaterThanOrEqual(bestRandom * (1 - 1e-4));
    }
    model.dispose();
  });

  it('never leaves the ball or the valid range (L∞ and L2)', async () => {
    const model = smallCnn(2);
    const c = createClassifier(model);
    const n = 3;
    const xs = fixedInputs(n, c.inputSize, 5);
    for (const norm of ['linf', 'l2'] as const) {
      const eps = norm === 'linf' ? 0.2 : 1.5;
      const x = tf.tensor(xs, [n, ...c.inputShape]);
      const start = tf.tidy(() => project(x, tf.add(x, tf.tensor(randomStarts(0, 't', 0, n, c.inputSize, norm, eps), x.shape)), norm, eps, 0, 1));
      const target = tf.tidy(() => c.logits(x));
      let visits = 0;
      let worstDist = 0;
      let outside = 0;
      await runPgd(
        x,
        start,
        (xa) => klDivergence(target, c.logits(xa)),
        { norm, eps, steps: 15, stepSize: (2.5 * eps) / 15, randomStart: true },
        [0, 1],
        (xa) => {
          visits++;
          const d = tf.sub(xa, x);
          const dist = norm === 'linf' ? tf.max(tf.abs(d)) : tf.max(tf.sqrt(tf.sum(tf.square(tf.reshape(d, [n, -1])), 1)));
          worstDist = Math.max(worstDist, dist.dataSync()[0]);
          outside += tf.sum(tf.logicalOr(tf.less(xa, 0), tf.greater(xa, 1))).dataSync()[0];
        },
      );
      expect(visits).toBe(16);
      expect(worstDist).toBeLessThanOrEqual(eps * (1 + 1e-5));
      expect(worstDist).toBeGreaterThan(eps * 0.5); // it did move
      expect(outside).toBe(0);
      tf.dispose([x, start, target]);
    }
    model.dispose();
  });

  it('is exactly 0 at ε = 0', async () => {
    const model = smallCnn(4);
    const c = createClassifier(model);
    const r = await computeMetric(c, fixedInputs(5, c.inputSize, 1), { eps: 0, norm: 'linf', steps: 10, restarts: 2, normalize: true, seed: 3 });
    expect(Array.from(r.psi)).toEqual([0, 0, 0, 0, 0]);
    expect(r.R).toBe(0);
    model.dispose();
  });

  it('is scale-free with the normaliser on and not with it off', async () => {
    const xs = fixedInputs(24, 144, 8);
    const settings = { eps: 0.15, norm: 'linf' as const, steps: 10, restarts: 1, seed: 1 };
    const results: Record<string, { on: number; off: number }> = {};
    for (const k of [1, 0.1, 10]) {
      const model = smallCnn(7);
      // The untrained net has small logits; make them trained-sized first (×8), then rescale.
      scaleLastLayer(model, 8 * k);
      const c = createClassifier(model);
      const on = await computeMetric(c, xs, { ...settings, normalize: true });
      const off = await computeMetric(c, xs, { ...settings, normalize: false });
      results[k] = { on: on.R, off: off.R };
      model.dispose();
    }
    console.log('R under logit rescaling (normaliser on / off):', JSON.stringify(results));
    for (const k of [0.1, 10]) {
      expect(Math.abs(results[k].on / results[1].on - 1)).toBeLessThanOrEqual(0.01);
      // Without the normaliser the same models score very differently (×0.1 shrinks the KL,
      // ×10 inflates it): more than 50 % apart in both cases.
      expect(Math.abs(results[k].off / results[1].off - 1)).toBeGreaterThan(0.5);
    }
  });

  it('reports R with std, a t-based 95 % CI, n, and live partial estimates', async () => {
    const model = smallCnn(6);
    const c = createClassifier(model);
    const partials: number[] = [];
    const r = await computeMetric(c, fixedInputs(12, c.inputSize, 4), { eps: 0.1, norm: 'l2', steps: 5, restarts: 1, normalize: true, seed: 0 }, {
      chunkSize: 5,
      onPartial: (psi, s) => {
        partials.push(psi.length);
        expect(s.R).toBeCloseTo(psi.reduce((a, b) => a + b, 0) / psi.length, 6);
      },
    });
    expect(partials).toEqual([5, 10, 12]);
    expect(r.n).toBe(12);
    const mean = r.psi.reduce((a, b) => a + b, 0) / 12;
    const std = Math.sqrt(r.psi.reduce((a, b) => a + (b - mean) ** 2, 0) / 11);
    expect(r.R).toBeCloseTo(mean, 6);
    expect(r.std).toBeCloseTo(std, 6);
    expect(r.ci95[1] - r.R).toBeCloseTo((2.201 * std) / Math.sqrt(12), 6);
    expect(r.settings.stepSize).toBeCloseTo(0.05, 7);
    model.dispose();
  });

  it('does not depend on how samples are chunked', async () => {
    const model = smallCnn(8);
    const c = createClassifier(model);
    const xs = fixedInputs(7, c.inputSize, 12);
    const s = { eps: 0.1, norm: 'linf' as const, steps: 5, restarts: 1, normalize: true, seed: 4 };
    const whole = await computeMetric(c, xs, s);
    const pieces = await computeMetric(c, xs, s, { chunkSize: 3 });
    for (let k = 0; k < 7; k++) expect(pieces.psi[k]).toBeCloseTo(whole.psi[k], 5);
    model.dispose();
  });

  it('gives the same ψ to the bit through the tape-free input gradient as through tfjs\'s tape (L∞ and L2)', async () => {
    const model = smallCnn(6);
    const c = createClassifier(model);
    expect(c.inputGradient, 'a plain chain of fused layers has the tape-free path').toBeDefined();
    const taped = { ...c, inputGradient: undefined };
    const xs = fixedInputs(5, c.inputSize, 31);
    for (const norm of ['linf', 'l2'] as const) {
      const s = { eps: norm === 'linf' ? 0.1 : 1, norm, steps: 6, restarts: 1, normalize: true, seed: 2 };
      const before = tf.memory().numTensors;
      const fast = await computeMetric(c, xs, s);
      expect(tf.memory().numTensors, 'no tensor left behind').toBe(before);
      const slow = await computeMetric(taped, xs, s);
      expect(Math.max(...fast.psi), 'the ascent found something').toBeGreaterThan(0.01);
      expect(Array.from(fast.psi)).toEqual(Array.from(slow.psi));
    }
    model.dispose();
  });
});
