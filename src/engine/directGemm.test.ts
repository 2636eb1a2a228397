/**
 * Ravine's other wasm kernels (winograd.ts, kernels/as/direct.ts and gemm.ts): the direct
 * convolution of one-channel inputs (the CNNs' first layer) and the matrix product (the dense
 * layers and their input gradients), through tfjs's own ops on the wasm backend, against tfjs on
 * the cpu backend, the reference. Each case also checks that Ravine's kernel, not wasm's own,
 * computed it (ravineKernelCalls).
 *
 * Tolerance: max |ours − reference| ≤ 1e-5 · max(1, max |reference|): both are direct sums in
 * float32, in different orders.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { useWasmWithRavineKernels } from './wasmTestSetup';
import { fixedValues, maxAbsDiff } from './testSupport';
import { directTakes, matMulTakes, ravineKernelBuild, ravineKernelCalls, ravineSplitMs, setWasmThreads, wasmThreadCount, type ConvCall } from './winograd';

type Shape4 = [number, number, number, number];

/** Runs `fn` on wasm and on cpu; returns both outputs and the calls of each Ravine kernel on wasm meanwhile. */
async function onBoth(fn: () => tf.Tensor): Promise<{ ours: Float32Array; ref: Float32Array; calls: Record<string, number> }> {
  await tf.setBackend('wasm');
  const before = ravineKernelCalls();
  const ours = tf.tidy(() => fn().dataSync() as Float32Array);
  const after = ravineKernelCalls();
  const calls = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
  await tf.setBackend('cpu');
  const ref = tf.tidy(() => fn().dataSync() as Float32Array);
  await tf.setBackend('wasm');
  return { ours, ref, calls };
}

useWasmWithRavineKernels();

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  stride: number;
  pad: 'same' | 'valid' | number;
  bias: boolean;
  activation: 'linear' | 'relu';
}

const CONV_CASES: ConvCase[] = [
  { name: "the CNNs' first layer (5×5/2, 1 → 16, 'same', ReLU)", x: [5, 28, 28, 1], filter: [5, 5, 1, 16], stride: 2, pad: 'same', bias: true, activation: 'relu' },
  { name: "3×3/1 'valid', 12 outputs (a 4-channel tail), no bias", x: [3, 9, 11, 1], filter: [3, 3, 1, 12], stride: 1, pad: 'valid', bias: false, activation: 'linear' },
  { name: "4×4/3 'same', 20 outputs, a row of 2 (a short pixel group)", x: [2, 17, 5, 1], filter: [4, 4, 1, 20], stride: 3, pad: 'same', bias: true, activation: 'relu' },
  { name: '5×5/2, numeric padding 2, 8 outputs', x: [1, 10, 13, 1], filter: [5, 5, 1, 8], stride: 2, pad: 2, bias: true, activation: 'linear' },
  { name: '1×1/1, 4 outputs', x: [2, 3, 7, 1], filter: [1, 1, 1, 4], stride: 1, pad: 'valid', bias: false, activation: 'linear' },
  { name: "3×3/1 'same', 32 outputs (two passes of 16), odd width 9 (a last pixel alone)", x: [2, 9, 9, 1], filter: [3, 3, 1, 32], stride: 1, pad: 'same', bias: true, activation: 'relu' },
];

describe('direct convolution of one-channel inputs on wasm', () => {
  for (const c of CONV_CASES) {
    it(`matches tfjs on cpu: ${c.name}`, async () => {
      const { ours, ref, calls } = await onBoth(() => {
        const x = tf.tensor4d(fixedValues(c.x.reduce((a, b) => a * b), 1), c.x);
        const f = tf.tensor4d(fixedValues(c.filter.reduce((a, b) => a * b), 2), c.filter);
        const b = c.bias ? tf.tensor1d(fixedValues(c.filter[3], 3)) : undefined;
        return tf.fused.conv2d({ x, filter: f, strides: c.stride, pad: c.pad, bias: b, activation: c.activation });
      });
      expect(calls.direct1, "Ravine's direct kernel ran").toBe(1);
      const { diff, ref: scale } = maxAbsDiff(ours, ref);
      expect(diff, `max |diff| with max |ref| = ${scale}`).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    });
  }

  it('leaves what it does not take to tfjs: several input channels, 6 outputs, dilation, relu6, NCHW', () => {
    const info = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => ({ dataId: {}, shape, dtype });
    const base: ConvCall = { x: info([2, 28, 28, 1]), filter: info([5, 5, 1, 16]), strides: 2, pad: 'same' };
    expect(directTakes(base)).toBe(true);
    expect(directTakes({ ...base, x: info([2, 28, 28, 3]), filter: info([5, 5, 3, 16]) })).toBe(false);
    expect(directTakes({ ...base, filter: info([5, 5, 1, 6]) })).toBe(false);
    expect(directTakes({ ...base, strides: [2, 1] })).toBe(false);
    expect(directTakes({ ...base, dilations: 2 })).toBe(false);
    expect(directTakes({ ...base, activation: 'relu6' })).toBe(false);
    expect(directTakes({ ...base, dataFormat: 'NCHW' })).toBe(false);
    expect(directTakes({ ...base, x: info([2, 28, 28, 1], 'int32') })).toBe(false);
  });

  it('gives each sample of a batch the same values as that sample alone, and leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    const f = tf.tensor4d(fixedValues(5 * 5 * 16, 2), [5, 5, 1, 16]);
    const xs = fixedValues(7 * 28 * 28, 1);
    const batched = tf.tidy(() => tf.conv2d(tf.tensor4d(xs, [7, 28, 28, 1]), f, 2, 'same').dataSync());
    const per = 14 * 14 * 16;
    for (const s of [0, 6]) {
      const alone = tf.tidy(() => tf.conv2d(tf.tensor4d(xs.subarray(s * 784, (s + 1) * 784), [1, 28, 28, 1]), f, 2, 'same').dataSync());
      expect(Array.from(alone)).toEqual(Array.from(batched.subarray(s * per, (s + 1) * per)));
    }
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

interface MatMulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  transposeB: boolean;
  bias: boolean;
  activation: 'linear' | 'relu';
}

const MATMUL_CASES: MatMulCase[] = [
  { name: "the dense layer of a surface chunk's size (1024 × 1568 · 1568 × 128, ReLU)", m: 1024, k: 1568, n: 128, transposeB: false, bias: true, activation: 'relu' },
  { name: "the dense layer's input gradient (100 × 128 · (1568 × 128)ᵀ)", m: 100, k: 128, n: 1568, transposeB: true, bias: false, activation: 'linear' },
  { name: 'rows not a multiple of 4, 12 columns (a 4-column tail), k across slices', m: 7, k: 600, n: 12, transposeB: false, bias: true, activation: 'linear' },
  { name: 'transposed weight with bias and ReLU, 9 rows, 20 columns', m: 9, k: 300, n: 20, transposeB: true, bias: true, activation: 'relu' },
  { name: 'one row, 4 columns', m: 1, k: 3, n: 4, transposeB: false, bias: false, activation: 'linear' },
  { name: "the CNNs' last layer: 10 columns (8 and a 2-column tail), 1027 rows, bias", m: 1027, k: 128, n: 10, transposeB: false, bias: true, activation: 'linear' },
  { name: '7 columns (4 and 3 read lane by lane), ReLU', m: 6, k: 40, n: 7, transposeB: false, bias: true, activation: 'relu' },
  { name: '13 columns (8, 4 and 1), transposed weight, 5 rows', m: 5, k: 33, n: 13, transposeB: true, bias: false, activation: 'linear' },
  { name: 'one column', m: 9, k: 17, n: 1, transposeB: false, bias: true, activation: 'linear' },
];

describe('matrix product on wasm', () => {
  for (const c of MATMUL_CASES) {
    it(`matches tfjs on cpu: ${c.name}`, async () => {
      const { ours, ref, calls } = await onBoth(() => {
        const a = tf.tensor2d(fixedValues(c.m * c.k, 4), [c.m, c.k]);
        const b = tf.tensor2d(fixedValues(c.k * c.n, 5), c.transposeB ? [c.n, c.k] : [c.k, c.n]);
        const bias = c.bias ? tf.tensor1d(fixedValues(c.n, 6)) : undefined;
        return bias || c.activation !== 'linear'
          ? tf.fused.matMul({ a, b, transposeB: c.transposeB, bias, activation: c.activation })
          : tf.matMul(a, b, false, c.transposeB);
      });
      expect(calls.gemm, "Ravine's matrix-product kernel ran").toBe(1);
      const { diff, ref: scale } = maxAbsDiff(ours, ref);
      expect(diff, `max |diff| with max |ref| = ${scale}`).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    });
  }

  it("skips a's zeros with the same bits as the full sum: each row of a batch equals that row alone, and tfjs on cpu", async () => {
    // A ReLU's output, as the dense layers get it: rows of a 4-row group that share most zeros
    // (a surface's neighbouring points), groups where only some rows are zero in a column (the
    // union of their nonzeros is listed), whole zero rows, and k across two slices of 256.
    const m = 14, k = 600, n = 24;
    const values = fixedValues(m * k, 11);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < k; j++) {
        const band = Math.floor(j / 37) % 3 === 0; // zero in every row: skipped by the lists
        const own = (i * 7 + j * 3) % 5 < 2; // zero in this row only
        if (band || own || i === 9 || values[i * k + j] < -0.6) values[i * k + j] = 0;
      }
    }
    const w = fixedValues(k * n, 12);
    const bias = fixedValues(n, 13);
    const product = (rows: Float32Array, count: number) =>
      tf.fused.matMul({ a: tf.tensor2d(rows, [count, k]), b: tf.tensor2d(w, [k, n]), bias: tf.tensor1d(bias), activation: 'relu' });
    const { ours, ref, calls } = await onBoth(() => product(values, m));
    expect(calls.gemm, "Ravine's matrix-product kernel ran").toBe(1);
    const { diff, ref: scale } = maxAbsDiff(ours, ref);
    expect(diff, `max |diff| with max |ref| = ${scale}`).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    expect(ours.filter((v) => v > 0).length, 'most outputs past the ReLU').toBeGreaterThan((m - 1) * n * 0.3);
    // A row alone runs the kernel's one-row loop over every k, zeros included.
    for (const i of [0, 3, 5, 9, 13]) {
      const alone = tf.tidy(() => product(values.slice(i * k, (i + 1) * k), 1).dataSync());
      expect(Array.from(alone), `row ${i}`).toEqual(Array.from(ours.subarray(i * n, (i + 1) * n)));
    }
  });

  it('leaves what it does not take to tfjs (int32, batches of several, other activations), with tfjs\'s answer', async () => {
    const info = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => ({ dataId: {}, shape, dtype });
    expect(matMulTakes({ a: info([4, 8]), b: info([8, 12]) })).toBe(true);
    expect(matMulTakes({ a: info([1, 4, 8]), b: info([1, 8, 12]) })).toBe(true);
    expect(matMulTakes({ a: info([4, 8]), b: info([8, 10]) })).toBe(true);
    expect(matMulTakes({ a: info([2, 4, 8]), b: info([2, 8, 12]) })).toBe(false);
    expect(matMulTakes({ a: info([4, 8], 'int32'), b: info([8, 12], 'int32') })).toBe(false);
    expect(matMulTakes({ a: info([4, 8]), b: info([8, 12]), activation: 'elu' })).toBe(false);
    const { ours, ref, calls } = await onBoth(() => tf.matMul(tf.tensor3d(fixedValues(2 * 6 * 5, 1), [2, 6, 5]), tf.tensor3d(fixedValues(2 * 5 * 10, 2), [2, 5, 10])));
    expect(calls.gemm).toBe(0);
    expect(maxAbsDiff(ours, ref).diff).toBeLessThan(1e-5);
  });

  it('caches a transposed weight once and leaves no tensor behind', () => {
    const w = tf.tensor2d(fixedValues(40 * 16, 2), [40, 16]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => tf.matMul(tf.tensor2d(fixedValues(8 * 16, 3 + i), [8, 16]), w, false, true).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});

describe('the kernels\' build', () => {
  it('is the relaxed-SIMD one (fused multiply-adds) where the engine compiles it, as Node does here with the flag the CLI sets', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => tf.matMul(tf.ones([8, 16]), tf.ones([16, 8])).dataSync());
    expect(ravineKernelBuild()).toBe('relaxed SIMD');
  });
});

describe('wasmThreadCount', () => {
  it('reports one thread on the single-threaded build, whatever was asked for', () => {
    // This file's backend started without threads (Node, no bridge): asking for two now is
    // what a page without cross-origin isolation does; the build decides.
    setWasmThreads(2);
    expect(wasmThreadCount()).toBe(1);
  });
});

describe('ravineSplitMs (the benchmark splits a job\'s time with it)', () => {
  it('counts the time of Ravine\'s kernels and nothing else: within a job\'s wall time, and not for wasm\'s own ops', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d(fixedValues(256 * 512, 1), [256, 512]);
    const w = tf.tensor2d(fixedValues(512 * 128, 2), [512, 128]);
    tf.tidy(() => tf.matMul(x, w).dataSync()); // warm-up
    const k0 = ravineSplitMs();
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.matMul(x, w).dataSync());
    const wall = performance.now() - t0;
    const inKernels = ravineSplitMs() - k0;
    // 20 products of 16.8M multiply-adds: well over a millisecond in all on any machine.
    expect(inKernels).toBeGreaterThan(1);
    expect(inKernels).toBeLessThanOrEqual(wall);
    const k1 = ravineSplitMs();
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.add(x, 1).dataSync());
    expect(ravineSplitMs()).toBe(k1);
    x.dispose();
    w.dispose();
  });
});
