/**
 * Tensor discipline (DESIGN.md rule 6): every engine entry point leaves
 * tf.memory().numTensors where it found it, after success, after an abort, after an error.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adversarialAccuracy } from './attacks';
import { type Classifier, createClassifier } from './classifier';
import { adversarialGradient, computeDirections, randomDirection } from './directions';
import { computeMetric } from './metric';
import { computeSurface, gridAxis } from './surface';
import { fixedInputs, smallCnn, useBackend } from './testSupport';

beforeAll(() => useBackend('wasm'));

describe('no engine entry point leaks tensors', () => {
  it('holds for success, abort and error on every entry point', async () => {
    const model = smallCnn(12);
    const base = tf.memory().numTensors;
    const c = createClassifier(model);
    expect(tf.memory().numTensors).toBe(base);
    const x = fixedInputs(1, 144, 3);
    const xs = fixedInputs(6, 144, 4);
    const labels = [0, 1, 2, 3, 4, 5];
    const dirs = { d1: randomDirection(144, 1, 'rademacher'), d2: randomDirection(144, 2, 'rademacher') };
    const aborted = () => {
      const ctl = new AbortController();
      ctl.abort();
      return ctl.signal;
    };
    const jobs: [string, (signal?: AbortSignal) => Promise<unknown>, () => Promise<unknown>][] = [
      ['adversarialGradient', () => adversarialGradient(c, x, 1), () => adversarialGradient(c, x, 99)],
      [
        'computeDirections',
        () => computeDirections(c, x, 1, { adversarial: 'gradient', random: 'gaussian', seed: 0, orthogonal: true }),
        () => computeDirections(c, x.subarray(1), 1, { adversarial: 'sign', random: 'gaussian', seed: 0, orthogonal: false }),
      ],
      [
        'computeSurface',
        (signal) => computeSurface(c, { x, label: 1, ...dirs, a: gridAxis(0.2, 7), b: gridAxis(0.2, 7) }, { signal, chunkSize: 10 }),
        () => computeSurface(c, { x, label: 1, ...dirs, a: [0, Number.NaN], b: [0] }),
      ],
      [
        'computeMetric',
        (signal) => computeMetric(c, xs, { eps: 0.1, norm: 'linf', steps: 3, restarts: 2, normalize: true, seed: 0 }, { signal, chunkSize: 4 }),
        () => computeMetric(c, xs, { eps: 0.1, norm: 'linf', steps: -1, restarts: 1, normalize: true, seed: 0 }),
      ],
      [
        'adversarialAccuracy',
        (signal) => adversarialAccuracy(c, xs, labels, { method: 'pgd', norm: 'l2', eps: [0.5, 1], steps: 3, restarts: 1, seed: 0 }, { signal, chunkSize: 4 }),
        () => adversarialAccuracy(c, xs, [0, 1, 2, 3, 4, 10], { method: 'fgsm', norm: 'linf', eps: [0.1], steps: 0, restarts: 1, seed: 0 }),
      ],
    ];
    for (const [name, run, fail] of jobs) {
      await run();
      expect(tf.memory().numTensors, `${name} after success`).toBe(base);
      if (run.length > 0) {
        await expect(run(aborted()), `${name} aborted`).rejects.toMatchObject({ name: 'AbortError' });
        expect(tf.memory().numTensors, `${name} after abort`).toBe(base);
      }
      await expect(fail(), `${name} bad input`).rejects.toThrow();
      expect(tf.memory().numTensors, `${name} after error`).toBe(base);
    }
    // A model that throws mid-computation (a kernel error) must not leak either: through the
    // tape, and through the tape-free input gradient (failing at the logits, with the forward
    // pass's activations alive).
    const inputGradient = c.inputGradient as NonNullable<Classifier['inputGradient']>;
    expect(inputGradient).toBeDefined();
    let calls = 0;
    const fail = () => {
      if (++calls > 3) throw new Error('simulated kernel failure');
    };
    const flaky: Classifier = {
      ...c,
      logits: (t: tf.Tensor) => {
        fail();
        return c.logits(t);
      },
      inputGradient: (t, head) =>
        inputGradient(t, (z) => {
          fail();
          return head(z);
        }),
    };
    const taped: Classifier = { ...flaky, inputGradient: undefined };
    await expect(computeSurface(flaky, { x, label: 1, ...dirs, a: gridAxis(0.2, 9), b: gridAxis(0.2, 9) }, { chunkSize: 10 })).rejects.toThrow(/simulated kernel failure/);
    for (const m of [flaky, taped]) {
      calls = 0;
      await expect(computeMetric(m, xs, { eps: 0.1, norm: 'linf', steps: 5, restarts: 1, normalize: true, seed: 0 })).rejects.toThrow(/simulated kernel failure/);
      calls = 0;
      await expect(adversarialAccuracy(m, xs, labels, { method: 'pgd', norm: 'linf', eps: [0.1], steps: 5, restarts: 1, seed: 0 })).rejects.toThrow(/simulated kernel failure/);
    }
    expect(tf.memory().numTensors).toBe(base);
    c.dispose();
    model.dispose();
  });
});
