import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from '../src/engine/classifier';
import { registerFastConvGradients } from '../src/engine/convGrad';
import { crossEntropy } from '../src/engine/ops';
import { fixedInputs, smallCnn, useBackend } from '../src/engine/testSupport';
import { isKernelEntry } from './jobs';

beforeAll(async () => {
  await useBackend('wasm');
  registerFastConvGradients();
});

describe('kernel profile entries', () => {
  it('keeps the kernels of a real gradient profile and leaves out the scopes that wrap them', async () => {
    const model = smallCnn(4);
    const c = createClassifier(model);
    const x = tf.tensor(fixedInputs(8, 144, 31), [8, 12, 12, 1]);
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const info = await tf.profile(() => {
      const g = tf.grad((xa: tf.Tensor) => tf.sum(crossEntropy(c.logits(xa), y)))(x);
      g.dispose();
    });
    const names = new Set(info.kernels.map((k) => k.name));
    const kept = [...names].filter(isKernelEntry);
    const dropped = [...names].filter((n) => !isKernelEntry(n));
    // Every kept entry is a kernel the backend runs; every dropped one is not.
    for (const n of kept) expect(tf.getKernel(n, 'wasm'), n).toBeDefined();
    for (const n of dropped) expect(tf.getKernel(n, 'wasm'), n).toBeUndefined();
    // The fused layers' and the loss's custom gradients, and op scopes, are among the dropped.
    expect(kept).toEqual(expect.arrayContaining(['FusedConv2D', '_FusedMatMul', 'Conv2D']));
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.some((n) => n.endsWith('__op'))).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});
