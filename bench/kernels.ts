/**
 * Ravine's wasm kernels (src/engine/winograd.ts) against wasm's own (XNNPACK), layer by layer, on
 * the CNN as the jobs run it: the first convolution (Ravine's direct kernel for one-channel
 * inputs), the second (its Winograd kernel), the first dense layer (its matrix product), each at
 * the surface's chunk (1024 points) and the metric's batch (100 samples), and the input gradients
 * of a PGD step: the stacked 3×3 convolutions that convGrad.ts makes of both convolutions'
 * (whose stacking wasm's own kernel does not get: there the per-phase convolutions it would run
 * are timed) and the dense layer's (dy · Wᵀ, with Wᵀ cached as the engine caches it).
 * The weights are variables and the calls run in one withWeightCache scope, as a PGD run makes
 * them: what convGrad.ts derives from a weight (the stacked phase filters) and the Winograd
 * kernel's transform of it are computed once, not per call.
 * Same process, the two interleaved call by call after a warm-up, medians of the calls' times
 * (wasm computes synchronously, so a call's time is its kernels' time); max |diff| of the
 * outputs. Part of `npm run bench` (Node runs); alone: `npx tsx bench/kernels.ts [threads]`.
 * With threads, wasm's own kernels run on the calling thread only, as Ravine runs them
 * (src/engine/winograd.ts `setWasmThreads`).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig } from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { conv2dInputGradViaForward, registerFastConvGradients, withWeightCache } from '../src/engine/convGrad';
import { fixedValues } from '../src/engine/testSupport';
import { enableNodeWasmThreads } from '../src/cli/wasmThreads';
import { enableNodeRelaxedSimd } from '../src/cli/relaxedSimd';
import { median } from './common';

export interface LayerTiming {
  layer: string;
  /** Which of Ravine's kernels runs it. */
  kernel: 'direct' | 'Winograd' | 'matrix product';
  /** Input and filter (or weight) shapes as the kernel receives them. */
  shapes: string;
  xnnpackMs: number;
  ravineMs: number;
  maxDiff: number;
}

type Wrapped = KernelConfig & { original?: KernelConfig };

/** Ravine's wasm kernels, as registerFastConvGradients left them (they wrap wasm's). */
const ours = new Map<string, Wrapped>();

/**
 * Swaps wasm's FusedConv2D, Conv2D, _FusedMatMul and BatchMatMul between Ravine's kernels and the
 * originals they wrap (the cases below multiply without transposes, which the originals run fast).
 */
function useRavine(on: boolean): void {
  for (const name of [tf.FusedConv2D, tf.Conv2D, tf._FusedMatMul, tf.BatchMatMul]) {
    const current = tf.getKernel(name, 'wasm') as Wrapped | undefined;
    if (current?.original) ours.set(name, current);
    const want = on ? ours.get(name) : ours.get(name)?.original;
    if (!want || current === want) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(want);
    want.setupFunc?.(tf.backend());
  }
}

/** One call's kernel time (wasm runs synchronously: the call returns with the values computed), and its values if asked. */
function time(fn: () => tf.Tensor, keep = false): { ms: number; out?: Float32Array } {
  const t0 = performance.now();
  const y = fn();
  const ms = performance.now() - t0;
  const out = keep ? (y.dataSync() as Float32Array) : undefined;
  y.dispose();
  return { ms, out };
}

/** Times each layer with both kernels; call after registerFastConvGradients, on wasm. */
export function measureKernelLayers(runs = 15): Promise<LayerTiming[]> {
  return withWeightCache(async () => measureLayers(runs));
}

function measureLayers(runs: number): LayerTiming[] {
  const cases: { layer: string; kernel: LayerTiming['kernel']; shapes: string; run: () => tf.Tensor }[] = [];
  const held: tf.Tensor[] = [];
  const t = (shape: number[], seed: number) => {
    const v = tf.tensor(fixedValues(shape.reduce((a, b) => a * b, 1), seed), shape);
    held.push(v);
    return v;
  };
  // The convolutions' weights as a model holds them: variables, whose derived filters are cached.
  const weight = (shape: number[], seed: number) => {
    const v = tf.variable(t(shape, seed), false);
    held.push(v);
    return v;
  };
  const w2 = weight([5, 5, 16, 32], 2) as tf.Variable<tf.Rank.R4>;
  const w1 = weight([5, 5, 1, 16], 3) as tf.Variable<tf.Rank.R4>;
  const b2 = t([32], 4) as tf.Tensor1D;
  const b1 = t([16], 9) as tf.Tensor1D;
  const wd = t([1568, 128], 10) as tf.Tensor2D;
  const bd = t([128], 11) as tf.Tensor1D;
  const wdT = t([128, 1568], 12) as tf.Tensor2D; // the dense weight's transpose, as the engine caches it
  for (const n of [1024, 100]) {
    const x1 = t([n, 28, 28, 1], 13 + n) as tf.Tensor4D;
    cases.push({
      layer: `1st convolution, forward (ReLU), ${n} samples`,
      kernel: 'direct',
      shapes: `[${n},28,28,1] [5,5,1,16]`,
      run: () => tf.fused.conv2d({ x: x1, filter: w1, strides: 2, pad: 'same', bias: b1, activation: 'relu' }),
    });
    const x = t([n, 14, 14, 16], 5 + n) as tf.Tensor4D;
    cases.push({
      layer: `2nd convolution, forward (ReLU), ${n} samples`,
      kernel: 'Winograd',
      shapes: `[${n},14,14,16] [5,5,16,32]`,
      run: () => tf.fused.conv2d({ x, filter: w2, strides: 2, pad: 'same', bias: b2, activation: 'relu' }),
    });
    const h = t([n, 1568], 14 + n) as tf.Tensor2D;
    cases.push({
      layer: `dense layer, forward (ReLU), ${n} samples`,
      kernel: 'matrix product',
      shapes: `[${n},1568] [1568,128]`,
      run: () => tf.fused.matMul({ a: h, b: wd, bias: bd, activation: 'relu' }),
    });
  }
  const dy2 = t([100, 7, 7, 32], 7) as tf.Tensor4D;
  const dy1 = t([100, 14, 14, 16], 8) as tf.Tensor4D;
  const dyd = t([100, 128], 15) as tf.Tensor2D;
  cases.push({
    layer: 'dense layer, input gradient, 100 samples',
    kernel: 'matrix product',
    shapes: '[100,128] [128,1568]',
    run: () => tf.matMul(dyd, wdT),
  });
  cases.push({
    layer: '2nd convolution, input gradient, 100 samples',
    kernel: 'Winograd',
    shapes: '[100,7,7,32] → [100,14,14,16]',
    run: () => conv2dInputGradViaForward(dy2, w2, [100, 14, 14, 16], 2, 'same'),
  });
  cases.push({
    layer: '1st convolution, input gradient, 100 samples',
    kernel: 'Winograd',
    shapes: '[100,14,14,16] → [100,28,28,1]',
    run: () => conv2dInputGradViaForward(dy1, w1, [100, 28, 28, 1], 2, 'same'),
  });
  const out: LayerTiming[] = [];
  for (const c of cases) {
    // Warm-up (and each kernel's output, kept once for the comparison), then the timed calls interleaved.
    const values: Float32Array[] = [];
    for (const on of [false, true]) {
      useRavine(on);
      values.push(time(c.run, true).out!);
      for (let r = 0; r < 2; r++) time(c.run);
    }
    const ms: Record<string, number[]> = { x: [], w: [] };
    for (let r = 0; r < runs; r++) {
      for (const on of [false, true]) {
        useRavine(on);
        ms[on ? 'w' : 'x'].push(time(c.run).ms);
      }
    }
    useRavine(true);
    const [a, b] = values;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    out.push({ layer: c.layer, kernel: c.kernel, shapes: c.shapes, xnnpackMs: median(ms.x), ravineMs: median(ms.w), maxDiff });
  }
  tf.dispose(held);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const threads = Number(process.argv[2] ?? 1);
  if (threads > 1) enableNodeWasmThreads(threads);
  enableNodeRelaxedSimd();
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastConvGradients();
  // Helper threads start on the first call and report ready a moment later.
  await measureKernelLayers(2);
  await new Promise((r) => setTimeout(r, 300));
  for (const r of await measureKernelLayers()) {
    console.log(`${r.layer.padEnd(46)} ${r.kernel.padEnd(15)} ${r.shapes.padEnd(32)} XNNPACK ${r.xnnpackMs.toFixed(2).padStart(7)} ms  Ravine ${r.ravineMs.toFixed(2).padStart(7)} ms  ×${(r.xnnpackMs / r.ravineMs).toFixed(2)}  max |diff| ${r.maxDiff.toExponential(1)}`);
  }
  process.exit(0);
}
