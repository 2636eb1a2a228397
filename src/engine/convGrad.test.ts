/**
 * Checks the forward-convolution Conv2D gradients (convGrad.ts) on the wasm backend against
 * tfjs's own gradients on the cpu backend, which are the reference implementation.
 *
 * Tolerance: max |ours - reference| <= 1e-4 * max(1, max |reference|). Inputs, filters and
 * upstream gradients are uniform in [-1, 1], so gradients are sums of O(1) products and the
 * float32 rounding of two different summation orders stays near 1e-6 of their magnitude.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conv2dFilterGradViaForward,
  conv2dInputGradViaForward,
  registerFastConvGradients,
  unregisterFastConvGradients,
  withWeightCache,
  type Conv2DPad,
} from './convGrad';
import { MASKED_MATMUL, maskedMatMulTransposeB } from './ops';

type Shape4 = [number, number, number, number];

/** Relative tolerance, see the file comment. */
const TOLERANCE = 1e-4;

/** mulberry32: a tiny seeded generator, so every run and both backends see the same numbers. */
function uniform(size: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Reads a tensor back and disposes it. */
async function take(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Asserts |actual - expected| <= TOLERANCE * max(1, max |expected|), and equal lengths. */
function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
  }
  expect(maxDiff, `${what}: max |diff| (max |ref| = ${maxRef})`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, maxRef));
}

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Conv2DPad;
}

/** The brief's grid (batch, input, filter, stride, padding, odd/even sizes) plus padding edge cases. */
function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  const inputs: Array<[number, number, number]> = [[28, 28, 1], [27, 27, 1], [14, 14, 16], [13, 13, 16]];
  for (const n of [1, 8]) {
    for (const [h, w, c] of inputs) {
      for (const k of [3, 5]) {
        for (const s of [1, 2]) {
          for (const pad of ['same', 'valid'] as const) {
            cases.push({ name: `N${n} ${h}x${w}x${c} k${k} s${s} ${pad}`, x: [n, h, w, c], filter: [k, k, c, 8], strides: s, pad });
          }
        }
      }
    }
  }
  // Even filters with 'same' need the crop path (aligning the phases would cost a tap).
  cases.push({ name: 'even filter 4x4 s2 same', x: [2, 14, 14, 3], filter: [4, 4, 3, 5], strides: 2, pad: 'same' });
  cases.push({ name: 'even filter 2x2 s2 valid', x: [2, 9, 9, 3], filter: [2, 2, 3, 5], strides: 2, pad: 'valid' });
  cases.push({ name: 'stride 3 > half the filter', x: [2, 11, 10, 2], filter: [3, 3, 2, 4], strides: 3, pad: 'same' });
  cases.push({ name: '1x1 filter stride 2 (a phase with no taps)', x: [2, 9, 8, 4], filter: [1, 1, 4, 6], strides: 2, pad: 'valid' });
  cases.push({ name: 'unequal strides [2, 1]', x: [2, 13, 12, 3], filter: [3, 5, 3, 4], strides: [2, 1], pad: 'same' });
  cases.push({ name: 'unequal strides [1, 3] valid', x: [2, 12, 13, 3], filter: [5, 3, 3, 4], strides: [1, 3], pad: 'valid' });
  // With >= 8 input channels the input gradient runs one conv per phase (skipping zero taps).
  cases.push({ name: 'per-phase convs: unequal strides [2, 1]', x: [2, 13, 12, 8], filter: [3, 5, 8, 4], strides: [2, 1], pad: 'same' });
  cases.push({ name: 'per-phase convs: stride 3, odd sizes', x: [2, 11, 10, 9], filter: [5, 4, 9, 4], strides: 3, pad: 'same' });
  cases.push({ name: 'per-phase convs: explicit asymmetric pad', x: [2, 10, 9, 8], filter: [5, 5, 8, 4], strides: 2, pad: [[0, 0], [0, 3], [2, 1], [0, 0]] });
  cases.push({ name: 'numeric pad 1', x: [2, 10, 11, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1 });
  cases.push({ name: 'numeric pad 2', x: [2, 10, 10, 3], filter: [5, 5, 3, 4], strides: 1, pad: 2 });
  cases.push({
    name: 'explicit asymmetric pad',
    x: [2, 10, 9, 3],
    filter: [3, 3, 3, 4],
    strides: 2,
    pad: [[0, 0], [0, 3], [2, 1], [0, 0]],
  });
  cases.push({
    name: 'explicit pad larger than the filter',
    x: [1, 6, 6, 2],
    filter: [3, 3, 2, 3],
    strides: 2,
    pad: [[0, 0], [4, 5], [1, 4], [0, 0]],
  });
  return cases;
}

/** Deterministic x, filter and dy for a case (dy shaped like the forward output). */
function caseData(c: ConvCase): { x: Float32Array; filter: Float32Array; dy: Float32Array; yShape: Shape4 } {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  const yShape = info.outShape as Shape4;
  return {
    x: uniform(sizeOf(c.x), 1),
    filter: uniform(sizeOf(c.filter), 2),
    dy: uniform(sizeOf(yShape), 3),
    yShape,
  };
}

/** tfjs's own gradients of conv2d on the cpu backend: dL/dx and dL/dW for L = sum(y * dy). */
async function cpuReference(c: ConvCase): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend('cpu');
  const d = caseData(c);
  const [dx, dw] = tf.tidy(() => {
    const x = tf.tensor4d(d.x, c.x);
    const filter = tf.tensor4d(d.filter, c.filter);
    const dy = tf.tensor4d(d.dy, d.yShape);
    return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad))([x, filter], dy);
  });
  return { dx: await take(dx), dw: await take(dw) };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerFastConvGradients();
});

afterAll(async () => {
  await tf.setBackend('wasm');
  registerFastConvGradients();
});

describe('forward-convolution gradient helpers on wasm', () => {
  it.each(convCases())('$name', async (c) => {
    const ref = await cpuReference(c);
    await tf.setBackend('wasm');
    const d = caseData(c);
    const x = tf.tensor4d(d.x, c.x);
    const filter = tf.tensor4d(d.filter, c.filter);
    const dy = tf.tensor4d(d.dy, d.yShape);
    try {
      expectClose(await take(conv2dInputGradViaForward(dy, filter, c.x, c.strides, c.pad)), ref.dx, 'dx');
      expectClose(await take(conv2dFilterGradViaForward(x, dy, c.filter, c.strides, c.pad)), ref.dw, 'dW');
    } finally {
      tf.dispose([x, filter, dy]);
    }
  });

  it('skip the zero taps of a strided filter with one conv per phase when there are >= 8 input channels, unless Winograd takes the stacked 3x3 conv', async () => {
    // The CNN's second layer: 5x5, stride 2, 'same' on 14x14x16. Its phases hold 2x2, 2x3, 3x2
    // and 3x3 of the 25 taps; one conv over all phases would run 4 x 3x3 = 36, which Ravine's
    // Winograd kernel (registered with the gradients) does in a quarter of the multiply-adds,
    // writing the phases to their rows itself (no transpose after it).
    const kernels = async (cin: number) => {
      const dy = tf.tensor4d(uniform(2 * 7 * 7 * 32, 3), [2, 7, 7, 32]);
      const filter = tf.tensor4d(uniform(5 * 5 * cin * 32, 2), [5, 5, cin, 32]);
      try {
        const info = await tf.profile(() => {
          tf.dispose(conv2dInputGradViaForward(dy, filter, [2, 14, 14, cin], 2, 'same'));
        });
        return info.kernels.map((k) => `${k.name} ${(/Conv2D$/.test(k.name) ? k.inputShapes[1]?.slice(0, 2) : k.inputShapes[0])?.join('x')}`);
      } finally {
        tf.dispose([dy, filter]);
      }
    };
    const convFilters = async (cin: number) =>
      (await kernels(cin)).filter((k) => k.startsWith('Conv2D ')).map((k) => k.slice('Conv2D '.length));
    const withKernel = await kernels(16);
    expect(withKernel.filter((k) => /Conv2D /.test(k)), 'with the Winograd kernel').toEqual(['RavinePhaseConv2D 3x3']);
    // The depth-to-space would be a transpose of [N·Qh, Qw, sh, sw·Cin] = [14, 7, 2, 32] (the phase
    // filter's derivation from the weight runs transposes of its own, of the filter's size).
    expect(withKernel, 'depth-to-space in the kernel').not.toContain('Transpose 14x7x2x32');
    unregisterFastConvGradients();
    try {
      expect((await convFilters(16)).sort(), 'with wasm\'s own Conv2D').toEqual(['2x2', '2x3', '3x2', '3x3']);
      // One input channel: a phase conv would have a single output column; one conv does better.
      expect(await convFilters(1)).toEqual(['3x3']);
    } finally {
      registerFastConvGradients();
    }
  });

  it('also run unchanged on the cpu backend (pure tf ops)', async () => {
    const c: ConvCase = { name: 'cpu', x: [3, 13, 12, 4], filter: [5, 5, 4, 6], strides: 2, pad: 'same' };
    const ref = await cpuReference(c);
    const d = caseData(c);
    const x = tf.tensor4d(d.x, c.x);
    const filter = tf.tensor4d(d.filter, c.filter);
    const dy = tf.tensor4d(d.dy, d.yShape);
    try {
      expectClose(await take(conv2dInputGradViaForward(dy, filter, c.x, c.strides, c.pad)), ref.dx, 'dx');
      expectClose(await take(conv2dFilterGradViaForward(x, dy, c.filter, c.strides, c.pad)), ref.dw, 'dW');
    } finally {
      tf.dispose([x, filter, dy]);
    }
  });
});

describe('input gradients through a ReLU (the mask applied as Ravine\'s kernel reads dy)', () => {
  // The CNNs' layers: the second (phases write rows of 2 × 16 channels) and the first (one input
  // channel: rows of 2 values, half a vector each); odd sizes (5×5/2 'valid' on 13×11: a crop
  // after the kernel); and padding so wide that dy's edge rows only meet it, where dy is cut
  // first and the mask is applied before, by tfjs ops.
  const cases: { name: string; x: Shape4; filter: Shape4; pad: Conv2DPad; inKernel: boolean }[] = [
    { name: 'second layer, 5×5/2 16 → 32', x: [5, 14, 14, 16], filter: [5, 5, 16, 32], pad: 'same', inKernel: true },
    { name: 'first layer, 5×5/2 1 → 16', x: [3, 28, 28, 1], filter: [5, 5, 1, 16], pad: 'same', inKernel: true },
    { name: "odd size, 'valid'", x: [2, 13, 11, 4], filter: [5, 5, 4, 8], pad: 'valid', inKernel: true },
    { name: 'explicit padding of 6', x: [2, 9, 9, 4], filter: [5, 5, 4, 8], pad: [[0, 0], [6, 6], [6, 6], [0, 0]], inKernel: false },
  ];
  for (const [i, c] of cases.entries()) {
    it(`gives the gradient of dy ⊙ step(y): ${c.name}`, async () => {
      await tf.setBackend('wasm');
      const yShape = tf.backend_util.computeConv2DInfo(c.x, c.filter, 2, 1, c.pad).outShape as Shape4;
      const dyValues = uniform(sizeOf(yShape), 40 + i);
      const yValues = uniform(sizeOf(yShape), 50 + i); // half of it ≤ 0: masked
      const wValues = uniform(sizeOf(c.filter), 60 + i);
      const before = tf.memory().numTensors;
      const [fused, unfused] = tf.tidy(() => {
        const dy = tf.tensor4d(dyValues, yShape);
        const y = tf.tensor4d(yValues, yShape);
        const w = tf.tensor4d(wValues, c.filter);
        return [
          conv2dInputGradViaForward(dy, w, c.x, 2, c.pad, undefined, y),
          conv2dInputGradViaForward(tf.mul(dy, tf.step(y)) as tf.Tensor4D, w, c.x, 2, c.pad),
        ];
      });
      const [a, b] = [await take(fused), await take(unfused)];
      expect(tf.memory().numTensors, 'no tensor left').toBe(before);
      let diff = 0;
      for (let k = 0; k < b.length; k++) diff = Math.max(diff, Math.abs(a[k] - b[k]));
      expect(a.length).toBe(sizeOf(c.x));
      expect(diff, 'the same values as masking first').toBe(0);
      const ran = await kernelsRun(() => {
        const dy = tf.tensor4d(dyValues, yShape);
        const y = tf.tensor4d(yValues, yShape);
        const w = tf.tensor4d(wValues, c.filter);
        return [dy, y, w, conv2dInputGradViaForward(dy, w, c.x, 2, c.pad, undefined, y)];
      });
      expect(ran.has('Step'), 'a Step kernel of its own').toBe(!c.inKernel);
      expect(ran.has('RavinePhaseConv2D'), 'the phase convolution in Ravine\'s kernel').toBe(true);
      await tf.setBackend('cpu');
      const ref = tf.tidy(() => {
        const dy = tf.tensor4d(dyValues, yShape);
        const masked = tf.mul(dy, tf.step(tf.tensor4d(yValues, yShape))) as tf.Tensor4D;
        return tf.conv2dTranspose(masked, tf.tensor4d(wValues, c.filter), c.x, 2, c.pad as 'same').dataSync() as Float32Array;
      });
      await tf.setBackend('wasm');
      expectClose(a, ref, 'against cpu');
    });
  }

  it('computes the phase convolution with tfjs ops where Ravine\'s kernel declines it (rows of 6 channels)', async () => {
    await tf.setBackend('wasm');
    const run = (rowSplit: number) =>
      tf.tidy(() => {
        const x = tf.tensor4d(uniform(2 * 7 * 7 * 8, 70), [2, 7, 7, 8]);
        const mask = tf.tensor4d(uniform(2 * 7 * 7 * 8, 71), [2, 7, 7, 8]);
        const filter = tf.tensor4d(uniform(3 * 3 * 8 * 12, 72), [3, 3, 8, 12]);
        const pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
        const z = tf.engine().runKernel('RavinePhaseConv2D', { x, filter, mask }, { pad, rowSplit } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const plain = tf.conv2d(tf.mul(x, tf.step(mask)) as tf.Tensor4D, filter, 1, pad as unknown as 'same');
        const split = tf.reshape(tf.transpose(tf.reshape(plain, [14, 7, rowSplit, 12 / rowSplit]), [0, 2, 1, 3]), [2, 7 * rowSplit, 7, 12 / rowSplit]);
        return [z, split].map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
      });
    const before = tf.memory().numTensors;
    for (const rowSplit of [1, 2, 3]) {
      // 12 / 2 = 6 channels a row: not what the kernel writes (2 or a multiple of 4), so tfjs ops run it.
      const [z, ref] = run(rowSplit);
      expect(z.shape, `rowSplit ${rowSplit}`).toEqual(ref.shape);
      let diff = 0;
      for (let k = 0; k < ref.values.length; k++) diff = Math.max(diff, Math.abs(z.values[k] - ref.values[k]));
      expect(diff, `rowSplit ${rowSplit}`).toBeLessThanOrEqual(1e-5);
    }
    expect(tf.memory().numTensors, 'no tensor left').toBe(before);
  });
});

/** Kernel names run by `f` (nested ones included). */
async function kernelsRun(f: () => tf.Tensor | tf.Tensor[]): Promise<Set<string>> {
  const info = await tf.profile(() => {
    tf.dispose(f());
  });
  return new Set(info.kernels.map((k) => k.name));
}

describe('registered Conv2D gradient', () => {
  const c: ConvCase = { name: 'grad', x: [4, 14, 14, 3], filter: [5, 5, 3, 6], strides: 2, pad: 'same' };
  const gradsOf = (x: tf.Tensor, filter: tf.Tensor, dy: tf.Tensor) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad))([x, filter], dy);

  it('on wasm matches tfjs on cpu and runs no backprop kernel', async () => {
    const ref = await cpuReference(c);
    await tf.setBackend('wasm');
    const d = caseData(c);
    const x = tf.tensor4d(d.x, c.x);
    const filter = tf.tensor4d(d.filter, c.filter);
    const dy = tf.tensor4d(d.dy, d.yShape);
    try {
      const [dx, dw] = gradsOf(x, filter, dy);
      expectClose(await take(dx), ref.dx, 'dx');
      expectClose(await take(dw), ref.dw, 'dW');
      const kernels = await kernelsRun(() => gradsOf(x, filter, dy));
      expect(kernels.has('Conv2D')).toBe(true);
      expect(kernels.has('Conv2DBackpropInput')).toBe(false);
      expect(kernels.has('Conv2DBackpropFilter')).toBe(false);
    } finally {
      tf.dispose([x, filter, dy]);
    }
  });

  it('off wasm delegates to the native backprop kernels', async () => {
    await tf.setBackend('cpu');
    const d = caseData(c);
    const x = tf.tensor4d(d.x, c.x);
    const filter = tf.tensor4d(d.filter, c.filter);
    const dy = tf.tensor4d(d.dy, d.yShape);
    try {
      const kernels = await kernelsRun(() => gradsOf(x, filter, dy));
      expect(kernels.has('Conv2DBackpropInput')).toBe(true);
      expect(kernels.has('Conv2DBackpropFilter')).toBe(true);
    } finally {
      tf.dispose([x, filter, dy]);
    }
  });

  it('falls back to tfjs for dilation > 1 (whose gradient tfjs does not support)', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 9, 9, 2]) as tf.Tensor4D;
    const filter = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
    try {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', 2));
      expect(() => g([x, filter])).toThrow(/dilation rates greater than 1/);
    } finally {
      tf.dispose([x, filter]);
    }
  });

  it('is idempotent, and unregistering restores the native wasm behaviour', async () => {
    await tf.setBackend('wasm');
    const d = caseData(c);
    const x = tf.tensor4d(d.x, c.x);
    const filter = tf.tensor4d(d.filter, c.filter);
    const dy = tf.tensor4d(d.dy, d.yShape);
    try {
      unregisterFastConvGradients();
      // Native wasm: no Conv2DBackpropFilter kernel, so any filter gradient throws.
      expect(() => gradsOf(x, filter, dy)).toThrow(/Conv2DBackpropFilter/);
      registerFastConvGradients();
      registerFastConvGradients();
      const [dx, dw] = gradsOf(x, filter, dy);
      tf.dispose([dx, dw]);
      const kernels = await kernelsRun(() => gradsOf(x, filter, dy));
      expect(kernels.has('Conv2DBackpropInput')).toBe(false);
    } finally {
      registerFastConvGradients();
      tf.dispose([x, filter, dy]);
    }
  });
});

describe('fused conv2d (linear activation stays fused while recording)', () => {
  it('gradients w.r.t. x, filter and bias on wasm match cpu', async () => {
    const c: ConvCase = { name: 'fused', x: [4, 13, 13, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' };
    const d = caseData(c);
    const bias = uniform(5, 4);
    const run = async () => {
      const x = tf.tensor4d(d.x, c.x);
      const filter = tf.tensor4d(d.filter, c.filter);
      const b = tf.tensor1d(bias);
      const dy = tf.tensor4d(d.dy, d.yShape);
      try {
        const grads = tf.grads((xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
          tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ff as tf.Tensor4D, bias: bb, strides: c.strides, pad: c.pad as 'same' }),
        )([x, filter, b], dy);
        return Promise.all(grads.map(take));
      } finally {
        tf.dispose([x, filter, b, dy]);
      }
    };
    await tf.setBackend('cpu');
    const [rdx, rdw, rdb] = await run();
    await tf.setBackend('wasm');
    const [dx, dw, db] = await run();
    expectClose(dx, rdx, 'dx');
    expectClose(dw, rdw, 'dW');
    expectClose(db, rdb, 'dbias');
  });
});

/** conv(5x5, s2, same) -> relu -> conv(3x3, s1, valid) -> relu -> dense; L = sum(logits * c). */
interface NetData {
  x: Float32Array;
  w1: Float32Array;
  w2: Float32Array;
  wd: Float32Array;
  c: Float32Array;
}
const NET = { x: [4, 28, 28, 1] as Shape4, w1: [5, 5, 1, 8] as Shape4, w2: [3, 3, 8, 16] as Shape4, wd: [12 * 12 * 16, 10] };

function netData(): NetData {
  return {
    x: uniform(sizeOf(NET.x), 11),
    // Scaled by ~1/sqrt(fan-in) so activations, and hence gradients, stay of order 1.
    w1: uniform(sizeOf(NET.w1), 12, Math.sqrt(3 / 25)),
    w2: uniform(sizeOf(NET.w2), 13, Math.sqrt(3 / 72)),
    wd: uniform(sizeOf(NET.wd), 14, Math.sqrt(3 / NET.wd[0])),
    c: uniform(4 * 10, 15),
  };
}

/** Gradients of the net's objective w.r.t. [x, w1, w2, wd] on the active backend. */
async function netGrads(d: NetData): Promise<Float32Array[]> {
  const x = tf.tensor4d(d.x, NET.x);
  const w1 = tf.tensor4d(d.w1, NET.w1);
  const w2 = tf.tensor4d(d.w2, NET.w2);
  const wd = tf.tensor2d(d.wd, NET.wd as [number, number]);
  const c = tf.tensor2d(d.c, [4, 10]);
  try {
    const grads = tf.grads((...[xx, a, b, dd]: tf.Tensor[]) => {
      const h1 = tf.relu(tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, 2, 'same'));
      const h2 = tf.relu(tf.conv2d(h1, b as tf.Tensor4D, 1, 'valid'));
      const logits = tf.matMul(tf.reshape(h2, [4, -1]), dd as tf.Tensor2D);
      return tf.sum(tf.mul(logits, c));
    })([x, w1, w2, wd]);
    return await Promise.all(grads.map(take));
  } finally {
    tf.dispose([x, w1, w2, wd, c]);
  }
}

describe('small conv net', () => {
  it('input and filter gradients on wasm match tfjs on cpu', async () => {
    const d = netData();
    await tf.setBackend('cpu');
    const ref = await netGrads(d);
    await tf.setBackend('wasm');
    const ours = await netGrads(d);
    const names = ['dx', 'dW1', 'dW2', 'dWdense'];
    for (let i = 0; i < ref.length; i++) {
      // Guard against a vacuous comparison (e.g. a dead ReLU net with all-zero gradients).
      expect(Math.max(...ref[i].map(Math.abs)), names[i]).toBeGreaterThan(0.05);
      expectClose(ours[i], ref[i], names[i]);
    }
  });
});

describe('memory', () => {
  it('leaves tf.memory().numTensors unchanged (helpers, their errors, tf.grads, fused conv)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(uniform(2 * 13 * 13 * 3, 21), [2, 13, 13, 3]);
    const filter = tf.tensor4d(uniform(5 * 5 * 3 * 4, 22), [5, 5, 3, 4]);
    const bias = tf.tensor1d(uniform(4, 23));
    try {
      const before = tf.memory().numTensors;
      const dySame = tf.ones([2, 7, 7, 4]) as tf.Tensor4D;
      const dyValid = tf.ones([2, 5, 5, 4]) as tf.Tensor4D;
      tf.dispose([
        conv2dInputGradViaForward(dySame, filter, [2, 13, 13, 3], 2, 'same'),
        conv2dFilterGradViaForward(x, dySame, [5, 5, 3, 4], 2, 'same'),
        // 13 = 2*5 + 3: 'valid' leaves a row unread, which takes the crop paths.
        conv2dInputGradViaForward(dyValid, filter, [2, 13, 13, 3], 2, 'valid'),
        conv2dFilterGradViaForward(x, dyValid, [5, 5, 3, 4], 2, 'valid'),
      ]);
      tf.dispose([dySame, dyValid]);
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))([x, filter]));
      tf.dispose(
        tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, bias: c, strides: 2, pad: 'valid' }),
        )([x, filter, bias]),
      );
      // Errors (dy not shaped like the forward output) leave nothing behind either.
      const badDy = tf.ones([2, 7, 7, 5]) as tf.Tensor4D;
      expect(() => conv2dInputGradViaForward(badDy, filter, [2, 13, 13, 3], 2, 'same')).toThrow();
      expect(() => conv2dFilterGradViaForward(x, badDy, [5, 5, 3, 4], 2, 'same')).toThrow();
      badDy.dispose();
      // Not checked here: the dilation > 1 error path. tfjs's own gradient throws there and
      // the engine then leaks the tensors saved on the tape (2 here), with or without us.
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([x, filter, bias]);
    }
  });
});

/** A tiny CNN: one conv with relu (records Conv2D) and one linear conv (stays fused). */
function tinyCnn(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'valid' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

describe('training a tf.layers CNN on wasm', () => {
  const n = 6;
  const xs = uniform(n * 12 * 12, 31);
  const labels = Float32Array.from({ length: n * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));

  /** One SGD step (model.fit, one batch) from the given weights; returns the new weights. */
  async function oneStep(initial: Float32Array[]): Promise<Float32Array[]> {
    const model = tinyCnn();
    const x = tf.tensor4d(xs, [n, 12, 12, 1]);
    const y = tf.tensor2d(labels, [n, 3]);
    try {
      model.setWeights(initial.map((v, i) => tf.tensor(v, model.getWeights()[i].shape)));
      await model.fit(x, y, { epochs: 1, batchSize: n, shuffle: false, verbose: 0 });
      return await Promise.all(model.getWeights().map((w) => w.data() as Promise<Float32Array>));
    } finally {
      model.dispose();
      tf.dispose([x, y]);
    }
  }

  it('throws without registration', async () => {
    await tf.setBackend('wasm');
    unregisterFastConvGradients();
    const model = tinyCnn();
    const x = tf.tensor4d(xs, [n, 12, 12, 1]);
    const y = tf.tensor2d(labels, [n, 3]);
    try {
      await expect(model.fit(x, y, { epochs: 1, batchSize: n, verbose: 0 })).rejects.toThrow(/Conv2DBackpropFilter/);
    } finally {
      registerFastConvGradients();
      model.dispose();
      tf.dispose([x, y]);
    }
  });

  it('takes the same SGD step as tfjs on cpu after registration', async () => {
    await tf.setBackend('cpu');
    const seedModel = tinyCnn();
    const initial = await Promise.all(seedModel.getWeights().map((w) => w.data() as Promise<Float32Array>));
    seedModel.dispose();
    const ref = await oneStep(initial);
    await tf.setBackend('wasm');
    const ours = await oneStep(initial);
    for (let i = 0; i < ref.length; i++) {
      // The step must actually have moved every kernel, or the comparison proves nothing.
      if (i % 2 === 0) expect(ref[i].some((v, j) => v !== initial[i][j]), `weight ${i} moved`).toBe(true);
      expectClose(ours[i], ref[i], `weight ${i}`);
    }
  });
});

describe('BatchMatMul with transposed operands on wasm', () => {
  const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { name: 'a · b^T (a Dense layer input gradient)', a: [7, 13], b: [11, 13], ta: false, tb: true },
    { name: 'a^T · b (a Dense layer weight gradient)', a: [13, 7], b: [13, 11], ta: true, tb: false },
    { name: 'a^T · b^T', a: [13, 7], b: [11, 13], ta: true, tb: true },
    { name: 'batched a · b^T', a: [3, 5, 6], b: [3, 4, 6], ta: false, tb: true },
  ];

  async function product(backend: 'cpu' | 'wasm', c: (typeof cases)[number]): Promise<Float32Array> {
    await tf.setBackend(backend);
    const out = tf.tidy(() => tf.matMul(tf.tensor(uniform(sizeOf(c.a), 11), c.a), tf.tensor(uniform(sizeOf(c.b), 12), c.b), c.ta, c.tb));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  beforeAll(() => registerFastConvGradients());

  it.each(cases)('$name matches tfjs on cpu', async (c) => {
    const ref = await product('cpu', c);
    const ours = await product('wasm', c);
    expect(ours.length).toBe(ref.length);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
    await tf.setBackend('wasm');
  });

  it('leaves no tensors behind, and unregistering restores the native kernel', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(uniform(6 * 4, 3), [6, 4]);
    const b = tf.tensor(uniform(5 * 4, 4), [5, 4]);
    const before = tf.memory().numTensors;
    const fast = tf.matMul(a, b, false, true);
    expect(tf.memory().numTensors).toBe(before + 1);
    unregisterFastConvGradients();
    expect((tf.getKernel(tf.BatchMatMul, 'wasm') as unknown as Record<string, unknown>).__ravineFastConvGrad).toBeUndefined();
    const native = tf.matMul(a, b, false, true);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(fast, native))).dataSync()[0]);
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
    registerFastConvGradients();
    expect((tf.getKernel(tf.BatchMatMul, 'wasm') as unknown as Record<string, unknown>).__ravineFastConvGrad).toBe(true);
    tf.dispose([a, b, fast, native]);
    expect(tf.memory().numTensors).toBe(before - 2);
  });
});

describe('a Dense layer\'s input gradient through its ReLU on wasm (the mask applied as the product reads dy)', () => {
  beforeAll(() => registerFastConvGradients());

  it('gives the values of the ops in one kernel, also where the kernel declines, and leaves nothing behind', async () => {
    await tf.setBackend('wasm');
    expect(tf.getKernel(MASKED_MATMUL, 'wasm'), 'registered on wasm').toBeDefined();
    // 7 units (a tail past the last 4 in the masked copy) with 8 inputs (taken) and 6 (declined:
    // the ops run); and the CNN's dense layer on a batch of 64.
    for (const [m, units, inputs] of [[5, 7, 8], [3, 7, 6], [64, 128, 1568]]) {
      const dy = tf.tensor2d(uniform(m * units, 21), [m, units]);
      const mask = tf.tensor2d(uniform(m * units, 22), [m, units]);
      const w = tf.tensor2d(uniform(inputs * units, 23), [inputs, units]);
      const before = tf.memory().numTensors;
      const ours = maskedMatMulTransposeB(dy, mask, w);
      expect(tf.memory().numTensors, 'one tensor out, nothing else').toBe(before + 1);
      const ops = tf.tidy(() => tf.matMul(tf.mul(dy, tf.step(mask)), w, false, true));
      expect(ours.shape).toEqual([m, inputs]);
      const a = (await ours.data()) as Float32Array;
      const b = (await ops.data()) as Float32Array;
      expect(Math.max(...Array.from(b, Math.abs)), 'a product to compare').toBeGreaterThan(0.01);
      expect(Array.from(a), `${m} × ${units} · (${inputs} × ${units})ᵀ`).toEqual(Array.from(b));
      tf.dispose([dy, mask, w, ours, ops]);
    }
    // Elsewhere it is the ops themselves.
    await tf.setBackend('cpu');
    const [dy, mask, w] = [tf.tensor2d(uniform(12, 24), [3, 4]), tf.tensor2d(uniform(12, 25), [3, 4]), tf.tensor2d(uniform(20, 26), [5, 4])];
    const cpu = tf.tidy(() => tf.sub(maskedMatMulTransposeB(dy, mask, w), tf.matMul(tf.mul(dy, tf.step(mask)), w, false, true)));
    expect(Array.from(await cpu.data()).every((v) => v === 0)).toBe(true);
    tf.dispose([dy, mask, w, cpu]);
    await tf.setBackend('wasm');
  });
});

describe('Identity and same-type Cast on wasm (what the tape saves inputs with; ReLU gradients)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerFastConvGradients();
  });

  it('shares the data instead of copying, and the clone outlives its source', () => {
    const before = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    const x = tf.tensor(uniform(1000, 5), [10, 100]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(tf.memory().numDataBuffers - buffers).toBe(1);
    const want = Array.from(x.dataSync());
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(want);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numDataBuffers).toBe(buffers);
  });

  it('so does a Cast to the same type; a real conversion still converts', () => {
    const x = tf.tensor([1.5, -2.25, 3]);
    const same = tf.cast(x, 'float32');
    const ints = tf.cast(x, 'int32');
    expect(same.dataId).toBe(x.dataId);
    expect(ints.dataId).not.toBe(x.dataId);
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([x, same, ints]);
  });

  it('unregistering restores the copying kernel', () => {
    unregisterFastConvGradients();
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    const c = tf.cast(x, 'float32');
    expect(y.dataId).not.toBe(x.dataId);
    expect(c.dataId).not.toBe(x.dataId);
    registerFastConvGradients();
    const z = tf.clone(x);
    expect(z.dataId).toBe(x.dataId);
    tf.dispose([x, y, c, z]);
  });
});

describe('withWeightCache', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerFastConvGradients();
  });

  /** A conv + dense net on variables (what a model's weights are), its input gradient, and a counter. */
  function net() {
    const w1 = tf.variable(tf.tensor(uniform(5 * 5 * 8 * 16, 21, 0.2), [5, 5, 8, 16]));
    const w2 = tf.variable(tf.tensor(uniform(7 * 7 * 16 * 10, 22, 0.05), [7 * 7 * 16, 10]));
    const f = (x: tf.Tensor) => tf.sum(tf.matMul(tf.reshape(tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor as tf.Tensor4D, 2, 'same')), [x.shape[0], -1]), w2));
    const grad = tf.grad(f);
    return { w1, w2, grad, dispose: () => tf.dispose([w1, w2]) };
  }

  it('gives the same gradients, keeps the derived weights for the scope only, and frees them on error', async () => {
    const { grad, dispose } = net();
    const x = tf.tensor(uniform(3 * 14 * 14 * 8, 23), [3, 14, 14, 8]);
    const plain = grad(x);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const cached = await withWeightCache(async () => {
      const gs: tf.Tensor[] = [];
      for (let i = 0; i < 3; i++) {
        gs.push(grad(x));
        counts.push(tf.memory().numTensors);
        await new Promise((r) => setTimeout(r, 0));
      }
      return gs;
    });
    // The first gradient adds the cached phase filters and transposes, later ones nothing more.
    expect(counts[1] - counts[0]).toBe(1);
    expect(counts[2] - counts[1]).toBe(1);
    expect(counts[0] - before).toBeGreaterThan(1);
    for (const g of cached) expect(Array.from(g.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose(cached);
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      withWeightCache(async () => {
        tf.dispose(grad(x));
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, plain]);
    dispose();
  });
});

