// AssemblyScript (compiled by `npm run kernels` with winograd.ts, which re-exports this file):
// not part of the TypeScript build.
//
// The inputs of one chunk of a loss surface in one pass (src/engine/surface.ts runs it through
// src/engine/winograd.ts): for grid point i of the chunk,
//   out[i] = clip(x + (a[i] · d1 + b[i] · d2), lo, hi).
// As tfjs ops that is five kernels, two of them broadcasts of [n, 1, 1, 1] against [1, h, w, c],
// each a pass over the chunk. Every value is computed as those ops compute it (float32, each
// product and sum rounded in the same order: no fused multiply-add), so the result is the same
// to the bit.

import { maxMend, maxOf, minMend, minOf } from './clamp';
import { expNonPositive, expNonPositive2, logAtLeastOne } from './explog';

/**
 * out [n, size] from x, d1, d2 [size] and the coefficients a, b [n] (all float32); `range` holds
 * lo and hi (two float32s: every argument is a pointer or a count, so that the helper threads of
 * src/engine/winogradHelpers.ts can take shares of the points).
 */
export function surfaceBatch(out: usize, n: i32, a: usize, b: usize, x: usize, d1: usize, d2: usize, size: i32, range: usize): void {
  const lo = load<f32>(range), hi = load<f32>(range, 4);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), mendLo = maxMend(lo), mendHi = minMend(hi);
  for (let i = 0; i < n; i++) {
    const ai = load<f32>(a + <usize>i * 4), bi = load<f32>(b + <usize>i * 4);
    const va = f32x4.splat(ai), vb = f32x4.splat(bi);
    const row = out + <usize>i * <usize>size * 4;
    let p = 0;
    for (; p + 4 <= size; p += 4) {
      const at = <usize>p * 4;
      const t = f32x4.add(f32x4.mul(va, v128.load(d1 + at)), f32x4.mul(vb, v128.load(d2 + at)));
      v128.store(row + at, minOf(maxOf(f32x4.add(v128.load(x + at), t), vlo, mendLo), vhi, mendHi));
    }
    for (; p < size; p++) {
      const at = <usize>p * 4;
      const t: f32 = ai * load<f32>(d1 + at) + bi * load<f32>(d2 + at);
      store<f32>(row + at, min(max(load<f32>(x + at) + t, lo), hi));
    }
  }
}

/**
 * What a loss surface shows at its points, from their logits z [n, k] (float32) and the label:
 * the cross-entropy log Σ_j exp(z_j) − z_label, the logit margin z_label − max_{j ≠ label} z_j,
 * the predicted class (the first largest logit) and its softmax probability, each computed in
 * float64 and stored as float32 (int32 for the class). A NaN logit makes the cross-entropy and the
 * probability NaN, as the ops' do. Every argument a pointer or a count (see surfaceBatch).
 */
export function surfaceHead(z: usize, n: i32, k: i32, label: i32, loss: usize, margin: usize, pred: usize, conf: usize): void {
  for (let i = 0; i < n; i++) {
    const row = z + <usize>(i * k) * 4;
    let best = -Infinity;
    let arg = 0;
    let other = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = <f64>load<f32>(row + <usize>j * 4);
      if (v > best) {
        best = v;
        arg = j;
      }
      if (j != label && v > other) other = v;
    }
    // Each term is e^(z_j − max) ≤ 1 and the largest is 1: the sum is at least 1 (or NaN). Two
    // terms at a time, added in the order of j.
    let sum = 0.0;
    const vbest = f64x2.splat(best);
    let j = 0;
    for (; j + 2 <= k; j += 2) {
      const e = expNonPositive2(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(row + <usize>j * 4)), vbest));
      sum += f64x2.extract_lane(e, 0);
      sum += f64x2.extract_lane(e, 1);
    }
    if (j < k) sum += expNonPositive(<f64>load<f32>(row + <usize>j * 4) - best);
    const zy = <f64>load<f32>(row + <usize>label * 4);
    const at = <usize>i * 4;
    store<f32>(loss + at, <f32>(best + logAtLeastOne(sum) - zy));
    store<f32>(margin + at, <f32>(zy - other));
    store<i32>(pred + at, arg);
    store<f32>(conf + at, <f32>(1 / sum));
  }
}
