/**
 * Multi-threaded tfjs-backend-wasm in Node, for the CLI (`--threads`) and the benchmark.
 *
 * tfjs 4.22 refuses threads in Node (WASM_HAS_MULTITHREAD_SUPPORT is false under IS_NODE,
 * tfjs issue #3830) because its Emscripten pthreads start from blob: URLs, which Node's
 * worker_threads cannot load:
 *   1. each pthread worker's script is `URL.createObjectURL(new Blob([wasmWorkerContents]))`;
 *   2. that worker then `importScripts` the main glue from another Blob
 *      (`'var WasmBackendModuleThreadedSimd = ' + factory.toString()`), posted to it;
 *   3. the glue, as bundled in tf-backend-wasm.node.js, reads `fs`, `path`, `perf_hooks`
 *      and `os` through rollup's module-level `require$$0..4`, which do not exist in the
 *      worker's global scope.
 * Each is bridged here: Blobs made of strings remember their text, createObjectURL writes
 * the worker script to a temporary .cjs file (with a prelude defining the require$$ names),
 * and the "load" message gets a file path instead of the Blob. The threads are then split as
 * src/engine/winograd.ts `setWasmThreads` does it: Ravine's kernels use them all, XNNPACK's pool
 * none (so tfjs's cap on that pool, os.cpus().length / 2, does not matter). The bridge depends
 * on those details of tfjs-backend-wasm 4.22 (pinned in package-lock.json): other releases are not tried
 * ({@link nodeWasmThreadsUnavailable}), and a start that fails to initialise falls back to one
 * thread (src/cli/backend.ts), so an upgrade costs speed, not results. Call
 * {@link enableNodeWasmThreads} before `tf.setBackend('wasm')`. The pthread workers keep the
 * process alive: the CLI ends it with process.exit once its output has flushed.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { setWasmThreads } from '../engine/winograd';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** The first bytes of tfjs's pthread worker script (wasm-out/*.worker.js). */
const WORKER_SCRIPT_HEAD = '"use strict";var Module={};var ENVIRONMENT_IS_NODE';
/** The first bytes of the main glue the backend posts to each pthread worker. */
const GLUE_HEAD = 'var WasmBackendModuleThreadedSimd = ';

/** Defines, in the pthread worker's global scope, the module-level names the bundled glue reads. */
const WORKER_PRELUDE = [
  'globalThis.require$$0 = require("fs");',
  'globalThis.require$$1 = require("path");',
  'globalThis.require$$2 = require("worker_threads");',
  'globalThis.require$$3 = require("perf_hooks");',
  'globalThis.require$$4 = require("os");',
  'globalThis.commonjsGlobal = globalThis;',
].join('\n');

/** The tfjs-backend-wasm release whose scripts the bridge knows. */
const BRIDGED_VERSION = /^4\.22\./;

/**
 * Why this process cannot run the threaded build, or null when it can. A tfjs-backend-wasm
 * release other than the one bridged may start its pthreads differently; a bridged start that
 * then failed inside a pthread would end the process (Emscripten rethrows worker errors), so
 * threads are refused up front rather than tried.
 */
export function nodeWasmThreadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer !== 'function') return 'this Node has no SharedArrayBuffer';
  if (!BRIDGED_VERSION.test(version_wasm)) return `threads in Node are bridged for tfjs-backend-wasm 4.22, and this is ${version_wasm}`;
  return null;
}

let installed: { dir: string; cleanup: () => void } | null = null;

/**
 * Lets the next `tf.setBackend('wasm')` in this Node process start the threaded SIMD build
 * and compute on `threads` threads (the calling thread is one of them; see setWasmThreads).
 * Returns a function that removes the temporary files; it also runs when the process exits.
 */
export function enableNodeWasmThreads(threads: number): () => void {
  if (installed) return installed.cleanup;
  const dir = mkdtempSync(join(os.tmpdir(), 'ravine-wasm-threads-'));
  let files = 0;
  const writeScript = (text: string): string => {
    const path = join(dir, `script-${files++}.cjs`);
    writeFileSync(path, text);
    return path;
  };

  // 1. Blobs built from strings remember their text (createObjectURL must be synchronous).
  const texts = new WeakMap<Blob, string>();
  const NativeBlob = globalThis.Blob;
  class RecordingBlob extends NativeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts && parts.every((p) => typeof p === 'string')) texts.set(this, parts.join(''));
    }
  }
  globalThis.Blob = RecordingBlob;

  // 2. The worker script becomes a file Node's Worker can start.
  const nativeCreate = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob) => {
    const text = texts.get(obj);
    if (text !== undefined && text.startsWith(WORKER_SCRIPT_HEAD)) return writeScript(`${WORKER_PRELUDE}\n${text}`);
    return nativeCreate(obj);
  };

  // 3. The glue Blob in the "load" message becomes a path, which the worker reads with fs.
  const nativePost = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, message: unknown, transfer?: readonly import('node:worker_threads').TransferListItem[]) {
    const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
    if (m && m.cmd === 'load' && m.urlOrBlob instanceof NativeBlob) {
      const text = texts.get(m.urlOrBlob);
      if (text !== undefined && text.startsWith(GLUE_HEAD)) message = { ...m, urlOrBlob: writeScript(text) };
    }
    return nativePost.call(this, message, transfer);
  };

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setWasmThreads(threads);
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', cleanup);
  };
  process.on('exit', cleanup);
  installed = { dir, cleanup };
  return cleanup;
}

/**
 * After a threaded start failed: the next `tf.setBackend('wasm')` starts the single-threaded
 * SIMD build instead.
 */
export function disableNodeWasmThreads(): void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmThreads(1);
}
