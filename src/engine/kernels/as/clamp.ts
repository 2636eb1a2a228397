// AssemblyScript (compiled by `npm run kernels` with the kernels that import it): not part of the
// TypeScript build.
//
// The kernels' element-wise ReLU pieces: a ReLU's mask applied to a gradient (maskedBy, shared by
// the matrix product and the Winograd kernel's plane fill), and ReLU and clipping with the exact
// results of f32x4.max and f32x4.min, in two instructions each instead of the longer sequences V8
// emits for those on x64, where the CPU's own min and max do not treat NaN and signed zeros as
// WebAssembly requires (replacing them made the first convolution 8 % faster and the L∞ step 45 %).
// f32x4.pmax(v, c) (v < c ? c : v) and f32x4.pmin(v, c) (c < v ? c : v) are one instruction each
// and already agree with max and min everywhere except where v and c are zeros of opposite signs:
// max(−0, +0) is +0 where pmax gives −0, and min(+0, −0) is −0 where pmin gives +0. NaN in v comes
// through both, as with max and min. The second instruction mends the zeros: max(v, +0) is never
// −0, so adding +0 (which changes no other value) turns pmax's −0 into +0, and for any other bound
// adding −0 changes nothing; min(v, −0) is never +0, so setting the sign bit (which a result ≤ −0
// has anyway) turns pmin's +0 into −0, and for any other bound nothing is set.

/** f32x4.max(v, +0), the ReLU. */
@inline export function relu(v: v128): v128 {
  const zero = f32x4.splat(0);
  return f32x4.add(f32x4.pmax(v, zero), zero);
}

/** What {@link maxOf} adds for a lower bound lo: +0 where lo is +0, −0 (nothing) otherwise. */
@inline export function maxMend(lo: f32): v128 {
  return f32x4.splat(reinterpret<u32>(lo) == 0 ? <f32>0.0 : <f32>-0.0);
}

/** What {@link minOf} sets for an upper bound hi: the sign bit where hi is −0, nothing otherwise. */
@inline export function minMend(hi: f32): v128 {
  return i32x4.splat(reinterpret<u32>(hi) == 0x80000000 ? 0x80000000 : 0);
}

/** f32x4.max(v, lo) for lo splatted in vlo, with mend = maxMend(lo). */
@inline export function maxOf(v: v128, vlo: v128, mend: v128): v128 {
  return f32x4.add(f32x4.pmax(v, vlo), mend);
}

/** f32x4.min(v, hi) for hi splatted in vhi, with mend = minMend(hi). */
@inline export function minOf(v: v128, vhi: v128, mend: v128): v128 {
  return v128.or(f32x4.pmin(v, vhi), mend);
}

/** v where mask > 0, else +0 (also where mask is NaN): step(mask) ⊙ v for a ReLU's mask on a gradient. */
@inline export function maskedBy(v: v128, mask: v128): v128 {
  return v128.and(v, f32x4.gt(mask, f32x4.splat(0)));
}
