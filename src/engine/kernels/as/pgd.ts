// AssemblyScript (compiled by `npm run kernels` with winograd.ts, which re-exports this file):
// not part of the TypeScript build.
//
// One L∞ PGD step in one pass (src/engine/pgd.ts runs it through src/engine/winograd.ts):
//   out = clip(x + clip(xAdv + α · sign(g) − x, −ε, ε), lo, hi),
// the ascent along the gradient's sign and the projection back onto the ε-ball around x and
// the valid range. As tfjs ops it is ten kernels (the exact sign alone is four), each a pass
// over the batch and a dispatch; every value here is computed as those ops compute it
// (float32, the same order; the clips with the exact min and max of ./clamp), so the result is
// the same to the bit. sign(±0) is ±0 where the ops give +0, which changes no sum; sign(NaN) is
// NaN, as with the ops.

import { maxMend, maxOf, minMend, minOf } from './clamp';

/** out[i] for i < n (all float32 arrays of n values). */
export function linfStep(x: usize, xAdv: usize, g: usize, out: usize, n: i32, alpha: f32, eps: f32, lo: f32, hi: f32): void {
  const va = f32x4.splat(alpha), vne = f32x4.splat(-eps), ve = f32x4.splat(eps), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  const zero = f32x4.splat(0), one = f32x4.splat(1), minusOne = f32x4.splat(-1);
  const mendNe = maxMend(-eps), mendE = minMend(eps), mendLo = maxMend(lo), mendHi = minMend(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i * 4;
    const gv = v128.load(g + at), xv = v128.load(x + at);
    // 1 where g > 0, −1 where g < 0, g itself (±0, NaN) elsewhere.
    const s = v128.bitselect(one, v128.bitselect(minusOne, gv, f32x4.lt(gv, zero)), f32x4.gt(gv, zero));
    const moved = f32x4.add(v128.load(xAdv + at), f32x4.mul(va, s));
    const delta = minOf(maxOf(f32x4.sub(moved, xv), vne, mendNe), ve, mendE);
    v128.store(out + at, minOf(maxOf(f32x4.add(xv, delta), vlo, mendLo), vhi, mendHi));
  }
  for (; i < n; i++) {
    const at = <usize>i * 4;
    const gi = load<f32>(g + at), xi = load<f32>(x + at);
    const s: f32 = gi > 0 ? 1 : gi < 0 ? -1 : gi;
    const moved: f32 = load<f32>(xAdv + at) + alpha * s;
    const delta = min(max(moved - xi, -eps), eps);
    store<f32>(out + at, min(max(xi + delta, lo), hi));
  }
}
