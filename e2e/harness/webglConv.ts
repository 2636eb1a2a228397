/**
 * Runs in the page (bundled by e2e/webglConv.spec.ts): Ravine's WebGL convolution shaders
 * (src/engine/webglConv.ts) against tfjs-backend-webgl's own kernels on the same inputs, for the
 * built-in CNN's layers and for geometries that exercise the shaders' edges (odd sizes, strides,
 * paddings, odd channel counts, batches large enough for tfjs to fold textures into squares),
 * plus cases the shaders leave to tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgl';
import { registerWebglConvolutions, unregisterWebglConvolutions, webglConvStats } from '../../src/engine/webglConv';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number;
  activation?: 'relu' | 'linear' | 'elu';
  /** Puts +Inf at x[0, 0, 0, 0] (a corner, next to the padding). */
  inf?: boolean;
  /** The kernel calls the shaders should take and those they should leave to tfjs (default 3 and 0). */
  calls?: { shader: number; tfjs: number };
}

export interface CaseResult {
  name: string;
  /** max |Ravine − tfjs| over the forward (fused, with bias), plain forward and input gradient. */
  fused: number;
  plain: number;
  inputGrad: number;
  /** max |tfjs| over the same outputs, the scale the differences are read against. */
  scale: number;
  /** Positions where exactly one of the two is finite (0 where both agree on Inf/NaN). */
  finiteMismatch: number;
  /** Kernel calls the shaders took and those left to tfjs, in Ravine's run of this case. */
  shader: number;
  tfjs: number;
}

async function compare(a: tf.Tensor, b: tf.Tensor): Promise<{ diff: number; scale: number; mismatch: number }> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let diff = 0, scale = 0, mismatch = 0;
  for (let i = 0; i < x.length; i++) {
    const fx = Number.isFinite(x[i]), fy = Number.isFinite(y[i]);
    if (fx !== fy) mismatch++;
    else if (fx) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(y[i]));
    } else if (!Object.is(x[i], y[i]) && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) mismatch++;
  }
  return { diff, scale, mismatch };
}

async function runCase(c: ConvCase, seed: number): Promise<CaseResult> {
  const x0 = tf.randomUniform(c.x, -1, 1, 'float32', seed) as tf.Tensor4D;
  let x = x0;
  if (c.inf) {
    const values = x0.dataSync().slice();
    values[0] = Infinity;
    x = tf.tensor4d(values, c.x);
  }
  const w = tf.randomUniform(c.w, -1, 1, 'float32', seed + 1) as tf.Tensor4D;
  const bias = tf.randomUniform([c.w[3]], -1, 1, 'float32', seed + 2) as tf.Tensor1D;
  const outShape = tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, c.dilations ?? 1, c.pad).outShape;
  const dy = tf.randomUniform(outShape, -1, 1, 'float32', seed + 3) as tf.Tensor4D;
  const run = () => [
    tf.fused.conv2d({ x, filter: w, strides: c.strides, pad: c.pad as 'same', dilations: c.dilations ?? 1, bias, activation: c.activation ?? 'relu' }),
    tf.conv2d(x, w, c.strides, c.pad as 'same', 'NHWC', c.dilations ?? 1),
    (c.dilations ?? 1) === 1 ? tf.conv2dTranspose(dy, w, c.x, c.strides, c.pad as 'same') : tf.zeros([1]),
  ];
  unregisterWebglConvolutions();
  const ref = run();
  registerWebglConvolutions();
  const before = { ...webglConvStats };
  const ours = run();
  const r = await Promise.all(ours.map((t, i) => compare(t, ref[i])));
  const result: CaseResult = {
    name: c.name,
    fused: r[0].diff,
    plain: r[1].diff,
    inputGrad: r[2].diff,
    scale: Math.max(r[0].scale, r[1].scale, r[2].scale),
    finiteMismatch: r[0].mismatch + r[1].mismatch + r[2].mismatch,
    shader: webglConvStats.shader - before.shader,
    tfjs: webglConvStats.tfjs - before.tfjs,
  };
  tf.dispose([x0, x, w, bias, dy, ...ref, ...ours]);
  return result;
}

async function run(cases: ConvCase[]): Promise<{ renderer: string; results: CaseResult[]; tensors: [number, number] }> {
  await tf.setBackend('webgl');
  await tf.ready();
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  // One case first, so that tfjs's own setup tensors are not counted as a leak below.
  await runCase(cases[0], 1);
  const start = tf.memory().numTensors;
  const results: CaseResult[] = [];
  for (const [i, c] of cases.entries()) results.push(await runCase(c, 10 * i + 1));
  return { renderer, results, tensors: [start, tf.memory().numTensors] };
}

(window as unknown as { ravineConvHarness: unknown }).ravineConvHarness = { run };
