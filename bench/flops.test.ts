/**
 * The FLOP counts behind docs/benchmarks.md's floors, checked by hand on the built-in CNN's
 * architecture (two 5×5 stride-2 convolutions, then two dense layers).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardFlopsPerSample, winogradFlopsPerSample } from './flops';

const cnn = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }),
    tf.layers.conv2d({ filters: 32, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
const stride1 = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [9, 9, 3], filters: 4, kernelSize: 3, padding: 'valid' })] });

afterAll(() => {
  cnn.dispose();
  stride1.dispose();
});

describe('FLOPs per sample', () => {
  it('counts the nominal multiply-adds of each layer', () => {
    // conv1 14·14·16·25, conv2 7·7·32·25·16, dense 1568·128 + 128·10, 2 FLOPs each.
    expect(forwardFlopsPerSample(cnn)).toBe(2 * (78_400 + 627_200 + 200_704 + 1_280));
  });

  it('F(4×4) Winograd: stride phases 3×3, 3×2, 2×3, 2×2 cost 36 + 30 + 30 + 25 per tile and channel pair', () => {
    // conv1: 4 × 4 tiles (14 → 16 outputs a side), 1·16 channel pairs; conv2: 2 × 2 tiles, 16·32.
    const conv1 = 16 * 121 * 16;
    const conv2 = 4 * 121 * 16 * 32;
    expect(winogradFlopsPerSample(cnn, 4)).toBe(2 * (conv1 + conv2 + 200_704 + 1_280));
    expect(winogradFlopsPerSample(cnn, 4) / forwardFlopsPerSample(cnn)).toBeCloseTo(0.53, 2);
  });

  it('F(2×2): 16 + 12 + 12 + 9 per tile, on 7 × 7 and 4 × 4 tiles', () => {
    expect(winogradFlopsPerSample(cnn, 2)).toBe(2 * (49 * 49 * 16 + 16 * 49 * 512 + 200_704 + 1_280));
  });

  it('a stride-1 3×3 convolution: F(2×2) does 16 multiplications per 4 outputs against 36', () => {
    // 7 × 7 outputs → 4 × 4 tiles of 2 × 2 (the last row and column are padding).
    expect(winogradFlopsPerSample(stride1, 2)).toBe(2 * 16 * 16 * 3 * 4);
    expect(forwardFlopsPerSample(stride1)).toBe(2 * 49 * 9 * 3 * 4);
  });

  it('tiles of one output give back the nominal count', () => {
    expect(winogradFlopsPerSample(cnn, 1)).toBe(forwardFlopsPerSample(cnn));
    expect(winogradFlopsPerSample(stride1, 1)).toBe(forwardFlopsPerSample(stride1));
    expect(() => winogradFlopsPerSample(cnn, 0)).toThrow(/tile size 0/);
  });
});
