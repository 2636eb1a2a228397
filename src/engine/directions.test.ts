import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from './classifier';
import { computeDirections, dot, l2Norm, orthogonalize, randomDirection } from './directions';
import { createRng } from './rng';
import { fixedInputs, linearModel, smallCnn, useBackend } from './testSupport';

beforeAll(() => useBackend('wasm'));
afterAll(() => useBackend('wasm'));

describe('seeded generator', () => {
  it('gives the same stream for the same seed and unrelated streams for nearby seeds', () => {
    const a = Array.from({ length: 1000 }, createRng(5).next);
    const b = Array.from({ length: 1000 }, createRng(5).next);
    const c = Array.from({ length: 1000 }, createRng(6).next);
    expect(a).toEqual(b);
    expect(a.filter((v, i) => v === c[i]).length).toBe(0);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03); // 1000 uniforms: sd of the mean ≈ 0.009
  });

  it('draws balanced Rademacher and unit-variance Gaussian entries', () => {
    const r = randomDirection(20000, 1, 'rademacher');
    expect(r.every((v) => v === 1 || v === -1)).toBe(true);
    expect(Math.abs(r.reduce((s, v) => s + v, 0) / r.length)).toBeLessThan(0.03);
    const g = randomDirection(20000, 1, 'gaussian');
    // Scaled to the norm of a Rademacher vector of the same size.
    expect(l2Norm(g)).toBeCloseTo(Math.sqrt(20000), 2);
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
  });
});

describe('directions', () => {
  it('same seed → identical directions twice and on two backends (wasm, cpu)', async () => {
    const f = linearModel([6, 6, 1], 4, 13);
    const x = fixedInputs(1, f.D, 4);
    const settings = { adversarial: 'sign' as const, random: 'gaussian' as const, seed: 42, orthogonal: true };
    const first = await computeDirections(f.classifier, x, 2, settings);
    const second = await computeDirections(f.classifier, x, 2, settings);
    f.model.dispose();
    await useBackend('cpu');
    const g = linearModel([6, 6, 1], 4, 13);
    const onCpu = await computeDirections(g.classifier, x, 2, settings);
    g.model.dispose();
    await useBackend('wasm');
    expect(Array.from(second.d1)).toEqual(Array.from(first.d1));
    expect(Array.from(second.d2)).toEqual(Array.from(first.d2));
    expect(Array.from(onCpu.d1)).toEqual(Array.from(first.d1));
    expect(Array.from(onCpu.d2)).toEqual(Array.from(first.d2));
    const other = randomDirection(f.D, 43, 'gaussian');
    expect(Array.from(other)).not.toEqual(Array.from(randomDirection(f.D, 42, 'gaussian')));
  });

  it('d1 is sign(∇x CE), which for a linear model is sign(W[:,k] weighted by p_k - 1{k=y})', async () => {
    const f = linearModel([5], 3, 2, [-10, 10], 'linear');
    const x = fixedInputs(1, 5, 6);
    const label = 0;
    const z = Array.from(f.c, Number);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 3; k++) z[k] += x[i] * f.W[i * 3 + k];
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = e.map((v) => v / e.reduce((s, w) => s + w, 0));
    const grad = Array.from({ length: 5 }, (_, i) => [0, 1, 2].reduce((s, k) => s + f.W[i * 3 + k] * (p[k] - (k === label ? 1 : 0)), 0));
    const d = await computeDirections(f.classifier, x, label, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false });
    expect(Array.from(d.d1)).toEqual(grad.map(Math.sign));
    expect(d.d1Source).toBe('cross-entropy');
    const raw = await computeDirections(f.classifier, x, label, { adversarial: 'gradient', random: 'rademacher', seed: 0, orthogonal: false });
    // The raw gradient, rescaled to the L2 norm of the sign vector (√5 here).
    expect(l2Norm(raw.d1)).toBeCloseTo(Math.sqrt(5), 5);
    const k = l2Norm(raw.d1) / Math.sqrt(grad.reduce((s, v) => s + v * v, 0));
    raw.d1.forEach((v, i) => expect(v).toBeCloseTo(grad[i] * k, 5));
    f.model.dispose();
  });

  it('Gram–Schmidt makes d2 orthogonal to d1 and keeps its norm', () => {
    const d1 = randomDirection(500, 1, 'rademacher');
    const d2 = randomDirection(500, 2, 'gaussian');
    const o = orthogonalize(d2, d1);
    expect(Math.abs(dot(o, d1)) / (l2Norm(o) * l2Norm(d1))).toBeLessThan(1e-6);
    expect(l2Norm(o)).toBeCloseTo(l2Norm(d2), 3);
  });

  it('falls back to the margin gradient when a saturated softmax zeroes the CE gradient', async () => {
    // Logits 200 apart: softmax is exactly one-hot in float32, so ∇CE is exactly 0.
    const f = linearModel([4], 2, 5, [-10, 10], 'linear');
    tf.tidy(() => f.model.layers[0].setWeights([tf.tensor2d([1, -1, 2, -2, 3, -3, 4, -4], [4, 2]), tf.tensor1d([100, -100])]));
    const d = await computeDirections(f.classifier, new Float32Array([0.1, 0.2, 0.3, 0.4]), 0, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false });
    expect(d.d1Source).toBe('margin');
    expect(Array.from(d.d1)).toEqual([-1, -1, -1, -1]);
    f.model.dispose();
  });

  it('accepts supplied directions and rejects ones of the wrong size', async () => {
    const model = smallCnn();
    const c = createClassifier(model);
    const x = fixedInputs(1, 144, 1);
    const mine = randomDirection(144, 9, 'gaussian');
    const d = await computeDirections(c, x, 3, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false }, { d1: mine });
    expect(d.d1Source).toBe('supplied');
    expect(Array.from(d.d1)).toEqual(Array.from(mine));
    await expect(computeDirections(c, x, 3, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false }, { d2: new Float32Array(10) })).rejects.toThrow(
      /supplied direction d2 has 10 values but the model's input has 144/,
    );
    const nan = mine.slice();
    nan[7] = Number.NaN;
    await expect(computeDirections(c, x, 3, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false }, { d1: nan })).rejects.toThrow(/NaN or Infinity at index 7/);
    model.dispose();
  });
});
