import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { backendPlan, chooseBackend, isSoftwareRenderer, probeWebGL, type WebGLProbe } from './backend';

const gpu: WebGLProbe = { available: true, renderer: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0)', vendor: 'Google Inc. (NVIDIA)', software: false };
const swiftshader: WebGLProbe = {
  available: true,
  renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
  vendor: 'Google Inc. (Google)',
  software: true,
};
const none: WebGLProbe = { available: false, renderer: '', vendor: '', software: false, reason: 'no OffscreenCanvas' };

describe('backend choice', () => {
  it('recognises software renderers by name', () => {
    expect(isSoftwareRenderer(swiftshader.renderer)).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('Microsoft Basic Render Driver')).toBe(true);
    expect(isSoftwareRenderer(gpu.renderer)).toBe(false);
    expect(isSoftwareRenderer('Apple M2')).toBe(false);
  });

  it('prefers WebGL on a GPU, wasm on a software renderer, and obeys a forced choice', () => {
    expect(backendPlan('auto', gpu).map((p) => p.backend)).toEqual(['webgl', 'wasm', 'cpu']);
    const soft = backendPlan('auto', swiftshader);
    expect(soft.map((p) => p.backend)).toEqual(['wasm', 'cpu']);
    expect(soft[0].why).toMatch(/software renderer .*SwiftShader.*20× slower than wasm/);
    expect(backendPlan('auto', none)[0].why).toMatch(/no WebGL: no OffscreenCanvas/);
    expect(backendPlan('webgl', swiftshader)[0]).toMatchObject({ backend: 'webgl', why: expect.stringMatching(/forced by the user/) });
    expect(backendPlan('cpu', gpu).map((p) => p.backend)).toEqual(['cpu']);
  });

  it('in Node picks wasm, says why, and skips what is not bundled', async () => {
    const probe = probeWebGL();
    expect(probe.available).toBe(false);
    const choice = await chooseBackend('auto', probe);
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(/no WebGL/);
    const forced = await chooseBackend('webgl', gpu);
    // tfjs-node-less Node has no WebGL backend registered... or one that cannot start.
    expect(forced.backend).not.toBe('webgl');
    expect(forced.skipped[0].backend).toBe('webgl');
    await chooseBackend('wasm', probe);
  });
});
