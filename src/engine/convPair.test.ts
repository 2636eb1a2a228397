/**
 * Two convolution layers in one kernel on wasm (ops.ts convPair, winograd.ts ravineConvPair,
 * kernels/as/winograd.ts convPair): the same kernels as the two layers one after the other, run a
 * few samples at a time, so the same bits; and a layer chain uses it only where nothing records.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { inputGradientChain, layerChain } from './layerChain';
import { CONV_PAIR, convPair, convPairOps, type PairLayer } from './ops';
import { fixedValues } from './testSupport';
import { useWasmWithRavineKernels } from './wasmTestSetup';
import { ravineKernelCalls } from './winograd';

useWasmWithRavineKernels();

/** The CNNs' two layers (5×5/2 1 → 16, then 5×5/2 16 → 32), from fixed values. */
function layers(bias1: boolean, bias2: boolean, activation: 'relu' | 'linear'): [PairLayer, PairLayer] {
  const filter1 = tf.tensor4d(fixedValues(5 * 5 * 16, 3, 0.5), [5, 5, 1, 16]);
  const filter2 = tf.tensor4d(fixedValues(5 * 5 * 16 * 32, 4, 0.2), [5, 5, 16, 32]);
  return [
    { filter: filter1, bias: bias1 ? tf.tensor1d(fixedValues(16, 5, 0.1)) : undefined, strides: [2, 2], pad: 'same', activation: 'relu' },
    { filter: filter2, bias: bias2 ? tf.tensor1d(fixedValues(32, 6, 0.1)) : undefined, strides: [2, 2], pad: 'same', activation },
  ];
}

function dispose(pair: [PairLayer, PairLayer]): void {
  for (const l of pair) tf.dispose([l.filter, ...(l.bias ? [l.bias] : [])]);
}

describe('two convolution layers in one kernel (wasm)', () => {
  for (const [bias1, bias2, activation, n] of [
    [true, true, 'relu', 150],
    [false, true, 'linear', 37],
    [true, false, 'relu', 1],
  ] as const) {
    it(`gives the bits of the two layers in turn: ${n} samples, bias ${bias1 ? 'and' : 'without'} / ${bias2 ? 'with' : 'without'} bias, ${activation} after the second`, () => {
      const pair = layers(bias1, bias2, activation);
      const x = tf.tensor4d(fixedValues(n * 28 * 28, 7), [n, 28, 28, 1]).clipByValue(0, 1) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const calls = ravineKernelCalls().convPair;
      const fused = convPair(x, pair[0], pair[1]);
      expect(ravineKernelCalls().convPair).toBe(calls + 1);
      expect(tf.memory().numTensors).toBe(before + 1);
      const separate = convPairOps(x, pair[0], pair[1]);
      expect(fused.shape).toEqual([n, 7, 7, 32]);
      const a = fused.dataSync();
      const b = separate.dataSync();
      let differ = 0;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
      expect(differ).toBe(0);
      // Not all zeros after the ReLU: the comparison means something.
      expect(a.some((v) => v > 0.01)).toBe(true);
      tf.dispose([x, fused, separate]);
      dispose(pair);
    });
  }

  it('leaves to tfjs what its kernels do not take (a second layer of 3 × 3 at stride 2), with the same values as the layers in turn', () => {
    const filter1 = tf.tensor4d(fixedValues(5 * 5 * 8, 3, 0.5), [5, 5, 1, 8]);
    const filter2 = tf.tensor4d(fixedValues(3 * 3 * 8 * 8, 4, 0.2), [3, 3, 8, 8]);
    const first: PairLayer = { filter: filter1, strides: [2, 2], pad: 'same', activation: 'relu' };
    const second: PairLayer = { filter: filter2, strides: [2, 2], pad: 'valid', activation: 'relu' };
    const x = tf.tensor4d(fixedValues(3 * 20 * 20, 9), [3, 20, 20, 1]);
    const calls = ravineKernelCalls().convPair;
    const fused = convPair(x, first, second);
    const separate = convPairOps(x, first, second);
    expect(ravineKernelCalls().convPair).toBe(calls);
    expect(Array.from(fused.dataSync())).toEqual(Array.from(separate.dataSync()));
    tf.dispose([x, fused, separate, filter1, filter2]);
  });
});

describe('a layer chain pairs its convolutions only where nothing records', () => {
  function cnn(): tf.Sequential {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: 'glorotUniform', biasInitializer: 'ones' }));
    m.add(tf.layers.conv2d({ filters: 32, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    return m;
  }

  it('runs the pair forward (same logits as without it) and not under tf.grad, whose gradient is unchanged', async () => {
    const model = cnn();
    const chain = inputGradientChain(layerChain(model) as tf.layers.Layer[], true);
    expect(chain).toBeDefined();
    const x = tf.tensor4d(fixedValues(20 * 28 * 28, 11), [20, 28, 28, 1]).clipByValue(0, 1);
    const before = tf.memory().numTensors;
    const calls = ravineKernelCalls().convPair;
    const paired = tf.tidy(() => chain!.forward(x));
    expect(ravineKernelCalls().convPair).toBe(calls + 1);
    expect(tf.memory().numTensors).toBe(before + 1);

    const config = tf.getKernel(CONV_PAIR, 'wasm')!;
    tf.unregisterKernel(CONV_PAIR, 'wasm');
    let plain: tf.Tensor;
    let gradWithout: tf.Tensor;
    try {
      plain = tf.tidy(() => chain!.forward(x));
      gradWithout = tf.grad((v: tf.Tensor) => tf.sum(chain!.forward(v)))(x);
    } finally {
      tf.registerKernel(config);
    }
    expect(Array.from(paired.dataSync())).toEqual(Array.from(plain.dataSync()));

    const profile = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(chain!.forward(v)))(x));
    expect(profile.kernels.map((k) => k.name)).not.toContain(CONV_PAIR);
    const gradWith = profile.result as tf.Tensor;
    expect(Array.from(gradWith.dataSync())).toEqual(Array.from(gradWithout.dataSync()));
    expect(gradWith.abs().max().dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, paired, plain, gradWithout, gradWith]);
    model.dispose();
  });
});
