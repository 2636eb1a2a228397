/**
 * The clipping and ReLU of Ravine's wasm kernels (kernels/as/clamp.ts) give, bit for bit, what
 * WebAssembly's f32x4.min and f32x4.max give, which are JavaScript's Math.min and Math.max on
 * float32 values: NaN comes through, max(−0, +0) is +0 and min(+0, −0) is −0. The kernels use
 * one-instruction pseudo-min/max that differ exactly at those zeros, mended by a second
 * instruction; these inputs put signed zeros and NaN where the mends matter, and every output is
 * compared with a float32 reference in JavaScript by its bits.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { useWasmWithRavineKernels } from './wasmTestSetup';
import { surfaceInputs } from './ops';
import { linfStep } from './pgd';
import { ravineKernelCalls } from './winograd';

useWasmWithRavineKernels();

const f = Math.fround;

/** The bits of float32 values, so that +0 and −0 compare as what they are; every NaN as 'NaN' (its sign and payload are the CPU's). */
function bits(values: ArrayLike<number>): (number | 'NaN')[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer), (u, i) => (Number.isNaN(values[i]) ? 'NaN' : u));
}

/** clip(v, lo, hi) as f32x4.min(f32x4.max(v, lo), hi). */
const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

describe('clipping and ReLU in Ravine\'s wasm kernels, at signed zeros and NaN', () => {
  it('the L∞ step: clip(x + clip(xAdv + α·sign(g) − x, −ε, ε), lo, hi) with the bits of min and max, for the range [0, 1] and for [−1, −0]', async () => {
    await tf.setBackend('wasm');
    // 12 values: −0 and +0 in x, xAdv and g, a NaN gradient, and iterates on both bounds.
    const x = [-0, 0, -0, 0, 0.5, 1, -0, 0, 0.25, -0, 0, 1];
    const xAdv = [-0, -0, 0, 0, 0.9, 1.2, -0.5, -0, 0.25, 0, -0, 0.8];
    const g = [0, -0, -0, 0, 1, -1, NaN, 2, -0, -3, 4, 0];
    for (const [lo, hi, eps, alpha] of [[0, 1, 0.3, 0.1], [-1, -0, 0.3, 0.1], [0, 1, 0, 0]]) {
      const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : v);
      const want = x.map((xi, i) => {
        const moved = f(xAdv[i] + f(f(alpha) * sign(g[i])));
        const delta = clip(f(moved - xi), f(-eps), f(eps));
        return clip(f(xi + delta), f(lo), f(hi));
      });
      const calls = ravineKernelCalls();
      const got = tf.tidy(() => linfStep(tf.tensor1d(x), tf.tensor1d(xAdv), tf.tensor1d(g), alpha, eps, lo, hi).dataSync());
      expect(bits(got), `lo ${lo}, hi ${Object.is(hi, -0) ? '-0' : hi}, ε ${eps}`).toEqual(bits(want));
      expect(ravineKernelCalls().conv + ravineKernelCalls().gemm).toBe(calls.conv + calls.gemm);
    }
    // The cases the mends exist for did occur: +0 from max(−0, +0), −0 from min(+0, −0), and NaN.
    const zeros = tf.tidy(() => linfStep(tf.tensor1d([-0, 0]), tf.tensor1d([-0, 0]), tf.tensor1d([0, 0]), 0, 0.3, 0, 1).dataSync());
    expect(bits(zeros)).toEqual(bits([0, 0]));
    const negZeros = tf.tidy(() => linfStep(tf.tensor1d([-0.5, 0]), tf.tensor1d([-0.5, 0]), tf.tensor1d([1, 0]), 0.75, 1, -1, -0).dataSync());
    expect(bits(negZeros)).toEqual(bits([-0, -0]));
  });

  it('a surface chunk\'s inputs: clip(x + a·d1 + b·d2, lo, hi) turns −0 into +0 at lo = +0, as max does', async () => {
    await tf.setBackend('wasm');
    const size = 8;
    // At a = −0, b = +0, where d1 = 1 and d2 = −1, a·d1 + b·d2 is −0 + −0 = −0, and x + it is −0 where x is −0.
    const x = tf.tensor([-0, 0, -0, 0.5, 1, -0, 0, NaN], [1, 2, 4, 1]);
    const d1 = tf.tensor([-1, -1, 1, -1, 1, 1, -1, 1], [1, 2, 4, 1]);
    const d2 = tf.tensor([-1, 1, -1, -1, 1, -1, 1, 1], [1, 2, 4, 1]);
    const a = tf.tensor1d([-0, -0.75, 0.75]);
    const b = tf.tensor1d([0, 0.25, 0.5]);
    const xs = x.dataSync(), d1s = d1.dataSync(), d2s = d2.dataSync(), as = a.dataSync(), bs = b.dataSync();
    const want: number[] = [];
    let negativeZeros = 0;
    for (let i = 0; i < 3; i++) {
      for (let p = 0; p < size; p++) {
        const v = f(xs[p] + f(f(as[i] * d1s[p]) + f(bs[i] * d2s[p])));
        if (Object.is(v, -0)) negativeZeros++;
        want.push(clip(v, 0, 1));
      }
    }
    expect(negativeZeros, 'points where max(−0, +0) decides').toBe(2);
    const got = tf.tidy(() => surfaceInputs(x, d1, d2, a, b, 0, 1).dataSync());
    expect(bits(got)).toEqual(bits(want));
    expect(want.some((v) => Object.is(v, 0)) && want.some((v) => Number.isNaN(v))).toBe(true);
    tf.dispose([x, d1, d2, a, b]);
  });

  it('the ReLU of the direct convolution and the matrix product: +0 for −0, NaN for NaN', async () => {
    await tf.setBackend('wasm');
    const calls = ravineKernelCalls();
    // A bias of −0 and a zero input: every sum is −0 before the ReLU.
    const dense = tf.tidy(() => {
      const a = tf.tensor2d([0, 0, 0, 0, NaN, 1, 1, 1], [2, 4]);
      const w = tf.tensor2d(Array.from({ length: 16 }, (_, i) => -1 - i), [4, 4]);
      return tf.fused.matMul({ a, b: w, bias: tf.tensor1d([-0, -0, -0, -0]), activation: 'relu' }).dataSync();
    });
    expect(bits(dense)).toEqual(bits([0, 0, 0, 0, NaN, NaN, NaN, NaN]));
    const conv = tf.tidy(() => {
      const x = tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, NaN], [1, 3, 3, 1]);
      const w = tf.tensor4d(Array.from({ length: 4 }, (_, i) => -1 - i), [1, 1, 1, 4]);
      return tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias: tf.tensor1d([-0, -0, -0, -0]), activation: 'relu' }).dataSync();
    });
    expect(bits(conv)).toEqual(bits([...new Array<number>(32).fill(0), NaN, NaN, NaN, NaN]));
    const after = ravineKernelCalls();
    expect(after.gemm - calls.gemm, "Ravine's matrix product ran").toBe(1);
    expect(after.direct1 - calls.direct1, "Ravine's direct convolution ran").toBe(1);
  });
});
