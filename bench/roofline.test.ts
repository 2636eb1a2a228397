/**
 * The ceiling loops do the work bench/run.ts credits them with: n trips of the module perform
 * n × UNROLL updates of every accumulator, each one multiply and one add per lane, so
 * flopsPerIteration is honest. Checked against the same arithmetic in float32 in JavaScript.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ACCUMULATORS, flopsPerIteration, GEMM_K, GEMM_MR, GEMM_NR, roofModule } from './roofline';

const UNROLL = flopsPerIteration('mul+add') / (ACCUMULATORS['mul+add'] * 4 * 2);

/** What `run(trips)` must return: the float32 sum of every accumulator's lane 0. */
function simulate(variant: 'mul+add' | 'madd', trips: number): number {
  const f = Math.fround;
  const K = ACCUMULATORS[variant];
  const y = f(0.999);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    let acc = f(1 + k / 64);
    const x = f(1e-7 * (variant === 'mul+add' ? k + 1 : 1));
    for (let i = 0; i < trips * UNROLL; i++) acc = variant === 'mul+add' ? f(acc + f(x * y)) : f(acc + x * y);
    sum = f(sum + acc);
  }
  return sum;
}

describe('wasm SIMD ceiling loops', () => {
  it('unrolls 4 trips of 6 multiply-add accumulators: 192 FLOPs per trip', () => {
    expect(UNROLL).toBe(4);
    expect(flopsPerIteration('mul+add')).toBe(6 * 4 * 4 * 2);
  });

  it('mul+add: run(n) equals n × 4 float32 multiply-then-add updates of each accumulator', () => {
    const run = new WebAssembly.Instance(new WebAssembly.Module(roofModule('mul+add'))).exports.run as (n: number) => number;
    for (const trips of [1, 7, 1000]) expect(run(trips)).toBe(simulate('mul+add', trips));
    // The work grows with n: the accumulators move by ~x·y per update.
    expect(run(1000) - run(1)).toBeGreaterThan(0);
  });

  it('madd: the relaxed-SIMD module runs under --experimental-wasm-relaxed-simd and does the same updates (fused or not)', () => {
    const bytes = Buffer.from(roofModule('madd')).toString('base64');
    const script = `const m = new WebAssembly.Module(Buffer.from('${bytes}', 'base64')); console.log(JSON.stringify([1, 7, 1000].map((n) => new WebAssembly.Instance(m).exports.run(n))));`;
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as number[];
    [1, 7, 1000].forEach((trips, i) => expect(Math.abs(got[i] - simulate('madd', trips))).toBeLessThan(1e-4));
  });

  it('gemm: run(n) makes n passes of C[4x8] += A[4xK] B[Kx8] over operands in memory, 2 FLOPs per multiply-add', () => {
    expect(flopsPerIteration('gemm')).toBe(GEMM_MR * GEMM_NR * GEMM_K * 2);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(roofModule('gemm')));
    const run = inst.exports.run as (n: number) => number;
    const mem = new Float32Array((inst.exports.memory as WebAssembly.Memory).buffer);
    // A[k][i] at float 4k + i, B[k][j] at float 4K + 8k + j: small values that differ per entry.
    const a = (k: number, i: number) => Math.fround(((k * 7 + i * 3) % 11) / 64);
    const b = (k: number, j: number) => Math.fround(((k * 5 + j * 13) % 17) / 128 - 0.06);
    for (let k = 0; k < GEMM_K; k++) {
      for (let i = 0; i < GEMM_MR; i++) mem[GEMM_MR * k + i] = a(k, i);
      for (let j = 0; j < GEMM_NR; j++) mem[GEMM_MR * GEMM_K + GEMM_NR * k + j] = b(k, j);
    }
    // Lane 0 of accumulator (i, j) is C[i][4j]; each update is a float32 multiply, then add.
    const simulateGemm = (passes: number) => {
      const f = Math.fround;
      let sum = 0;
      for (let i = 0; i < GEMM_MR; i++) {
        for (let jv = 0; jv < GEMM_NR / 4; jv++) {
          let c = 0;
          for (let p = 0; p < passes; p++) for (let k = 0; k < GEMM_K; k++) c = f(c + f(a(k, i) * b(k, 4 * jv)));
          sum = f(sum + c);
        }
      }
      return sum;
    };
    for (const passes of [1, 3]) expect(run(passes)).toBe(simulateGemm(passes));
    expect(run(1)).not.toBe(0);
    // The fused variant (relaxed SIMD, on in this process: scripts/vitestSetup.ts) does the same
    // updates, each rounded once: equal to float32 rounding.
    const fused = new WebAssembly.Instance(new WebAssembly.Module(roofModule('gemm madd')));
    new Float32Array((fused.exports.memory as WebAssembly.Memory).buffer).set(mem.subarray(0, GEMM_MR * GEMM_K + GEMM_NR * GEMM_K));
    const runFused = fused.exports.run as (n: number) => number;
    for (const passes of [1, 3]) expect(Math.abs(runFused(passes) - simulateGemm(passes))).toBeLessThan(1e-4 * Math.abs(simulateGemm(passes)) + 1e-6);
    expect(flopsPerIteration('gemm madd')).toBe(flopsPerIteration('gemm'));
  });
});
