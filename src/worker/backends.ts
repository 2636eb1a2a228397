/**
 * Registers the tfjs backends the app bundles and tells the wasm backend where Vite put its
 * binaries. Imported by whatever hosts the engine (the worker, or the page as a fallback).
 */
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { setWasmThreads } from '../engine/winograd';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/**
 * Whether the wasm backend may compute on several threads here (tfjs's threaded build, with
 * Ravine's helper threads: src/engine/winograd.ts `setWasmThreads`). It needs
 * SharedArrayBuffer, which browsers give only to cross-origin isolated pages (the dev server
 * and `vite preview` send COOP/COEP, see vite.config.ts; a host that does not gets the
 * single-threaded SIMD build), and it must run in a worker: Emscripten's pthreads block with
 * Atomics.wait, which the main thread may not do (it would spin instead), and the built
 * page's Content-Security-Policy (worker-src 'self') forbids the blob: workers the threads
 * start from. So the main-thread fallback stays single-threaded. The threaded glue's
 * minification bug ("e is not defined") is fixed at build time in vite.config.ts.
 */
export function wasmThreadsAllowed(scope: unknown = globalThis): boolean {
  const g = scope as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown; WorkerGlobalScope?: unknown; document?: unknown };
  return g.crossOriginIsolated === true && typeof g.SharedArrayBuffer === 'function' && g.WorkerGlobalScope !== undefined && g.document === undefined && blobWorkersAllowed();
}

/**
 * Whether this worker may start a worker from a blob: URL, as tfjs's pthreads do. A server
 * that sends a Content-Security-Policy header without blob: in worker-src makes the
 * constructor throw; without this check the threaded backend would fail to start and the
 * engine would drop to the cpu backend instead of single-threaded wasm.
 */
function blobWorkersAllowed(): boolean {
  if (typeof Worker !== 'function' || typeof URL.createObjectURL !== 'function') return false;
  let url = '';
  try {
    url = URL.createObjectURL(new Blob([''], { type: 'text/javascript' }));
    new Worker(url).terminate();
    return true;
  } catch {
    return false;
  } finally {
    if (url) URL.revokeObjectURL(url);
  }
}

/**
 * One wasm thread per logical core (this worker is one of them), for Ravine's kernels; XNNPACK's
 * pool gets none (src/engine/winograd.ts `setWasmThreads` says why), so tfjs's cap on that pool
 * (navigator.hardwareConcurrency / 2, an SMT guess that halves it on machines without SMT) does
 * not matter.
 */
function useEveryLogicalCore(scope: typeof globalThis = globalThis): void {
  const logical = (scope.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency;
  if (typeof logical !== 'number' || logical < 2) return;
  poolThreads = logical;
  setWasmThreads(logical);
}

/** Threads wasm will compute on (1: no helpers). */
let poolThreads = 1;

/**
 * Leaves one core out of wasm's threads, for a software WebGL renderer: when WebGL is SwiftShader
 * or llvmpipe the engine computes on wasm, and the page's 3D view is drawn on the CPU as well.
 * With a wasm thread on every core (then XNNPACK's pool) the two starved each other on 2 cores: the first preview
 * after the lab had been idle appeared 0.20-0.24 s after the click, against 0.18-0.19 s with a
 * core left to the renderer (the lab's click benchmark, three interleaved runs of each). Only
 * takes effect before the wasm backend starts (tfjs reads the count then). Returns the pool size.
 */
export function leaveCoreForRenderer(): number {
  if (poolThreads > 1) setWasmThreads(--poolThreads);
  return poolThreads;
}

// Leave the flag to tfjs's own feature test when threads are allowed; force it off otherwise.
if (wasmThreadsAllowed()) useEveryLogicalCore();
else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
