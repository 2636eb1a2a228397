/**
 * For engine test files that run on wasm with Ravine's kernels: the wasm backend, and
 * registerFastConvGradients for the file's tests, undone after them.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll } from 'vitest';
import { registerFastConvGradients, unregisterFastConvGradients } from './convGrad';

export function useWasmWithRavineKernels(): void {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerFastConvGradients();
  });
  afterAll(() => {
    unregisterFastConvGradients();
  });
}
