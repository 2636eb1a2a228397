/**
 * Helper threads for Ravine's Winograd kernel (src/engine/winograd.ts) in tfjs's threaded wasm
 * build, whose memory is shared: each helper is a worker running the same kernel module on that
 * same memory, and takes a share of a convolution's samples while the calling thread does its own.
 * They are told what to do, and tell when done, through a few words of that memory (Atomics), so a
 * call stays synchronous as tfjs kernels must be; the caller blocks in Atomics.wait meanwhile,
 * which the threaded build needs anyway (it only runs in Node or in a worker, never on a page's
 * main thread). XNNPACK's own pool threads idle while the kernel runs, so the helpers take their
 * place: one fewer than tfjs's thread count, the caller being the last.
 *
 * Helpers start asynchronously (a worker needs a moment); until one reports ready it gets no work,
 * and if it stops answering its share is computed by the caller (the same values: the kernel is
 * deterministic and each sample is independent). A job is claimed before it runs, by the helper
 * or, after the wait, by the caller (compare-and-exchange on CLAIM): so the caller computes a share
 * itself only if the helper never started it, and a helper that wakes late cannot write into
 * memory that tfjs has since handed to other tensors. Between jobs a helper sleeps in Atomics.wait
 * rather than spinning: spinning 3 ms after each job (to answer the next one sooner) made the
 * CNN metric slower on 2 cores, 243 against 192 ms, as it took the core XNNPACK's pool thread needed.
 */

/** Int32 words per helper in the control block. */
export const WORDS = 32;
/** Word offsets within a helper's slot. */
export const SEQ = 0; // bumped by the caller to post a job; -1 tells the helper to stop
export const DONE = 1; // set to the job's SEQ by the helper when it has finished
export const READY = 2; // 1 once the helper has instantiated the kernel
export const ARGS = 3; // the kernel's arguments, up to 20 (see KERNELS and kernels/as/)
export const CLAIM = 23; // the last job taken, by the helper (to run it) or back by the caller
export const KIND = 24; // which of the module's kernels the job runs (KERNELS)
/** The module's kernels, by their KIND number; each takes at most NARGS (20) arguments. */
export const KERNELS = ['conv', 'direct1', 'gemm'] as const;
/** Job numbers wrap within 30 bits, so they stay positive Int32s. */
export const SEQ_MASK = 0x3fffffff;
/** The same layout as one object, handed to each helper (helperMain may not import these). */
export const SLOT = { SEQ, DONE, READY, ARGS, CLAIM, KIND, SEQ_MASK, NARGS: CLAIM - ARGS, KERNELS };

export interface HelperInit {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** Byte offset of this helper's slot in `memory`. */
  slot: number;
  /** The slot's word offsets ({@link SLOT}). */
  layout: typeof SLOT;
}

/**
 * A helper's whole life: instantiate the kernel on the shared memory, then run the jobs posted to
 * its slot until told to stop. Self-contained (no imports, no inner functions), because in Node it
 * is also started from its source text (Function.prototype.toString) with worker_threads' eval.
 */
export function helperMain(init: HelperInit): void {
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const kernels = init.layout.KERNELS.map((name) => instance.exports[name] as (...args: number[]) => void);
  const words = new Int32Array(init.memory.buffer);
  const base = init.slot >> 2;
  const L = init.layout;
  Atomics.store(words, base + L.READY, 1);
  let seen = Atomics.load(words, base + L.SEQ);
  for (;;) {
    Atomics.wait(words, base + L.SEQ, seen);
    const seq = Atomics.load(words, base + L.SEQ);
    if (seq === seen) continue;
    if (seq < 0) return;
    seen = seq;
    // Claim the job (CLAIM: previous job number → this one); if the caller took it back, skip it.
    const before = (seq + L.SEQ_MASK) & L.SEQ_MASK;
    if (Atomics.compareExchange(words, base + L.CLAIM, before, seq) !== before) continue;
    const a: number[] = [];
    for (let k = 0; k < L.NARGS; k++) a.push(Atomics.load(words, base + L.ARGS + k) >>> 0);
    kernels[Atomics.load(words, base + L.KIND)](...a);
    Atomics.store(words, base + L.DONE, seq);
    Atomics.notify(words, base + L.DONE);
  }
}

interface NodeWorker {
  unref(): void;
  on(event: 'error', fn: (e: Error) => void): void;
}

/**
 * Starts one helper; returns false where no worker can be started here. In Node through
 * worker_threads (from helperMain's source, so no file has to be found); in a browser worker
 * from its own module, which Vite bundles next to the engine.
 */
export function startHelper(init: HelperInit): boolean {
  try {
    const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (name: string) => unknown } }).process;
    if (proc?.versions?.node) {
      const threads = proc.getBuiltinModule?.('node:worker_threads') as
        | { Worker: new (source: string, options: { eval: true; workerData: HelperInit }) => NodeWorker }
        | undefined;
      if (!threads) return false;
      const source = `(${helperMain.toString()})(require('node:worker_threads').workerData)`;
      const worker = new threads.Worker(source, { eval: true, workerData: init });
      worker.on('error', () => undefined); // a helper that dies is noticed by its silence
      worker.unref();
      return true;
    }
    if (typeof Worker === 'undefined') return false;
    const worker = new Worker(new URL('./winogradHelper.worker.ts', import.meta.url), { type: 'module', name: 'ravine-winograd' });
    worker.postMessage(init);
    return true;
  } catch {
    return false;
  }
}
