import { expect, test } from '@playwright/test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rollup } from 'vite';
import type { CaseResult, ConvCase } from './harness/webglConv';

/**
 * Ravine's WebGL convolution shaders (src/engine/webglConv.ts) give tfjs's results, in real
 * Chromium with real WebGL 2 (SwiftShader here), on the geometries the lab meets and on edge
 * cases; the cases they leave to tfjs still work; nothing leaks.
 */

const CASES: ConvCase[] = [
  { name: 'CNN layer 1 (5×5, stride 2, one channel)', x: [16, 28, 28, 1], w: [5, 5, 1, 16], strides: 2, pad: 'same' },
  { name: 'CNN layer 2 (5×5, stride 2, 16 → 32)', x: [16, 14, 14, 16], w: [5, 5, 16, 32], strides: 2, pad: 'same' },
  // Textures too long for one row of texels per image row: tfjs folds them into a square.
  { name: 'layer 1 at a surface chunk (texture folded)', x: [600, 28, 28, 1], w: [5, 5, 1, 16], strides: 2, pad: 'same' },
  { name: 'layer 2 at a surface chunk (texture folded)', x: [300, 14, 14, 16], w: [5, 5, 16, 32], strides: 2, pad: 'same' },
  { name: '3×3 stride 1, odd width and channels', x: [3, 9, 11, 3], w: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { name: '3×4 stride 2 valid, odd out channels', x: [2, 10, 9, 4], w: [3, 4, 4, 3], strides: 2, pad: 'valid' },
  { name: '5×3 stride 1 valid, odd in and out channels', x: [2, 7, 8, 5], w: [5, 3, 5, 7], strides: 1, pad: 'valid' },
  { name: 'strides (3, 2), even filter', x: [2, 13, 13, 6], w: [4, 4, 6, 2], strides: [3, 2], pad: 'same' },
  { name: 'explicit padding, asymmetric', x: [2, 8, 7, 2], w: [3, 3, 2, 4], strides: 2, pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  { name: 'no activation', x: [2, 8, 8, 4], w: [3, 3, 4, 6], strides: 1, pad: 'same', activation: 'linear' },
  { name: '+Inf in a corner pixel beside the padding', x: [2, 9, 9, 2], w: [3, 3, 2, 4], strides: 2, pad: 'same', inf: true },
  // Left to tfjs: dilation, a horizontal stride of 3, an activation other than ReLU.
  // (With dilation the harness makes no input-gradient call: tfjs has none for it either.)
  { name: 'dilation 2 (tfjs)', x: [2, 9, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2, calls: { shader: 0, tfjs: 2 } },
  { name: 'horizontal stride 3 (tfjs)', x: [2, 9, 9, 3], w: [3, 3, 3, 4], strides: [1, 3], pad: 'same', calls: { shader: 0, tfjs: 3 } },
  { name: 'ELU (tfjs for the fused call)', x: [2, 9, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same', activation: 'elu', calls: { shader: 2, tfjs: 1 } },
  { name: '1 × 1 stride 1 (tfjs: one matrix product; the input gradient here)', x: [2, 6, 6, 4], w: [1, 1, 4, 6], strides: 1, pad: 'same', calls: { shader: 1, tfjs: 2 } },
];

async function harnessCode(): Promise<string> {
  const out = (await build({
    configFile: false,
    logLevel: 'error',
    build: {
      write: false,
      lib: { entry: join(dirname(fileURLToPath(import.meta.url)), 'harness', 'webglConv.ts'), formats: ['iife'], name: 'ravineConvHarnessLib', fileName: 'harness' },
      minify: false,
    },
  })) as Rollup.RollupOutput[];
  return (out[0].output[0] as Rollup.OutputChunk).code;
}

test('WebGL convolution shaders match tfjs’s kernels and leak nothing', async ({ page }) => {
  test.setTimeout(240_000);
  await page.setContent('<!doctype html><title>webgl conv</title>');
  await page.addScriptTag({ content: await harnessCode() });
  const { renderer, results, tensors } = await page.evaluate(
    (cases) => (window as unknown as { ravineConvHarness: { run(c: ConvCase[]): Promise<{ renderer: string; results: CaseResult[]; tensors: [number, number] }> } }).ravineConvHarness.run(cases),
    CASES,
  );
  console.log(`renderer: ${renderer}`);
  expect(results.map((r) => r.name)).toEqual(CASES.map((c) => c.name));
  for (const r of results) {
    console.log(`${r.name}: |diff| fused ${r.fused.toExponential(1)}, plain ${r.plain.toExponential(1)}, input grad ${r.inputGrad.toExponential(1)} (scale ${r.scale.toFixed(1)}); shader ${r.shader}, tfjs ${r.tfjs}`);
    const tolerance = 1e-5 * Math.max(1, r.scale);
    expect.soft(r.fused, r.name).toBeLessThanOrEqual(tolerance);
    expect.soft(r.plain, r.name).toBeLessThanOrEqual(tolerance);
    expect.soft(r.inputGrad, r.name).toBeLessThanOrEqual(tolerance);
    expect.soft(r.finiteMismatch, `${r.name}: Inf/NaN where tfjs has a number, or the reverse`).toBe(0);
    // The outputs are not all zeros (a ReLU or a wrong mask would hide a broken shader).
    expect.soft(r.scale, r.name).toBeGreaterThan(0.5);
    expect.soft({ shader: r.shader, tfjs: r.tfjs }, `${r.name}: kernel calls`).toEqual(CASES.find((c) => c.name === r.name)?.calls ?? { shader: 3, tfjs: 0 });
  }
  expect(tensors[1], 'tensors after every case').toBe(tensors[0]);
});
