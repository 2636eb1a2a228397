// AssemblyScript (compiled by `npm run kernels` with winograd.ts, which re-exports this file):
// not part of the TypeScript build.
//
// Direct convolution of a one-channel input (the CNNs' first layer: an image), NHWC, any
// kernel size and stride. Winograd does not pay here: with one input channel its matrix
// products are too thin for the transforms (src/engine/winograd.ts), and XNNPACK's kernels
// for this shape run at about a third of the WebAssembly SIMD ceiling. This kernel keeps a tile
// of outputs in eight vector accumulators, with no bounds checks inside (the sample is first
// copied into a zero-padded plane): where the output channels are a multiple of 16, 2 pixels ×
// 16 channels (for each filter tap, four loads of its weights and two splats of input values),
// so that a row of even width computes no pixel in vain; otherwise 4 pixels × 8 channels (two
// loads, four splats). Either is eight vector multiply-adds per six loads. On the CNNs' first layer
// (14 × 14 × 16 outputs) the first took 4.6-4.7 ms against 5.2 ms on 1024 samples. The filter's
// taps run as one loop over a table of their offsets in the plane rather than a loop over rows
// and one across: 3.6 against 4.0 ms on 1024 samples of a surface chunk (five short loops ended,
// and mispredicted, per tile of outputs).

import { relu as reluOf } from './clamp';
import { madd } from './madd';

/** Bytes of scratch memory that {@link direct1} needs: one zero-padded input plane, then the taps' offsets in it. */
export function directScratchBytes(ho: i32, wo: i32, kh: i32, kw: i32, stride: i32): i32 {
  const wo4 = (wo + 3) & ~3;
  return 4 * (((ho - 1) * stride + kh) * ((wo4 - 1) * stride + kw) + 4 + kh * kw);
}

/**
 * y = act(conv(x, wt) + bias) for a one-channel input.
 *   x      [n, h, w, 1]            float32 input
 *   wt     [kh, kw, 1, cout]       filter, as tfjs stores it
 *   bias   [cout]                  (zeros for none)
 *   out    [n, ho, wo, cout]       output; cout a multiple of 4
 *   pbh, pbw                       padding before (top, left); after is implied
 *   scratch                        directScratchBytes(ho, wo, kh, kw, stride) bytes
 *   relu                           1: max(·, 0) after the bias
 * The output row is computed in groups of 4 pixels, the last group reading zeros past the row
 * (the plane is wide enough) and storing only the pixels that exist.
 */
export function direct1(x: usize, n: i32, h: i32, w: i32, wt: usize, kh: i32, kw: i32, bias: usize, cout: i32, stride: i32,
                        pbh: i32, pbw: i32, out: usize, ho: i32, wo: i32, scratch: usize, relu: i32): void {
  const wo4 = (wo + 3) & ~3;
  const hp = (ho - 1) * stride + kh, wp = (wo4 - 1) * stride + kw;
  const rowb = <usize>wp * 4, sb = <usize>stride * 4, tapb = <usize>cout * 4;
  // The part of each input row that lands inside the plane.
  const cols = min(w, wp - pbw);
  // Each tap's byte offset in the plane, in the filter's order, after the plane.
  const taps = scratch + <usize>(hp * wp + 4) * 4;
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) store<u32>(taps + <usize>(ky * kw + kx) * 4, <u32>(<usize>ky * rowb + <usize>kx * 4));
  const tapsEnd = taps + <usize>(kh * kw) * 4;
  for (let s = 0; s < n; s++) {
    const xs = x + <usize>s * <usize>(h * w) * 4;
    memory.fill(scratch, 0, <usize>(hp * wp) * 4);
    if (cols > 0) {
      for (let row = 0; row < h; row++) {
        const rr = row + pbh;
        if (rr >= hp) break;
        memory.copy(scratch + <usize>rr * rowb + <usize>pbw * 4, xs + <usize>(row * w) * 4, <usize>cols * 4);
      }
    }
    const os = out + <usize>s * <usize>(ho * wo * cout) * 4;
    if ((cout & 15) == 0) {
      // 2 pixels × 16 channels: no pixel computed in vain where wo is even (the CNNs' 14).
      for (let oy = 0; oy < ho; oy++) {
        const prow = scratch + <usize>(oy * stride) * rowb;
        for (let ox = 0; ox < wo; ox += 2) {
          const pp = prow + <usize>ox * sb;
          const op = os + <usize>((oy * wo + ox) * cout) * 4;
          for (let c0 = 0; c0 < cout; c0 += 16) {
            const bb = bias + <usize>c0 * 4;
            const b0 = v128.load(bb), b1 = v128.load(bb, 16), b2 = v128.load(bb, 32), b3 = v128.load(bb, 48);
            let a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
            let wq = wt + <usize>c0 * 4;
            for (let tp = taps; tp < tapsEnd; tp += 4) {
              const q = pp + <usize>load<u32>(tp);
              const w0 = v128.load(wq), w1 = v128.load(wq, 16), w2 = v128.load(wq, 32), w3 = v128.load(wq, 48);
              const s0 = v128.load32_splat(q), s1 = v128.load32_splat(q + sb);
              a00 = madd(s0, w0, a00); a01 = madd(s0, w1, a01); a02 = madd(s0, w2, a02); a03 = madd(s0, w3, a03);
              a10 = madd(s1, w0, a10); a11 = madd(s1, w1, a11); a12 = madd(s1, w2, a12); a13 = madd(s1, w3, a13);
              wq += tapb;
            }
            if (relu) {
              a00 = reluOf(a00); a01 = reluOf(a01); a02 = reluOf(a02); a03 = reluOf(a03);
              a10 = reluOf(a10); a11 = reluOf(a11); a12 = reluOf(a12); a13 = reluOf(a13);
            }
            const o = op + <usize>c0 * 4;
            v128.store(o, a00); v128.store(o, a01, 16); v128.store(o, a02, 32); v128.store(o, a03, 48);
            if (ox + 1 < wo) { v128.store(o + tapb, a10); v128.store(o + tapb, a11, 16); v128.store(o + tapb, a12, 32); v128.store(o + tapb, a13, 48); }
          }
        }
      }
      continue;
    }
    for (let oy = 0; oy < ho; oy++) {
      const prow = scratch + <usize>(oy * stride) * rowb;
      for (let ox = 0; ox < wo; ox += 4) {
        const pp = prow + <usize>ox * sb;
        const np = min(4, wo - ox);
        const op = os + <usize>((oy * wo + ox) * cout) * 4;
        let c0 = 0;
        for (; c0 + 8 <= cout; c0 += 8) {
          const b0 = v128.load(bias + <usize>c0 * 4), b1 = v128.load(bias + <usize>c0 * 4, 16);
          let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
          let wq = wt + <usize>c0 * 4;
          for (let tp = taps; tp < tapsEnd; tp += 4) {
            const q = pp + <usize>load<u32>(tp);
            const w0 = v128.load(wq), w1 = v128.load(wq, 16);
            const s0 = v128.load32_splat(q), s1 = v128.load32_splat(q + sb);
            const s2 = v128.load32_splat(q + 2 * sb), s3 = v128.load32_splat(q + 3 * sb);
            a00 = madd(s0, w0, a00); a01 = madd(s0, w1, a01);
            a10 = madd(s1, w0, a10); a11 = madd(s1, w1, a11);
            a20 = madd(s2, w0, a20); a21 = madd(s2, w1, a21);
            a30 = madd(s3, w0, a30); a31 = madd(s3, w1, a31);
            wq += tapb;
          }
          if (relu) {
            a00 = reluOf(a00); a01 = reluOf(a01); a10 = reluOf(a10); a11 = reluOf(a11);
            a20 = reluOf(a20); a21 = reluOf(a21); a30 = reluOf(a30); a31 = reluOf(a31);
          }
          const o = op + <usize>c0 * 4;
          v128.store(o, a00); v128.store(o, a01, 16);
          if (np > 1) { v128.store(o + tapb, a10); v128.store(o + tapb, a11, 16); }
          if (np > 2) { v128.store(o + 2 * tapb, a20); v128.store(o + 2 * tapb, a21, 16); }
          if (np > 3) { v128.store(o + 3 * tapb, a30); v128.store(o + 3 * tapb, a31, 16); }
        }
        if (c0 < cout) { // the last 4 channels when cout is not a multiple of 8
          const b0 = v128.load(bias + <usize>c0 * 4);
          let a0 = b0, a1 = b0, a2 = b0, a3 = b0;
          let wq = wt + <usize>c0 * 4;
          for (let tp = taps; tp < tapsEnd; tp += 4) {
            const q = pp + <usize>load<u32>(tp);
            const w0 = v128.load(wq);
            a0 = madd(v128.load32_splat(q), w0, a0);
            a1 = madd(v128.load32_splat(q + sb), w0, a1);
            a2 = madd(v128.load32_splat(q + 2 * sb), w0, a2);
            a3 = madd(v128.load32_splat(q + 3 * sb), w0, a3);
            wq += tapb;
          }
          if (relu) { a0 = reluOf(a0); a1 = reluOf(a1); a2 = reluOf(a2); a3 = reluOf(a3); }
          const o = op + <usize>c0 * 4;
          v128.store(o, a0);
          if (np > 1) v128.store(o + tapb, a1);
          if (np > 2) v128.store(o + 2 * tapb, a2);
          if (np > 3) v128.store(o + 3 * tapb, a3);
        }
      }
    }
  }
}
