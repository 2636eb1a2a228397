// AssemblyScript (compiled by `npm run kernels`, see scripts/kernels.ts): not part of the
// TypeScript build. Types such as usize, v128 and f32x4 are AssemblyScript's.
//
// 3×3 stride-1 and 5×5 stride-2 convolutions in NHWC layout as Winograd F(4×4, 3×3) fast
// convolutions, with F(3, 3) tiles at the bottom and right edges, for tfjs's wasm backend
// (src/engine/winograd.ts registers them and prepares their inputs).
//
// A stride-2 convolution's stride is folded away first: writing a padded input row as t = 2u + r, the output
//   y[o] = Σ_k xpad[2o + k] w[k]  =  Σ_{r=0,1} Σ_{m=0..2} P_r[o + m] g_r[m],
// with the phase planes P_r[u] = xpad[2u + r] and the phase kernels g_r[m] = w[2m + r]
// (zero where 2m + r = 5). In 2-D that gives four 3×3 stride-1 correlations over four
// phase planes, all adding into the same outputs. Each runs as Winograd F(4×4, 3×3): a tile
// of 4×4 outputs reads a 6×6 input tile d, and
//   Y = Aᵀ [ Σ_{phase, ci} U[phase, ci] ⊙ (Bᵀ d B) ] A,     U = G g Gᵀ (36 values),
// so the phases and input channels add up in the transform domain (a stride-1 3×3
// convolution is the same with one phase), where the sum over them
// is, for each of the 36 transform positions ξ, one matrix product
//   M[ξ] (tiles × Cout) = V[ξ] (tiles × 4·Cin) · U[ξ] (4·Cin × Cout).
// That product holds all the multiply-adds: 36 × 4·Cin × Cout per tile of 16 outputs,
// against 25 × Cin × Cout × 16 for the direct convolution (0.36×, before the transforms);
// 36 × Cin × Cout against 9 × Cin × Cout × 16 at stride 1 (0.25×). Where U[ξ] is zero in whole
// rows or columns the products skip them (the `spans` argument): a phase kernel g_r with r = 1
// has only two taps, its third is zero, and G's last row (the point ∞) reads only that tap, so
// at the ∞ points down (across) the phases with two taps down (across) drop out: 121 of 144
// phase blocks per 4 × 4 tile are left at stride 2, 400 of 484 per 7 × 7 output. The stacked
// phase filters of the input gradients have the same zeros in their output columns.
//
// Edge tiles: where a side's length is not a multiple of 4, its last tile is F(3, 3) (5 points,
// 3 outputs; points 0, 1, −1, 2, ∞) rather than F(4, 3) (6 points) with outputs cut away. The
// CNNs' 7 × 7 outputs then take tiles of 4 × 4, 4 × 3, 3 × 4 and 3 × 3, whose transform domains
// hold 36, 30, 30 and 25 points: 121 products per sample and channel pair against 144 for four
// 4 × 4 tiles. Tiles of one shape (a "type", a × b transform points) share their products; U
// holds the filter's transform for each type, in the order 6×6, 6×5, 5×6, 5×5.
//
// Memory is the tfjs wasm module's own (imported): every pointer below is a byte offset into
// it, allocated by tfjs. Vectors hold four values of k = phase·Cin + ci on the input side and
// four output channels on the other: phases·Cin and Cout must be multiples of 4 (at stride 2
// that allows any Cin).

// The module's other kernels: direct convolutions of one-channel inputs, matrix products, an L∞ PGD step,
// the inputs of a loss surface's chunk and its loss head; and convPair (below), a direct
// convolution and this one in a row.
import { maskedBy, relu as reluOf } from './clamp';
import { madd } from './madd';

import { direct1, directScratchBytes } from './direct';

export { direct1, directScratchBytes };
export { gemm, gemmScratchBytes } from './gemm';
export { linfStep } from './pgd';
export { surfaceBatch, surfaceHead } from './surface';

// Bᵀ of F(4, 3) on six vectors read at p + i·ps, written at q + i·qs.
@inline function inputTransform(p: usize, ps: usize, q: usize, qs: usize): void {
  const d0 = v128.load(p), d1 = v128.load(p + ps), d2 = v128.load(p + 2 * ps);
  const d3 = v128.load(p + 3 * ps), d4 = v128.load(p + 4 * ps), d5 = v128.load(p + 5 * ps);
  const four = f32x4.splat(4.0), two = f32x4.splat(2.0);
  const a = f32x4.mul(four, f32x4.add(d1, d2)); // 4(d1 + d2)
  const b = f32x4.mul(four, f32x4.sub(d1, d2)); // 4(d1 - d2)
  const c = f32x4.mul(two, f32x4.sub(d1, d3)); // 2(d1 - d3)
  const e = f32x4.sub(d4, d2);
  const minusFive = f32x4.splat(-5.0);
  v128.store(q, madd(minusFive, d2, madd(four, d0, d4))); // 4d0 - 5d2 + d4
  v128.store(q + qs, f32x4.sub(f32x4.add(d3, d4), a)); // -4d1 - 4d2 + d3 + d4
  v128.store(q + 2 * qs, f32x4.add(f32x4.sub(d4, d3), b)); // 4d1 - 4d2 - d3 + d4
  v128.store(q + 3 * qs, f32x4.sub(e, c)); // -2d1 - d2 + 2d3 + d4
  v128.store(q + 4 * qs, f32x4.add(e, c)); // 2d1 - d2 - 2d3 + d4
  v128.store(q + 5 * qs, madd(minusFive, d3, madd(four, d1, d5))); // 4d1 - 5d3 + d5
}

// Bᵀ of F(3, 3) (points 0, 1, −1, 2, ∞) on five vectors read at p + i·ps, written at q + i·qs.
@inline function inputTransform5(p: usize, ps: usize, q: usize, qs: usize): void {
  const d0 = v128.load(p), d1 = v128.load(p + ps), d2 = v128.load(p + 2 * ps);
  const d3 = v128.load(p + 3 * ps), d4 = v128.load(p + 4 * ps);
  const two = f32x4.splat(2.0), minusTwo = f32x4.splat(-2.0), minusThree = f32x4.splat(-3.0);
  const e = f32x4.sub(d3, d1);
  v128.store(q, madd(two, f32x4.sub(d0, d2), e)); // 2d0 - d1 - 2d2 + d3
  v128.store(q + qs, madd(minusTwo, d1, f32x4.sub(d3, d2))); // -2d1 - d2 + d3
  v128.store(q + 2 * qs, madd(two, d1, madd(minusThree, d2, d3))); // 2d1 - 3d2 + d3
  v128.store(q + 3 * qs, e); // -d1 + d3
  v128.store(q + 4 * qs, madd(two, f32x4.sub(d1, d3), f32x4.sub(d4, d2))); // 2d1 - d2 - 2d3 + d4
}

// A vector stored at q, or with `split` its halves at q and q + rowBytes (two channels per row).
@inline function storeVector(q: usize, v: v128, split: bool, rowBytes: usize): void {
  if (split) {
    v128.store64_lane(q, v, 0);
    v128.store64_lane(q + rowBytes, v, 1);
  } else {
    v128.store(q, v);
  }
}

// Aᵀ of F(4, 3) (six: six vectors at p + i·ps to four outputs) or of F(3, 3) (five to three).
// The outputs go to q + i·qs: as they are, or where `final` with the bias bv added, through a
// ReLU where `relu`, only the first `count` of them, and split as storeVector does.
@inline function outputTransform(six: bool, p: usize, ps: usize, q: usize, qs: usize, final: bool, bv: v128,
                                 relu: bool, count: i32, split: bool, rowBytes: usize): void {
  const m0 = v128.load(p), m1 = v128.load(p + ps), m2 = v128.load(p + 2 * ps);
  const m3 = v128.load(p + 3 * ps), m4 = v128.load(p + 4 * ps);
  const a12 = f32x4.add(m1, m2), s12 = f32x4.sub(m1, m2);
  let y0: v128, y1: v128, y2: v128, y3 = f32x4.splat(0);
  if (six) {
    const a34 = f32x4.add(m3, m4), s34 = f32x4.sub(m3, m4);
    y0 = f32x4.add(f32x4.add(m0, a12), a34); // m0 + m1 + m2 + m3 + m4
    y1 = madd(f32x4.splat(2.0), s34, s12); // m1 - m2 + 2(m3 - m4)
    y2 = madd(f32x4.splat(4.0), a34, a12); // m1 + m2 + 4(m3 + m4)
    y3 = madd(f32x4.splat(8.0), s34, f32x4.add(s12, v128.load(p + 5 * ps))); // m1 - m2 + 8(m3 - m4) + m5
  } else {
    y0 = f32x4.add(f32x4.add(m0, a12), m3); // m0 + m1 + m2 + m3
    y1 = madd(f32x4.splat(2.0), m3, s12); // m1 - m2 + 2m3
    y2 = madd(f32x4.splat(4.0), m3, f32x4.add(a12, m4)); // m1 + m2 + 4m3 + m4
  }
  if (final) {
    y0 = f32x4.add(y0, bv); y1 = f32x4.add(y1, bv); y2 = f32x4.add(y2, bv); y3 = f32x4.add(y3, bv);
    if (relu) { y0 = reluOf(y0); y1 = reluOf(y1); y2 = reluOf(y2); y3 = reluOf(y3); }
  }
  const stores = final ? min(count, six ? 4 : 3) : six ? 4 : 3;
  storeVector(q, y0, split, rowBytes);
  if (stores > 1) storeVector(q + qs, y1, split, rowBytes);
  if (stores > 2) storeVector(q + 2 * qs, y2, split, rowBytes);
  if (stores > 3) storeVector(q + 3 * qs, y3, split, rowBytes);
}

// One sample's input into the phase planes (see conv): pixel (row, col) goes to plane row
// (row + pbh) >> shift, column (col + pbw) >> shift, at channel offset phase · cin. Masked: where
// the mask is ≤ 0 (or NaN) the value is 0. The loops are specialised on `masked` where inlined.
@inline function fillPlanes(xs: usize, ms: usize, h: i32, w: i32, cin: i32, pbh: i32, pbw: i32, shift: i32,
                            pbuf: usize, prow: usize, uh: i32, uw: i32, k4: i32, masked: bool): void {
  const rowEnd = min(h, (uh << shift) - pbh), colEnd = min(w, (uw << shift) - pbw);
  const pixel = <usize>cin * 4;
  const vectors = (cin & 3) == 0;
  for (let row = 0; row < rowEnd; row++) {
    const rr = row + pbh;
    const rowDst = pbuf + <usize>(rr >> shift) * prow + <usize>(shift ? ((rr & 1) << 1) * cin : 0) * 4;
    let src = xs + <usize>(row * w) * pixel;
    let msrc = ms + <usize>(row * w) * pixel;
    for (let col = 0; col < colEnd; col++) {
      const cc = col + pbw;
      const dst = rowDst + <usize>((cc >> shift) * k4 + (shift ? (cc & 1) * cin : 0)) * 4;
      if (vectors) {
        for (let c: usize = 0; c < pixel; c += 16) {
          const v = v128.load(src + c);
          v128.store(dst + c, masked ? maskedBy(v, v128.load(msrc + c)) : v);
        }
      } else {
        for (let c: usize = 0; c < pixel; c += 4) {
          store<f32>(dst + c, !masked || load<f32>(msrc + c) > 0 ? load<f32>(src + c) : 0);
        }
      }
      src += pixel;
      msrc += pixel;
    }
  }
}

// Tiles of each type per sample for an output of ho × wo: type τ has 6 (τ & 2 == 0) or 5 points
// down and 6 (τ & 1 == 0) or 5 across; a side of length L has L >> 2 tiles of 4 and one of 3 if
// L is not a multiple of 4.
@inline function tilesOfType(tau: i32, ho: i32, wo: i32): i32 {
  const rows = tau & 2 ? ((ho & 3) != 0 ? 1 : 0) : ho >> 2;
  const cols = tau & 1 ? ((wo & 3) != 0 ? 1 : 0) : wo >> 2;
  return rows * cols;
}

@inline function pointsOfType(tau: i32): i32 {
  return (tau & 2 ? 5 : 6) * (tau & 1 ? 5 : 6);
}

// A tile's type from its position: F(3, 3) down in the last tile row of a side whose length is not
// a multiple of 4 (ty = n4h), across likewise (tx = n4w).
@inline function typeAt(ty: i32, tx: i32, n4h: i32, n4w: i32): i32 {
  return (ty < n4h ? 0 : 2) | (tx < n4w ? 0 : 1);
}

// Rows of a type's planes for `ns` samples: its tiles, rounded up to the 4-row micro-kernel.
@inline function typeRows(tau: i32, ns: i32, ho: i32, wo: i32): i32 {
  return ((ns * tilesOfType(tau, ho, wo) + 3) >> 2) << 2;
}

// The row of tile (ty, tx) of sample sl in its type's planes: samples one after another, each
// with its tiles of that type in row-major order.
@inline function tileRow(tau: i32, sl: i32, ty: i32, tx: i32, n4h: i32, n4w: i32): i32 {
  const rows = tau & 2 ? 1 : n4h, cols = tau & 1 ? 1 : n4w;
  return (sl * rows + (tau & 2 ? 0 : ty)) * cols + (tau & 1 ? 0 : tx);
}

// Floats of the V (width k4) or M (width cout) planes of the types before `tau` for `ns` samples
// (all of them with tau = 4): per type with tiles, points × (its rows × width + 16 spare floats).
// Type τ's planes start that far into V or M, and each of its points holds rows × width + 16.
function planeFloats(tau: i32, ns: i32, ho: i32, wo: i32, width: i32): i32 {
  let total = 0;
  for (let t = 0; t < tau; t++) {
    const rows = typeRows(t, ns, ho, wo);
    if (rows) total += pointsOfType(t) * (rows * width + 16);
  }
  return total;
}

// 4 rows × 8 columns of M: (accumulate ? M : 0) + Σ_{k0 ≤ k < k1} V[row][k] U[k][col].
@inline function micro8(r0: usize, rs: usize, up: usize, us: usize, k0: i32, k1: i32, mp: usize, accumulate: bool): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  if (accumulate) {
    a00 = v128.load(mp); a01 = v128.load(mp, 16); a10 = v128.load(mp + us); a11 = v128.load(mp + us, 16);
    a20 = v128.load(mp + 2 * us); a21 = v128.load(mp + 2 * us, 16); a30 = v128.load(mp + 3 * us); a31 = v128.load(mp + 3 * us, 16);
  }
  const kend = r0 + <usize>k1 * 4;
  for (let kp = r0 + <usize>k0 * 4; kp < kend; kp += 4) {
    const u0 = v128.load(up), u1 = v128.load(up, 16);
    const v0 = v128.load32_splat(kp), v1 = v128.load32_splat(kp + rs);
    const v2 = v128.load32_splat(kp + 2 * rs), v3 = v128.load32_splat(kp + 3 * rs);
    a00 = madd(v0, u0, a00); a01 = madd(v0, u1, a01);
    a10 = madd(v1, u0, a10); a11 = madd(v1, u1, a11);
    a20 = madd(v2, u0, a20); a21 = madd(v2, u1, a21);
    a30 = madd(v3, u0, a30); a31 = madd(v3, u1, a31);
    up += us;
  }
  v128.store(mp, a00); v128.store(mp, a01, 16);
  v128.store(mp + us, a10); v128.store(mp + us, a11, 16);
  v128.store(mp + 2 * us, a20); v128.store(mp + 2 * us, a21, 16);
  v128.store(mp + 3 * us, a30); v128.store(mp + 3 * us, a31, 16);
}

/** Bytes of scratch memory that {@link conv} needs for these sizes (see its layout). */
export function scratchBytes(ho: i32, wo: i32, cin: i32, cout: i32, stride: i32, block: i32): i32 {
  const th = (ho + 3) >> 2, tw = (wo + 3) >> 2;
  const k4 = stride * stride * cin;
  const planes = (4 * th + 2) * (4 * tw + 2) * k4;
  return 4 * (planeFloats(4, block, ho, wo, k4) + planeFloats(4, block, ho, wo, cout) + planes + 16 + 36 * k4 + 24 * cout);
}

/**
 * y = act(conv(x, w) + bias) for a 3×3 kernel at stride 1 or a 5×5 one at stride 2, given as
 * its transform u.
 *   x     [n, h, w, cin]                       float32 input
 *   u     per type τ: [points][phases·cin][cout] transformed kernel, row k = phase·cin + ci
 *                                              (121 · phases·cin · cout floats in all)
 *   stride                                     1 (one phase) or 2 (four)
 *   bias  [cout]                               (zeros for none)
 *   out   [n, ho, wo, cout]                    output
 *   pbh, pbw                                   padding before (top, left); after is implied
 *   scratch                                    scratchBytes(ho, wo, cin, cout, stride, block) bytes
 *   block                                      samples transformed together
 *   relu                                       1: max(·, 0) after the bias
 *   mask  [n, h, w, cin] or 0                  where mask ≤ 0 the input counts as 0: the ReLU
 *                                              of the layer whose gradient x is, applied on the way in
 *   rowSplit                                   1: out is [n, ho, wo, cout]. r > 1: the channels are
 *                                              r groups of g = cout / r (g = 2 or a multiple of 4),
 *                                              group j written to row oy·r + j: out is [n, ho·r, wo, g]
 *                                              (the depth-to-space of a stacked phase convolution)
 *   spans  per type τ, per point ξ, 8 i32s     the rows k (two segments [ka0, ka1), [kb0, kb1)) and
 *          or 0                                columns c ([ca0, ca1), [cb0, cb1)) of U_τ[ξ] that can be
 *                                              non-zero, all multiples of 4; elsewhere U_τ[ξ] is zero
 *                                              and its products are skipped. 0: all of them.
 * Scratch layout (bytes): V, per type with tiles, [points][tb·phases·cin + 16 floats] (tb: the
 * block's tiles of that type rounded up to 4); M likewise with cout; the interleaved phase planes
 * of one sample; per type, where its V and M planes start and their rows (a table of 12 words
 * in 16, set once per block); one tile's column transforms on the way in ([6][6][phases·cin]) and
 * on the way out ([4][6][cout]). The 16 spare floats per ξ keep the planes from sharing cache
 * sets (a power-of-two stride between them made the input transform 5× slower).
 */
export function conv(x: usize, n: i32, h: i32, w: i32, cin: i32, u: usize, bias: usize, cout: i32, stride: i32,
                     pbh: i32, pbw: i32, out: usize, ho: i32, wo: i32, scratch: usize, block: i32, relu: i32,
                     mask: usize, rowSplit: i32, spans: usize): void {
  const th = (ho + 3) >> 2, tw = (wo + 3) >> 2;
  const n4h = ho >> 2, n4w = wo >> 2; // tiles of 4 down and across; a last one of 3 beyond them
  const phases = stride * stride, shift = stride - 1;
  const k4 = phases * cin;
  const vbuf = scratch;
  const mbuf = vbuf + <usize>planeFloats(4, block, ho, wo, k4) * 4;
  const pbuf = mbuf + <usize>planeFloats(4, block, ho, wo, cout) * 4;
  const uh = 4 * th + 2, uw = 4 * tw + 2;
  const prow = <usize>(uw * k4) * 4; // bytes per row of the planes
  const types = pbuf + <usize>uh * prow; // per type τ: V's start at +4τ, M's at +16 + 4τ, rows at +32 + 4τ
  const tcols = types + 64; // one tile's column transforms on the way in: [i][j][k], 36 · k4 floats
  const ocols = tcols + <usize>(36 * k4) * 4; // and on the way out: [r][q][c], 24 · cout floats
  const zero = f32x4.splat(0);
  const group = cout / rowSplit; // output channels per row of a split output
  const rowFloats = wo * group; // floats per output row
  // The phase planes' padding: every sample writes the same positions (the input's), so the
  // rest, zeroed once here, stays zero from sample to sample.
  memory.fill(pbuf, 0, <usize>uh * prow);
  for (let s0 = 0; s0 < n; s0 += block) {
    const ns = min(block, n - s0);
    for (let tau = 0; tau < 4; tau++) {
      store<u32>(types + <usize>tau * 4, <u32>(vbuf + <usize>planeFloats(tau, ns, ho, wo, k4) * 4));
      store<u32>(types + <usize>tau * 4, <u32>(mbuf + <usize>planeFloats(tau, ns, ho, wo, cout) * 4), 16);
      store<i32>(types + <usize>tau * 4, typeRows(tau, ns, ho, wo), 32);
    }
    // ---- input transform: V_τ[ξ][t][phase·cin + ci] ----
    for (let sl = 0; sl < ns; sl++) {
      // The sample's phase planes, zero-padded and interleaved per pixel, so that four
      // consecutive values of k = phase·cin + ci share a vector even when cin is 1:
      // P[u][v][phase·cin + ci] = xpad[2u + rh][2v + rw][ci] at stride 2, xpad[u][v][ci] at 1.
      const sampleOffset = <usize>(s0 + sl) * <usize>(h * w * cin) * 4;
      if (mask) fillPlanes(x + sampleOffset, mask + sampleOffset, h, w, cin, pbh, pbw, shift, pbuf, prow, uh, uw, k4, true);
      else fillPlanes(x + sampleOffset, 0, h, w, cin, pbh, pbw, shift, pbuf, prow, uh, uw, k4, false);
      for (let ty = 0; ty < th; ty++) {
        const a = ty < n4h ? 6 : 5; // transform points down
        for (let tx = 0; tx < tw; tx++) {
          const b = tx < n4w ? 6 : 5; // and across
          // The tile's type, its row in that type's planes, and where they are (vps floats per ξ).
          const tau = typeAt(ty, tx, n4h, n4w);
          const t = tileRow(tau, sl, ty, tx, n4h, n4w);
          const vb = <usize>load<u32>(types + <usize>tau * 4);
          const vps = load<i32>(types + <usize>tau * 4, 32) * k4 + 16;
          const base = pbuf + <usize>(4 * ty) * prow + <usize>(4 * tx * k4) * 4;
          // Columns (Bᵀ d) into tcols[i][j][k], then rows (· B) into V's planes (ξ = i·b + j),
          // each over all k with the strides fixed.
          const kb4 = <usize>k4 * 4, ts = 6 * kb4;
          for (let j = 0; j < b; j++) {
            let p = base + <usize>j * kb4, q = tcols + <usize>j * kb4;
            const pend = p + kb4;
            if (a == 6) for (; p < pend; p += 16, q += 16) inputTransform(p, prow, q, ts);
            else for (; p < pend; p += 16, q += 16) inputTransform5(p, prow, q, ts);
          }
          const dst = vb + <usize>(t * k4) * 4, vs = <usize>vps * 4;
          for (let i = 0; i < a; i++) {
            let p = tcols + <usize>i * ts, q = dst + <usize>(i * b) * vs;
            const pend = p + kb4;
            if (b == 6) for (; p < pend; p += 16, q += 16) inputTransform(p, kb4, q, vs);
            else for (; p < pend; p += 16, q += 16) inputTransform5(p, kb4, q, vs);
          }
        }
      }
    }
    // ---- per type, M[ξ] = V[ξ] · U[ξ]: 4 tiles × 8 output channels per step, in 8 accumulators ----
    // Only over the rows k and columns c where U[ξ] is not zero (the segments in `spans`); M's
    // columns outside them are zero.
    const rs = <usize>k4 * 4, us = <usize>cout * 4;
    let ub0 = u;
    let sp = spans;
    for (let tau = 0; tau < 4; tau++) {
      const points = pointsOfType(tau);
      const typeU = ub0;
      ub0 += <usize>(points * k4 * cout) * 4;
      const typeSpans = sp;
      sp += <usize>points * 32;
      const tb = load<i32>(types + <usize>tau * 4, 32);
      if (tb == 0) continue;
      const vOff = <usize>load<u32>(types + <usize>tau * 4);
      const mOff = <usize>load<u32>(types + <usize>tau * 4, 16);
      const vps = tb * k4 + 16, mps = tb * cout + 16;
      for (let t = ns * tilesOfType(tau, ho, wo); t < tb; t++) { // rows past the last tile: zeros
        for (let xi = 0; xi < points; xi++) memory.fill(vOff + <usize>(xi * vps + t * k4) * 4, 0, <usize>k4 * 4);
      }
      for (let xi = 0; xi < points; xi++) {
        const vb = vOff + <usize>(xi * vps) * 4;
        const ub = typeU + <usize>(xi * k4 * cout) * 4;
        const mb = mOff + <usize>(xi * mps) * 4;
        // Row segments [ka0, ka1) and [kb0, kb1), column segments [ca0, ca1) and [cb0, cb1).
        let ka0 = 0, ka1 = k4, kb0 = k4, kb1 = k4, ca0 = 0, ca1 = cout, cb0 = cout, cb1 = cout;
        if (spans) {
          const d = typeSpans + <usize>xi * 32;
          ka0 = load<i32>(d); ka1 = load<i32>(d, 4); kb0 = load<i32>(d, 8); kb1 = load<i32>(d, 12);
          ca0 = load<i32>(d, 16); ca1 = load<i32>(d, 20); cb0 = load<i32>(d, 24); cb1 = load<i32>(d, 28);
        }
        for (let t0 = 0; t0 < tb; t0 += 4) {
          const r0 = vb + <usize>(t0 * k4) * 4;
          const mr = mb + <usize>(t0 * cout) * 4;
          for (let cs = 0; cs < 3; cs++) { // M's columns outside both segments
            const z0 = cs == 0 ? 0 : cs == 1 ? ca1 : cb1;
            const z1 = cs == 0 ? ca0 : cs == 1 ? cb0 : cout;
            for (let c = z0; c < z1; c += 4) {
              const mp = mr + <usize>c * 4;
              v128.store(mp, zero); v128.store(mp + us, zero); v128.store(mp + 2 * us, zero); v128.store(mp + 3 * us, zero);
            }
          }
          for (let cs = 0; cs < 2; cs++) {
            const cEnd = cs ? cb1 : ca1;
            let c0 = cs ? cb0 : ca0;
            for (; c0 + 8 <= cEnd; c0 += 8) {
              const mp = mr + <usize>c0 * 4;
              micro8(r0, rs, ub + <usize>(ka0 * cout + c0) * 4, us, ka0, ka1, mp, false);
              if (kb1 > kb0) micro8(r0, rs, ub + <usize>(kb0 * cout + c0) * 4, us, kb0, kb1, mp, true);
            }
            if (c0 < cEnd) { // 4 output channels left in the segment
              let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
              for (let ks = 0; ks < 2; ks++) {
                const k1 = ks ? kb1 : ka1;
                let k = ks ? kb0 : ka0;
                let up = ub + <usize>(k * cout + c0) * 4;
                for (; k < k1; k++) {
                  const u0 = v128.load(up);
                  const kp = r0 + <usize>k * 4;
                  a0 = madd(v128.load32_splat(kp), u0, a0);
                  a1 = madd(v128.load32_splat(kp + rs), u0, a1);
                  a2 = madd(v128.load32_splat(kp + 2 * rs), u0, a2);
                  a3 = madd(v128.load32_splat(kp + 3 * rs), u0, a3);
                  up += us;
                }
              }
              const mp = mr + <usize>c0 * 4;
              v128.store(mp, a0); v128.store(mp + us, a1); v128.store(mp + 2 * us, a2); v128.store(mp + 3 * us, a3);
            }
          }
        }
      }
    }
    // ---- output transform, bias, activation, store (outputs past the edge are cut) ----
    for (let sl = 0; sl < ns; sl++) {
      const os = out + <usize>(s0 + sl) * <usize>(ho * wo * cout) * 4;
      for (let ty = 0; ty < th; ty++) {
        const a = ty < n4h ? 6 : 5;
        for (let tx = 0; tx < tw; tx++) {
          const b = tx < n4w ? 6 : 5;
          const tau = typeAt(ty, tx, n4h, n4w);
          const t = tileRow(tau, sl, ty, tx, n4h, n4w);
          const mb = <usize>load<u32>(types + <usize>tau * 4, 16);
          const mps = load<i32>(types + <usize>tau * 4, 32) * cout + 16;
          const xs = <usize>mps * 4, cb = <usize>cout * 4, os4 = <usize>6 * cb;
          const mt = mb + <usize>(t * cout) * 4;
          // Columns (Aᵀ m, a − 2 outputs) into ocols[r][q][c], over all c with the strides fixed.
          for (let q = 0; q < b; q++) {
            let p = mt + <usize>q * xs, d = ocols + <usize>q * cb;
            const pend = p + cb;
            if (a == 6) for (; p < pend; p += 16, d += 16) outputTransform(true, p, <usize>b * xs, d, os4, false, zero, false, 4, false, 0);
            else for (; p < pend; p += 16, d += 16) outputTransform(false, p, <usize>b * xs, d, os4, false, zero, false, 3, false, 0);
          }
          // Rows (· A, b − 2 outputs each), with the bias and activation, straight to the output:
          // a split output's row group j takes channels j·group to (j + 1)·group, one vector at a time.
          const outs = min(b - 2, wo - 4 * tx);
          const gs = <usize>group * 4;
          for (let r = 0; r < a - 2; r++) {
            const oy = 4 * ty + r;
            if (oy >= ho) break;
            let p = ocols + <usize>r * os4;
            for (let j = 0; j < rowSplit; j += group == 2 ? 2 : 1) {
              let o = os + <usize>((oy * rowSplit + j) * rowFloats + 4 * tx * group) * 4;
              let bp = bias + <usize>(j * group) * 4;
              const oend = o + gs;
              for (; o < oend; o += 16, p += 16, bp += 16) {
                const bv = v128.load(bp);
                if (b == 6) outputTransform(true, p, cb, o, gs, true, bv, relu != 0, outs, group == 2, <usize>rowFloats * 4);
                else outputTransform(false, p, cb, o, gs, true, bv, relu != 0, outs, group == 2, <usize>rowFloats * 4);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Two convolutions in a row, each with its bias and activation: a one-channel input through
 * direct1, then its output through conv, a block of `sub` samples at a time, so that the first
 * layer's output for a block is still in the cache when the second reads it (its tensor for a
 * whole surface chunk, 12.8 MB for the CNNs, is not). The same kernels on the same values as two
 * separate calls: the same bits.
 *   x        [n, h, w, 1]      input
 *   out      [n, ho, wo, c2]   the second layer's output
 *   scratch  the first layer's output for `sub` samples, direct1's scratch, then conv's
 *   params   i32s: h, w, wt1, kh1, kw1, bias1, c1, s1, pbh1, pbw1, h1, w1, relu1 (the first layer,
 *            as direct1 takes them, with its output h1 × w1), u2, bias2, c2, stride2, pbh2, pbw2,
 *            ho, wo, relu2, spans2, block (the second, as conv takes them), sub
 */
export function convPair(x: usize, n: i32, out: usize, params: usize, scratch: usize): void {
  const h = load<i32>(params), w = load<i32>(params, 4), wt1 = <usize>load<u32>(params, 8), kh1 = load<i32>(params, 12);
  const kw1 = load<i32>(params, 16), bias1 = <usize>load<u32>(params, 20), c1 = load<i32>(params, 24), s1 = load<i32>(params, 28);
  const pbh1 = load<i32>(params, 32), pbw1 = load<i32>(params, 36), h1 = load<i32>(params, 40), w1 = load<i32>(params, 44);
  const relu1 = load<i32>(params, 48), u2 = <usize>load<u32>(params, 52), bias2 = <usize>load<u32>(params, 56), c2 = load<i32>(params, 60);
  const stride2 = load<i32>(params, 64), pbh2 = load<i32>(params, 68), pbw2 = load<i32>(params, 72), ho = load<i32>(params, 76);
  const wo = load<i32>(params, 80), relu2 = load<i32>(params, 84), spans2 = <usize>load<u32>(params, 88), block = load<i32>(params, 92);
  const sub = load<i32>(params, 96);
  const mid = scratch;
  const direct = mid + <usize>(sub * h1 * w1 * c1) * 4;
  const wino = direct + <usize>directScratchBytes(h1, w1, kh1, kw1, s1);
  for (let s0 = 0; s0 < n; s0 += sub) {
    const ns = min(sub, n - s0);
    direct1(x + <usize>(s0 * h * w) * 4, ns, h, w, wt1, kh1, kw1, bias1, c1, s1, pbh1, pbw1, mid, h1, w1, direct, relu1);
    conv(mid, ns, h1, w1, c1, u2, bias2, c2, stride2, pbh2, pbw2, out + <usize>(s0 * ho * wo * c2) * 4, ho, wo, wino, block, relu2, 0, 1, spans2);
  }
}

