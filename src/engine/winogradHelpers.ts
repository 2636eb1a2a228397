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
 * Helpers start asynchronously (a worker needs a moment); until one reports ready it gets no work.
 * The caller and the helpers it posted a job to take its samples in shares as they come
 * (runShares), so the caller never waits for a helper that has not started: when the caller finds
 * no sample left, it claims back the job of each helper that has not claimed it yet (compare-and-
 * exchange on CLAIM), and waits only for those that have, each busy with at most its last share.
 * A helper that wakes late therefore finds nothing to do and cannot write into memory that tfjs
 * has since handed to other tensors; the values are the same whoever computes a share (the
 * kernels are deterministic and each sample is independent). Between jobs a helper sleeps in
 * Atomics.wait rather than spinning: spinning 3 ms after each job (to answer the next one sooner)
 * made the CNN metric slower on 2 cores, 243 against 192 ms, as it took the core XNNPACK's pool
 * thread needed; with XNNPACK on the calling thread only, spinning measured no faster beyond noise.
 */

/** Int32 words per thread's slot in the control block (the caller has one too, see runShares). */
export const WORDS = 64;
/** Word offsets within a slot. */
export const SEQ = 0; // bumped by the caller to post a job; -1 tells the helper to stop
export const DONE = 1; // set to the job's SEQ by the helper when it has finished
export const READY = 2; // 1 once the helper has instantiated the kernel
export const ARGS = 3; // the kernel's arguments for sample 0, up to 20 (see KERNELS and kernels/as/)
export const CLAIM = 23; // the last job taken, by the helper (to run it) or back by the caller
export const KIND = 24; // which of the module's kernels the job runs (KERNELS)
export const N = 25; // samples (or rows) of the job
export const BLOCK = 26; // shares are whole multiples of this while it fits (the kernel's block)
export const MIN = 27; // and of this at the end
export const PARTS = 28; // threads that share the job
export const NEXT = 29; // byte offset of the job's one shared word: the first sample nobody has taken yet
export const STRIDES = 30; // per argument, what it advances by per sample (a pointer: the sample's bytes; else 0)
export const TOOK = 50; // jobs the helper took part in
export const SAMPLES = 51; // samples (or rows) it computed in them
/** Where the caller's slot keeps the shared NEXT word of its jobs. */
export const NEXT_WORD = 63;
/** The module's kernels, by their KIND number; each takes at most NARGS (20) arguments, the second being the samples (rows) to do. */
export const KERNELS = ['conv', 'direct1', 'gemm', 'surfaceBatch', 'convPair', 'surfaceHead'] as const;
/** Job numbers wrap within 30 bits, so they stay positive Int32s. */
export const SEQ_MASK = 0x3fffffff;
/** The same layout as one object, handed to each helper (helperMain may not import these). */
export const SLOT = { SEQ, DONE, READY, ARGS, CLAIM, KIND, N, BLOCK, MIN, PARTS, NEXT, STRIDES, TOOK, SAMPLES, SEQ_MASK, NARGS: CLAIM - ARGS, COUNT: 1, KERNELS };

export interface HelperInit {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** Byte offset of this helper's slot in `memory`. */
  slot: number;
  /** The slot's word offsets ({@link SLOT}). */
  layout: typeof SLOT;
}

/**
 * Takes shares of the job described in the slot at word `base` and runs `kernel` on each, until
 * every sample is taken; returns how many this thread did. The caller and its helpers all run it
 * on the same job, so a thread that starts late or runs slow (a helper wakes some tens of µs
 * after it is posted; on a shared machine a core can be slower for a while) takes fewer shares
 * rather than keeping the others waiting. Shares are taken from the job's NEXT word with a
 * compare-and-exchange, each about a (parts + 1)-th of what is left: in whole kernel blocks
 * while one fits, then in whole MINs (guided self-scheduling: large shares first, small ones at
 * the end to even out). A share's arguments are the slot's, advanced by its first sample times
 * their STRIDES, with its sample count in place of the job's. Self-contained (no imports, no
 * inner functions), as helperMain, for the same reason.
 */
export function runShares(words: Int32Array, base: number, L: typeof SLOT, kernel: (...args: number[]) => void): number {
  const n = words[base + L.N];
  const block = words[base + L.BLOCK];
  const min = words[base + L.MIN];
  const parts = words[base + L.PARTS];
  const next = words[base + L.NEXT] >>> 2;
  const args: number[] = [];
  let done = 0;
  for (;;) {
    let start = Atomics.load(words, next);
    let size: number;
    for (;;) {
      const left = n - start;
      if (left <= 0) return done;
      const share = Math.floor(left / (parts + 1));
      size = Math.min(left, share >= block ? share - (share % block) : Math.max(min, share - (share % min)));
      const seen = Atomics.compareExchange(words, next, start, start + size);
      if (seen === start) break;
      start = seen;
    }
    for (let k = 0; k < L.NARGS; k++) args[k] = (words[base + L.ARGS + k] >>> 0) + start * words[base + L.STRIDES + k];
    args[L.COUNT] = size;
    kernel(...args);
    done += size;
  }
}

/**
 * A helper's whole life: instantiate the kernel on the shared memory, then take shares of the
 * jobs posted to its slot (`shares` is {@link runShares}) until told to stop. Self-contained (no
 * imports, no inner functions), because in Node it is also started from its source text
 * (Function.prototype.toString) with worker_threads' eval.
 */
export function helperMain(init: HelperInit, shares: typeof runShares): void {
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
    const samples = shares(words, base, L, kernels[words[base + L.KIND]]);
    Atomics.add(words, base + L.TOOK, 1);
    Atomics.add(words, base + L.SAMPLES, samples);
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
      const source = `(${helperMain.toString()})(require('node:worker_threads').workerData, ${runShares.toString()})`;
      const worker = new threads.Worker(source, { eval: true, workerData: init });
      worker.on('error', () => undefined); // a helper that dies never claims a job again: the caller does its shares
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
