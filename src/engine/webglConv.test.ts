import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgl';
import { describe, expect, it } from 'vitest';
import { convForwardProgram, convGeometry, convInputGradProgram, registerWebglConvolutions, unregisterWebglConvolutions, WEBGL_CONV_FLAG } from './webglConv';

// Node has no WebGL: these tests cover what runs without it (which layers the shaders take, the
// code they generate, the kernel registration). e2e/webglConv.spec.ts runs the shaders in
// Chromium against tfjs's own kernels.

const info = (x: number[], w: number[], strides: number | [number, number], pad: 'same' | 'valid', dilations: number | [number, number] = 1, format: 'NHWC' | 'NCHW' = 'NHWC') =>
  tf.backend_util.computeConv2DInfo(x as [number, number, number, number], w as [number, number, number, number], strides, dilations, pad, undefined, false, tf.backend_util.convertConv2DDataFormat(format));

/** texture() calls in one line of generated code, summed over the lines that match `where`. */
const fetches = (code: string, where: RegExp) => code.split('\n').filter((l) => where.test(l)).reduce((n, l) => n + (l.match(/texture\(/g)?.length ?? 0), 0);

describe('WebGL convolution shaders (code and registration)', () => {
  it('take NHWC convolutions with dilation 1 and horizontal stride ≤ 2, and leave the rest to tfjs', () => {
    expect(convGeometry(info([4, 14, 14, 16], [5, 5, 16, 32], 2, 'same'))).toMatchObject({ padTop: 1, padLeft: 1, outHeight: 7, outWidth: 7 });
    expect(convGeometry(info([4, 9, 9, 3], [3, 3, 3, 4], [3, 1], 'valid'))).not.toBeNull();
    expect(convGeometry(info([4, 9, 9, 3], [3, 3, 3, 4], [1, 3], 'same'))).toBeNull();
    expect(convGeometry(info([4, 9, 9, 3], [3, 3, 3, 4], 1, 'same', 2))).toBeNull();
    expect(convGeometry(info([4, 3, 9, 9], [3, 3, 3, 4], 1, 'same', 1, 'NCHW'))).toBeNull();
  });

  it('fetch each texel once per use in the CNN’s second layer, and keep one code per geometry', () => {
    const g = convGeometry(info([100, 14, 14, 16], [5, 5, 16, 32], 2, 'same'))!;
    const fwd = convForwardProgram(g, true, true);
    // Per filter row and channel pair: 5 filter texels, and the 4 input texels that the two
    // output pixels' 5 + 5 taps (stride 2) span.
    expect(fetches(fwd.userCode, /vec4 w\d = /)).toBe(5);
    expect(fetches(fwd.userCode, /vec4 x\d = /)).toBe(4);
    expect(fwd.userCode).not.toMatch(/getX\(|getW\(/);
    // Per filter row and channel pair of the gradient: 2 gradient texels, 5 filter texels.
    const grad = convInputGradProgram(g);
    expect(fetches(grad.userCode, /vec4 d\d = /)).toBe(2);
    expect(fetches(grad.userCode, /vec4 w\d = /)).toBe(5);
    expect(grad.outputShape).toEqual([100, 14, 14, 16]);
    // Another batch: the same code (tfjs compiles it once), another output shape.
    const other = convForwardProgram({ ...g, batch: 7 }, true, true);
    expect(other.userCode).toBe(fwd.userCode);
    expect(other.outputShape).toEqual([7, 7, 7, 32]);
    expect(convForwardProgram(g, false, true).userCode).not.toBe(fwd.userCode);
  });

  it('wrap tfjs’s WebGL kernels once, and unregistering restores them', () => {
    const names = [tf.FusedConv2D, tf.Conv2D, tf.Conv2DBackpropInput];
    const native = names.map((n) => tf.getKernel(n, 'webgl'));
    expect(native.every((k) => k !== undefined)).toBe(true);
    registerWebglConvolutions();
    const wrapped = names.map((n) => tf.getKernel(n, 'webgl'));
    registerWebglConvolutions();
    expect(names.map((n) => tf.getKernel(n, 'webgl'))).toEqual(wrapped);
    for (const [i, k] of wrapped.entries()) {
      expect(k).not.toBe(native[i]);
      expect((k as unknown as { original: unknown }).original).toBe(native[i]);
    }
    expect(tf.env().getBool(WEBGL_CONV_FLAG)).toBe(true);
    unregisterWebglConvolutions();
    expect(names.map((n) => tf.getKernel(n, 'webgl'))).toEqual(native);
  });
});
