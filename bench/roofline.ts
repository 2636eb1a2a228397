/**
 * The arithmetic ceiling of WebAssembly SIMD on this machine: how many float32 operations per
 * second a wasm kernel could reach if it did nothing but multiply-adds in registers, on 1 and on
 * every core. No kernel that also loads, stores and loops can beat it, so it bounds what any wasm
 * backend (tfjs's XNNPACK or one of our own) could do for a job of known FLOPs. Run by
 * `npm run bench` (bench/run.ts); alone: `node --experimental-wasm-relaxed-simd --import tsx bench/roofline.ts`.
 *
 * The modules are written here byte by byte (no toolchain needed). Variants:
 *   mul+add  acc_k += x_k * y with separate f32x4.mul and f32x4.add (what WebAssembly SIMD
 *            offers, and what XNNPACK's wasm kernels use): 6 independent accumulators, enough
 *            to cover the add's latency;
 *   madd     the same with relaxed SIMD's f32x4.relaxed_madd (a fused multiply-add where the
 *            CPU has one), 10 accumulators; needs relaxed SIMD (Chromium ≥ 114; Node 20 behind
 *            --experimental-wasm-relaxed-simd).
 *   gemm     the inner loop of a matrix product as a kernel writes it: a 4 x 8 tile of C in 8
 *            accumulators, and per step of k one A value per row splatted from memory
 *            (v128.load32_splat) and two vectors of B loaded, operands in L1. It shows how much
 *            of the register-only rate survives the loads a real kernel cannot avoid.
 * With `native` (when a C compiler is present) the same loop in C with AVX2 and FMA, 8 lanes:
 * the instructions the PyTorch peer's oneDNN kernels use.
 */
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

export type RoofVariant = 'mul+add' | 'madd' | 'gemm' | 'gemm madd';

export interface RoofResult {
  variant: RoofVariant | 'native AVX2 FMA';
  threads: number;
  /** Best over repeats of the summed rate of all threads, GFLOP/s (a multiply-add = 2): other
   *  work on the machine only slows a loop down, so the best run is the closest to the ceiling. */
  gflops: number;
  runs: number[];
}

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const f32 = (v: number) => [...new Uint8Array(new Float32Array([v]).buffer)];
const simd = (op: number) => [0xfd, ...leb(op)];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
/** Signed LEB128, what `i32.const` takes (unsigned encoding would read 64 as -64). */
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const OP = { load: 0x00, load32Splat: 0x09, splat: 0x13, extract: 0x1f, add: 0xe4, mul: 0xe6, madd: 0x105 };
const GET = 0x20, SET = 0x21, TEE = 0x22;
const I32_CONST = 0x41, I32_ADD = 0x6a, I32_SUB = 0x6b, LOOP = 0x03, BR_IF = 0x0d, END = 0x0b;

/** Accumulators of each register loop (the gemm tile has GEMM_MR x GEMM_NR / 4 of them). */
export const ACCUMULATORS: Record<Exclude<RoofVariant, 'gemm' | 'gemm madd'>, number> = { 'mul+add': 6, madd: 10 };
const UNROLL = 4;
/** The gemm loop's tile (rows of A x columns of B, C held in registers) and its depth per trip. */
export const GEMM_MR = 4;
export const GEMM_NR = 8;
export const GEMM_K = 256;
/** FLOPs of one trip through the loop body (4 lanes; a multiply-add counts 2). */
export const flopsPerIteration = (v: RoofVariant) => (v === 'gemm' || v === 'gemm madd' ? GEMM_MR * GEMM_NR * GEMM_K * 2 : ACCUMULATORS[v] * UNROLL * 4 * 2);

/** The module around one function `run(n: i32) -> f32` with `nLocals` v128 locals after its i32 ones. */
function wasmModule(i32Locals: number, v128Locals: number, body: number[], memory: boolean): Uint8Array<ArrayBuffer> {
  const locals = i32Locals ? [2, ...leb(i32Locals), 0x7f, ...leb(v128Locals), 0x7b] : [1, ...leb(v128Locals), 0x7b];
  const fn = [...locals, ...body];
  const name = [...'run'].map((c) => c.charCodeAt(0));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...(memory ? section(5, [1, 0x00, 1]) : []),
    ...section(7, memory ? [2, 3, ...name, 0x00, 0, 6, ...[...'memory'].map((c) => c.charCodeAt(0)), 0x02, 0] : [1, 3, ...name, 0x00, 0]),
    ...section(10, [1, ...leb(fn.length), ...fn]),
  ];
  return Uint8Array.from(bytes);
}

/**
 * The gemm variants: `run(n)` makes n passes over C[4x8] += A[4xK] B[Kx8], A at byte 0 (k-major:
 * A[k][i] at 16k + 4i), B after it (B[k][j] at 16K + 32k + 4j), both in the exported memory
 * (64 KiB, zero unless the caller fills it). Returns the sum of lane 0 of every accumulator.
 * `fused`: each multiply-add is relaxed SIMD's f32x4.relaxed_madd, as in Ravine's relaxed build
 * (src/engine/kernels/as/madd.ts), rather than a multiply and an add.
 */
function gemmModule(fused: boolean): Uint8Array<ArrayBuffer> {
  const nb = GEMM_NR / 4;
  const nacc = GEMM_MR * nb;
  // i32 locals: 0 = n (param), 1 = A pointer, 2 = B pointer, 3 = k counter; then v128:
  // 4.. accumulators, the B vectors, the splatted A value.
  const acc = (i: number, j: number) => 4 + i * nb + j;
  const bv = (j: number) => 4 + nacc + j;
  const av = 4 + nacc + nb;
  const body: number[] = [];
  for (let k = 0; k < nacc; k++) body.push(0x43, ...f32(0), ...simd(OP.splat), SET, ...leb(4 + k));
  body.push(LOOP, 0x40);
  body.push(I32_CONST, 0, SET, 1, I32_CONST, ...sleb(GEMM_MR * GEMM_K * 4), SET, 2, I32_CONST, ...sleb(GEMM_K), SET, 3);
  body.push(LOOP, 0x40);
  for (let j = 0; j < nb; j++) body.push(GET, 2, ...simd(OP.load), 4, ...leb(16 * j), SET, ...leb(bv(j)));
  for (let i = 0; i < GEMM_MR; i++) {
    body.push(GET, 1, ...simd(OP.load32Splat), 2, ...leb(4 * i), SET, ...leb(av));
    for (let j = 0; j < nb; j++) {
      if (fused) body.push(GET, ...leb(av), GET, ...leb(bv(j)), GET, ...leb(acc(i, j)), ...simd(OP.madd), SET, ...leb(acc(i, j)));
      else body.push(GET, ...leb(acc(i, j)), GET, ...leb(av), GET, ...leb(bv(j)), ...simd(OP.mul), ...simd(OP.add), SET, ...leb(acc(i, j)));
    }
  }
  body.push(GET, 1, I32_CONST, ...sleb(4 * GEMM_MR), I32_ADD, SET, 1, GET, 2, I32_CONST, ...sleb(4 * GEMM_NR), I32_ADD, SET, 2);
  body.push(GET, 3, I32_CONST, 1, I32_SUB, TEE, 3, BR_IF, 0, END); // next k
  body.push(GET, 0, I32_CONST, 1, I32_SUB, TEE, 0, BR_IF, 0, END); // next pass
  body.push(0x43, ...f32(0));
  for (let k = 0; k < nacc; k++) body.push(GET, ...leb(4 + k), ...simd(OP.extract), 0, 0x92);
  body.push(END);
  return wasmModule(3, nacc + nb + 1, body, true);
}

/** `run(n: i32) -> f32`: n trips of the variant's loop (see the file comment). */
export function roofModule(variant: RoofVariant): Uint8Array<ArrayBuffer> {
  if (variant === 'gemm' || variant === 'gemm madd') return gemmModule(variant === 'gemm madd');
  const K = ACCUMULATORS[variant];
  // locals: 0 = n (param), 1..K = acc, K+1..2K = x (mul+add) or the shared c (madd), then y.
  const nx = variant === 'mul+add' ? K : 1;
  const acc = (k: number) => 1 + k;
  const xs = (k: number) => 1 + K + (variant === 'mul+add' ? k : 0);
  const y = 1 + K + nx;
  const body: number[] = [];
  const splat = (local: number, v: number) => body.push(0x43, ...f32(v), ...simd(OP.splat), SET, ...leb(local));
  for (let k = 0; k < K; k++) splat(acc(k), 1 + k / 64);
  for (let k = 0; k < nx; k++) splat(xs(k), 1e-7 * (k + 1));
  splat(y, 0.999);
  body.push(0x03, 0x40); // loop
  for (let u = 0; u < UNROLL; u++) {
    for (let k = 0; k < K; k++) {
      if (variant === 'mul+add') body.push(GET, ...leb(acc(k)), GET, ...leb(xs(k)), GET, ...leb(y), ...simd(OP.mul), ...simd(OP.add), SET, ...leb(acc(k)));
      else body.push(GET, ...leb(xs(0)), GET, ...leb(y), GET, ...leb(acc(k)), ...simd(OP.madd), SET, ...leb(acc(k)));
    }
  }
  body.push(GET, 0, I32_CONST, 1, I32_SUB, TEE, 0, BR_IF, 0, END); // n -= 1; br_if n; end
  // Return the sum of lane 0 of every accumulator, so nothing is dead code.
  body.push(0x43, ...f32(0));
  for (let k = 0; k < K; k++) body.push(GET, ...leb(acc(k)), ...simd(OP.extract), 0, 0x92);
  body.push(END);
  return wasmModule(0, K + nx + 1, body, false);
}

/** Is this variant compiled by this engine (relaxed SIMD may be off)? */
export function roofSupported(variant: RoofVariant): boolean {
  return WebAssembly.validate(roofModule(variant));
}

/** The worker's code, plain JavaScript (workers get no TypeScript loader); V8 flags are per process. */
const WORKER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const run = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes)).exports.run;
run(100000); // tier-up
parentPort.on('message', (m) => {
  const t0 = performance.now();
  const v = run(m.iterations);
  parentPort.postMessage({ ms: performance.now() - t0, v });
});
parentPort.postMessage('ready');
`;

/** Runs the variant on `threads` worker threads at once, `repeats` times; each trip ~0.3 s. */
export async function measureWasmRoof(variant: RoofVariant, threads: number, repeats = 5): Promise<RoofResult> {
  const workers = await Promise.all(
    Array.from({ length: threads }, () => new Promise<Worker>((resolve, reject) => {
      const w = new Worker(WORKER_JS, { eval: true, workerData: { bytes: roofModule(variant) }, execArgv: [] });
      w.once('message', () => resolve(w));
      w.once('error', reject);
    })),
  );
  try {
    const per = flopsPerIteration(variant);
    // Size a trip to ~0.3 s from a short calibration on the first worker.
    const probeIterations = Math.ceil(2_000_000 * flopsPerIteration('mul+add') / per);
    const probe = await new Promise<{ ms: number }>((r) => { workers[0].once('message', r); workers[0].postMessage({ iterations: probeIterations }); });
    const iterations = Math.max(probeIterations / 2, Math.round((probeIterations * 300) / Math.max(probe.ms, 1)));
    const runs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const times = await Promise.all(workers.map((w) => new Promise<number>((resolve) => { w.once('message', (m: { ms: number }) => resolve(m.ms)); w.postMessage({ iterations }); })));
      runs.push((threads * iterations * per) / (Math.max(...times) / 1000) / 1e9);
    }
    return { variant, threads, gflops: Math.max(...runs), runs };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const NATIVE_C = `
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
/* acc_k = fma(x_k, y, acc_k) over 10 independent 8-lane accumulators, in registers. */
static float run(long n) {
  __m256 acc[10], x[10], y = _mm256_set1_ps(0.999f);
  for (int k = 0; k < 10; k++) { acc[k] = _mm256_set1_ps(1.0f + k / 64.0f); x[k] = _mm256_set1_ps(1e-7f * (k + 1)); }
  for (long i = 0; i < n; i++)
    for (int k = 0; k < 10; k++) acc[k] = _mm256_fmadd_ps(x[k], y, acc[k]);
  float s = 0; for (int k = 0; k < 10; k++) s += _mm256_cvtss_f32(acc[k]);
  return s;
}
int main(int argc, char **argv) {
  int threads = atoi(argv[1]); long n = atol(argv[2]);
  double t0 = omp_get_wtime(); float sink = 0;
  #pragma omp parallel num_threads(threads) reduction(+:sink)
  sink += run(n);
  double s = omp_get_wtime() - t0;
  printf("%.3f %f\\n", threads * (double)n * 10 * 8 * 2 / s / 1e9, sink);
  return 0;
}`;

/** The same loop in C with AVX2 + FMA (8 lanes, fused), if gcc is here; null otherwise. */
export function measureNativeRoof(threads: number, dir: string, repeats = 5): RoofResult | null {
  try {
    mkdirSync(dir, { recursive: true });
    const src = join(dir, 'roofline.c');
    const bin = join(dir, 'roofline-native');
    writeFileSync(src, NATIVE_C);
    execFileSync('gcc', ['-O3', '-mavx2', '-mfma', '-fopenmp', src, '-o', bin], { stdio: 'ignore' });
    if (!existsSync(bin)) return null;
    execFileSync(bin, [String(threads), '10000000']);
    const runs = Array.from({ length: repeats }, () => Number(execFileSync(bin, [String(threads), '100000000'], { encoding: 'utf8' }).split(' ')[0]));
    return { variant: 'native AVX2 FMA', threads, gflops: Math.max(...runs), runs };
  } catch {
    return null;
  }
}

/** Every variant on 1 thread and on every core; `log` gets a line per figure. */
export async function measureRoofline(log: (s: string) => void = console.log): Promise<{ cores: number; wasm: RoofResult[]; native: RoofResult[]; unsupported: string[] }> {
  const cores = os.cpus().length;
  const wasm: RoofResult[] = [];
  const unsupported: string[] = [];
  for (const v of ['mul+add', 'madd', 'gemm', 'gemm madd'] as RoofVariant[]) {
    if (!roofSupported(v)) {
      unsupported.push(v);
      log(`roofline: wasm ${v} is not supported by this engine (relaxed SIMD off?)`);
      continue;
    }
    for (const t of [...new Set([1, cores])]) {
      const r = await measureWasmRoof(v, t);
      wasm.push(r);
      log(`roofline: wasm ${v}, ${t} thread(s): ${r.gflops.toFixed(1)} GFLOP/s (runs ${r.runs.map((x) => x.toFixed(1)).join(' ')})`);
    }
  }
  const native: RoofResult[] = [];
  for (const t of [...new Set([1, cores])]) {
    const n = measureNativeRoof(t, join(os.tmpdir(), 'ravine-roofline'));
    if (n) native.push(n);
    log(n ? `roofline: native AVX2 FMA, ${t} thread(s): ${n.gflops.toFixed(1)} GFLOP/s (runs ${n.runs.map((x) => x.toFixed(1)).join(' ')})` : 'roofline: no C compiler (gcc) for the native figure');
  }
  return { cores, wasm, native, unsupported };
}

if (process.argv[1]?.endsWith('roofline.ts')) {
  const out = await measureRoofline();
  const i = process.argv.indexOf('--json');
  if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], JSON.stringify(out, null, 1));
}
