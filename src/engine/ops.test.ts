import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, exactSign, klDivergence, KlToTarget, logitMargin } from './ops';
import { useBackend } from './testSupport';

beforeAll(() => useBackend('wasm'));

describe('per-sample quantities', () => {
  it('exactSign is exact for tiny values on wasm (tf.sign is not)', () => {
    // Subnormals (±1e-45), signed zeros, infinities and NaN included.
    const t = tf.tensor([-Infinity, -1e-3, -1e-8, -1e-30, -1e-45, -0, 0, 1e-45, 1e-30, 1e-8, 1e-3, 5, Infinity, NaN]);
    expect(Array.from(exactSign(t).dataSync())).toEqual([-1, -1, -1, -1, -1, 0, 0, 1, 1, 1, 1, 1, 1, NaN]);
    // The measured wasm defect this guards against; if tfjs fixes it, this line tells us.
    expect(Array.from(tf.sign(tf.tensor([1e-8])).dataSync())).toEqual([0]);
    t.dispose();
  });

  it('CE, margin and KL match their closed forms', () => {
    const z = tf.tensor2d([
      [2, 1, -1],
      [0, 0, 0],
      [30, -5, 1],
    ]);
    const y = tf.tensor1d([0, 2, 1], 'int32');
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const rows = [[2, 1, -1], [0, 0, 0], [30, -5, 1]];
    const ce = Array.from(crossEntropy(z, y).dataSync());
    expect(ce[0]).toBeCloseTo(lse(rows[0]) - 2, 5);
    expect(ce[1]).toBeCloseTo(Math.log(3), 5);
    expect(ce[2]).toBeCloseTo(35, 4);
    expect(Array.from(logitMargin(z, y).dataSync())).toEqual([1, 0, -35]);
    const kl = Array.from(klDivergence(z, z).dataSync());
    kl.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    tf.dispose([z, y]);
  });

  // Logits of a batch of 4 over 5 classes, one of them confident (the case where a
  // log(softmax) would underflow), and labels.
  const zRows = [
    [2, 1, -1, 0.5, 3],
    [0, 0, 0, 0, 0],
    [30, -5, 1, 2, -7],
    [-1.5, 4, 2.25, -3, 0.1],
  ];

  it('crossEntropy: gradient softmax(z) - onehot(y), as automatic differentiation gives', () => {
    const z = tf.tensor2d(zRows);
    const y = tf.tensor1d([4, 2, 0, 1], 'int32');
    const dy = tf.tensor1d([1, 0.5, -2, 3]);
    const before = tf.memory().numTensors;
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, y))(z, dy);
    // The same expression without the hand-written gradient.
    const plain = (t: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.oneHot(y, 5), tf.logSoftmax(t)), 1));
    const { value: v0, grad: g0 } = tf.valueAndGrad(plain)(z, dy);
    expect(Array.from(value.dataSync())).toEqual(Array.from(v0.dataSync()));
    const g = grad.arraySync() as number[][];
    const ref = g0.arraySync() as number[][];
    for (let i = 0; i < 4; i++) {
      const p = zRows[i].map((v) => Math.exp(v - Math.max(...zRows[i])));
      const sum = p.reduce((a, b) => a + b, 0);
      const w = [1, 0.5, -2, 3][i];
      for (let k = 0; k < 5; k++) {
        const exact = w * (p[k] / sum - (k === [4, 2, 0, 1][i] ? 1 : 0));
        expect(g[i][k]).toBeCloseTo(exact, 6);
        expect(g[i][k]).toBeCloseTo(ref[i][k], 6);
      }
    }
    tf.dispose([value, grad, v0, g0]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, y, dy]);
  });

  it('KlToTarget: the same KL as klDivergence, gradient (softmax(z/s) - p) / s, no leaks', () => {
    const z = tf.tensor2d(zRows);
    const zp = tf.tensor2d([
      [1, 0, 0, 0, 2],
      [0.3, -0.2, 0.1, 0, 0],
      [25, -5, 0, 2, -6],
      [0, 3, 2, -2, 0],
    ]);
    const scale = tf.tensor2d([[2], [0.5], [4], [1]]);
    const before = tf.memory().numTensors;
    const kl = new KlToTarget(zp, scale);
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => kl.at(t as tf.Tensor2D))(z);
    const plain = (t: tf.Tensor) => klDivergence(zp, tf.div(t, scale) as tf.Tensor2D);
    const { value: v0, grad: g0 } = tf.valueAndGrad(plain)(z);
    // The value comes from the same ops: identical, not merely close.
    expect(Array.from(value.dataSync())).toEqual(Array.from(v0.dataSync()));
    const g = grad.arraySync() as number[][];
    const ref = g0.arraySync() as number[][];
    const s = [2, 0.5, 4, 1];
    const pRows = zp.arraySync();
    const softmax = (r: number[]) => {
      const e = r.map((v) => Math.exp(v - Math.max(...r)));
      const t = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / t);
    };
    for (let i = 0; i < 4; i++) {
      const q = softmax(zRows[i].map((v) => v / s[i]));
      const p = softmax(pRows[i]);
      for (let k = 0; k < 5; k++) {
        expect(g[i][k]).toBeCloseTo((q[k] - p[k]) / s[i], 6);
        expect(g[i][k]).toBeCloseTo(ref[i][k], 6);
      }
    }
    // At z / s = zp the divergence and its gradient vanish.
    const zAt = tf.mul(zp, scale) as tf.Tensor2D;
    const { value: v1, grad: g1 } = tf.valueAndGrad((t: tf.Tensor) => kl.at(t as tf.Tensor2D))(zAt);
    v1.dataSync().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    g1.dataSync().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    tf.dispose([value, grad, v0, g0, zAt, v1, g1]);
    kl.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, zp, scale]);
  });
});
