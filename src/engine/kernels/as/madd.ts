// AssemblyScript (compiled by `npm run kernels` with the kernels that import it): not part of the
// TypeScript build.
//
// acc + a · b, the step of every product loop in the kernels. The module is built twice over
// (scripts/kernels.ts): with relaxed SIMD, where this is f32x4.relaxed_madd, a fused multiply-add
// on a CPU that has one (one instruction and one rounding instead of two); without, for engines
// that lack relaxed SIMD, a multiply and an add. The loops issue more instructions than the
// CPU's floating-point units need, so the fused form measured ×1.37 on the 4 × 8 tile loop
// (52.6 against 38.3 GFLOP/s, one thread, operands in L1).

@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
