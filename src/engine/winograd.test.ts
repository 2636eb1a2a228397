/**
 * Ravine's Winograd convolution kernel on the wasm backend (winograd.ts, kernels/as/winograd.ts)
 * against tfjs's own convolution on the cpu backend, the reference implementation.
 *
 * Tolerance: max |ours − reference| ≤ 1e-4 · max(1, max |reference|), as for the gradient kernels
 * (convGrad.test.ts). Inputs and filters are uniform in [−1, 1]; F(4×4, 3×3)'s transforms scale
 * values by up to 8 and back, which costs a few bits over a direct sum (measured: ~4e-6 relative).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { useWasmWithRavineKernels } from './wasmTestSetup';
import { cachedFilterTransforms, transformFilter, transformSpans, winogradConv, winogradStride, type ConvCall } from './winograd';
import { fixedValues, maxAbsDiff } from './testSupport';

type Shape4 = [number, number, number, number];
type Pad = ConvCall['pad'];

interface Case {
  name: string;
  x: Shape4;
  filter: Shape4;
  stride: 1 | 2;
  pad: Pad;
  bias: boolean;
  activation: 'linear' | 'relu';
}

/** The layers the built-in CNNs and their input gradients run, and edges of the kernel's tiling. */
const CASES: Case[] = [
  { name: "the CNNs' second layer (5×5/2, 16 → 32, 'same', ReLU)", x: [6, 14, 14, 16], filter: [5, 5, 16, 32], stride: 2, pad: 'same', bias: true, activation: 'relu' },
  { name: "its input gradient's stacked phases (3×3/1, 32 → 64, explicit padding)", x: [5, 7, 7, 32], filter: [3, 3, 32, 64], stride: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: false, activation: 'linear' },
  { name: "the first layer's input gradient (3×3/1, 16 → 4)", x: [3, 14, 14, 16], filter: [3, 3, 16, 4], stride: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: false, activation: 'linear' },
  { name: "5×5/2 'valid', odd size, 12 outputs (a 4-wide tail)", x: [2, 13, 11, 8], filter: [5, 5, 8, 12], stride: 2, pad: 'valid', bias: true, activation: 'linear' },
  { name: '5×5/2, numeric padding 3, one sample', x: [1, 9, 10, 4], filter: [5, 5, 4, 8], stride: 2, pad: 3, bias: false, activation: 'relu' },
  { name: "3×3/1 'same', 9 samples (blocks of 4 and a remainder)", x: [9, 6, 5, 4], filter: [3, 3, 4, 8], stride: 1, pad: 'same', bias: true, activation: 'relu' },
];

function conv(c: Case, x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | undefined): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter, strides: c.stride, pad: c.pad as 'same', bias, activation: c.activation });
}

/** One convolution on `backend`, from the same fixed values; returns the output's values. */
async function run(c: Case, backend: 'wasm' | 'cpu', seed: number): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(fixedValues(c.x.reduce((a, b) => a * b), seed), c.x);
    const f = tf.tensor4d(fixedValues(c.filter.reduce((a, b) => a * b), seed + 1), c.filter);
    const b = c.bias ? tf.tensor1d(fixedValues(c.filter[3], seed + 2)) : undefined;
    return conv(c, x, f, b).dataSync() as Float32Array;
  });
}

useWasmWithRavineKernels();

describe('Winograd convolution on wasm', () => {
  for (const [i, c] of CASES.entries()) {
    it(`matches tfjs on cpu: ${c.name}`, async () => {
      await tf.setBackend('wasm');
      const before = cachedFilterTransforms().made;
      const ours = await run(c, 'wasm', 10 * i + 1);
      await tf.setBackend('wasm');
      // The kernel took it: the filter's transform was made.
      expect(cachedFilterTransforms().made).toBe(before + 1);
      const ref = await run(c, 'cpu', 10 * i + 1);
      expect(ours.length).toBe(ref.length);
      const { diff, ref: scale } = maxAbsDiff(ours, ref);
      expect(diff, `max |diff| with max |ref| = ${scale}`).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    });
  }

  it('keeps at most 4 transforms of freed filters, reuses one for a new filter of the same values, and leaves no tensor behind', async () => {
    await tf.setBackend('wasm');
    const c = CASES[0];
    const x = tf.tensor4d(fixedValues(6 * 14 * 14 * 16, 3), c.x);
    const tensors = tf.memory().numTensors;
    const made = () => cachedFilterTransforms().made;
    const made0 = made();
    for (let k = 0; k < 7; k++) {
      const f = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 100 + k), c.filter);
      conv(c, x, f, undefined).dispose();
      f.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(made() - made0, 'seven filters of different values: seven transforms').toBe(7);
    // Earlier filters are all freed: their transforms are retired at the next call, four kept.
    const f = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 200), c.filter);
    for (let k = 0; k < 3; k++) conv(c, x, f, undefined).dispose();
    expect(made() - made0, 'one transform for a filter used three times').toBe(8);
    expect(cachedFilterTransforms()).toMatchObject({ held: 1, retired: 4 });
    // A new tensor with the values of a retired filter (as a PGD run's derived filters are, run
    // after run) takes that transform; one with the values of a dropped one (the oldest) does not.
    const again = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 106), c.filter);
    const y1 = conv(c, x, again, undefined);
    expect(made() - made0, 'the retired transform is reused').toBe(8);
    tf.dispose([f, again]);
    const oldest = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 100), c.filter);
    conv(c, x, oldest, undefined).dispose();
    expect(made() - made0, 'the oldest was freed: made again').toBe(9);
    // And the reused transform gave the same output as a fresh one would.
    await tf.setBackend('cpu');
    const xc = tf.tensor4d(fixedValues(6 * 14 * 14 * 16, 3), c.x);
    const fc = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 106), c.filter);
    const refOut = conv(c, xc, fc, undefined);
    const { diff, ref: scale } = maxAbsDiff((await y1.data()) as Float32Array, refOut.dataSync() as Float32Array);
    expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    tf.dispose([xc, fc, refOut]);
    await tf.setBackend('wasm');
    tf.dispose([oldest, y1, x]);
    expect(tf.memory().numTensors).toBe(tensors - 1);
    expect(cachedFilterTransforms().retired).toBeLessThanOrEqual(4);
  });

  it('stores a new transform also when the allocation grows the heap (its ArrayBuffer replaced)', async () => {
    await tf.setBackend('wasm');
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(bytes: number): number; _free(ptr: number): void; wasmMemory?: WebAssembly.Memory; asm?: { memory: WebAssembly.Memory } } }).wasm;
    const memory = (wasm.wasmMemory ?? wasm.asm?.memory) as WebAssembly.Memory;
    const c = CASES[3];
    const buffer = memory.buffer;
    const malloc = wasm._malloc;
    // The transform's allocation (the first of 100 KB or more: this case's tensors are smaller)
    // first takes and frees a block beyond what the heap holds, so the memory grows right there,
    // as it does when a model's first transform meets a full heap.
    wasm._malloc = (bytes: number) => {
      if (bytes < 100_000) return malloc(bytes);
      wasm._malloc = malloc;
      wasm._free(malloc(memory.buffer.byteLength));
      return malloc(bytes);
    };
    try {
      const before = cachedFilterTransforms().made;
      const ours = await run(c, 'wasm', 77);
      expect(cachedFilterTransforms().made, 'the kernel made the transform').toBe(before + 1);
      expect(memory.buffer, 'the heap grew meanwhile').not.toBe(buffer);
      const ref = await run(c, 'cpu', 77);
      const { diff, ref: scale } = maxAbsDiff(ours, ref);
      expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    } finally {
      wasm._malloc = malloc;
      await tf.setBackend('wasm');
    }
  });

  it('gives each sample of a batch the same values as that sample alone (bit for bit)', async () => {
    await tf.setBackend('wasm');
    const c = CASES[0];
    const n = 7;
    const xs = tf.tensor4d(fixedValues(n * 14 * 14 * 16, 5), [n, 14, 14, 16]);
    const f = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 6), c.filter);
    const b = tf.tensor1d(fixedValues(32, 7));
    const batched = tf.tidy(() => conv(c, xs, f, b).dataSync() as Float32Array);
    const per = 7 * 7 * 32;
    for (let s = 0; s < n; s++) {
      const alone = tf.tidy(() => conv(c, tf.slice(xs, [s, 0, 0, 0], [1, 14, 14, 16]), f, b).dataSync() as Float32Array);
      expect(Array.from(alone)).toEqual(Array.from(batched.subarray(s * per, (s + 1) * per)));
    }
    tf.dispose([xs, f, b]);
  });

  it('leaves what it does not take to tfjs: other strides, kernel sizes, channel counts, activations', async () => {
    await tf.setBackend('wasm');
    const info = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => ({ dataId: {}, shape, dtype });
    const base: ConvCall = { x: info([2, 14, 14, 16]), filter: info([5, 5, 16, 32]), strides: 2, pad: 'same' };
    expect(winogradStride(base)).toBe(2);
    expect(winogradStride({ ...base, filter: info([3, 3, 16, 32]), strides: 1 })).toBe(1);
    expect(winogradStride({ ...base, x: info([2, 28, 28, 1]), filter: info([5, 5, 1, 16]) }), 'one input channel').toBeNull();
    expect(winogradStride({ ...base, filter: info([5, 5, 16, 30]) }), 'output channels not a multiple of 4').toBeNull();
    expect(winogradStride({ ...base, strides: 1 }), '5×5 at stride 1').toBeNull();
    expect(winogradStride({ ...base, filter: info([3, 3, 16, 32]) }), '3×3 at stride 2').toBeNull();
    expect(winogradStride({ ...base, strides: [2, 1] })).toBeNull();
    expect(winogradStride({ ...base, dilations: 2 })).toBeNull();
    expect(winogradStride({ ...base, dataFormat: 'NCHW' })).toBeNull();
    expect(winogradStride({ ...base, activation: 'relu6' })).toBeNull();
    expect(winogradStride({ ...base, activation: 'relu', hasPrelu: true })).toBeNull();
    expect(winogradStride({ ...base, x: info([2, 14, 14, 16], 'int32') })).toBeNull();
    // And such a convolution still runs, through wasm's own kernel, with tfjs's answer.
    const c: Case = { name: 'relu6', x: [2, 9, 9, 4], filter: [5, 5, 4, 8], stride: 2, pad: 'same', bias: true, activation: 'relu' };
    const before = cachedFilterTransforms().made;
    const relu6 = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(fixedValues(2 * 9 * 9 * 4, 1), c.x);
        const f = tf.tensor4d(fixedValues(5 * 5 * 4 * 8, 2), c.filter);
        return tf.fused.conv2d({ x, filter: f, strides: 2, pad: 'same', activation: 'relu6' }).dataSync() as Float32Array;
      });
    };
    const ours = await relu6('wasm');
    await tf.setBackend('wasm');
    expect(cachedFilterTransforms().made, 'no transform made: the kernel did not take it').toBe(before);
    const { diff } = maxAbsDiff(ours, await relu6('cpu'));
    expect(diff).toBeLessThan(1e-5);
    await tf.setBackend('wasm');
  });

  it('declines, without throwing, a backend whose memory it cannot reach (tfjs then computes)', () => {
    const fake = { wasm: { _malloc: () => 0, _free: () => undefined }, dataIdMap: { get: () => undefined, has: () => false }, makeOutput: () => { throw new Error('not reached'); } };
    const info = (shape: number[]) => ({ dataId: {}, shape, dtype: 'float32' as const });
    expect(winogradConv(fake as unknown as Parameters<typeof winogradConv>[0], { x: info([1, 14, 14, 16]), filter: info([5, 5, 16, 32]), strides: 2, pad: 'same' })).toBeNull();
  });
});

describe('transformSpans', () => {
  it('skips the phases whose third tap is zero at the ∞ points: 400 of 484 phase blocks per sample are left', () => {
    const cin = 16, cout = 32;
    const u = transformFilter(Float32Array.from(fixedValues(5 * 5 * cin * cout, 11)), 2, cin, cout);
    const spans = transformSpans(u, 4 * cin, cout);
    expect(spans.length).toBe(121 * 8);
    let products = 0;
    for (let p = 0; p < 121; p++) {
      const [ka0, ka1, kb0, kb1, ca0, ca1, cb0, cb1] = spans.subarray(8 * p, 8 * p + 8);
      products += (ka1 - ka0 + kb1 - kb0) * (ca1 - ca0 + cb1 - cb0);
      // Every value outside the segments is zero.
      for (let k = 0; k < 4 * cin; k++) {
        const inK = (k >= ka0 && k < ka1) || (k >= kb0 && k < kb1);
        for (let c = 0; c < cout; c++) {
          const inC = (c >= ca0 && c < ca1) || (c >= cb0 && c < cb1);
          if (!inK || !inC) expect(Math.abs(u[(p * 4 * cin + k) * cout + c])).toBe(0);
        }
      }
    }
    expect(products).toBe(400 * cin * cout);
    // The 6 × 6 type's point (5, 0): the phases of two taps down (rh = 1, rows 32…63) are zero;
    // its point (0, 5): those of two taps across (rw = 1: rows 16…31 and 48…63); (5, 5): all but the first.
    expect(Array.from(spans.subarray(8 * 30, 8 * 30 + 4))).toEqual([0, 32, 64, 64]);
    expect(Array.from(spans.subarray(8 * 5, 8 * 5 + 4))).toEqual([0, 16, 32, 48]);
    expect(Array.from(spans.subarray(8 * 35, 8 * 35 + 4))).toEqual([0, 16, 64, 64]);
    // The columns are all used at stride 2.
    expect(Array.from(spans.subarray(8 * 35 + 4, 8 * 36))).toEqual([0, 32, 32, 32]);
  });
});

describe('transformFilter', () => {
  it('puts a stride-2 5×5 tap where its phase reads it: U at ξ = (0, 0) is g[0][0] / 16', () => {
    // G's first row is (1/4, 0, 0): U[0][k][co] = g[0][0] / 16 for every phase k.
    const w = new Float32Array(25).map((_, i) => i + 1); // cin = cout = 1: w[kh][kw] = 5 kh + kw + 1
    const u = transformFilter(w, 2, 1, 1);
    expect(u.length, 'four tile types: 36 + 30 + 30 + 25 points').toBe(121 * 4);
    // Phase (rh, rw) starts at tap (rh, rw): values 1, 2, 6, 7.
    expect(Array.from(u.subarray(0, 4))).toEqual([1 / 16, 2 / 16, 6 / 16, 7 / 16]);
    // ξ = (5, 5): G's last row is (0, 0, 1), so U = g[2][2]; phase (0, 0) has tap (4, 4) = 25 there,
    // the others fall past the 5th tap: 0.
    expect(Array.from(u.subarray(35 * 4, 36 * 4))).toEqual([25, 0, 0, 0]);
    // The 3 × 3-output edge tiles' block (5 × 5 points) comes last, after 36 + 30 + 30 points:
    // F(3, 3)'s G starts (1/2, 0, 0) and ends (0, 0, 1).
    const last = u.subarray(96 * 4);
    expect(Array.from(last.subarray(0, 4))).toEqual([1 / 4, 2 / 4, 6 / 4, 7 / 4]);
    expect(Array.from(last.subarray(24 * 4, 25 * 4))).toEqual([25, 0, 0, 0]);
  });
});
