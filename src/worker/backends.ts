/**
 * Registers the tfjs backends the app bundles and tells the wasm backend where Vite put its
 * binaries. Imported by whatever hosts the engine (the worker, or the page as a fallback).
 */
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/**
 * tfjs-backend-wasm 4.22's threaded build starts its pthread workers from a script that
 * refers to names in the Emscripten glue by their unminified spelling; after Vite's
 * minification the workers die with "e is not defined" and the backend never initialises.
 * Until the glue is served unminified, run the SIMD build single-threaded.
 */
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
