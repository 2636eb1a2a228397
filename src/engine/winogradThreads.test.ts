/**
 * The Winograd kernel in tfjs's threaded wasm build (shared memory), as the CLI's --threads and the
 * lab's worker run it: helper threads take a share of the samples, and the answer is the same.
 * A file of its own: threads must be enabled before the wasm backend starts, once per process.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableNodeWasmThreads } from '../cli/wasmThreads';
import { conv2dInputGradViaForward, registerFastConvGradients } from './convGrad';
import { convPair, convPairOps, maskedMatMulTransposeB, surfaceHead, surfaceInputs, surfaceInputsOps, type PairLayer } from './ops';
import { fixedValues } from './testSupport';
import { ravineKernelCalls, setWinogradHelperTestMode, wasmThreadCount, winogradHelpers } from './winograd';

let cleanup: (() => void) | undefined;

beforeAll(async () => {
  cleanup = enableNodeWasmThreads(2);
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastConvGradients();
  // The helper must take part in these tests' jobs, however busy the machine: the caller waits
  // for it to claim each job before taking shares itself (it does not in use).
  setWinogradHelperTestMode({ awaitClaimMs: 5000 });
});

/** `fn` with the helpers posted but not woken: the calling thread computes every share. */
function onCallerOnly<T>(fn: () => T): T {
  setWinogradHelperTestMode({ notify: false, awaitClaimMs: 0 });
  try {
    return fn();
  } finally {
    setWinogradHelperTestMode({ notify: true, awaitClaimMs: 5000 });
  }
}

afterAll(() => {
  setWinogradHelperTestMode({ awaitClaimMs: 0 });
  cleanup?.();
});


function conv(n: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(fixedValues(n * 14 * 14 * 16, 1), [n, 14, 14, 16]);
    const f = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 2), [5, 5, 16, 32]);
    const b = tf.tensor1d(fixedValues(32, 3));
    return tf.fused.conv2d({ x, filter: f, strides: 2, pad: 'same', bias: b, activation: 'relu' }).dataSync() as Float32Array;
  });
}

describe('Winograd kernel with helper threads', () => {
  it('splits a batch with a helper and gives the values of the cpu reference', async () => {
    expect(wasmThreadCount(), 'two threads for Ravine\'s kernels').toBe(2);
    expect((await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount(), 'and none beside the caller in XNNPACK\'s pool').toBe(1);
    conv(4); // starts the helper
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    expect(winogradHelpers()).toMatchObject({ started: 1, ready: 1 });
    const jobs = winogradHelpers().jobs;
    const n = 79; // 20 blocks of 4, the last one short: 10 for each thread (19.6M multiply-adds)
    const ours = conv(n);
    expect(winogradHelpers().jobs, 'the helper took a share').toBe(jobs + 1);
    expect(Array.from(onCallerOnly(() => conv(n))), 'the same bits with no share on the helper').toEqual(Array.from(ours));
    // A batch too small to be worth waking the helper for stays on the calling thread.
    conv(8);
    expect(winogradHelpers().jobs, 'no share for 8 samples (2.0M multiply-adds: two shares would hold under 1M each)').toBe(jobs + 1);
    // The same samples one at a time (no helper then: one block) give the same values, bit for bit.
    const alone = conv(1);
    expect(Array.from(alone)).toEqual(Array.from(ours.subarray(0, alone.length)));
    const last = tf.tidy(() => {
      const x = tf.tensor4d(fixedValues(n * 14 * 14 * 16, 1).subarray((n - 1) * 14 * 14 * 16), [1, 14, 14, 16]);
      const f = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 2), [5, 5, 16, 32]);
      const b = tf.tensor1d(fixedValues(32, 3));
      return tf.fused.conv2d({ x, filter: f, strides: 2, pad: 'same', bias: b, activation: 'relu' }).dataSync() as Float32Array;
    });
    expect(Array.from(last), 'the last sample alone').toEqual(Array.from(ours.subarray((n - 1) * last.length)));
    await tf.setBackend('cpu');
    const ref = conv(n);
    await tf.setBackend('wasm');
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < ref.length; i++) {
      diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
  });

  it('splits the direct convolution and the matrix product too, with the values of one thread', async () => {
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    const first = (n: number) =>
      tf.tidy(() => {
        const x = tf.tensor4d(fixedValues(n * 28 * 28, 4), [n, 28, 28, 1]);
        const f = tf.tensor4d(fixedValues(5 * 5 * 16, 5), [5, 5, 1, 16]);
        return tf.fused.conv2d({ x, filter: f, strides: 2, pad: 'same', activation: 'relu' }).dataSync() as Float32Array;
      });
    const dense = (m: number) =>
      tf.tidy(() => {
        const a = tf.tensor2d(fixedValues(m * 1568, 6), [m, 1568]);
        const w = tf.tensor2d(fixedValues(1568 * 128, 7), [1568, 128]);
        return tf.fused.matMul({ a, b: w, bias: tf.tensor1d(fixedValues(128, 8)), activation: 'relu' }).dataSync() as Float32Array;
      });
    for (const [name, fn, n, per] of [['direct1', first, 256, 14 * 14 * 16], ['gemm', dense, 200, 128]] as const) {
      const jobs = winogradHelpers().jobs;
      const calls = ravineKernelCalls()[name];
      const ours = fn(n); // 20.1M and 40.1M multiply-adds: two shares of at least MIN_SHARE_MACS (1M)
      expect(ravineKernelCalls()[name] - calls, `${name} ran`).toBe(1);
      expect(winogradHelpers().jobs, `the helper took a share of ${name}`).toBe(jobs + 1);
      expect(Array.from(onCallerOnly(() => fn(n))), `${name}: the same bits with no share on the helper`).toEqual(Array.from(ours));
      // The last sample (or row) alone, on the calling thread: the same values, bit for bit.
      const all = fn === first ? fixedValues(n * 28 * 28, 4) : fixedValues(n * 1568, 6);
      const size = all.length / n;
      const last = tf.tidy(() =>
        fn === first
          ? tf.fused.conv2d({ x: tf.tensor4d(all.subarray((n - 1) * size), [1, 28, 28, 1]), filter: tf.tensor4d(fixedValues(5 * 5 * 16, 5), [5, 5, 1, 16]), strides: 2, pad: 'same', activation: 'relu' }).dataSync()
          : tf.fused.matMul({ a: tf.tensor2d(all.subarray((n - 1) * size), [1, 1568]), b: tf.tensor2d(fixedValues(1568 * 128, 7), [1568, 128]), bias: tf.tensor1d(fixedValues(128, 8)), activation: 'relu' }).dataSync(),
      );
      expect(Array.from(last), `${name}: the last sample alone`).toEqual(Array.from(ours.subarray((n - 1) * per)));
    }
  });

  it('splits two convolution layers in one kernel, with the bits of the layers in turn', async () => {
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    const n = 150; // shares of 16 samples or more, each through both layers 64 at a time
    const [pairOut, separate, callerOnly] = tf.tidy(() => {
      const x = tf.tensor4d(fixedValues(n * 28 * 28, 8), [n, 28, 28, 1]).clipByValue(0, 1) as tf.Tensor4D;
      const first: PairLayer = { filter: tf.tensor4d(fixedValues(5 * 5 * 16, 9, 0.5), [5, 5, 1, 16]), bias: tf.tensor1d(fixedValues(16, 10, 0.1)), strides: [2, 2], pad: 'same', activation: 'relu' };
      const second: PairLayer = { filter: tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 11, 0.2), [5, 5, 16, 32]), bias: tf.tensor1d(fixedValues(32, 12, 0.1)), strides: [2, 2], pad: 'same', activation: 'relu' };
      const jobs = winogradHelpers().jobs;
      const calls = ravineKernelCalls().convPair;
      const out = convPair(x, first, second).dataSync() as Float32Array;
      expect(ravineKernelCalls().convPair).toBe(calls + 1);
      expect(winogradHelpers().jobs, 'the helper took a share').toBe(jobs + 1);
      return [out, convPairOps(x, first, second).dataSync() as Float32Array, onCallerOnly(() => convPair(x, first, second).dataSync() as Float32Array)];
    });
    expect(Array.from(pairOut)).toEqual(Array.from(separate));
    expect(Array.from(callerOnly), 'the same bits with no share on the helper').toEqual(Array.from(pairOut));
  });

  it("splits a loss surface's head (2048 rows of 10 logits), with the bits of one thread", async () => {
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    const z = tf.tensor2d(fixedValues(2048 * 10, 13).map((v) => 15 * v), [2048, 10]);
    const read = () => tf.tidy(() => surfaceHead(z, 4).map((t) => Array.from(t.dataSync())));
    const jobs = winogradHelpers().jobs;
    const split = read();
    expect(winogradHelpers().jobs, 'the helper took a share').toBe(jobs + 1);
    expect(onCallerOnly(read), 'the same bits with no share on the helper').toEqual(split);
    z.dispose();
  });

  it('splits an input gradient whose ReLU mask and depth-to-space the kernel applies, with the values of one thread', async () => {
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    const n = 79; // the second layer's input gradient: 19.6M multiply-adds, a share for the helper
    const dyAll = fixedValues(n * 7 * 7 * 32, 9);
    const yAll = fixedValues(n * 7 * 7 * 32, 10);
    const grad = (first: number, count: number, masked: 'kernel' | 'ops') =>
      tf.tidy(() => {
        const dy = tf.tensor4d(dyAll.subarray(first * 7 * 7 * 32, (first + count) * 7 * 7 * 32), [count, 7, 7, 32]);
        const y = tf.tensor4d(yAll.subarray(first * 7 * 7 * 32, (first + count) * 7 * 7 * 32), [count, 7, 7, 32]);
        const w = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 11), [5, 5, 16, 32]);
        const dx = masked === 'kernel'
          ? conv2dInputGradViaForward(dy, w, [count, 14, 14, 16], 2, 'same', undefined, y)
          : conv2dInputGradViaForward(tf.mul(dy, tf.step(y)) as tf.Tensor4D, w, [count, 14, 14, 16], 2, 'same');
        return dx.dataSync() as Float32Array;
      });
    const jobs = winogradHelpers().jobs;
    const ours = grad(0, n, 'kernel');
    expect(winogradHelpers().jobs, 'the helper took a share').toBe(jobs + 1);
    expect(Array.from(onCallerOnly(() => grad(0, n, 'kernel'))), 'the same bits with no share on the helper').toEqual(Array.from(ours));
    expect(Array.from(ours), 'as with the mask applied first').toEqual(Array.from(grad(0, n, 'ops')));
    const per = 14 * 14 * 16;
    expect(Array.from(grad(n - 1, 1, 'kernel')), 'the last sample alone').toEqual(Array.from(ours.subarray((n - 1) * per)));
  });

  it('splits a Dense layer\'s input gradient whose ReLU mask the matrix product applies, with the values of one thread', async () => {
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    const m = 200; // 40.1M multiply-adds: a share for the helper
    const grad = (first: number, count: number, masked: 'kernel' | 'ops') =>
      tf.tidy(() => {
        const dy = tf.tensor2d(fixedValues(m * 128, 12).subarray(first * 128, (first + count) * 128), [count, 128]);
        const y = tf.tensor2d(fixedValues(m * 128, 13).subarray(first * 128, (first + count) * 128), [count, 128]);
        const w = tf.tensor2d(fixedValues(1568 * 128, 14), [1568, 128]);
        const dx = masked === 'kernel' ? maskedMatMulTransposeB(dy, y, w) : tf.matMul(tf.mul(dy, tf.step(y)), w, false, true);
        return dx.dataSync() as Float32Array;
      });
    const jobs = winogradHelpers().jobs;
    const calls = ravineKernelCalls().gemm;
    const ours = grad(0, m, 'kernel');
    expect(ravineKernelCalls().gemm - calls, 'one matrix product').toBe(1);
    expect(winogradHelpers().jobs, 'the helper took a share').toBe(jobs + 1);
    expect(Array.from(onCallerOnly(() => grad(0, m, 'kernel'))), 'the same bits with no share on the helper').toEqual(Array.from(ours));
    expect(Array.from(ours), 'as with the mask applied first').toEqual(Array.from(grad(0, m, 'ops')));
    expect(Array.from(grad(m - 1, 1, 'kernel')), 'the last row alone').toEqual(Array.from(ours.subarray((m - 1) * 1568)));
  });

  it("splits a loss surface's chunk of inputs, value range included, with the values of the ops", async () => {
    for (let t = 0; t < 100 && winogradHelpers().ready < 1; t++) await new Promise((r) => setTimeout(r, 20));
    const n = 300; // 235,200 values: a share for the helper
    const shape = [1, 28, 28, 1];
    const inputs = () => [
      tf.tensor(fixedValues(784, 15).map((v) => (v + 1) / 2), shape),
      tf.tensor(fixedValues(784, 16), shape),
      tf.tensor(fixedValues(784, 17), shape),
      tf.tensor1d(fixedValues(n, 18)),
      tf.tensor1d(fixedValues(n, 19)),
    ] as const;
    // A range that is not [0, 1], with fractions: every thread reads it from the same memory.
    const batch = (fn: typeof surfaceInputs) => tf.tidy(() => fn(...inputs(), -0.25, 0.75).dataSync() as Float32Array);
    const jobs = winogradHelpers().jobs;
    const calls = ravineKernelCalls().surfaceBatch;
    const ours = batch(surfaceInputs);
    expect(ravineKernelCalls().surfaceBatch - calls, 'one pass of the kernel').toBe(1);
    expect(winogradHelpers().jobs, 'the helper took a share').toBe(jobs + 1);
    expect(Array.from(onCallerOnly(() => batch(surfaceInputs))), 'the same bits with no share on the helper').toEqual(Array.from(ours));
    expect(Array.from(ours), 'the ops\' values').toEqual(Array.from(batch(surfaceInputsOps)));
    expect(ours.some((v) => v === -0.25) && ours.some((v) => v === 0.75), 'clipped at both ends').toBe(true);
  });

  it('does the whole job on the calling thread when the helper does not wake, and the helper skips it later', async () => {
    const expected = conv(79);
    const before = winogradHelpers().jobs;
    // Posted but not woken: the caller takes every share, then claims the job back.
    expect(Array.from(onCallerOnly(() => conv(79)))).toEqual(Array.from(expected));
    expect(winogradHelpers().jobs, 'the helper took no part').toBe(before);
    // Woken at the next job, the helper finds the old one claimed back and takes part in the new one.
    expect(Array.from(conv(79))).toEqual(Array.from(expected));
    expect(winogradHelpers().jobs).toBe(before + 1);
  });

});
