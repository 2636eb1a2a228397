/**
 * The L∞ PGD step (src/engine/pgd.ts `linfStep`): on wasm one pass of Ravine's kernel
 * (kernels/as/pgd.ts), elsewhere tfjs ops (ops.ts `linfStepOps`), with the same values. And the
 * metric's objective (ops.ts `KlToTarget`), value and gradient in one kernel on wasm, and a loss
 * surface's chunk of inputs (ops.ts `surfaceInputs`, kernels/as/surface.ts).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { LINF_STEP } from './convGrad';
import { useWasmWithRavineKernels } from './wasmTestSetup';
import { KL_TO_TARGET, klToTargetOps, KlToTarget, linfStepOps, SURFACE_BATCH, SURFACE_HEAD, surfaceHead, surfaceHeadOps, surfaceInputs, surfaceInputsOps } from './ops';
import { linfStep } from './pgd';
import { fixedValues } from './testSupport';
import { ravineLinfStep } from './winograd';

useWasmWithRavineKernels();

/** A batch of 105 values (not a multiple of 4): x in [0, 1], xAdv around it, g with both signs and zeros. */
function inputs(): { x: Float32Array; xAdv: Float32Array; g: Float32Array; shape: number[] } {
  const shape = [3, 7, 5, 1];
  const n = 105;
  const x = fixedValues(n, 1).map((v) => (v + 1) / 2);
  x[0] = 0;
  x[1] = 1;
  const xAdv = fixedValues(n, 2).map((v, i) => x[i] + 0.5 * v); // some beyond the ball (ε = 0.3)
  const g = fixedValues(n, 3).map((v, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : v * 1e-9 * (i % 3))); // tiny gradients, as a confident classifier's
  return { x, xAdv, g, shape };
}

async function step(backend: 'wasm' | 'cpu', how: 'step' | 'ops'): Promise<{ values: Float32Array; kernels: string[] }> {
  await tf.setBackend(backend);
  const d = inputs();
  const x = tf.tensor(d.x, d.shape);
  const xAdv = tf.tensor(d.xAdv, d.shape);
  const g = tf.tensor(d.g, d.shape);
  try {
    let values: Float32Array = new Float32Array();
    const info = await tf.profile(() => {
      const out = how === 'step' ? linfStep(x, xAdv, g, 0.0375, 0.3, 0, 1) : linfStepOps(x, xAdv, g, 0.0375, 0.3, 0, 1);
      values = out.dataSync() as Float32Array;
      out.dispose();
    });
    return { values, kernels: info.kernels.map((k) => k.name) };
  } finally {
    tf.dispose([x, xAdv, g]);
    await tf.setBackend('wasm');
  }
}

describe('L∞ PGD step', () => {
  it('runs as one kernel on wasm, with the values of the ops bit for bit', async () => {
    const before = tf.memory().numTensors;
    const fused = await step('wasm', 'step');
    expect(fused.kernels).toEqual([LINF_STEP]);
    const ops = await step('wasm', 'ops');
    expect(ops.kernels.length, 'the ops: ten kernels').toBeGreaterThanOrEqual(8);
    expect(Array.from(fused.values)).toEqual(Array.from(ops.values));
    expect(tf.memory().numTensors, 'no tensor left').toBe(before);
    // The step moved the iterates and kept them in the ball and in [0, 1].
    const { x } = inputs();
    let moved = 0;
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(fused.values[i] - x[i])).toBeLessThanOrEqual(0.3 + 1e-7);
      expect(fused.values[i]).toBeGreaterThanOrEqual(0);
      expect(fused.values[i]).toBeLessThanOrEqual(1);
      if (fused.values[i] !== x[i]) moved++;
    }
    expect(moved).toBeGreaterThan(50);
  });

  it('runs as tfjs ops on cpu, with the same values', async () => {
    const cpu = await step('cpu', 'step');
    expect(cpu.kernels).not.toContain(LINF_STEP);
    const wasm = await step('wasm', 'step');
    expect(Array.from(cpu.values)).toEqual(Array.from(wasm.values));
  });

  it('declines tensors of different shapes, and the kernel then runs the ops (which broadcast them)', () => {
    const info = (shape: number[]) => ({ dataId: {}, shape, dtype: 'float32' as const });
    const backend = tf.backend() as unknown as Parameters<typeof ravineLinfStep>[0];
    expect(ravineLinfStep(backend, { x: info([2, 3]), xAdv: info([2, 3]), g: info([3]), alpha: 0.1, eps: 0.3, lo: 0, hi: 1 })).toBeNull();
    const before = tf.memory().numTensors;
    const [viaKernel, viaOps] = tf.tidy(() => {
      const x = tf.tensor2d([0.1, 0.5, 0.9, 0, 1, 0.3], [2, 3]);
      const xAdv = tf.tensor2d([0.2, 0.4, 0.95, 0.1, 0.9, 0.3], [2, 3]);
      const g = tf.tensor1d([1, -1, 0]);
      const attrs = { alpha: 0.1, eps: 0.3, lo: 0, hi: 1 } as unknown as tf.NamedAttrMap;
      return [(tf.engine().runKernel(LINF_STEP, { x, xAdv, g }, attrs) as tf.Tensor).dataSync(), linfStepOps(x, xAdv, g, 0.1, 0.3, 0, 1).dataSync()];
    });
    expect(Array.from(viaKernel)).toEqual(Array.from(viaOps));
    expect(tf.memory().numTensors, 'no tensor left').toBe(before);
  });
});

describe('the metric objective KlToTarget (ops.ts) on wasm', () => {
  it('runs as one kernel, value and gradient within float rounding of the ops, for a per-sample and a single scale', async () => {
    await tf.setBackend('wasm');
    const n = 7;
    const k = 10;
    const z = tf.tensor2d(fixedValues(n * k, 21).map((v) => 8 * v), [n, k]);
    const zp = tf.tensor2d(fixedValues(n * k, 22).map((v) => 6 * v), [n, k]);
    for (const scale of [tf.tensor2d(fixedValues(n, 23).map((v) => 1.5 + v), [n, 1]), tf.scalar(0.7)]) {
      const before = tf.memory().numTensors;
      const kl = new KlToTarget(zp, scale);
      let value: Float32Array = new Float32Array();
      let grad: Float32Array = new Float32Array();
      const info = await tf.profile(() => {
        const out = tf.valueAndGrad((t: tf.Tensor) => kl.at(t as tf.Tensor2D))(z);
        value = out.value.dataSync() as Float32Array;
        grad = out.grad.dataSync() as Float32Array;
        tf.dispose([out.value, out.grad]);
      });
      const kernels = info.kernels.map((x) => x.name);
      expect(kernels.filter((name) => name === KL_TO_TARGET), 'one pass of the kernel').toHaveLength(1);
      expect(kernels, 'no log-softmax ops').not.toContain('Exp');
      const logP = tf.logSoftmax(zp);
      const p = tf.exp(logP);
      const [v0, g0] = klToTargetOps(z, logP, p, scale);
      const ref = { value: v0.dataSync(), grad: g0.dataSync() };
      tf.dispose([logP, p, v0, g0]);
      for (let i = 0; i < n; i++) expect(Math.abs(value[i] - ref.value[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.value[i])));
      for (let i = 0; i < n * k; i++) expect(Math.abs(grad[i] - ref.grad[i])).toBeLessThanOrEqual(1e-6);
      expect(Math.max(...Array.from(value)), 'a real divergence, not all zeros').toBeGreaterThan(0.1);
      kl.dispose();
      scale.dispose();
      expect(tf.memory().numTensors, 'no tensor left').toBe(before - 1);
    }
    tf.dispose([z, zp]);
  });

  it('falls back to the ops where the kernel declines (shapes it does not take)', () => {
    const z = tf.tensor2d(fixedValues(12, 24), [3, 4]);
    const logP = tf.logSoftmax(tf.tensor2d(fixedValues(12, 25), [3, 4]));
    const p = tf.exp(logP);
    const scale = tf.tensor2d([[1, 2, 3, 4]]); // one divisor per class: the ops broadcast it, the kernel does not take it
    const [v, g] = tf.engine().runKernel(KL_TO_TARGET, { z, logP, p, scale }, {}) as unknown as tf.Tensor[];
    const [v0, g0] = klToTargetOps(z, logP, p, scale);
    expect(Array.from(v.dataSync())).toEqual(Array.from(v0.dataSync()));
    expect(Array.from(g.dataSync())).toEqual(Array.from(g0.dataSync()));
    tf.dispose([z, logP, p, scale, v, g, v0, g0]);
  });
});

describe("a loss surface's chunk of inputs, surfaceInputs (ops.ts)", () => {
  it('runs as one kernel on wasm, with the values of the ops bit for bit (a shape of 784 values, and one of 15 with a scalar tail)', async () => {
    await tf.setBackend('wasm');
    for (const shape of [[1, 28, 28, 1], [1, 3, 5, 1]]) {
      const size = shape.reduce((p, q) => p * q, 1);
      const before = tf.memory().numTensors;
      const x = tf.tensor(fixedValues(size, 31).map((v) => (v + 1) / 2), shape);
      const d1 = tf.tensor(fixedValues(size, 32).map((v) => Math.sign(v)), shape);
      const d2 = tf.tensor(fixedValues(size, 33).map((v) => (v < 0 ? -1 : 1)), shape);
      const a = tf.tensor1d(fixedValues(9, 34).map((v) => 0.7 * v));
      const b = tf.tensor1d(fixedValues(9, 35).map((v) => 0.3 * v));
      let ours: Float32Array = new Float32Array();
      const info = await tf.profile(() => {
        const out = surfaceInputs(x, d1, d2, a, b, 0, 1);
        expect(out.shape).toEqual([9, ...shape.slice(1)]);
        ours = out.dataSync() as Float32Array;
        out.dispose();
      });
      expect(info.kernels.map((k) => k.name)).toEqual([SURFACE_BATCH]);
      const ref = surfaceInputsOps(x, d1, d2, a, b, 0, 1);
      const refValues = ref.dataSync() as Float32Array;
      expect(Array.from(ours)).toEqual(Array.from(refValues));
      expect(ours.some((v) => v === 0) && ours.some((v) => v === 1) && ours.some((v) => v > 0 && v < 1), 'clipped at both ends, and inside').toBe(true);
      tf.dispose([x, d1, d2, a, b, ref]);
      expect(tf.memory().numTensors, 'no tensor left').toBe(before);
    }
  });

  it('falls back to the ops where the kernel declines (a sample batch of 2 rather than 1)', () => {
    const x = tf.tensor(fixedValues(2 * 12, 36), [2, 3, 4, 1]);
    const d = tf.tensor(fixedValues(12, 37), [1, 3, 4, 1]);
    const a = tf.tensor1d([0.5, -0.25]);
    const b = tf.tensor1d([0.1, 0.2]);
    const out = tf.engine().runKernel(SURFACE_BATCH, { x, d1: d, d2: d, a, b }, { lo: -1, hi: 1 }) as tf.Tensor;
    const ref = surfaceInputsOps(x, d, d, a, b, -1, 1);
    expect(out.shape).toEqual([2, 3, 4, 1]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([x, d, a, b, out, ref]);
  });
});

describe("what a loss surface shows at its points, surfaceHead (ops.ts)", () => {
  it('runs as one kernel on wasm: the class and the margin as the ops give them, the cross-entropy and the confidence within a float32 rounding', async () => {
    await tf.setBackend('wasm');
    const n = 37;
    const k = 10;
    const values = fixedValues(n * k, 41).map((v) => 12 * v);
    values[3 * k + 7] = values[3 * k + 2]; // a tie for the largest logit: the first class wins
    values[3 * k + 2] = 40;
    values[3 * k + 7] = 40;
    const z = tf.tensor2d(values, [n, k]);
    for (const label of [0, 7]) {
      const before = tf.memory().numTensors;
      let ours: (Float32Array | Int32Array)[] = [];
      const info = await tf.profile(() => {
        const out = surfaceHead(z, label);
        ours = out.map((t) => t.dataSync() as Float32Array | Int32Array);
        expect(out.map((t) => t.dtype)).toEqual(['float32', 'float32', 'int32', 'float32']);
        tf.dispose(out);
      });
      expect(info.kernels.map((x) => x.name)).toEqual([SURFACE_HEAD]);
      const ref = surfaceHeadOps(z, label);
      const [loss, margin, pred, conf] = ref.map((t) => t.dataSync());
      tf.dispose(ref);
      for (let i = 0; i < n; i++) {
        expect(Math.abs(ours[0][i] - loss[i]), `loss ${i}`).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(loss[i])));
        expect(Math.abs(ours[3][i] - conf[i]), `confidence ${i}`).toBeLessThanOrEqual(2e-7);
      }
      expect(Array.from(ours[1])).toEqual(Array.from(margin));
      expect(Array.from(ours[2])).toEqual(Array.from(pred));
      expect(ours[2][3], 'the first of two equal largest logits').toBe(2);
      expect(new Set(Array.from(ours[2])).size, 'several classes predicted').toBeGreaterThan(3);
      expect(tf.memory().numTensors, 'no tensor left').toBe(before);
    }
    z.dispose();
  });

  it('gives the bits of the same sums with JavaScript\'s float64 Math.exp and Math.log: logits from −800 to 800, ±∞, an odd class count', () => {
    for (const k of [7, 10]) {
      const n = 400;
      const values = fixedValues(n * k, 43 + k).map((v, i) => v * [1, 30, 800][i % 3]);
      values[5 * k + 1] = Infinity;
      values[6 * k + 2] = -Infinity;
      values[7 * k] = -Infinity;
      const z = tf.tensor2d(values, [n, k]);
      const label = 3;
      const [loss, margin, pred, conf] = surfaceHead(z, label).map((t) => t.dataSync());
      const f = z.dataSync();
      let compared = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(f.subarray(i * k, (i + 1) * k));
        const best = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - best), 0);
        const other = Math.max(...row.filter((_, j) => j !== label));
        const want = [Math.fround(best + Math.log(sum) - row[label]), Math.fround(row[label] - other), row.indexOf(best), Math.fround(1 / sum)];
        expect([loss[i], margin[i], pred[i], conf[i]], `row ${i}`).toEqual(want);
        if (Number.isFinite(want[0])) compared++;
      }
      expect(compared, 'most rows finite').toBeGreaterThan(n - 5);
      z.dispose();
    }
  });

  it('gives NaN where a logit is NaN, and falls back to the ops for a label outside the classes', () => {
    const z = tf.tensor2d([1, NaN, 3, 0.5, 2, -1], [2, 3]);
    const [loss, , , conf] = surfaceHead(z, 0).map((t) => t.dataSync());
    expect(Number.isNaN(loss[0]) && Number.isNaN(conf[0])).toBe(true);
    expect(Number.isFinite(loss[1]) && Number.isFinite(conf[1])).toBe(true);
    const out = tf.engine().runKernel(SURFACE_HEAD, { z }, { label: 5 }) as unknown as tf.Tensor[];
    const ref = surfaceHeadOps(z, 5);
    for (let i = 0; i < 4; i++) expect(Array.from(out[i].dataSync())).toEqual(Array.from(ref[i].dataSync()));
    tf.dispose([z, ...out, ...ref]);
  });
});
