// AssemblyScript (compiled by `npm run kernels` with winograd.ts, which re-exports this file):
// not part of the TypeScript build.
//
// Matrix product with bias and activation, C = act(A · B + bias), all row-major float32: the
// dense layers' forward passes and (with B the cached transpose of a weight) their input
// gradients. tfjs-backend-wasm runs these through XNNPACK, whose thread pool costs more than it
// gains on the many small operations of a gradient step (src/engine/winograd.ts); this kernel
// lets the dense layers share Ravine's own helper threads instead.
//
// The loop nest: rows in panels of MB, the sum over k in slices of KB, then 8 columns of B
// (a KB × 8 slice, 8 KiB, held in the first-level cache while every row of the panel uses it),
// then 4 rows: a 4 × 8 tile of C in eight vector accumulators, fed by two loads of B and four
// splats of A per k (16 multiply-adds per 6 loads).
//
// Zeros of A are skipped. A is mostly a ReLU's output (or a gradient masked by one), and in a
// loss surface's chunk neighbouring rows are neighbouring grid points with much the same zeros:
// for each 4 rows and slice of k, the k where any of the four is not zero are listed once
// (before the columns, which all use the list), each with the offset of its row of B and the
// four values of A packed together, and the tile's loop runs over the list, its four splats of A
// at fixed offsets from one pointer. (On the CNN's dense layer in a surface chunk, 59 % of the k
// kept: 5.9 -> 5.6 ms for 1024 rows, against the list of k alone; where every k is kept the plain
// loop reads A where it is.) A
// skipped term is exactly +0 · b, and with b finite adding it changes no sum (fma(+0, b, s) = s
// for every sum s that is not −0, and no sum here starts at −0 unless the bias holds one): the
// same bits as the full loop, in the same order. (An infinite or NaN weight would make the full
// loop's sum NaN where a row is 0 and this one's not; Ravine loads only finite weights,
// src/io/modelFiles.ts.)

import { maskedBy, relu as reluOf } from './clamp';
import { madd } from './madd';

const KB: i32 = 256;
const MB: i32 = 64;

/** A 4 × 8 tile of C from its eight accumulators (row r in ar0 and ar1), through the ReLU where `relu`. */
@inline function storeTile4x8(c: usize, cs: usize, a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128, relu: bool): void {
  if (relu) {
    a00 = reluOf(a00); a01 = reluOf(a01); a10 = reluOf(a10); a11 = reluOf(a11);
    a20 = reluOf(a20); a21 = reluOf(a21); a30 = reluOf(a30); a31 = reluOf(a31);
  }
  v128.store(c, a00); v128.store(c, a01, 16);
  v128.store(c + cs, a10); v128.store(c + cs, a11, 16);
  v128.store(c + 2 * cs, a20); v128.store(c + 2 * cs, a21, 16);
  v128.store(c + 3 * cs, a30); v128.store(c + 3 * cs, a31, 16);
}

/** One 4-row × 8-column tile: acc = (first ? bias : C) + A[4 rows][k] · B[k][8 cols] summed over k0 ≤ k < k1. */
@inline function tile4x8(a: usize, as: usize, b: usize, bs: usize, c: usize, cs: usize, k0: i32, k1: i32,
                         init: usize, initStride: usize, last: bool, relu: i32): void {
  let a00 = v128.load(init), a01 = v128.load(init, 16);
  let a10 = v128.load(init + initStride), a11 = v128.load(init + initStride, 16);
  let a20 = v128.load(init + 2 * initStride), a21 = v128.load(init + 2 * initStride, 16);
  let a30 = v128.load(init + 3 * initStride), a31 = v128.load(init + 3 * initStride, 16);
  let ap = a + <usize>k0 * 4;
  let bp = b + <usize>k0 * bs;
  for (let k = k0; k < k1; k++) {
    const u0 = v128.load(bp), u1 = v128.load(bp, 16);
    const v0 = v128.load32_splat(ap), v1 = v128.load32_splat(ap + as);
    const v2 = v128.load32_splat(ap + 2 * as), v3 = v128.load32_splat(ap + 3 * as);
    a00 = madd(v0, u0, a00); a01 = madd(v0, u1, a01);
    a10 = madd(v1, u0, a10); a11 = madd(v1, u1, a11);
    a20 = madd(v2, u0, a20); a21 = madd(v2, u1, a21);
    a30 = madd(v3, u0, a30); a31 = madd(v3, u1, a31);
    ap += 4;
    bp += bs;
  }
  storeTile4x8(c, cs, a00, a01, a10, a11, a20, a21, a30, a31, last && relu != 0);
}

/** One row × 4 columns (the edges: rows past the last multiple of 4, the columns past the last multiple of 8). */
@inline function tile1x4(a: usize, b: usize, bs: usize, c: usize, k0: i32, k1: i32, init: usize, last: bool, relu: i32): void {
  let acc = v128.load(init);
  let ap = a + <usize>k0 * 4;
  let bp = b + <usize>k0 * bs;
  for (let k = k0; k < k1; k++) {
    acc = madd(v128.load32_splat(ap), v128.load(bp), acc);
    ap += 4;
    bp += bs;
  }
  if (last && relu) acc = reluOf(acc);
  v128.store(c, acc);
}

/**
 * One row × `cols` columns, 1 ≤ cols ≤ 3: the last columns when n is not a multiple of 4, read and
 * written lane by lane (no value of B, the bias or C past the row's end is touched), with the
 * same multiply-adds as tile1x4.
 */
@inline function tile1xFew(a: usize, b: usize, bs: usize, c: usize, k0: i32, k1: i32, init: usize, last: bool, relu: i32, cols: i32): void {
  let acc = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(init));
  if (cols > 1) acc = f32x4.replace_lane(acc, 1, load<f32>(init, 4));
  if (cols > 2) acc = f32x4.replace_lane(acc, 2, load<f32>(init, 8));
  let ap = a + <usize>k0 * 4;
  let bp = b + <usize>k0 * bs;
  for (let k = k0; k < k1; k++) {
    let bv = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(bp));
    if (cols > 1) bv = f32x4.replace_lane(bv, 1, load<f32>(bp, 4));
    if (cols > 2) bv = f32x4.replace_lane(bv, 2, load<f32>(bp, 8));
    acc = madd(v128.load32_splat(ap), bv, acc);
    ap += 4;
    bp += bs;
  }
  if (last && relu) acc = reluOf(acc);
  store<f32>(c, f32x4.extract_lane(acc, 0));
  if (cols > 1) store<f32>(c, f32x4.extract_lane(acc, 1), 4);
  if (cols > 2) store<f32>(c, f32x4.extract_lane(acc, 2), 8);
}

/**
 * The same tile over a packed list (packNonzero's): the sum runs over the list's entries, each
 * the byte offset of a row of B (from b), with the four rows' values of A for it at ap + 16e
 * (entry e). A separate loop from tile4x8's: one written for both measured 3 % slower here and
 * twice that with the loop's end as one pointer, as V8 compiles them.
 */
@inline function tile4x8Packed(ap: usize, b: usize, list: usize, listEnd: usize, c: usize, cs: usize,
                               init: usize, initStride: usize, last: bool, relu: i32): void {
  let a00 = v128.load(init), a01 = v128.load(init, 16);
  let a10 = v128.load(init + initStride), a11 = v128.load(init + initStride, 16);
  let a20 = v128.load(init + 2 * initStride), a21 = v128.load(init + 2 * initStride, 16);
  let a30 = v128.load(init + 3 * initStride), a31 = v128.load(init + 3 * initStride, 16);
  for (let lp = list; lp < listEnd; lp += 4, ap += 16) {
    const bp = b + <usize>load<u32>(lp);
    const u0 = v128.load(bp), u1 = v128.load(bp, 16);
    const v0 = v128.load32_splat(ap), v1 = v128.load32_splat(ap, 4);
    const v2 = v128.load32_splat(ap, 8), v3 = v128.load32_splat(ap, 12);
    a00 = madd(v0, u0, a00); a01 = madd(v0, u1, a01);
    a10 = madd(v1, u0, a10); a11 = madd(v1, u1, a11);
    a20 = madd(v2, u0, a20); a21 = madd(v2, u1, a21);
    a30 = madd(v3, u0, a30); a31 = madd(v3, u1, a31);
  }
  storeTile4x8(c, cs, a00, a01, a10, a11, a20, a21, a30, a31, last && relu != 0);
}

/**
 * The k in [k0, k1) where any of the four rows of a (stride `as` bytes) is not +0, in increasing
 * order: for each, the byte offset k · bs of its row of B at list, and the four rows' values of
 * A at k packed in 16 bytes at packed. Returns how many. Branch-free: every k is written, and
 * the count moves past it only when it is kept.
 */
@inline function packNonzero(a: usize, as: usize, bs: usize, k0: i32, k1: i32, list: usize, packed: usize): i32 {
  let count = 0;
  let k = k0;
  const none = i32x4.splat(0);
  for (; k + 4 <= k1; k += 4) {
    const p = a + <usize>k * 4;
    const r0 = v128.load(p), r1 = v128.load(p + as), r2 = v128.load(p + 2 * as), r3 = v128.load(p + 3 * as);
    const any = v128.or(v128.or(r0, r1), v128.or(r2, r3));
    const bits = i32x4.bitmask(i32x4.ne(any, none));
    // Transpose: column i holds the four rows' values at k + i.
    const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
    const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
    const bo = <usize>k * bs;
    store<u32>(list + <usize>count * 4, <u32>bo);
    v128.store(packed + <usize>count * 16, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)); count += bits & 1;
    store<u32>(list + <usize>count * 4, <u32>(bo + bs));
    v128.store(packed + <usize>count * 16, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)); count += (bits >> 1) & 1;
    store<u32>(list + <usize>count * 4, <u32>(bo + 2 * bs));
    v128.store(packed + <usize>count * 16, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)); count += (bits >> 2) & 1;
    store<u32>(list + <usize>count * 4, <u32>(bo + 3 * bs));
    v128.store(packed + <usize>count * 16, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)); count += bits >> 3;
  }
  for (; k < k1; k++) {
    const p = a + <usize>k * 4;
    const x0 = load<u32>(p), x1 = load<u32>(p + as), x2 = load<u32>(p + 2 * as), x3 = load<u32>(p + 3 * as);
    store<u32>(list + <usize>count * 4, <u32>(<usize>k * bs));
    const q = packed + <usize>count * 16;
    store<u32>(q, x0); store<u32>(q, x1, 4); store<u32>(q, x2, 8); store<u32>(q, x3, 12);
    count += (x0 | x1 | x2 | x3) != 0 ? 1 : 0;
  }
  return count;
}

/**
 * Bytes of scratch memory {@link gemm} needs: the masked rows of a (with a mask), then for each
 * 4-row group of a panel its count and list of k, then its packed values of A.
 */
export function gemmScratchBytes(m: i32, k: i32, masked: i32): i32 {
  return (masked ? m * k * 4 : 0) + (MB / 4) * ((KB + 1) * 4 + KB * 16);
}

/**
 * c = act((a ⊙ step(mask)) · b + bias).
 *   a        [m, k]      float32, row-major
 *   b        [k, n]      float32, row-major
 *   bias     [n]         (zeros for none)
 *   c        [m, n]      output
 *   relu                 1: max(·, 0) after the bias
 *   mask     [m, k] or 0 where mask ≤ 0 (or NaN) a counts as 0: the ReLU of the layer whose
 *                        gradient a is (a Dense layer's input gradient), applied on the way in
 *   scratch              gemmScratchBytes(m, k, mask ? 1 : 0) bytes
 */
export function gemm(a: usize, m: i32, k: i32, b: usize, n: i32, bias: usize, c: usize, relu: i32, mask: usize, scratch: usize): void {
  if (mask) {
    const total = m * k;
    let i = 0;
    for (; i + 4 <= total; i += 4) {
      const at = <usize>i * 4;
      v128.store(scratch + at, maskedBy(v128.load(a + at), v128.load(mask + at)));
    }
    for (; i < total; i++) {
      const at = <usize>i * 4;
      store<f32>(scratch + at, load<f32>(mask + at) > 0 ? load<f32>(a + at) : 0);
    }
    a = scratch;
    scratch += <usize>total * 4;
  }
  const as = <usize>k * 4, bs = <usize>n * 4, cs = <usize>n * 4;
  const m4 = m & ~3, n8 = n & ~7;
  const lists = scratch; // per 4-row group of the panel: its count, then up to KB offsets into B
  const listBytes = <usize>(KB + 1) * 4;
  const packs = lists + <usize>(MB / 4) * listBytes; // per 4-row group: A's values at the listed k, 16 bytes each
  const packBytes = <usize>KB * 16;
  for (let i0 = 0; i0 < m; i0 += MB) {
    const i1 = min(m, i0 + MB), i14 = min(m4, i1);
    for (let k0 = 0; k0 < k; k0 += KB) {
      const k1 = min(k, k0 + KB);
      const first = k0 == 0, last = k1 == k;
      if (n >= 8) {
        for (let i = i0; i < i14; i += 4) {
          const g = lists + <usize>((i - i0) >> 2) * listBytes;
          const pk = packs + <usize>((i - i0) >> 2) * packBytes;
          store<i32>(g, packNonzero(a + <usize>i * as, as, bs, k0, k1, g + 4, pk));
        }
      }
      for (let j = 0; j < n; j += 8) {
        const wide = j < n8;
        const bj = b + <usize>j * 4;
        let i = i0;
        if (wide) {
          for (; i < i14; i += 4) {
            const cij = c + <usize>i * cs + <usize>j * 4;
            // The group's list where it leaves some k out; the plain loop where it keeps them all.
            const g = lists + <usize>((i - i0) >> 2) * listBytes;
            const count = load<i32>(g);
            const init = first ? bias + <usize>j * 4 : cij, initStride = first ? 0 : cs;
            if (count < k1 - k0) {
              const pk = packs + <usize>((i - i0) >> 2) * packBytes;
              tile4x8Packed(pk, bj, g + 4, g + 4 + <usize>count * 4, cij, cs, init, initStride, last, relu);
            } else {
              tile4x8(a + <usize>i * as, as, bj, bs, cij, cs, k0, k1, init, initStride, last, relu);
            }
          }
        }
        // Rows past the last multiple of 4, and every row of the columns past the last multiple
        // of 8: groups of 4 columns, then the 1 to 3 left where n is not a multiple of 4.
        const cols = min(8, n - j);
        for (; i < i1; i++) {
          const ai = a + <usize>i * as;
          const cij = c + <usize>i * cs + <usize>j * 4;
          const bij = bias + <usize>j * 4;
          let q = 0;
          for (; q + 4 <= cols; q += 4) {
            const o = <usize>q * 4;
            tile1x4(ai, bj + o, bs, cij + o, k0, k1, first ? bij + o : cij + o, last, relu);
          }
          if (q < cols) {
            const o = <usize>q * 4;
            tile1xFew(ai, bj + o, bs, cij + o, k0, k1, first ? bij + o : cij + o, last, relu, cols - q);
          }
        }
      }
    }
  }
}
