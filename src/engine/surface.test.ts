import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from './classifier';
import { computeDirections, randomDirection } from './directions';
import { computeSurface, gridAxis } from './surface';
import { fixedInputs, linearLogits, linearModel, smallCnn, useBackend } from './testSupport';

beforeAll(() => useBackend('wasm'));

function ceAndMargin(z: number[], y: number): { ce: number; margin: number } {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  const other = Math.max(...z.filter((_, k) => k !== y));
  return { ce: lse - z[y], margin: z[y] - other };
}

describe('surface on a linear softmax model', () => {
  it('equals the closed form at every grid point, clipping included', async () => {
    const f = linearModel([4, 4, 1], 3);
    const x = fixedInputs(1, f.D, 11);
    const label = 1;
    const d1 = randomDirection(f.D, 5, 'rademacher');
    const d2 = randomDirection(f.D, 6, 'gaussian');
    // Range 0.8 pushes many pixels outside [0, 1]: the closed form clips them as well.
    const a = gridAxis(0.8, 21);
    const b = gridAxis(0.6, 17);
    const s = await computeSurface(f.classifier, { x, label, d1, d2, a, b });
    expect(s.loss.length).toBe(21 * 17);
    let worst = 0;
    for (let j = 0; j < b.length; j++) {
      for (let i = 0; i < a.length; i++) {
        const xp = Array.from(x, (v, k) => Math.min(1, Math.max(0, v + a[i] * d1[k] + b[j] * d2[k])));
        const z = linearLogits(f, xp);
        const { ce, margin } = ceAndMargin(z, label);
        const p = j * a.length + i;
        worst = Math.max(worst, Math.abs(s.loss[p] - ce), Math.abs(s.margin[p] - margin));
        expect(s.pred[p]).toBe(z.indexOf(Math.max(...z)));
        const conf = 1 / z.reduce((acc, v) => acc + Math.exp(v - Math.max(...z)), 0);
        expect(s.confidence[p]).toBeCloseTo(conf, 5);
      }
    }
    // float32 arithmetic on 16 inputs: 1e-5 absolute on values of order 1.
    expect(worst).toBeLessThan(1e-5);
    f.model.dispose();
  });

  it('puts the decision boundary (margin = 0) exactly where the algebra says', async () => {
    // Two classes, inputs far inside a wide valid range so nothing clips: along d1 the margin
    // is M(a) = M0 + a·(w_y - w_o)·d1, which is zero at a* = -M0 / ((w_y - w_o)·d1).
    const f = linearModel([8], 2, 21, [-100, 100], 'linear');
    const x = fixedInputs(1, f.D, 3, -1, 1);
    const z0 = linearLogits(f, x);
    const label = z0[0] > z0[1] ? 0 : 1;
    const other = 1 - label;
    const dirs = await computeDirections(f.classifier, x, label, { adversarial: 'sign', random: 'rademacher', seed: 1, orthogonal: false });
    let slope = 0;
    for (let i = 0; i < f.D; i++) slope += (f.W[i * 2 + label] - f.W[i * 2 + other]) * dirs.d1[i];
    const aStar = -(z0[label] - z0[other]) / slope;
    expect(slope).toBeLessThan(0); // the adversarial direction lowers the margin
    const a = gridAxis(2 * aStar, 41);
    const s = await computeSurface(f.classifier, { x, label, d1: dirs.d1, d2: dirs.d2, a, b: [0] });
    const i = Array.from(s.margin).findIndex((m, k) => k > 0 && Math.sign(m) !== Math.sign(s.margin[k - 1]));
    expect(a[i - 1]).toBeLessThan(aStar);
    expect(a[i]).toBeGreaterThanOrEqual(aStar);
    // Linear interpolation of a linear function recovers its root.
    const root = a[i - 1] - (s.margin[i - 1] * (a[i] - a[i - 1])) / (s.margin[i] - s.margin[i - 1]);
    expect(Math.abs(root - aStar)).toBeLessThan(1e-5 * Math.max(1, Math.abs(aStar)));
    // The grid is symmetric: its clean point carries the clean margin.
    expect(s.margin[20]).toBeCloseTo(z0[label] - z0[other], 5);
    f.model.dispose();
  });
});

describe('surface on a small CNN', () => {
  it('batched evaluation equals one point at a time to 1e-5', async () => {
    const model = smallCnn();
    const c = createClassifier(model);
    const x = fixedInputs(1, c.inputSize, 9);
    const dirs = await computeDirections(c, x, 4, { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: true });
    const spec = { x, label: 4, d1: dirs.d1, d2: dirs.d2, a: gridAxis(0.3, 9), b: gridAxis(0.3, 7) };
    const batched = await computeSurface(c, spec);
    const single = await computeSurface(c, spec, { chunkSize: 1 });
    for (const key of ['loss', 'margin', 'confidence'] as const) {
      let worst = 0;
      for (let p = 0; p < batched[key].length; p++) worst = Math.max(worst, Math.abs(batched[key][p] - single[key][p]));
      expect(worst, key).toBeLessThan(1e-5);
    }
    expect(Array.from(batched.pred)).toEqual(Array.from(single.pred));
    model.dispose();
  });

  it('reports progress per chunk, can be aborted, and leaks no tensors either way', async () => {
    const model = smallCnn();
    const c = createClassifier(model);
    const x = fixedInputs(1, c.inputSize, 2);
    const d = randomDirection(c.inputSize, 1, 'rademacher');
    const spec = { x, label: 0, d1: d, d2: randomDirection(c.inputSize, 2, 'rademacher'), a: gridAxis(0.2, 11), b: gridAxis(0.2, 11) };
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    await computeSurface(c, spec, { chunkSize: 25, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([25, 50, 75, 100, 121]);
    expect(tf.memory().numTensors).toBe(before);

    const controller = new AbortController();
    const run = computeSurface(c, spec, {
      chunkSize: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 30) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);

    await expect(computeSurface(c, { ...spec, label: 12 })).rejects.toThrow(/Label 12 is outside the model's classes 0–9/);
    await expect(computeSurface(c, { ...spec, d1: new Float32Array(5) })).rejects.toThrow(/d1 has 5 values but the model's input has 144/);
    await expect(computeSurface(c, { ...spec, a: new Float32Array(1000) })).rejects.toThrow(/grid columns must be an integer between 1 and 401/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('gridAxis', () => {
  it('gives the same values when each chunk is issued before the last is read back (as on WebGL), and cleans up on abort', async () => {
    const model = smallCnn();
    const c = createClassifier(model);
    const x = fixedInputs(1, c.inputSize, 3);
    const spec = { x, label: 2, d1: randomDirection(c.inputSize, 3, 'rademacher'), d2: randomDirection(c.inputSize, 4, 'gaussian'), a: gridAxis(0.3, 9), b: gridAxis(0.3, 9) };
    const before = tf.memory().numTensors;
    const plain = await computeSurface(c, spec, { chunkSize: 20, overlapReadback: false });
    const progress: number[] = [];
    const overlapped = await computeSurface(c, spec, { chunkSize: 20, overlapReadback: true, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([20, 40, 60, 80, 81]);
    for (const key of ['loss', 'margin', 'pred', 'confidence'] as const) expect(Array.from(overlapped[key]), key).toEqual(Array.from(plain[key]));
    expect(tf.memory().numTensors).toBe(before);
    // Aborted while a chunk is issued and not yet read back: nothing stays behind.
    const controller = new AbortController();
    const run = computeSurface(c, spec, { chunkSize: 10, overlapReadback: true, signal: controller.signal, onProgress: (p) => p.done >= 20 && controller.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('is symmetric with an exact zero in the middle', () => {
    const a = gridAxis(0.3, 51);
    expect(a[0]).toBeCloseTo(-0.3, 7);
    expect(a[50]).toBeCloseTo(0.3, 7);
    expect(a[25]).toBe(0);
  });
});
