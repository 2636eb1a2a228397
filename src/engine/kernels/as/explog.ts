// AssemblyScript (compiled by `npm run kernels` with the kernels that import it): not part of the
// TypeScript build.
//
// exp and log in float64 for the loss surface's head (surface.ts surfaceHead), without tables:
// AssemblyScript's own Math.exp and Math.log read tables from a data segment, and the kernels may
// carry none (they live in tfjs's memory, kernels.test.ts). The head stores its results as
// float32, so these need far less than float64's precision: both are within a few units in the
// last place of float64 over the ranges the head uses, and the head's results are the bits that
// JavaScript's Math.exp and Math.log give (src/engine/pgdStep.test.ts).

// ln 2 split in two: n · LN2_HI is exact for |n| < 2^11, so r = t − n ln 2 loses nothing.
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+00;

/**
 * e^t for t ≤ 0 (NaN for NaN); results below 2^−1022, where t < −708, are flushed to 0 (the head
 * adds them to a sum of at least 1). One lane of {@link expNonPositive2}.
 */
@inline export function expNonPositive(t: f64): f64 {
  return f64x2.extract_lane(expNonPositive2(f64x2.splat(t)), 0);
}

/**
 * e^t for t ≤ 0 on both lanes of an f64x2 (NaN for NaN; results below 2^−1022, where t < −708,
 * flushed to 0): t = n ln 2 + r with |r| ≤ ln 2 / 2, e^r from its Taylor series to r^12 / 12!
 * (truncation below 2^−53 relative there), times 2^n built from the bits of n + 1023 + 2^52,
 * whose low bits hold n + 1023.
 */
@inline export function expNonPositive2(t: v128): v128 {
  const nan = f64x2.ne(t, t);
  const under = f64x2.lt(t, f64x2.splat(-708.0));
  const n = f64x2.floor(f64x2.add(f64x2.mul(t, f64x2.splat(INV_LN2)), f64x2.splat(0.5)));
  const r = f64x2.sub(f64x2.sub(t, f64x2.mul(n, f64x2.splat(LN2_HI))), f64x2.mul(n, f64x2.splat(LN2_LO)));
  let p = f64x2.splat(1.0 / 479001600.0);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  // n ≥ −1022 where it is used: n + 1023 + 2^52 is exact, its low 52 bits are n + 1023.
  const scale = i64x2.shl(f64x2.add(n, f64x2.splat(1023.0 + 4503599627370496.0)), 52);
  const e = f64x2.mul(p, scale);
  return v128.bitselect(t, v128.andnot(e, under), nan);
}

/**
 * ln s for s ≥ 1 (NaN for NaN, +∞ for +∞): s = m · 2^e with m in [√½, √2), and
 * ln m = 2 atanh(u), u = (m − 1) / (m + 1), |u| < 0.172, from the series 2(u + u³/3 + … + u^19/19).
 */
@inline export function logAtLeastOne(s: f64): f64 {
  if (s != s || s == Infinity) return s;
  const bits = reinterpret<i64>(s);
  let e = <i32>(bits >> 52) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000); // in [1, 2)
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const u = (m - 1.0) / (m + 1.0);
  const u2 = u * u;
  let q: f64 = 1.0 / 19.0;
  q = q * u2 + 1.0 / 17.0;
  q = q * u2 + 1.0 / 15.0;
  q = q * u2 + 1.0 / 13.0;
  q = q * u2 + 1.0 / 11.0;
  q = q * u2 + 1.0 / 9.0;
  q = q * u2 + 1.0 / 7.0;
  q = q * u2 + 1.0 / 5.0;
  q = q * u2 + 1.0 / 3.0;
  q = q * u2 + 1.0;
  return <f64>e * LN2_HI + (<f64>e * LN2_LO + 2.0 * u * q);
}
