import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, exactSign, klDivergence, logitMargin } from './ops';
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
});
