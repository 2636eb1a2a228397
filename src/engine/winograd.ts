/**
 * Ravine's own kernels for tfjs's wasm backend, which together run every layer of the built-in
 * CNNs and MLPs (forward, and the input gradients of a PGD step), in one WebAssembly module
 * (src/engine/kernels/as/, AssemblyScript, built by `npm run kernels`):
 * - Winograd fast convolutions: 5×5 stride-2 convolutions (the CNNs' second layer) as
 *   F(4×4, 3×3) over their four stride phases, and 3×3 stride-1 ones (what src/engine/convGrad.ts
 *   turns both convolutions' input gradients into) as plain F(4×4, 3×3), with F(3, 3) tiles at
 *   edges whose length is not a multiple of 4. XNNPACK, which tfjs-backend-wasm runs, has no
 *   fast-convolution algorithm; Winograd does 0.36× (stride 2) and 0.25× (stride 1) the
 *   multiply-adds of the direct convolution, before its transforms, and takes well under half
 *   XNNPACK's time on the second layer (bench/kernels.ts). For the input gradients it also
 *   applies the layer's ReLU mask as it reads dy and writes the stride phases to their rows.
 * - A direct convolution for one-channel inputs (the CNNs' first layer), where Winograd's matrix
 *   products are too thin to pay for its transforms (it measured slower than XNNPACK there:
 *   20.0 against 17.7 ms per metric run) and XNNPACK's kernel runs at about a third of the SIMD
 *   ceiling: about 1.5–1.9× faster than XNNPACK.
 * - A blocked matrix product for the dense layers and their input gradients (dy · Wᵀ, with Wᵀ
 *   cached per weight by convGrad.ts): about 1.2–1.4× faster than XNNPACK's.
 * - An L∞ PGD step (ascent and projection) in one pass.
 * - A loss surface's chunk of inputs, and what it shows at each point from the logits (its loss
 *   head: cross-entropy, margin, class, confidence, in float64 with the kernels' own exp and log).
 * - The direct and Winograd convolutions of two layers in a row in one pass, a few samples at a
 *   time (the CNNs' two layers, forward, when nothing records gradients): the first layer's
 *   output then stays in the cache ({@link ravineConvPair}).
 * The module comes in a build with relaxed SIMD (fused multiply-adds in the product loops,
 * kernels/as/madd.ts), used where the engine compiles it, and one without.
 *
 * How: the kernels work in place, in the memory of tfjs's wasm module (imported, so no copies):
 * they read the input tensors and write the output tensor where tfjs keeps them. A Winograd
 * filter's transform is computed once per filter tensor (weights keep their data id across calls),
 * retired once tfjs has freed the filter and kept a while for a filter of the same values. In
 * tfjs's threaded build the samples (or rows) are shared out between the calling thread and helper
 * threads of Ravine's own (src/engine/winogradHelpers.ts), and XNNPACK's pool gets no thread
 * ({@link setWasmThreads}).
 *
 * Only what a kernel handles takes its path: NHWC, dilation 1, float32, no activation or ReLU;
 * Winograd: a 5×5 filter at stride 2 or a 3×3 one at stride 1, input and output channels
 * multiples of 4; direct: one input channel, output channels a multiple of 4, equal strides;
 * matrix product: one batch. Everything else returns null and the
 * caller runs tfjs's own kernel (src/engine/convGrad.ts wraps them).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { WINOGRAD_WASM_PLAIN, WINOGRAD_WASM_PLAIN_RELAXED, WINOGRAD_WASM_SHARED, WINOGRAD_WASM_SHARED_RELAXED } from './kernels/winogradWasm';
import { CLAIM, DONE, KERNELS, NEXT_WORD, READY, runShares, SEQ, SEQ_MASK, SLOT, startHelper, WORDS } from './winogradHelpers';

const KIND_WINOGRAD = KERNELS.indexOf('conv');
const KIND_DIRECT = KERNELS.indexOf('direct1');
const KIND_GEMM = KERNELS.indexOf('gemm');
const KIND_SURFACE = KERNELS.indexOf('surfaceBatch');
const KIND_PAIR = KERNELS.indexOf('convPair');
const KIND_HEAD = KERNELS.indexOf('surfaceHead');

/** What this module uses of tfjs-backend-wasm's BackendWasm and its emscripten module. */
interface WasmBackendLike {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    /** The memory, in the threaded build. */
    wasmMemory?: WebAssembly.Memory;
    /** The module's exports (its memory, in the single-threaded builds). */
    asm?: { memory?: WebAssembly.Memory };
    /** tfjs's own entry points: its thread count (1 in the single-threaded builds). */
    tfjs?: { getThreadsCount?(): number };
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined; has(dataId: object): boolean };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
}

interface KernelExports {
  conv(...args: number[]): void;
  scratchBytes(ho: number, wo: number, cin: number, cout: number, stride: number, block: number): number;
  direct1(...args: number[]): void;
  gemm(...args: number[]): void;
  directScratchBytes(ho: number, wo: number, kh: number, kw: number, stride: number): number;
  gemmScratchBytes(m: number, k: number, masked: number): number;
  linfStep(x: number, xAdv: number, g: number, out: number, n: number, alpha: number, eps: number, lo: number, hi: number): void;
  surfaceBatch(...args: number[]): void;
  convPair(...args: number[]): void;
  surfaceHead(...args: number[]): void;
}

/**
 * The kernels' build for a plain or a shared memory: with relaxed SIMD (fused multiply-adds in
 * the product loops, kernels/as/madd.ts) where this engine compiles it, else without.
 */
function kernelBuild(shared: boolean): { bytes: Uint8Array<ArrayBuffer>; relaxed: boolean } {
  const relaxed = decode(shared ? WINOGRAD_WASM_SHARED_RELAXED : WINOGRAD_WASM_PLAIN_RELAXED);
  if (WebAssembly.validate(relaxed)) return { bytes: relaxed, relaxed: true };
  return { bytes: decode(shared ? WINOGRAD_WASM_SHARED : WINOGRAD_WASM_PLAIN), relaxed: false };
}

/** A filter's Winograd transform and spans in the module's memory, with what it was made from. */
interface FilterTransform {
  ptr: number;
  stride: 1 | 2;
  shape: number[];
  /** The filter's values (a copy of their bits), to recognise the same filter under another data id. */
  values: Int32Array;
  /** Live filters (data ids) that use it. */
  users: number;
}

/**
 * Transforms kept after their filters are freed. A PGD run derives the stacked phase filters of
 * the input gradients from the weights afresh (convGrad.ts, withWeightCache), so every run of the
 * metric or an attack brings new filter tensors with the values of the last run's: recognised
 * here, their transforms are not computed again (that took 2.6–3.1 ms of each CNN metric run on
 * 100 samples, in JavaScript on the calling thread). Four covers a model's two gradient filters
 * and those of the other model the lab flips to; the largest, the CNN's second layer's, is 1 MB.
 */
const RETIRED_TRANSFORMS = 4;

/** Per wasm backend: the instantiated kernels, scratch memory and transformed filters. */
interface KernelState {
  /** Whether the kernels are the relaxed-SIMD build (see kernelBuild). */
  relaxed: boolean;
  exports: KernelExports;
  memory: WebAssembly.Memory;
  scratch: { ptr: number; bytes: number };
  /** Zeros, for a convolution without bias (in the same holder shape as scratch, see {@link scratch}). */
  zeros: { scratch: { ptr: number; bytes: number } };
  /** A surface chunk's value range, lo and hi, where every thread's surfaceBatch reads it. */
  range: { scratch: { ptr: number; bytes: number } };
  /** The layers' parameters of a convPair job, where every thread's share reads them. */
  pairParams: { scratch: { ptr: number; bytes: number } };
  /** Transformed filters by the filter's data id, released once tfjs no longer holds that id. */
  filters: Map<object, FilterTransform>;
  /** Transforms whose filters tfjs has freed, newest last, kept for a filter of the same values (see filterTransform). */
  retired: FilterTransform[];
  /** Filter transforms computed (not found in `filters` or `retired`), for tests. */
  transformsMade: number;
  /** Helper threads (shared memory only): each one's control slot and scratch memory. */
  helpers: { slot: number; scratch: { ptr: number; bytes: number }; seq: number }[];
  /** The calling thread's slot (a job's description as it runs its shares of it), 0 without helpers. */
  slot: number;
  /** Calls of each kernel (by KIND), for tests and the benchmark. */
  calls: number[];
  /** Milliseconds the calling thread has spent in split jobs (runSplit: its shares and its waits for helpers), for the benchmark. */
  splitMs: number;
}

/**
 * Samples the Winograd kernel transforms together. The CNNs' 7 × 7 outputs have one tile of each
 * edge type (4 × 3, 3 × 4, 3 × 3) per sample, so each of those types' transformed filters serves
 * only BLOCK tiles per pass through it: with 4 samples a block, the F(3, 3) edge tiles' 16 %
 * fewer products measured no faster than all-F(4, 3) tiles (their four filter transforms,
 * 121 × 64 × 32 floats for the second layer, stream from the cache for every block); with 16
 * they measured 10 % faster (1.7 against 1.9 ms for the second layer on 100 samples, 18.0
 * against 20.2 ms on 1024; 24 and 32 samples measured the same as 16).
 */
const BLOCK = 16;

/** Samples (or rows) in a share of a split job: shares are whole multiples of it (and of the kernel's block while one fits). */
const SHARE_GRANULE = 4;

/** Threads of Ravine's kernels in tfjs's threaded build (see setWasmThreads); null: tfjs's own count. */
let kernelThreads: number | null = null;

/**
 * Sets how many threads the wasm backend computes on, before it starts: in tfjs's threaded build
 * Ravine's kernels run on the calling thread and `threads − 1` helpers, and XNNPACK's pool gets
 * none (it runs what is left, the small operations, on the calling thread). Measured on 2 cores
 * (Node, CNN, helpers and pool interleaved runs): the metric on 100 samples took 143–153 ms this
 * way against 173–183 ms with XNNPACK's pool on both threads, the 101² surface 200–206 against
 * 209–211 ms. The pool's threads wake (and spin) for every operation, which on a gradient step's
 * many small ones costs more than they gain, and they take the core from the helpers.
 */
export function setWasmThreads(threads: number): void {
  kernelThreads = Math.max(1, Math.floor(threads));
  setThreadsCount(1);
}

/**
 * The threads the started wasm backend computes on: 1 in tfjs's single-threaded builds (whatever
 * was asked for: a page without cross-origin isolation, a forced flag), else as set by
 * {@link setWasmThreads}, or tfjs's pool size if it was not.
 */
export function wasmThreadCount(): number {
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  return backend && moduleMemory(backend)?.shared ? (kernelThreads ?? getThreadsCount()) : 1;
}

/** The wasm module's memory, and whether it is shared (tfjs's threaded build); null where it cannot be reached. */
function moduleMemory(backend: WasmBackendLike): { memory: WebAssembly.Memory; shared: boolean } | null {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  return memory ? { memory, shared: typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer } : null;
}

/** Set to false when the kernel cannot start on a backend (then tfjs's kernels do all the work). */
const states = new WeakMap<object, KernelState | false>();

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function stateFor(backend: WasmBackendLike): KernelState | false {
  let state = states.get(backend);
  if (state !== undefined) return state;
  state = false;
  try {
    const reached = moduleMemory(backend);
    if (reached) {
      const { memory, shared } = reached;
      const { bytes, relaxed } = kernelBuild(shared);
      const module = new WebAssembly.Module(bytes);
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      state = {
        relaxed,
        exports: instance.exports as unknown as KernelExports,
        memory,
        scratch: { ptr: 0, bytes: 0 },
        zeros: { scratch: { ptr: 0, bytes: 0 } },
        range: { scratch: { ptr: 0, bytes: 0 } },
        pairParams: { scratch: { ptr: 0, bytes: 0 } },
        filters: new Map(),
        retired: [],
        transformsMade: 0,
        helpers: [],
        slot: 0,
        calls: KERNELS.map(() => 0),
        splitMs: 0,
      };
      const threads = shared ? (kernelThreads ?? backend.wasm.tfjs?.getThreadsCount?.() ?? 1) : 1;
      for (let h = 1; h < threads; h++) {
        const slot = backend.wasm._malloc(WORDS * 4);
        new Int32Array(memory.buffer, slot, WORDS).fill(0);
        if (startHelper({ memory, module, slot, layout: SLOT })) state.helpers.push({ slot, scratch: { ptr: 0, bytes: 0 }, seq: 0 });
        else backend.wasm._free(slot);
      }
      if (state.helpers.length > 0) {
        state.slot = backend.wasm._malloc(WORDS * 4);
        new Int32Array(memory.buffer, state.slot, WORDS).fill(0);
      }
    }
  } catch {
    // A browser without WebAssembly SIMD, or a tfjs whose module keeps its memory elsewhere:
    // nothing is lost, tfjs's own kernels run instead.
    state = false;
  }
  states.set(backend, state);
  return state;
}

/** Offset in bytes of a tensor's data in the wasm module's memory. */
function offsetOf(backend: WasmBackendLike, info: TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('winograd: a tensor has no data on the wasm backend');
  return data.memoryOffset;
}

/** The G matrix of F(4, 3): the kernel transform U = G g Gᵀ (6 points). */
const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];

/** The G matrix of F(3, 3), points 0, 1, −1, 2, ∞ (5 points): the kernel's edge tiles (kernels/as/winograd.ts). */
const G3 = [
  [1 / 2, 0, 0],
  [-1 / 2, -1 / 2, -1 / 2],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 6, 1 / 3, 2 / 3],
  [0, 0, 1],
];

/** The kernel's tile types, in the order of their blocks in U: transform points down × across. */
const TILE_TYPES = [
  [G, G],
  [G, G3],
  [G3, G],
  [G3, G3],
] as const;

/** Floats of a filter's transform for k4 rows and cout columns: 36 + 30 + 30 + 25 points. */
function transformFloats(k4: number, cout: number): number {
  return TILE_TYPES.reduce((sum, [a, b]) => sum + a.length * b.length, 0) * k4 * cout;
}

/**
 * U for a [5, 5, cin, cout] filter at stride 2 or a [3, 3, cin, cout] one at stride 1, one block
 * per tile type (TILE_TYPES), each U_τ[ξ][phase·cin + ci][co]: at stride 2, phase (rh, rw)
 * takes the taps w[2m + rh][2n + rw] (m, n = 0..2; zero past the 5th); at stride 1 the one
 * phase is w itself. U_τ = Ga g Gbᵀ over (m, n), ξ = i·(points across) + j. Computed in
 * float64, stored as float32.
 */
export function transformFilter(w: Float32Array, stride: 1 | 2, cin: number, cout: number): Float32Array {
  const size = stride === 2 ? 5 : 3;
  const phases = stride * stride;
  const k4 = phases * cin;
  const u = new Float32Array(transformFloats(k4, cout));
  const g = new Float64Array(9);
  const gg = new Float64Array(18); // Ga g: up to 6 × 3
  let offset = 0;
  for (const [gaRows, gbRows] of TILE_TYPES) {
    const ga = Float64Array.from(gaRows.flat());
    const gb = Float64Array.from(gbRows.flat());
    const na = gaRows.length;
    const nb = gbRows.length;
    const plane = k4 * cout; // floats per transform point ξ
    for (let ph = 0; ph < phases; ph++) {
      const rh = ph >> 1;
      const rw = ph & 1;
      for (let ci = 0; ci < cin; ci++) {
        const k = ph * cin + ci;
        for (let co = 0; co < cout; co++) {
          for (let m = 0; m < 3; m++) {
            for (let n = 0; n < 3; n++) {
              const kh = stride * m + rh;
              const kw = stride * n + rw;
              g[m * 3 + n] = kh < size && kw < size ? w[((kh * size + kw) * cin + ci) * cout + co] : 0;
            }
          }
          for (let i = 0; i < na; i++) {
            const a0 = ga[i * 3], a1 = ga[i * 3 + 1], a2 = ga[i * 3 + 2];
            for (let n = 0; n < 3; n++) gg[i * 3 + n] = a0 * g[n] + a1 * g[3 + n] + a2 * g[6 + n];
          }
          let at = offset + k * cout + co;
          for (let i = 0; i < na; i++) {
            const t0 = gg[i * 3], t1 = gg[i * 3 + 1], t2 = gg[i * 3 + 2];
            for (let j = 0; j < nb; j++) {
              u[at] = t0 * gb[j * 3] + t1 * gb[j * 3 + 1] + t2 * gb[j * 3 + 2];
              at += plane;
            }
          }
        }
      }
    }
    offset += na * nb * k4 * cout;
  }
  return u;
}

/**
 * Where each transform point's U can be non-zero, for the kernel's `spans` argument: per tile type,
 * per point ξ, two segments of rows k and two of columns c (8 numbers, multiples of 4), outside
 * which U_τ[ξ] is zero. A stride-2 filter's phases with two taps down (or across) have a zero
 * third tap, so U is zero for them at the ∞ point down (across): 400 of 484 phase blocks per
 * sample remain (so many of the products are skipped). The stacked phase filters of the input
 * gradients (convGrad.ts) have the same zeros in their columns. Found from U itself: a group of 4
 * rows (columns) is skipped where all its values are 0; where the groups left form more than two
 * runs, one segment spans them.
 */
export function transformSpans(u: Float32Array, k4: number, cout: number): Int32Array {
  const points = u.length / (k4 * cout);
  const spans = new Int32Array(points * 8);
  const rows = new Uint8Array(k4 / 4);
  const cols = new Uint8Array(cout / 4);
  // Two segments [a0, a1), [b0, b1) covering the groups of 4 marked in `used`, written at `at`.
  const segments = (used: Uint8Array, at: number) => {
    const end = used.length * 4;
    const runs: number[] = [];
    for (let g = 0; g < used.length; g++) {
      if (!used[g]) continue;
      if (runs.length > 0 && runs[runs.length - 1] === 4 * g) runs[runs.length - 1] += 4;
      else runs.push(4 * g, 4 * g + 4);
    }
    if (runs.length > 4) runs.splice(1, runs.length - 2); // more than two runs: one span over them
    spans.set([runs[0] ?? 0, runs[1] ?? 0, runs[2] ?? end, runs[3] ?? end], at);
  };
  for (let p = 0; p < points; p++) {
    rows.fill(0);
    cols.fill(0);
    let at = p * k4 * cout;
    for (let k = 0; k < k4; k++) {
      for (let c = 0; c < cout; c++, at++) {
        if (u[at] !== 0) {
          rows[k >> 2] = 1;
          cols[c >> 2] = 1;
        }
      }
    }
    segments(rows, p * 8);
    segments(cols, p * 8 + 4);
  }
  return spans;
}

/**
 * The transformed filter's offset: the one made for this filter (by data id), else one made for a
 * filter of the same values and stride (still in use, or retired), else made now. Transforms of
 * filters tfjs has freed are retired, and the oldest beyond RETIRED_TRANSFORMS freed.
 */
function filterTransform(backend: WasmBackendLike, state: KernelState, filter: TensorInfo, stride: 1 | 2): number {
  for (const [dataId, entry] of state.filters) {
    if (backend.dataIdMap.has(dataId)) continue;
    state.filters.delete(dataId);
    if (--entry.users === 0) state.retired.push(entry);
  }
  while (state.retired.length > RETIRED_TRANSFORMS) backend.wasm._free((state.retired.shift() as FilterTransform).ptr);
  const held = state.filters.get(filter.dataId);
  if (held) return held.ptr;
  const [kh, kw, cin, cout] = filter.shape;
  const size = kh * kw * cin * cout;
  const w = new Float32Array(state.memory.buffer, offsetOf(backend, filter), size);
  const bits = new Int32Array(state.memory.buffer, w.byteOffset, size);
  const same = (e: FilterTransform) => {
    if (e.stride !== stride || e.values.length !== size || e.shape.some((d, i) => d !== filter.shape[i])) return false;
    for (let i = 0; i < size; i++) if (e.values[i] !== bits[i]) return false;
    return true;
  };
  let entry = [...new Set(state.filters.values())].find(same);
  if (!entry) {
    const at = state.retired.findIndex(same);
    if (at >= 0) entry = state.retired.splice(at, 1)[0];
  }
  if (!entry) {
    const u = transformFilter(w, stride, cin, cout);
    const spans = transformSpans(u, stride * stride * cin, cout);
    // Copied before the allocation: where it grows an unshared memory, `w` and `bits` are views
    // of the ArrayBuffer it replaces (detached).
    const values = Int32Array.from(bits);
    const ptr = backend.wasm._malloc(u.byteLength + spans.byteLength);
    new Float32Array(state.memory.buffer, ptr, u.length).set(u);
    new Int32Array(state.memory.buffer, ptr + u.byteLength, spans.length).set(spans);
    entry = { ptr, stride, shape: [...filter.shape], values, users: 0 };
    state.transformsMade++;
  }
  entry.users++;
  state.filters.set(filter.dataId, entry);
  return entry.ptr;
}

/** Transform points per sample and channel pair: F(4, 3) tiles, and F(3, 3) at an edge whose length is not a multiple of 4. */
function winogradPoints(ho: number, wo: number): number {
  const side = (l: number) => 6 * Math.floor(l / 4) + (l % 4 ? 5 : 0);
  return side(ho) * side(wo);
}

/** A block of the module's memory of at least `bytes` in `holder`, reused from call to call. */
function scratch(backend: WasmBackendLike, holder: { scratch: { ptr: number; bytes: number } }, bytes: number): number {
  if (holder.scratch.bytes < bytes) {
    if (holder.scratch.ptr) backend.wasm._free(holder.scratch.ptr);
    holder.scratch = { ptr: backend.wasm._malloc(bytes), bytes };
  }
  return holder.scratch.ptr;
}

/**
 * Multiply-adds (for Winograd, those of its transform-domain products) below which a share is not
 * worth a helper. A helper starts its share about 50 µs after it is posted, about what 1M
 * multiply-adds take. History, on 2 cores: with XNNPACK's pool still on both threads, 8M (the
 * first layer's input gradient for 100 samples, 3.7M, took 1.1 ms split against 0.9 ms alone);
 * with the pool off (setWasmThreads), 3M measured the same as 8M on the CNN metric, as neither
 * split the first layer's convolution (7.8M) or its input gradient (3.4M in products, but
 * mostly transforms: 0.7 ms). At 1M both split, and the CNN metric on 2 threads (Node, medians
 * of 9, five alternating rounds) took 115–123 against 129–139 ms at 8M; the MLP's was the same
 * (58–65 against 57–64 ms), the surface's layers split either way.
 */
const MIN_SHARE_MACS = 1024 * 1024;

/**
 * A kernel call over a batch, as {@link runSplit} splits it: `args(start, count, scratch)` are the
 * kernel's arguments for samples start … start + count − 1, with that thread's scratch memory;
 * the count is the second, and the others are either fixed or advance by a fixed amount per sample.
 */
interface SplitJob {
  /** Which kernel (its index in KERNELS: 0 Winograd, 1 direct, 2 matrix product). */
  kind: number;
  n: number;
  /** Samples a share is a multiple of while it can be (the kernel's block: a smaller share pads a block of its own). */
  block: number;
  /** Multiply-adds of the whole batch (those the kernel does), to decide whether to split. */
  macs: number;
  scratchBytes: number;
  args(start: number, count: number, scratchPtr: number): number[];
}

/** Writes a job's description into a thread's slot, with that thread's scratch memory (see runShares). */
function describeJob(words: Int32Array, slot: number, job: SplitJob, parts: number, nextWord: number, scratchPtr: number): void {
  const base = slot >> 2;
  const first = job.args(0, job.n, scratchPtr);
  const second = job.args(1, job.n, scratchPtr);
  for (let k = 0; k < SLOT.NARGS; k++) {
    words[base + SLOT.ARGS + k] = k < first.length ? first[k] | 0 : 0;
    words[base + SLOT.STRIDES + k] = k < first.length ? second[k] - first[k] : 0;
  }
  words[base + SLOT.KIND] = job.kind;
  words[base + SLOT.N] = job.n;
  words[base + SLOT.BLOCK] = Math.max(SHARE_GRANULE, job.block);
  words[base + SLOT.MIN] = SHARE_GRANULE;
  words[base + SLOT.PARTS] = parts;
  words[base + SLOT.NEXT] = nextWord;
}

/** For tests only: how runSplit treats its helpers (see setWinogradHelperTestMode). */
const helperTest = { notify: true, awaitClaimMs: 0 };

/**
 * For tests only. `notify: false` posts jobs without waking the helpers, so the caller does every
 * share and claims the jobs back; `awaitClaimMs` makes the caller wait up to that long for each
 * posted helper to claim its job before taking shares itself, so that a test can count on the
 * helpers taking part (a helper wakes some tens of µs after it is posted, longer on a busy machine).
 */
export function setWinogradHelperTestMode(mode: Partial<typeof helperTest>): void {
  Object.assign(helperTest, mode);
}

/**
 * Runs a kernel over the batch, split by samples between the calling thread and the helpers
 * that are ready (see winogradHelpers.ts): all of them take shares until none is left (runShares).
 */
function runSplit(backend: WasmBackendLike, state: KernelState, job: SplitJob): void {
  const t0 = performance.now();
  try {
    runSplitTimed(backend, state, job);
  } finally {
    state.splitMs += performance.now() - t0;
  }
}

/** What {@link runSplit} does, without the timing. */
function runSplitTimed(backend: WasmBackendLike, state: KernelState, job: SplitJob): void {
  const kernel = state.exports[KERNELS[job.kind]];
  state.calls[job.kind]++;
  let words = new Int32Array(state.memory.buffer);
  const ready = state.helpers.filter((h) => Atomics.load(words, (h.slot >> 2) + READY) === 1);
  // At least one block each, and no thread's part smaller than MIN_SHARE_MACS.
  const blocks = Math.ceil(job.n / SHARE_GRANULE);
  const parts = Math.max(1, Math.min(ready.length + 1, blocks, Math.floor(job.macs / MIN_SHARE_MACS)));
  if (parts === 1) {
    kernel(...job.args(0, job.n, scratch(backend, state, job.scratchBytes)));
    return;
  }
  const posted = ready.slice(0, parts - 1);
  // Scratch first (it may grow the memory), then the descriptions.
  const scratches = posted.map((h) => scratch(backend, h, job.scratchBytes));
  const own = scratch(backend, state, job.scratchBytes);
  words = new Int32Array(state.memory.buffer);
  const nextWord = state.slot + NEXT_WORD * 4;
  Atomics.store(words, nextWord >> 2, 0);
  describeJob(words, state.slot, job, parts, nextWord, own);
  posted.forEach((helper, p) => {
    describeJob(words, helper.slot, job, parts, nextWord, scratches[p]);
    helper.seq = (helper.seq + 1) & SEQ_MASK;
    Atomics.store(words, (helper.slot >> 2) + SEQ, helper.seq);
    if (helperTest.notify) Atomics.notify(words, (helper.slot >> 2) + SEQ);
  });
  if (helperTest.awaitClaimMs > 0) {
    const until = performance.now() + helperTest.awaitClaimMs;
    for (const helper of posted) {
      const claim = (helper.slot >> 2) + CLAIM;
      for (let c = Atomics.load(words, claim); c !== helper.seq && performance.now() < until; c = Atomics.load(words, claim)) Atomics.wait(words, claim, c, 1);
    }
  }
  runShares(words, state.slot >> 2, SLOT, kernel);
  // Every sample is taken. A helper that has not claimed its job yet never will (it finds it
  // claimed back and skips it); one that has is busy with its last share: wait for it.
  for (const helper of posted) {
    const base = helper.slot >> 2;
    const before = (helper.seq + SEQ_MASK) & SEQ_MASK;
    if (Atomics.compareExchange(words, base + CLAIM, before, helper.seq) === before) continue;
    for (let done = Atomics.load(words, base + DONE); done !== helper.seq; done = Atomics.load(words, base + DONE)) {
      Atomics.wait(words, base + DONE, done);
    }
  }
}

function zeroBias(backend: WasmBackendLike, state: KernelState, floats: number): number {
  const ptr = scratch(backend, state.zeros, floats * 4);
  new Float32Array(state.memory.buffer, ptr, floats).fill(0);
  return ptr;
}

/** A convolution as tfjs's Conv2D and FusedConv2D kernels receive it. */
export interface ConvCall {
  x: TensorInfo;
  filter: TensorInfo;
  bias?: TensorInfo;
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  hasPrelu?: boolean;
}

/** A stride or dilation attribute as a pair (height, width). */
function pair(v: number | [number, number] | undefined): [number, number] {
  return v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;
}

/** tfjs's shapes and padding of a convolution (dilation 1, which both kernels require). */
function convInfo(call: ConvCall): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    call.x.shape as [number, number, number, number],
    call.filter.shape as [number, number, number, number],
    call.strides,
    1,
    call.pad,
    call.dimRoundingMode,
  );
}

/** Whether a kernel's bias and activation are ones all of Ravine's kernels apply: a float32 [n] bias or none, no activation or ReLU. */
function epilogueTaken(bias: TensorInfo | undefined, n: number, activation: string | undefined): boolean {
  return (
    (bias === undefined || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === n)) &&
    (activation === undefined || activation === 'linear' || activation === 'relu')
  );
}

/** What both convolution kernels require: 4-D float32 NHWC tensors, dilation 1, channels that match, and an epilogue they apply. */
function convTaken(call: ConvCall): boolean {
  const [dh, dw] = pair(call.dilations);
  const { x, filter } = call;
  return (
    filter.shape.length === 4 && x.shape.length === 4 &&
    (call.dataFormat === undefined || call.dataFormat === 'NHWC') &&
    dh === 1 && dw === 1 &&
    x.shape[3] === filter.shape[2] &&
    x.dtype === 'float32' && filter.dtype === 'float32' &&
    epilogueTaken(call.bias, filter.shape[3], call.activation) &&
    !call.hasPrelu
  );
}

/** The stride at which {@link winogradConv} takes this convolution, or null (see the module comment). */
export function winogradStride(call: ConvCall): 1 | 2 | null {
  if (!convTaken(call)) return null;
  const [sh, sw] = pair(call.strides);
  const { filter } = call;
  const stride = sh === 2 && sw === 2 && filter.shape[0] === 5 && filter.shape[1] === 5 ? 2 : sh === 1 && sw === 1 && filter.shape[0] === 3 && filter.shape[1] === 3 ? 1 : null;
  return stride !== null && filter.shape[2] % 4 === 0 && filter.shape[3] % 4 === 0 ? stride : null;
}

/**
 * What the Winograd kernel can do to a convolution's input and output on the way (for the input
 * gradients of src/engine/convGrad.ts):
 *   mask      a tensor of x's shape: where it is ≤ 0, x counts as 0 (the ReLU's gradient of the
 *             layer, so that dy ⊙ step(y) is not a pass of its own);
 *   rowSplit  r: the output channels are r groups, group j written to row oy·r + j, so the
 *             output is [n, ho·r, wo, cout / r] (the depth-to-space of a stacked phase
 *             convolution, which would otherwise be a transpose). cout / r must be 2 or a
 *             multiple of 4.
 */
export interface WinogradExtras {
  mask?: TensorInfo;
  rowSplit?: number;
}

/** Whether `t` is float32 with `like`'s shape (a mask or an operand of an element-wise kernel). */
function float32Like(t: TensorInfo, like: TensorInfo): boolean {
  return t.dtype === 'float32' && t.shape.length === like.shape.length && t.shape.every((d, i) => d === like.shape[i]);
}

/** Whether the Winograd kernel writes rows of `group` output channels when it splits its output (2, or a multiple of 4). */
export function rowGroupTaken(group: number): boolean {
  return group === 2 || (Number.isInteger(group) && group > 0 && group % 4 === 0);
}

/** Whether the Winograd kernel can apply these extras to a convolution of input x and cout output channels. */
function winogradExtrasTaken(x: TensorInfo, cout: number, extras: WinogradExtras): boolean {
  const { mask, rowSplit = 1 } = extras;
  if (mask && !float32Like(mask, x)) return false;
  return Number.isInteger(rowSplit) && rowSplit >= 1 && (rowSplit === 1 || rowGroupTaken(cout / rowSplit));
}

/**
 * The convolution through Ravine's Winograd kernel, as a new tensor of the wasm backend; null if
 * the kernel does not take it or cannot run here (the caller then runs tfjs's own kernel).
 */
export function winogradConv(backend: WasmBackendLike, call: ConvCall, extras: WinogradExtras = {}): TensorInfo | null {
  const stride = winogradStride(call);
  if (stride === null) return null;
  if (!winogradExtrasTaken(call.x, call.filter.shape[3], extras)) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const { x, filter, bias } = call;
  const info = convInfo(call);
  if (info.outHeight <= 0 || info.outWidth <= 0 || info.batchSize === 0) return null;
  const cin = info.inChannels;
  const cout = info.outChannels;
  const rowSplit = extras.rowSplit ?? 1;
  const uPtr = filterTransform(backend, state, filter, stride);
  const biasPtr = bias ? offsetOf(backend, bias) : zeroBias(backend, state, cout);
  const scratchBytes = state.exports.scratchBytes(info.outHeight, info.outWidth, cin, cout, stride, BLOCK);
  const { inHeight: h, inWidth: w, outHeight: ho, outWidth: wo, batchSize: n } = info;
  const out = backend.makeOutput(rowSplit === 1 ? info.outShape : [n, ho * rowSplit, wo, cout / rowSplit], 'float32');
  const xPtr = offsetOf(backend, x);
  const outPtr = offsetOf(backend, out);
  const maskPtr = extras.mask ? offsetOf(backend, extras.mask) : 0;
  runSplit(backend, state, {
    kind: KIND_WINOGRAD,
    n,
    block: BLOCK,
    macs: n * winogradPoints(ho, wo) * stride * stride * cin * cout,
    scratchBytes,
    args: (start, count, scratchPtr) => [
      xPtr + start * h * w * cin * 4, count, h, w, cin, uPtr, biasPtr, cout, stride, info.padInfo.top, info.padInfo.left,
      outPtr + start * ho * wo * cout * 4, ho, wo, scratchPtr, BLOCK, call.activation === 'relu' ? 1 : 0,
      maskPtr && maskPtr + start * h * w * cin * 4, rowSplit, uPtr + transformFloats(stride * stride * cin, cout) * 4,
    ],
  });
  return out;
}

/** Whether {@link directConv} takes this convolution: one input channel (see kernels/as/direct.ts). */
export function directTakes(call: ConvCall): boolean {
  const [sh, sw] = pair(call.strides);
  return convTaken(call) && sh === sw && sh >= 1 && call.filter.shape[2] === 1 && call.filter.shape[3] % 4 === 0;
}

/**
 * A convolution of a one-channel input through Ravine's direct kernel, as a new tensor of the
 * wasm backend; null if the kernel does not take it or cannot run here.
 */
export function directConv(backend: WasmBackendLike, call: ConvCall): TensorInfo | null {
  if (!directTakes(call)) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const { x, filter, bias } = call;
  const info = convInfo(call);
  const { outHeight: ho, outWidth: wo, inHeight: h, inWidth: w, outChannels: cout, filterHeight: kh, filterWidth: kw, strideHeight: stride, batchSize: n } = info;
  if (ho <= 0 || wo <= 0 || n === 0 || info.padInfo.top < 0 || info.padInfo.left < 0) return null;
  const biasPtr = bias ? offsetOf(backend, bias) : zeroBias(backend, state, cout);
  const out = backend.makeOutput(info.outShape, 'float32');
  const xPtr = offsetOf(backend, x);
  const wPtr = offsetOf(backend, filter);
  const outPtr = offsetOf(backend, out);
  runSplit(backend, state, {
    kind: KIND_DIRECT,
    n,
    block: 1,
    macs: n * ho * wo * cout * kh * kw,
    scratchBytes: state.exports.directScratchBytes(ho, wo, kh, kw, stride),
    args: (start, count, scratchPtr) => [
      xPtr + start * h * w * 4, count, h, w, wPtr, kh, kw, biasPtr, cout, stride, info.padInfo.top, info.padInfo.left,
      outPtr + start * ho * wo * cout * 4, ho, wo, scratchPtr, call.activation === 'relu' ? 1 : 0,
    ],
  });
  return out;
}

/**
 * Samples of a {@link ravineConvPair} share that go through both layers before the next ones:
 * the first layer's output for them (800 KB for the CNNs) stays in the second-level cache for the
 * second. Measured on the CNNs' two layers, 1024 samples of a surface chunk, 1 thread: 17.2 ms as
 * two calls, 16.5 ms in blocks of 128 samples, 16.6 in blocks of 64 (the same bits).
 */
const PAIR_SUB = 64;

/**
 * Two convolutions in a row through Ravine's kernels in one pass (kernels/as/winograd.ts
 * convPair): a one-channel input through the direct kernel, its output through the Winograd
 * kernel, a few samples at a time, so that the first layer's output does not go through memory
 * (the built-in CNNs' two layers, forward, when nothing records gradients). The second call's x
 * is the first one's output and is not read. A new tensor of the wasm backend, the same values as
 * the two layers one after the other; null where either kernel does not take its layer.
 */
export function ravineConvPair(backend: WasmBackendLike, first: ConvCall, second: Omit<ConvCall, 'x'>): TensorInfo | null {
  if (!directTakes(first)) return null;
  const info1 = convInfo(first);
  const mid = { dataId: {}, shape: info1.outShape, dtype: 'float32' } as unknown as TensorInfo;
  const call2: ConvCall = { ...second, x: mid };
  const stride = winogradStride(call2);
  if (stride === null) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const info2 = convInfo(call2);
  const { inHeight: h, inWidth: w, outHeight: h1, outWidth: w1, outChannels: c1, filterHeight: kh1, filterWidth: kw1, strideHeight: s1, batchSize: n } = info1;
  const { outHeight: ho, outWidth: wo, outChannels: c2 } = info2;
  if (n === 0 || h1 <= 0 || w1 <= 0 || ho <= 0 || wo <= 0 || info1.padInfo.top < 0 || info1.padInfo.left < 0) return null;
  const uPtr = filterTransform(backend, state, second.filter, stride);
  const bias1 = first.bias ? offsetOf(backend, first.bias) : 0;
  const bias2 = second.bias ? offsetOf(backend, second.bias) : 0;
  // One block of zeros serves both layers without a bias.
  const zeros = bias1 && bias2 ? 0 : zeroBias(backend, state, Math.max(c1, c2));
  const params = [
    h, w, offsetOf(backend, first.filter), kh1, kw1, bias1 || zeros, c1, s1, info1.padInfo.top, info1.padInfo.left, h1, w1, first.activation === 'relu' ? 1 : 0,
    uPtr, bias2 || zeros, c2, stride, info2.padInfo.top, info2.padInfo.left, ho, wo, second.activation === 'relu' ? 1 : 0,
    uPtr + transformFloats(stride * stride * c1, c2) * 4, BLOCK, PAIR_SUB,
  ];
  const paramsPtr = scratch(backend, state.pairParams, params.length * 4);
  const scratchBytes = PAIR_SUB * h1 * w1 * c1 * 4 + state.exports.directScratchBytes(h1, w1, kh1, kw1, s1) + state.exports.scratchBytes(ho, wo, c1, c2, stride, BLOCK);
  // Allocations may grow (and so replace) an unshared memory's buffer: views only after them.
  const out = backend.makeOutput(info2.outShape, 'float32');
  new Int32Array(state.memory.buffer, paramsPtr, params.length).set(params);
  const xPtr = offsetOf(backend, first.x);
  const outPtr = offsetOf(backend, out);
  runSplit(backend, state, {
    kind: KIND_PAIR,
    n,
    block: BLOCK,
    macs: n * (h1 * w1 * c1 * kh1 * kw1 + winogradPoints(ho, wo) * stride * stride * c1 * c2),
    scratchBytes,
    args: (start, count, scratchPtr) => [xPtr + start * h * w * 4, count, outPtr + start * ho * wo * c2 * 4, paramsPtr, scratchPtr],
  });
  return out;
}

/** A matrix product as {@link ravineMatMul} takes it: c = act(a · b + bias), 2-D, row-major. */
export interface MatMulCall {
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  activation?: string;
  /** a's shape: where it is ≤ 0, a counts as 0 (a ReLU's mask on a Dense layer's upstream gradient). */
  aMask?: TensorInfo;
}

/** Whether {@link ravineMatMul} takes this product: float32 [m, k] · [k, n] (or a batch of one). */
export function matMulTakes(call: MatMulCall): boolean {
  const { a, b, bias } = call;
  const two = (t: TensorInfo) => t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1);
  if (!two(a) || !two(b) || a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const maskTaken = !call.aMask || float32Like(call.aMask, a);
  return b.shape[b.shape.length - 2] === k && k > 0 && n > 0 && maskTaken && epilogueTaken(bias, n, call.activation);
}

/**
 * The product through Ravine's matrix-product kernel (rows split between the calling thread and
 * the helpers), as a new tensor of a's rank; null if the kernel does not take it or cannot run here.
 */
export function ravineMatMul(backend: WasmBackendLike, call: MatMulCall): TensorInfo | null {
  if (!matMulTakes(call)) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const { a, b, bias } = call;
  const m = a.shape[a.shape.length - 2];
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const out = backend.makeOutput(a.shape.length === 3 ? [1, m, n] : [m, n], 'float32');
  if (m === 0) return out;
  const aPtr = offsetOf(backend, a);
  const bPtr = offsetOf(backend, b);
  const cPtr = offsetOf(backend, out);
  const biasPtr = bias ? offsetOf(backend, bias) : zeroBias(backend, state, n);
  const maskPtr = call.aMask ? offsetOf(backend, call.aMask) : 0;
  runSplit(backend, state, {
    kind: KIND_GEMM,
    n: m,
    block: SHARE_GRANULE,
    macs: m * k * n,
    // With a mask, each thread masks its own rows of a into its scratch memory first; then come
    // its lists of the columns of a that are not zero (kernels/as/gemm.ts).
    scratchBytes: state.exports.gemmScratchBytes(m, k, maskPtr ? 1 : 0),
    args: (start, count, scratchPtr) => [
      aPtr + start * k * 4, count, k, bPtr, n, biasPtr, cPtr + start * n * 4, call.activation === 'relu' ? 1 : 0,
      maskPtr && maskPtr + start * k * 4, scratchPtr,
    ],
  });
  return out;
}

/** An L∞ PGD step as {@link ravineLinfStep} takes it: clip(x + clip(xAdv + α · sign(g) − x, −ε, ε), lo, hi). */
export interface LinfStepCall {
  x: TensorInfo;
  xAdv: TensorInfo;
  g: TensorInfo;
  alpha: number;
  eps: number;
  lo: number;
  hi: number;
}

/**
 * The step through Ravine's kernel (kernels/as/pgd.ts), in one pass and on the calling thread
 * (a batch of 100 MNIST samples is 0.02 ms of work), as a new tensor; null if the three are
 * not float32 tensors of one shape or the kernel cannot run here (the caller then runs tfjs ops).
 */
export function ravineLinfStep(backend: WasmBackendLike, call: LinfStepCall): TensorInfo | null {
  const { x, xAdv, g } = call;
  if (![x, xAdv, g].every((t) => float32Like(t, x))) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const out = backend.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((a, b) => a * b, 1);
  if (n > 0) {
    state.exports.linfStep(offsetOf(backend, x), offsetOf(backend, xAdv), offsetOf(backend, g), offsetOf(backend, out), n, call.alpha, call.eps, call.lo, call.hi);
  }
  return out;
}

/** A loss surface's chunk of inputs as {@link ravineSurfaceBatch} receives it (src/engine/ops.ts surfaceInputs). */
export interface SurfaceBatchCall {
  /** The sample and the two directions, each [1, ...shape]. */
  x: TensorInfo;
  d1: TensorInfo;
  d2: TensorInfo;
  /** The grid points' coefficients along d1 and d2, [n]. */
  a: TensorInfo;
  b: TensorInfo;
  lo: number;
  hi: number;
}

/**
 * clip(x + (a[i] · d1 + b[i] · d2), lo, hi) for every grid point i, as a new [n, ...shape] tensor,
 * in one pass of Ravine's kernel (kernels/as/surface.ts), its points shared with the helper threads
 * where there are some, with the values of the tfjs ops; null if the inputs do not fit or the
 * kernel cannot run here (the caller runs the ops).
 */
export function ravineSurfaceBatch(backend: WasmBackendLike, call: SurfaceBatchCall): TensorInfo | null {
  const { x, d1, d2, a, b } = call;
  const size = x.shape.reduce((p, q) => p * q, 1);
  const one = (t: TensorInfo) => t.shape[0] === 1 && float32Like(t, x);
  const n = a.shape[0];
  const coef = (t: TensorInfo) => t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === n;
  if (x.shape.length < 2 || ![x, d1, d2].every(one) || !coef(a) || !coef(b)) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const out = backend.makeOutput([n, ...x.shape.slice(1)], 'float32');
  if (n > 0 && size > 0) {
    const range = scratch(backend, state.range, 8);
    new Float32Array(state.memory.buffer, range, 2).set([call.lo, call.hi]);
    const [outPtr, aPtr, bPtr, xPtr, d1Ptr, d2Ptr] = [out, a, b, x, d1, d2].map((t) => offsetOf(backend, t));
    runSplit(backend, state, {
      kind: KIND_SURFACE,
      n,
      block: 1,
      // Memory-bound: a 1024-point chunk of 784 values took 0.48 ms on one thread, what about
      // 10M multiply-adds take in the other kernels, so the points count 12 per value.
      macs: n * size * 12,
      scratchBytes: 0,
      args: (start, count) => [outPtr + start * size * 4, count, aPtr + start * 4, bPtr + start * 4, xPtr, d1Ptr, d2Ptr, size, range],
    });
  }
  return out;
}

/** The metric's objective as {@link ravineKlToTarget} receives it (src/engine/ops.ts KlToTarget). */
export interface KlToTargetCall {
  /** Logits [n, k]. */
  z: TensorInfo;
  /** log p and p of the fixed distribution, [n, k]. */
  logP: TensorInfo;
  p: TensorInfo;
  /** The divisor of z: [n, 1], or one value for all. */
  scale: TensorInfo;
}

/**
 * KL(p || softmax(z / s)) per sample and its gradient (softmax(z / s) − p) / s, both in one pass
 * over the wasm memory (in JavaScript, in float64, stored as float32): [value [n], gradient [n, k]].
 * Null if the shapes do not fit or the backend's memory cannot be reached (the caller runs tfjs ops).
 */
export function ravineKlToTarget(backend: WasmBackendLike, call: KlToTargetCall): [TensorInfo, TensorInfo] | null {
  const { z, logP, p, scale } = call;
  if (z.shape.length !== 2 || [z, logP, p, scale].some((t) => t.dtype !== 'float32')) return null;
  const [n, k] = z.shape;
  const same = (t: TensorInfo) => t.shape.length === 2 && t.shape[0] === n && t.shape[1] === k;
  const scales = scale.shape.reduce((a, b) => a * b, 1);
  if (!same(logP) || !same(p) || !(scales === 1 || (scale.shape.length === 2 && scale.shape[0] === n && scale.shape[1] === 1))) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const value = backend.makeOutput([n], 'float32');
  const grad = backend.makeOutput([n, k], 'float32');
  const f = new Float32Array(state.memory.buffer);
  const zAt = offsetOf(backend, z) >> 2, lpAt = offsetOf(backend, logP) >> 2, pAt = offsetOf(backend, p) >> 2;
  const sAt = offsetOf(backend, scale) >> 2, vAt = offsetOf(backend, value) >> 2, gAt = offsetOf(backend, grad) >> 2;
  for (let i = 0; i < n; i++) {
    const s = f[sAt + (scales === 1 ? 0 : i)];
    const row = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, f[zAt + row + j] / s);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(f[zAt + row + j] / s - max);
    const lse = max + Math.log(sum);
    let kl = 0;
    for (let j = 0; j < k; j++) {
      const logQ = f[zAt + row + j] / s - lse;
      const pj = f[pAt + row + j];
      kl += pj * (f[lpAt + row + j] - logQ);
      f[gAt + row + j] = (Math.exp(logQ) - pj) / s;
    }
    f[vAt + i] = kl;
  }
  return [value, grad];
}

/**
 * What a loss surface shows at each point, from its logits z [n, k] and the sample's label: the
 * cross-entropy logsumexp(z) − z_label, the logit margin z_label − max of the others, the first
 * class of largest logit and the confidence (its softmax probability), in one pass of Ravine's
 * kernel (kernels/as/surface.ts surfaceHead), in float64, stored as float32 (the class as int32),
 * its rows shared between the threads. Null if z is not float32 [n, k] or the label is not one of
 * its classes (the caller runs tfjs ops then). It used to be a loop in JavaScript on the calling
 * thread: 0.29–0.35 ms for 2048 rows of 10 logits against 0.21 ms in the kernel on one thread,
 * the same bits.
 */
export function ravineSurfaceHead(backend: WasmBackendLike, z: TensorInfo, label: number): [TensorInfo, TensorInfo, TensorInfo, TensorInfo] | null {
  if (z.shape.length !== 2 || z.dtype !== 'float32') return null;
  const [n, k] = z.shape;
  if (!Number.isInteger(label) || label < 0 || label >= k) return null;
  const state = stateFor(backend);
  if (!state) return null;
  const outputs = [backend.makeOutput([n], 'float32'), backend.makeOutput([n], 'float32'), backend.makeOutput([n], 'int32'), backend.makeOutput([n], 'float32')] as const;
  if (n > 0) {
    const zPtr = offsetOf(backend, z);
    const [loss, margin, pred, conf] = outputs.map((t) => offsetOf(backend, t));
    runSplit(backend, state, {
      kind: KIND_HEAD,
      n,
      block: 1,
      // 2048 rows of 10 logits took 0.21 ms on one thread, what about 4.4M multiply-adds take in
      // the other kernels: a logit (an exponential) counts 210.
      macs: n * k * 210,
      scratchBytes: 0,
      args: (start, count) => [zPtr + start * k * 4, count, k, label, loss + start * 4, margin + start * 4, pred + start * 4, conf + start * 4],
    });
  }
  return [...outputs];
}

/**
 * Which build of Ravine's kernels runs on this backend: 'relaxed SIMD' (fused multiply-adds),
 * 'SIMD', or null before they first ran or where they cannot run (tfjs's own kernels do
 * everything then).
 */
export function ravineKernelBuild(backend: object = tf.backend()): 'relaxed SIMD' | 'SIMD' | null {
  const state = states.get(backend);
  return state ? (state.relaxed ? 'relaxed SIMD' : 'SIMD') : null;
}

/** What {@link winogradHelpers} reports. */
export interface WinogradHelperStats {
  started: number;
  ready: number;
  /** Jobs the helpers took part in (each took at least one share), and the samples (or rows) they computed. */
  jobs: number;
  samples: number;
  /** Which build of the kernels runs ({@link ravineKernelBuild}). */
  build: 'relaxed SIMD' | 'SIMD' | null;
}

/** The helper threads of a wasm backend's kernel (the current backend by default): started, ready, and the work they did. */
export function winogradHelpers(backend: object = tf.backend()): WinogradHelperStats {
  const state = states.get(backend);
  if (!state) return { started: 0, ready: 0, jobs: 0, samples: 0, build: null };
  const words = new Int32Array(state.memory.buffer);
  let ready = 0;
  let jobs = 0;
  let samples = 0;
  for (const h of state.helpers) {
    const base = h.slot >> 2;
    if (Atomics.load(words, base + READY) === 1) ready++;
    jobs += Atomics.load(words, base + SLOT.TOOK);
    samples += Atomics.load(words, base + SLOT.SAMPLES);
  }
  return { started: state.helpers.length, ready, jobs, samples, build: ravineKernelBuild(backend) };
}

/** How many times each of Ravine's wasm kernels has run on a backend (the current one by default), by kernel name. */
export function ravineKernelCalls(backend: object = tf.backend()): Record<(typeof KERNELS)[number], number> {
  const state = states.get(backend);
  return Object.fromEntries(KERNELS.map((name, i) => [name, state ? state.calls[i] : 0])) as Record<(typeof KERNELS)[number], number>;
}

/**
 * Milliseconds the calling thread has spent in the split kernels (convolutions, matrix products,
 * surface inputs) of a backend (the current one by default), its waits for helpers included: the
 * rest of a job's time is work that only the calling thread does (tfjs's dispatch and small ops,
 * the loss heads, the PGD step), which more threads cannot shorten.
 */
export function ravineSplitMs(backend: object = tf.backend()): number {
  const state = states.get(backend);
  return state ? state.splitMs : 0;
}

/** Filter transforms of a backend (the current one by default), for tests: held for live filters, retired (kept for a filter of the same values), and made in all. */
export function cachedFilterTransforms(backend: object = tf.backend()): { held: number; retired: number; made: number } {
  const state = states.get(backend);
  if (!state) return { held: 0, retired: 0, made: 0 };
  return { held: new Set(state.filters.values()).size, retired: state.retired.length, made: state.transformsMade };
}
