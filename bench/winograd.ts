/**
 * Ravine's Winograd convolution kernel (src/engine/winograd.ts) against wasm's own kernel
 * (XNNPACK), layer by layer, on the CNN's convolutions as the jobs run them: the second layer's
 * forward pass at the surface's chunk (1024 points) and at the metric's batch (100 samples), and
 * the stacked 3×3 convolutions that convGrad.ts makes of both layers' input gradients (whose
 * stacking wasm's own kernel does not get: there the per-phase convolutions it would run are timed).
 * Same process, the two interleaved call by call after a warm-up, medians of the calls' times
 * (wasm computes synchronously, so a call's time is its kernels' time); max |diff| of the outputs. Part of `npm run bench` (Node runs); alone: `npx tsx bench/winograd.ts [threads]`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig } from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { conv2dInputGradViaForward, registerFastConvGradients } from '../src/engine/convGrad';
import { fixedValues } from '../src/engine/testSupport';
import { enableNodeWasmThreads } from '../src/cli/wasmThreads';
import { median } from './common';

export interface LayerTiming {
  layer: string;
  /** Input and filter shapes as the kernel receives them. */
  shapes: string;
  xnnpackMs: number;
  winogradMs: number;
  maxDiff: number;
}

/** Swaps wasm's FusedConv2D and Conv2D between Ravine's kernels and the originals they wrap. */
function useWinograd(on: boolean): void {
  for (const name of [tf.FusedConv2D, tf.Conv2D]) {
    const current = tf.getKernel(name, 'wasm') as (KernelConfig & { original?: KernelConfig }) | undefined;
    const ours = (useWinograd as { ours?: Record<string, KernelConfig> }).ours ?? {};
    if (current?.original) ours[name] = current;
    (useWinograd as { ours?: Record<string, KernelConfig> }).ours = ours;
    const want = on ? ours[name] : (ours[name] as KernelConfig & { original?: KernelConfig })?.original;
    if (!want || current === want) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(want);
    want.setupFunc?.(tf.backend());
  }
}

/** Kernel time (wasm runs synchronously: the call returns with the values computed), then the values. */
function time(fn: () => tf.Tensor, runs: number): { ms: number; out: Float32Array } {
  const t: number[] = [];
  let out: Float32Array = new Float32Array(0);
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const y = fn();
    t.push(performance.now() - t0);
    out = y.dataSync() as Float32Array;
    y.dispose();
  }
  return { ms: median(t), out };
}

/** Times each layer with both kernels; call after registerFastConvGradients, on wasm. */
export function measureWinogradLayers(runs = 15): LayerTiming[] {
  const cases: { layer: string; shapes: string; make: () => () => tf.Tensor; dispose: () => void }[] = [];
  const held: tf.Tensor[] = [];
  const t = (shape: number[], seed: number) => {
    const v = tf.tensor(fixedValues(shape.reduce((a, b) => a * b, 1), seed), shape);
    held.push(v);
    return v;
  };
  const w2 = t([5, 5, 16, 32], 2) as tf.Tensor4D;
  const w1 = t([5, 5, 1, 16], 3) as tf.Tensor4D;
  const b2 = t([32], 4) as tf.Tensor1D;
  for (const n of [1024, 100]) {
    const x = t([n, 14, 14, 16], 5 + n) as tf.Tensor4D;
    cases.push({
      layer: `2nd convolution, forward (ReLU), ${n} samples`,
      shapes: `[${n},14,14,16] [5,5,16,32]`,
      make: () => () => tf.fused.conv2d({ x, filter: w2, strides: 2, pad: 'same', bias: b2, activation: 'relu' }),
      dispose: () => undefined,
    });
  }
  const dy2 = t([100, 7, 7, 32], 7) as tf.Tensor4D;
  const dy1 = t([100, 14, 14, 16], 8) as tf.Tensor4D;
  cases.push({
    layer: '2nd convolution, input gradient, 100 samples',
    shapes: '[100,7,7,32] → [100,14,14,16]',
    make: () => () => conv2dInputGradViaForward(dy2, w2, [100, 14, 14, 16], 2, 'same'),
    dispose: () => undefined,
  });
  cases.push({
    layer: '1st convolution, input gradient, 100 samples',
    shapes: '[100,14,14,16] → [100,28,28,1]',
    make: () => () => conv2dInputGradViaForward(dy1, w1, [100, 28, 28, 1], 2, 'same'),
    dispose: () => undefined,
  });
  const out: LayerTiming[] = [];
  for (const c of cases) {
    const fn = c.make();
    const res: Record<string, { ms: number; out: Float32Array }[]> = { x: [], w: [] };
    for (const on of [false, true]) {
      useWinograd(on);
      time(fn, 3);
    }
    for (let r = 0; r < runs; r++) {
      for (const on of [false, true]) {
        useWinograd(on);
        res[on ? 'w' : 'x'].push(time(fn, 1));
      }
    }
    useWinograd(true);
    const a = res.x[0].out;
    const b = res.w[0].out;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    out.push({ layer: c.layer, shapes: c.shapes, xnnpackMs: median(res.x.map((r) => r.ms)), winogradMs: median(res.w.map((r) => r.ms)), maxDiff });
  }
  tf.dispose(held);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const threads = Number(process.argv[2] ?? 1);
  if (threads > 1) enableNodeWasmThreads(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastConvGradients();
  // Helper threads start on the first call and report ready a moment later.
  measureWinogradLayers(2);
  await new Promise((r) => setTimeout(r, 300));
  for (const r of measureWinogradLayers()) {
    console.log(`${r.layer.padEnd(48)} ${r.shapes.padEnd(32)} XNNPACK ${r.xnnpackMs.toFixed(2).padStart(7)} ms  Winograd ${r.winogradMs.toFixed(2).padStart(7)} ms  ×${(r.xnnpackMs / r.winogradMs).toFixed(2)}  max |diff| ${r.maxDiff.toExponential(1)}`);
  }
  process.exit(0);
}
