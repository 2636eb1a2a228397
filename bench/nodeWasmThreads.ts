/**
 * Multi-threaded tfjs-backend-wasm in Node: an experiment of the benchmark, not used by the
 * app or the CLI (yet).
 *
 * tfjs 4.22 refuses threads in Node (WASM_HAS_MULTITHREAD_SUPPORT is false under IS_NODE,
 * tfjs issue #3830) because its Emscripten pthreads start from blob: URLs, which Node's
 * worker_threads cannot load:
 *   1. each pthread worker's script is `URL.createObjectURL(new Blob([wasmWorkerContents]))`;
 *   2. that worker then `importScripts` the main glue from another Blob
 *      (`'var WasmBackendModuleThreadedSimd = ' + factory.toString()`), posted to it;
 *   3. the glue, as bundled in tf-backend-wasm.node.js, reads `fs`, `path`, `perf_hooks`
 *      and `os` through rollup's module-level `require$$0..4`, which do not exist in the
 *      worker's global scope;
 *   4. the XNNPACK pool is sized os.cpus().length / 2 (an SMT guess), so on 2 cores: 1.
 * Each is bridged here: Blobs made of strings remember their text, createObjectURL writes
 * the worker script to a temporary .cjs file (with a prelude defining the require$$ names),
 * the "load" message gets a file path instead of the Blob, and os.cpus() reports twice the
 * cores while the backend starts. Call {@link enableNodeWasmThreads} before
 * `tf.setBackend('wasm')`; the process must then end with process.exit (pthreads are unref'd,
 * but the files live until then).
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

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

let installed: { dir: string } | null = null;

/**
 * Lets the next `tf.setBackend('wasm')` in this Node process start the threaded SIMD build
 * with `threads` XNNPACK threads (the calling thread is one of them). Returns a function that
 * removes the temporary files (call it at exit).
 */
export function enableNodeWasmThreads(threads: number): () => void {
  if (installed) throw new Error('enableNodeWasmThreads: already enabled');
  const dir = mkdtempSync(join(os.tmpdir(), 'ravine-wasm-threads-'));
  installed = { dir };
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

  // 4. The pool size: tfjs caps it at os.cpus().length / 2 when the module starts (the
  // benchmark process reads os.cpus() for its report before calling this).
  const osModule = require('os') as typeof os;
  const nativeCpus = osModule.cpus;
  osModule.cpus = () => {
    const real = nativeCpus();
    return [...real, ...real];
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  return () => {
    osModule.cpus = nativeCpus;
    rmSync(dir, { recursive: true, force: true });
  };
}
