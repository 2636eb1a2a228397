/**
 * Fast Conv2D gradients for the tfjs wasm backend, built from FORWARD convolutions.
 *
 * Why this exists (measured on @tensorflow/tfjs-backend-wasm 4.22, see bench/convGrad.ts):
 * - wasm has no `Conv2DBackpropFilter` kernel, so training any CNN on wasm throws;
 * - wasm's `Conv2DBackpropInput` is a naive loop, 6-9x slower than the XNNPACK forward
 *   `Conv2D` of the same layer at batch 64, and it dominates PGD attacks and the
 *   robustness metric.
 * Both gradients are themselves convolutions, so we rewrite them as forward `Conv2D`s
 * (which wasm runs through XNNPACK) plus cheap reshapes, pads, transposes and one tiny
 * matmul. Big slices are avoided: wasm's Slice copies its whole input into JS first.
 *
 * Notation used in the comments below, per spatial axis (height and width alike):
 *   H   input size            K   filter size         s   stride
 *   pb  padding before (top / left, as tfjs computes it, including the asymmetric
 *       split of 'same': floor(total / 2) before, the rest after)
 *   Ho  output size (= dy size)
 * The forward convolution is   y[o] = sum_k xpad[o*s + k] * w[k],   xpad[p] = x[p - pb].
 *
 * Only NHWC and dilation 1 take the fast path; everything else keeps tfjs's own gradient.
 *
 * The same registration also fixes the other gradient kernel that wasm runs slowly: a
 * `BatchMatMul` with a transposed operand (a Dense layer's input gradient), see
 * {@link makeMatMulKernel}.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { CONV_PAIR, convPairOps, KL_TO_TARGET, klToTargetOps, linfStepOps, MASKED_MATMUL, reluMasked, SURFACE_BATCH, SURFACE_HEAD, surfaceHeadOps, surfaceInputsOps, type PairLayer } from './ops';
import { directConv, ravineConvPair, ravineKlToTarget, ravineLinfStep, ravineMatMul, ravineSurfaceBatch, ravineSurfaceHead, rowGroupTaken, winogradConv } from './winograd';

/** Padding as `tf.conv2d` accepts it: a mode, one number for all sides, or explicit NHWC pairs. */
export type Conv2DPad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** `tf.conv2d`'s explicit padding type (NHWC), spelled out to keep the literal tuples typed. */
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** Backend name on which the forward-convolution formulation replaces the native kernels. */
const FAST_BACKEND = 'wasm';

/** Marks our gradient config, so a second registration (even from a second copy of this module) is a no-op. */
const FAST_MARK = '__ravineFastConvGrad';

interface FastGradConfig extends GradConfig {
  [FAST_MARK]: true;
  /** The gradient config that was registered before ours (tfjs-core's), used off wasm and to restore. */
  original: GradConfig;
}

interface FastKernelConfig extends KernelConfig {
  [FAST_MARK]: true;
  /** The wasm kernel we replaced, if any (wasm has a Conv2DBackpropInput but no Conv2DBackpropFilter). */
  original: KernelConfig | undefined;
}

/** Per-axis geometry of a strided, padded convolution, from tfjs's own padding rules. */
interface AxisGeometry {
  /** Input size H. */
  size: number;
  /** Filter size K. */
  filter: number;
  /** Stride s. */
  stride: number;
  /** Padding before (top or left), pb. */
  padBefore: number;
  /** Output size Ho. */
  out: number;
}

/** A per-axis setting given as one number for both axes, or as [height, width]. */
export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * Height and width geometry of `conv2d(x, filter, strides, pad)` with dilation 1, using
 * tfjs's `computeConv2DInfo` so the padding split ('same' puts the odd pixel after) is
 * exactly the one the forward kernel used.
 */
function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): [AxisGeometry, AxisGeometry] {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode);
  return [
    { size: info.inHeight, filter: info.filterHeight, stride: info.strideHeight, padBefore: info.padInfo.top, out: info.outHeight },
    { size: info.inWidth, filter: info.filterWidth, stride: info.strideWidth, padBefore: info.padInfo.left, out: info.outWidth },
  ];
}

/** Throws unless dy has the forward output's shape (a mismatch would otherwise pass silently). */
function checkDyShape(fn: string, dy: tf.Tensor4D, n: number, gh: AxisGeometry, gw: AxisGeometry, cout: number): void {
  const want = [n, gh.out, gw.out, cout];
  tf.util.assert(
    dy.shape.every((v, i) => v === want[i]),
    () => `${fn}: dy has shape [${dy.shape}] but the forward conv outputs [${want}]`,
  );
}

/**
 * Reverses the leading axis of a `[rows, cols]` matrix as `J @ x`, J the rows x rows
 * anti-identity. Why a matmul: wasm's Reverse and Gather compute an index per element
 * (~40 ns each: 2.3 ms for a 5x5x32x64 filter, more than the whole batch-1 gradient), and
 * its Slice copies the entire input to JS first; the matmul costs rows^2 * cols
 * multiply-adds (microseconds). It is exact for finite values (one 1, the rest 0 per row);
 * a NaN or infinite weight would smear over its column, where the gradient is garbage anyway.
 */
function reverseRows(x: tf.Tensor2D): tf.Tensor2D {
  const rows = x.shape[0];
  if (rows === 1) return x;
  const j = new Float32Array(rows * rows);
  for (let i = 0; i < rows; i++) j[i * rows + (rows - 1 - i)] = 1;
  return tf.matMul(tf.tensor2d(j, [rows, rows]), x);
}

/**
 * Per-axis plan of {@link conv2dInputGradViaForward}. All counts are along one spatial axis.
 */
interface PhasePlan {
  /** Stride s: the number of phases. */
  s: number;
  /** Taps per phase M = ceil((a + K) / s). */
  m: number;
  /** Zero taps prepended (a) and appended to the filter so it spans exactly M*s taps. */
  front: number;
  back: number;
  /** Rows of dy to drop in front and keep; rows outside never reach x (only padding). */
  dyStart: number;
  dyKeep: number;
  /** Zero padding of dy before / after for the stride-1 'valid' phase convolution. */
  padBefore: number;
  padAfter: number;
  /** Phase rows Q computed; after interleaving they cover Q*s pixels, `lead` of them before x[0]. */
  q: number;
  lead: number;
}

/**
 * Plans one axis of the polyphase input gradient. Index t = i + pb' runs over xpad, where
 * pb' = pb + a and a zero taps are prepended to the filter: prepending a taps while padding
 * a more pixels describes the same convolution. We choose a so that pb' is a multiple of s
 * (then phase r of t is phase r of i, and the interleaved output starts exactly at x[0]),
 * unless that would add a tap per phase (e.g. K = 4, s = 2, pb = 1): a crop is cheaper then.
 * Phase rows q run over [pb' / s, ceil((pb' + H) / s)); row q needs dy[q - M + 1 .. q].
 */
function phasePlan(g: AxisGeometry): PhasePlan {
  const { size, filter, stride: s, padBefore: pb, out } = g;
  const align = (s - (pb % s)) % s;
  const a = Math.ceil((filter + align) / s) === Math.ceil(filter / s) ? align : 0;
  const m = Math.ceil((filter + a) / s);
  const pbA = pb + a;
  const q0 = Math.floor(pbA / s);
  const qEnd = Math.ceil((pbA + size) / s);
  // Padding that makes a 'valid' window of M taps produce exactly rows q0 .. qEnd-1;
  // negative means those dy rows are never used (huge explicit padding): drop them instead.
  const before = m - 1 - q0;
  const after = qEnd - out;
  const dyStart = Math.max(0, -before);
  return {
    s,
    m,
    front: a,
    back: m * s - filter - a,
    dyStart,
    dyKeep: out + Math.min(0, after) - dyStart,
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
    q: qEnd - q0,
    lead: pbA - q0 * s,
  };
}

/**
 * Tensors that the gradient kernels below derive from a model's weights (a convolution's phase
 * filters, a Dense kernel's transpose), kept from one gradient to the next while a
 * {@link withWeightCache} scope is open: a PGD run takes 20 or more gradients of the same
 * weights, and rebuilding these each time cost a dozen small kernels per layer and step.
 * Keyed by the weight's data (a tf.Variable's dataId, shared by the clones the tape saves), then
 * by the geometry; only registered variables are cached, so activations never pile up here.
 * Outside a scope nothing is kept, and results do not depend on the cache (the same values either way).
 */
const weightCache = new Map<object, Map<string, tf.Tensor[]>>();
let weightCacheScopes = 0;

function isWeight(info: TensorInfo): boolean {
  const vars = tf.engine().registeredVariables;
  for (const name in vars) if (vars[name].dataId === info.dataId) return true;
  return false;
}

/**
 * `make()`'s tensors for `source`, from the cache when a scope is open and `source` is a weight.
 * `owned`: the caller made them and disposes them (or lets the enclosing tidy do it); otherwise
 * they belong to the cache and must not be disposed.
 */
function derivedFromWeight(source: TensorInfo, key: string, make: () => tf.Tensor[]): { tensors: tf.Tensor[]; owned: boolean } {
  if (weightCacheScopes === 0 || !isWeight(source)) return { tensors: make(), owned: true };
  let byKey = weightCache.get(source.dataId);
  if (!byKey) weightCache.set(source.dataId, (byKey = new Map()));
  let tensors = byKey.get(key);
  if (!tensors) {
    tensors = make().map((t) => tf.keep(t));
    byKey.set(key, tensors);
  }
  return { tensors, owned: false };
}

/**
 * Runs `fn` with the weight-derived tensors of the gradient kernels cached (see
 * {@link derivedFromWeight}); they are freed when the last open scope ends, also on error or
 * abort. For jobs that take many gradients of fixed weights (PGD, the metric). Scopes may nest
 * or overlap; tensors of weights disposed meanwhile are freed at the end too.
 */
export async function withWeightCache<T>(fn: () => Promise<T>): Promise<T> {
  weightCacheScopes++;
  try {
    return await fn();
  } finally {
    if (--weightCacheScopes === 0) {
      for (const byKey of weightCache.values()) for (const ts of byKey.values()) tf.dispose(ts);
      weightCache.clear();
    }
  }
}

/**
 * The "phase filter" of {@link conv2dInputGradViaForward}, with w' = w zero-padded by
 * (front, back) taps per axis:
 *   G[m'h, m'w, co, (rh, rw, ci)] = w'[(Mh-1-m'h)*sh + rh, (Mw-1-m'w)*sw + rw, ci, co],
 * i.e. for each phase (rh, rw) the taps k = m*s + r, flipped, with in/out channels swapped.
 * Built from rank <= 4 transposes and one small matmul: wasm's Transpose is slow on
 * rank-6 tensors (5 ms vs 0.1 ms for a 6x6x32x64 filter).
 * @param filter `[Kh, Kw, Cin, Cout]`, owned by the caller.
 * @returns `[Mh, Mw, Cout, sh*sw*Cin]`; call inside a tidy.
 */
function phaseFilter(filter: tf.Tensor4D, ph: PhasePlan, pw: PhasePlan): tf.Tensor4D {
  const [, , cin, cout] = filter.shape;
  const { s: sh, m: mh } = ph;
  const { s: sw, m: mw } = pw;
  let g: tf.Tensor = tf.transpose(filter, [0, 1, 3, 2]); // [Kh, Kw, Cout, Cin]
  if (ph.front + ph.back + pw.front + pw.back > 0) {
    g = tf.pad(g, [[ph.front, ph.back], [pw.front, pw.back], [0, 0], [0, 0]]);
  }
  // Now [Mh, sh, Mw, sw, Cout, Cin] in memory. Move to [Mh, Mw, Cout, sh, sw, Cin] with two
  // rank-4 swaps: first (sw <-> Cout), then (sh <-> Mw*Cout).
  if (sw > 1) g = tf.transpose(tf.reshape(g, [mh * sh * mw, sw, cout, cin]), [0, 2, 1, 3]);
  if (sh > 1) g = tf.transpose(tf.reshape(g, [mh, sh, mw * cout, sw * cin]), [0, 2, 1, 3]);
  // Flip the taps m on both axes: with (m_h, m_w) leading, that is reversing their
  // flattened index, one row reversal.
  g = reverseRows(tf.reshape(g, [mh * mw, cout * sh * sw * cin]));
  return tf.reshape(g, [mh, mw, cout, sh * sw * cin]) as tf.Tensor4D;
}

/**
 * Input channels from which {@link conv2dInputGradViaForward} runs one convolution per phase
 * instead of one for all: each phase's output has Cin channels, and below a full tile of
 * XNNPACK's wasm kernels (8 columns) the smaller convolutions waste more than the zero taps
 * they skip. Measured for 5x5, stride 2 (min of repeated runs, batch 100 and 1024): per phase
 * is 2.7x and 1.5x slower with 1 and 4 input channels, 20-25 % faster with 8 and 16.
 */
const SPLIT_MIN_CHANNELS = 8;

/** One phase's taps along one axis: the range [lo, lo + taps) of the phase filter's M rows, and
 *  the padding of dy that gives the same Q output rows as the full M-tap convolution. */
interface PhaseTaps {
  lo: number;
  taps: number;
  padBefore: number;
  padAfter: number;
}

/**
 * Where the phase filter holds zero taps (the K taps spread over M*s slots, the rest padding),
 * the per-phase tap ranges that skip them; per phase (rh, rw) in row-major order. null when
 * nothing would be saved (every phase uses all M taps), a phase has no taps at all, or a phase
 * would need a crop of dy (negative padding, huge explicit padding): one conv does those.
 */
function splitPlan(ph: PhasePlan, pw: PhasePlan): { h: PhaseTaps; w: PhaseTaps }[] | null {
  const axis = (p: PhasePlan): PhaseTaps[] | null => {
    const k = p.m * p.s - p.front - p.back;
    const out: PhaseTaps[] = [];
    for (let r = 0; r < p.s; r++) {
      // Filter slot m*s + r of the padded filter holds a real tap when front <= m*s + r < front + K;
      // the phase filter stores tap m at row M-1-m (flipped).
      const mMin = Math.max(0, Math.ceil((p.front - r) / p.s));
      const mMax = Math.min(p.m - 1, Math.floor((p.front + k - 1 - r) / p.s));
      if (mMin > mMax) return null;
      const lo = p.m - 1 - mMax;
      const hi = p.m - 1 - mMin;
      const t = { lo, taps: hi - lo + 1, padBefore: p.padBefore - lo, padAfter: p.padAfter - (p.m - 1 - hi) };
      if (t.padBefore < 0 || t.padAfter < 0) return null;
      out.push(t);
    }
    return out;
  };
  const hs = axis(ph);
  const ws = axis(pw);
  if (!hs || !ws || hs.every((t) => t.taps === ph.m) && ws.every((t) => t.taps === pw.m)) return null;
  return hs.flatMap((h) => ws.map((w) => ({ h, w })));
}

/**
 * Input gradient of a dilation-1 NHWC `conv2d`, computed with forward, stride-1
 * convolutions (no `Conv2DBackpropInput`, no `conv2dTranspose`): one, or one per phase.
 *
 * Method (polyphase: the stride is folded into channels): write t = i + pb = q*s + r with
 * phase r in [0, s). Only filter taps k = m*s + r reach dx[i], so
 *     dx[i] = sum_{m} dy[q - m] * w[m*s + r],     m = 0 .. M-1,  M = ceil(K / s).
 * For each phase r this is a plain stride-1 correlation of dy with the flipped sub-filter
 * w[(M-1-m')*s + r]; stacking the s*s phases (height x width) as output channels gives a
 * single conv with filter [Mh, Mw, Cout, sh*sw*Cin], then a depth-to-space interleaves the
 * phases back into pixels (see {@link phasePlan} for the alignment that avoids a crop).
 * When K is not a multiple of s, some phases have fewer than M real taps and the stacked
 * filter holds zeros (5x5, stride 2: 36 slots for 25 taps); with enough input channels each
 * phase then gets its own conv over its real taps only (see {@link splitPlan}).
 * The textbook alternative (zero-dilate dy by s, then a full correlation with the
 * 180-degree-rotated filter) spends s*s times more multiply-adds on the inserted zeros;
 * bench/convGrad.ts measures both.
 *
 * @param dy Gradient w.r.t. the conv output, `[N, Ho, Wo, Cout]`. Owned by the caller.
 * @param filter The forward filter, `[Kh, Kw, Cin, Cout]`. Owned by the caller.
 * @param xShape Shape of the forward input, `[N, H, W, Cin]`.
 * @param strides Forward strides, `s` or `[sh, sw]`.
 * @param pad Forward padding, as given to `tf.conv2d`.
 * @param dimRoundingMode Forward rounding mode (only meaningful with a numeric `pad`).
 * @param mask The layer's ReLU output, dy's shape: the gradient is that of dy ⊙ step(mask)
 *   (with Ravine's Winograd kernel applied as the kernel reads dy, not as a pass of its own).
 * @returns dL/dx, `[N, H, W, Cin]`, float32; the caller owns it. Intermediates are disposed.
 */
export function conv2dInputGradViaForward(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
  mask?: tf.Tensor4D,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, cin] = xShape;
    const cout = filter.shape[3];
    tf.util.assert(filter.shape[2] === cin, () => `conv2dInputGradViaForward: filter expects ${filter.shape[2]} input channels, x has ${cin}`);
    const [gh, gw] = convGeometry(xShape, filter.shape, strides, pad, dimRoundingMode);
    checkDyShape('conv2dInputGradViaForward', dy, n, gh, gw, cout);
    const ph = phasePlan(gh);
    const pw = phasePlan(gw);
    // Every dy row only meets padding (absurd explicit padding): x got no gradient.
    if (ph.dyKeep <= 0 || pw.dyKeep <= 0) return tf.zeros(xShape);

    const sliced = ph.dyKeep !== gh.out || pw.dyKeep !== gw.out;
    const fullH = ph.q * ph.s;
    const fullW = pw.q * pw.s;
    // A stacked 3×3 phase filter is a stride-1 3×3 convolution, which Ravine's Winograd kernel runs
    // in a quarter of the multiply-adds (src/engine/winograd.ts): faster than skipping the zero
    // taps with one convolution per phase, so no split then.
    const winograd = ph.m === 3 && pw.m === 3 && cout % 4 === 0 && (ph.s * pw.s * cin) % 4 === 0 && winogradRegistered();
    // The kernel applies the mask as it reads dy (unless dy is cut first) and writes the height
    // phases as rows itself when it can: rows of sw·Cin channels (rowGroupTaken).
    const kernelMask = winograd && mask !== undefined && !sliced;
    const rowSplit = winograd && ph.s > 1 && rowGroupTaken(pw.s * cin) ? ph.s : 1;
    let dyUsed = kernelMask ? dy : reluMasked(dy, mask);
    if (sliced) dyUsed = tf.slice(dyUsed, [0, ph.dyStart, pw.dyStart, 0], [n, ph.dyKeep, pw.dyKeep, cout]);
    const split = cin >= SPLIT_MIN_CHANNELS && !winograd ? splitPlan(ph, pw) : null;
    // The phase filter, or with a split one sub-filter per phase (their taps only).
    const filters = derivedFromWeight(filter, `phases ${JSON.stringify([ph, pw])} ${split ? 'split' : 'one'}`, () => {
      const g = phaseFilter(filter, ph, pw);
      if (!split) return [g];
      return split.map(({ h, w }, k) => {
        const rh = Math.floor(k / pw.s);
        const rw = k % pw.s;
        return tf.slice(g, [h.lo, w.lo, 0, (rh * pw.s + rw) * cin], [h.taps, w.taps, cout, cin]);
      });
    }).tensors as tf.Tensor4D[];
    let full: tf.Tensor;
    if (split) {
      // One stride-1 conv per phase with only that phase's taps, each giving [N, Qh, Qw, Cin];
      // stacked phase-major on a new leading axis (a concat on axis 0 is one copy per phase,
      // on the channel axis it is one per pixel), then interleaved:
      // [sh, sw, N*Qh*Qw, Cin] -> [sh, N*Qh*Qw, sw, Cin] -> [N*Qh, sh, Qw*sw*Cin].
      const phases = split.map(({ h, w }, k) => {
        const y = tf.conv2d(dyUsed, filters[k], 1, [[0, 0], [h.padBefore, h.padAfter], [w.padBefore, w.padAfter], [0, 0]]);
        return tf.reshape(y, [1, n * ph.q * pw.q * cin]);
      });
      full = tf.concat(phases, 0);
      if (pw.s > 1) full = tf.transpose(tf.reshape(full, [ph.s, pw.s, n * ph.q * pw.q, cin]), [0, 2, 1, 3]);
      if (ph.s > 1) full = tf.transpose(tf.reshape(full, [ph.s, n * ph.q, pw.q * pw.s * cin]), [1, 0, 2]);
    } else {
      const convPad: ExplicitPad = [[0, 0], [ph.padBefore, ph.padAfter], [pw.padBefore, pw.padAfter], [0, 0]];
      // [N, Qh, Qw, sh*sw*Cin]: channel (rh, rw, ci) holds the pixel at phase (rh, rw).
      // Depth-to-space, [N, Qh, Qw, (sh, sw, Cin)] -> [N, Qh*sh, Qw*sw, Cin]: only the height
      // phase needs moving; the width phase sits next to Cin already, so it lands in place with
      // the reshape. Ravine's Winograd kernel writes the height phases as rows (rowSplit);
      // otherwise it is one rank-4 transpose. (tf.depthToSpace is ~80x slower on wasm.)
      const inputs = { x: dyUsed, filter: filters[0], ...(kernelMask ? { mask } : {}) } as unknown as tf.NamedTensorMap;
      const z = winograd
        ? (tf.engine().runKernel(PHASE_CONV, inputs, { pad: convPad, rowSplit } as unknown as NamedAttrMap) as tf.Tensor)
        : tf.conv2d(dyUsed, filters[0], 1, convPad);
      full = ph.s > 1 && rowSplit === 1 ? tf.transpose(tf.reshape(z, [n * ph.q, pw.q, ph.s, pw.s * cin]), [0, 2, 1, 3]) : z;
    }

    // Crop to x when the phases do not tile it exactly (odd sizes, some even filters).
    // wasm's Slice copies its whole input to JS first, hence the alignment in phasePlan;
    // the [N, H, W*Cin] view makes each copied run a whole row rather than one pixel.
    if (ph.lead !== 0 || pw.lead !== 0 || fullH !== h || fullW !== w) {
      full = tf.slice(tf.reshape(full, [n, fullH, fullW * cin]), [0, ph.lead, pw.lead * cin], [n, h, w * cin]);
    }
    return tf.reshape(full, [n, h, w, cin]) as tf.Tensor4D;
  });
}

/**
 * The input gradient of a `conv2d` as its registered gradient computes it: with forward
 * convolutions ({@link conv2dInputGradViaForward}) on wasm, NHWC, dilation 1, once
 * {@link registerFastConvGradients} has run; otherwise tfjs's own transposed convolution. For
 * custom gradients (src/engine/layerChain.ts): on wasm, `tf.conv2dTranspose` would run our
 * `Conv2DBackpropInput` kernel around the same forward convolutions, and kernel profiles would
 * then count those twice (once inside it).
 * Tensors as for {@link conv2dInputGradViaForward}; with `mask` (the layer's ReLU output) the
 * gradient of dy ⊙ step(mask).
 */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  strides: number | [number, number],
  pad: 'same' | 'valid',
  mask?: tf.Tensor4D,
): tf.Tensor4D {
  if (tf.getBackend() === FAST_BACKEND && isFastGrad(tf.getGradient(tf.Conv2D))) {
    return conv2dInputGradViaForward(dy, filter, xShape, strides, pad, undefined, mask);
  }
  return tf.tidy(() => tf.conv2dTranspose(reluMasked(dy, mask), filter, xShape, strides, pad));
}

/**
 * Filter gradient of a dilation-1 NHWC `conv2d`, computed with ONE forward convolution
 * in which the batch axis plays the role of the reduced channel axis:
 *     dW[kh, kw, ci, co] = sum_{n, oh, ow} xpad[n, oh*sh + kh, ow*sw + kw, ci] * dy[n, oh, ow, co]
 * is `conv2d(input = xpad as [Cin, Hp, Wp, N], filter = dy as [Ho, Wo, N, Cout],
 * stride 1, dilation = forward stride)`, whose output is `[Cin, Kh, Kw, Cout]`.
 * The padding is explicit and sized so the output is exactly Kh x Kw: the dilated
 * "filter" spans (Ho-1)*s + 1 pixels, so the padded input must span (Ho-1)*s + K.
 * wasm's XNNPACK Conv2D supports dilation, so this stays on the fast kernel.
 *
 * @param x The forward input, `[N, H, W, Cin]`. Owned by the caller.
 * @param dy Gradient w.r.t. the conv output, `[N, Ho, Wo, Cout]`. Owned by the caller.
 * @param filterShape Shape of the forward filter, `[Kh, Kw, Cin, Cout]`.
 * @param strides Forward strides, `s` or `[sh, sw]`.
 * @param pad Forward padding, as given to `tf.conv2d`.
 * @param dimRoundingMode Forward rounding mode (only meaningful with a numeric `pad`).
 * @returns dL/dW, `[Kh, Kw, Cin, Cout]`, float32; the caller owns it. Intermediates are disposed.
 */
export function conv2dFilterGradViaForward(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, , , cin] = x.shape;
    const [kh, kw, , cout] = filterShape;
    tf.util.assert(filterShape[2] === cin, () => `conv2dFilterGradViaForward: filter expects ${filterShape[2]} input channels, x has ${cin}`);
    const [gh, gw] = convGeometry(x.shape, filterShape, strides, pad, dimRoundingMode);
    checkDyShape('conv2dFilterGradViaForward', dy, n, gh, gw, cout);
    // Extent of xpad actually read by the forward conv, and the padding after that it implies.
    // Negative "padding after" means the forward conv never read the last input pixels
    // (e.g. 'valid' with (H - K) not divisible by s): crop them instead.
    const spanH = (gh.out - 1) * gh.stride + kh;
    const spanW = (gw.out - 1) * gw.stride + kw;
    const afterH = spanH - gh.padBefore - gh.size;
    const afterW = spanW - gw.padBefore - gw.size;
    let xUsed: tf.Tensor4D = x;
    if (afterH < 0 || afterW < 0) {
      const usedH = gh.size + Math.min(afterH, 0);
      const usedW = gw.size + Math.min(afterW, 0);
      // Sliced as [N, H, W*Cin] so each copied run is a row (wasm's Slice copies run by run).
      const rows = tf.slice(tf.reshape(x, [n, gh.size, gw.size * cin]), [0, 0, 0], [n, usedH, usedW * cin]);
      xUsed = tf.reshape(rows, [n, usedH, usedW, cin]);
    }
    // Channels-last input whose "channels" are the batch: [Cin, H', W', N].
    const xT = tf.transpose(xUsed, [3, 1, 2, 0]);
    // Filter whose input channels are the batch: [Ho, Wo, N, Cout].
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    const convPad: ExplicitPad = [[0, 0], [gh.padBefore, Math.max(afterH, 0)], [gw.padBefore, Math.max(afterW, 0)], [0, 0]];
    const dwT = tf.conv2d(xT, dyT, 1, convPad, 'NHWC', [gh.stride, gw.stride]); // [Cin, Kh, Kw, Cout]
    // With one input channel the transpose below only relabels axes: a reshape is free.
    return cin === 1 ? tf.reshape(dwT, [kh, kw, cin, cout]) : tf.transpose(dwT, [1, 2, 0, 3]);
  });
}

/** Whether a Conv2D with these attributes can take the forward-convolution path. */
function fastPathApplies(dataFormat: unknown, dilations: unknown): boolean {
  const d = pair((dilations ?? 1) as number | [number, number]);
  return (dataFormat === undefined || dataFormat === 'NHWC') && d[0] === 1 && d[1] === 1;
}

/** Whether the wasm backend is active with Ravine's Conv2D kernel (Winograd for what it takes) registered. */
function winogradRegistered(): boolean {
  return tf.getBackend() === FAST_BACKEND && isFastKernel(tf.getKernel(tf.Conv2D, FAST_BACKEND)) && isFastKernel(tf.getKernel(PHASE_CONV, FAST_BACKEND));
}

function isFastGrad(config: GradConfig | undefined): config is FastGradConfig {
  return config !== undefined && (config as Partial<FastGradConfig>)[FAST_MARK] === true;
}

function isFastKernel(config: KernelConfig | undefined): config is FastKernelConfig {
  return config !== undefined && (config as Partial<FastKernelConfig>)[FAST_MARK] === true;
}

/**
 * A kernel's inputs are Tensors when an op runs it (the usual case), but the kernel
 * contract only promises TensorInfos; wrap those so tf ops accept them. The wrapper
 * shares the data (ref-counted); the caller disposes it.
 */
function asTensor(info: TensorInfo): { t: tf.Tensor; wrapped: boolean } {
  // Duck-typed like the engine itself does (`rank` exists on Tensors only): `instanceof`
  // would fail if a bundler ever loaded two copies of tfjs-core.
  if ((info as Partial<tf.Tensor>).rank !== undefined) return { t: info as tf.Tensor, wrapped: false };
  return { t: tf.engine().makeTensorFromTensorInfo(info), wrapped: true };
}

function asTensor4D(info: TensorInfo): { t: tf.Tensor4D; wrapped: boolean } {
  return asTensor(info) as { t: tf.Tensor4D; wrapped: boolean };
}

function makeGradConfig(original: GradConfig): FastGradConfig {
  return {
    [FAST_MARK]: true,
    original,
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
      // Off wasm the native backprop kernels are fast (webgl) or the reference (cpu);
      // unsupported layouts and dilations keep tfjs's semantics, errors included.
      if (tf.getBackend() !== FAST_BACKEND || !fastPathApplies(dataFormat, dilations)) {
        return original.gradFunc(dy, saved, attrs);
      }
      const [x4D, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4D = dy as tf.Tensor4D;
      return {
        x: () => conv2dInputGradViaForward(dy4D, filter, x4D.shape, strides, pad, dimRoundingMode),
        filter: () => conv2dFilterGradViaForward(x4D, dy4D, filter.shape, strides, pad, dimRoundingMode),
      };
    },
  };
}

/**
 * wasm kernel for `Conv2DBackpropFilter` (absent from tfjs-backend-wasm). Needed because
 * `tf.fused.conv2d` with a linear activation (tf.layers conv without activation, or with
 * 'linear') stays fused while recording gradients, and its gradient is a closure
 * (customGrad) that calls the backprop ops directly: no registered gradient is consulted.
 * Ops run inside a kernel are not recorded on the tape (engine kernelDepth > 0), and the
 * engine accepts a Tensor as a kernel output.
 */
function makeFilterKernel(original: KernelConfig | undefined): FastKernelConfig {
  return wasmKernel(tf.Conv2DBackpropFilter, original, ({ inputs, attrs }) => {
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat !== 'NHWC') {
      throw new Error(`wasm Conv2DBackpropFilter (forward-conv formulation) supports NHWC only, got ${dataFormat}`);
    }
    const x = asTensor4D(inputs.x as TensorInfo);
    const dy = asTensor4D(inputs.dy as TensorInfo);
    try {
      return conv2dFilterGradViaForward(x.t, dy.t, filterShape as [number, number, number, number], strides, pad, dimRoundingMode);
    } finally {
      if (x.wrapped) x.t.dispose();
      if (dy.wrapped) dy.t.dispose();
    }
  });
}

/**
 * wasm kernel for `Conv2DBackpropInput`, replacing wasm's slow native one so that the
 * fused-conv gradient (see {@link makeFilterKernel}) and any direct `tf.conv2dTranspose`
 * are fast too. Our formulation only calls forward `Conv2D`, so no recursion.
 */
function makeInputKernel(original: KernelConfig | undefined): FastKernelConfig {
  return wasmKernel(tf.Conv2DBackpropInput, original, (args) => {
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat !== 'NHWC') {
      // Our formulation is NHWC-only; keep whatever wasm itself does with other layouts.
      if (original !== undefined) return original.kernelFunc(args);
      throw new Error(`wasm Conv2DBackpropInput (forward-conv formulation) supports NHWC only, got ${dataFormat}`);
    }
    const dy = asTensor4D(args.inputs.dy as TensorInfo);
    const filter = asTensor4D(args.inputs.filter as TensorInfo);
    try {
      return conv2dInputGradViaForward(dy.t, filter.t, inputShape, strides, pad, dimRoundingMode);
    } finally {
      if (dy.wrapped) dy.t.dispose();
      if (filter.wrapped) filter.t.dispose();
    }
  });
}

/** `t` with its last two axes swapped, any batch axes kept in front. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return tf.transpose(t, perm);
}

/**
 * wasm kernel for `BatchMatMul` that never takes tfjs-wasm's slow path. tfjs-backend-wasm
 * 4.22 multiplies through XNNPACK only when neither operand is transposed; with
 * `transposeA` or `transposeB` it runs a plain loop, ~20x slower (bench/convGrad.ts:
 * [100, 128] x [1568, 128]^T takes 24 ms against 1.9 ms for an explicit transpose and the
 * fast kernel). That is exactly the input gradient of every Dense layer (dx = dy · W^T),
 * which made the dense layers, not the convolutions, the largest cost of a PGD step.
 * Transposing explicitly costs one copy of the operand (the Transpose kernel is fast; a
 * weight's transpose is cached); the product, transposed or not, then runs in Ravine's
 * matrix-product kernel as the forward pass does (src/engine/winograd.ts), or in XNNPACK's
 * where that kernel does not take it.
 */
function makeMatMulKernel(original: KernelConfig): FastKernelConfig {
  return wasmKernel(tf.BatchMatMul, original, (args) => {
    const attrs = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (!attrs.transposeA && !attrs.transposeB) {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      return ravineMatMul(args.backend as Parameters<typeof ravineMatMul>[0], { a, b }) ?? original.kernelFunc(args);
    }
    const a = asTensor(args.inputs.a as TensorInfo);
    const b = asTensor(args.inputs.b as TensorInfo);
    // A weight's transpose (a Dense layer's input gradient: dy · W^T) is kept in a weight-cache scope.
    const transposed = (x: { t: tf.Tensor }, info: TensorInfo) => derivedFromWeight(info, 'transpose', () => [swapLast(x.t)]);
    const at = attrs.transposeA ? transposed(a, args.inputs.a as TensorInfo) : { tensors: [a.t], owned: false };
    const bt = attrs.transposeB ? transposed(b, args.inputs.b as TensorInfo) : { tensors: [b.t], owned: false };
    try {
      return (
        ravineMatMul(args.backend as Parameters<typeof ravineMatMul>[0], { a: at.tensors[0], b: bt.tensors[0] }) ??
        original.kernelFunc({ ...args, inputs: { a: at.tensors[0], b: bt.tensors[0] }, attrs: { ...args.attrs, transposeA: false, transposeB: false } })
      );
    } finally {
      // The product lives in its own buffer: the temporaries can go.
      if (at.owned) tf.dispose(at.tensors);
      if (bt.owned) tf.dispose(bt.tensors);
      if (a.wrapped) a.t.dispose();
      if (b.wrapped) b.t.dispose();
    }
  });
}

/** One more reference to `x`'s data, as a kernel output: what cpu and webgl return for Identity. */
function shareData(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * wasm kernel for `Identity` that shares the input's data (one more reference) instead of
 * copying it, as tfjs's cpu and webgl backends do and as wasm's own Reshape already does. The
 * tape saves every differentiated op's inputs through Identity (tf.clone), so wasm copied each
 * weight and activation at every gradient step (a tenth of the light work of a PGD step), and the
 * copies had new data ids, which kept both the weight cache ({@link withWeightCache}) and
 * XNNPACK's operator cache (keyed by the weight's id) from recognising a weight it had seen.
 * No wasm kernel writes into its inputs, so sharing is safe; string tensors keep the original.
 */
function makeIdentityKernel(original: KernelConfig): FastKernelConfig {
  return wasmKernel(tf.Identity, original, (args) => ((args.inputs.x as TensorInfo).dtype === 'string' ? original.kernelFunc(args) : shareData(args)));
}

/**
 * wasm kernel for `Cast` that shares the data when the type does not change (wasm copies it):
 * every ReLU's gradient casts its float32 input to float32 (tfjs: dy * step(cast(x))).
 */
function makeCastKernel(original: KernelConfig): FastKernelConfig {
  return wasmKernel(tf.Cast, original, (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    return dtype === x.dtype && dtype !== 'string' ? shareData(args) : original.kernelFunc(args);
  });
}

/**
 * A wasm kernel of ours standing in for `original` (wasm's own, if any), marked as ours. It keeps
 * the original's setup, which binds the original's C function when the wasm backend starts, so
 * that the original still works where ours delegates to it.
 */
function wasmKernel(kernelName: string, original: KernelConfig | undefined, kernelFunc: KernelConfig['kernelFunc']): FastKernelConfig {
  return { [FAST_MARK]: true, original, kernelName, backendName: FAST_BACKEND, setupFunc: original?.setupFunc, kernelFunc };
}

/** Registers `config` in place of `original` without tfjs's "already registered" warning. */
function replaceKernel(config: KernelConfig, original: KernelConfig | undefined): void {
  if (original !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/**
 * The stacked phase convolution of {@link conv2dInputGradViaForward} on wasm: a stride-1
 * convolution `x` ⊛ `filter` with explicit padding `pad`, where `x` counts as 0 wherever the
 * optional input `mask` (x's shape) is ≤ 0, written with its channels split into `rowSplit`
 * row groups ([N, Ho·r, Wo, Cout / r]; see WinogradExtras in src/engine/winograd.ts).
 * Ravine's Winograd kernel does all of it in one pass; where it declines (its memory out of
 * reach, say), the same result comes from tfjs ops.
 */
const PHASE_CONV = 'RavinePhaseConv2D';

function makePhaseConvKernel(): FastKernelConfig {
  return wasmKernel(PHASE_CONV, undefined, (args) => {
    const { x, filter, mask } = args.inputs as { x: TensorInfo; filter: TensorInfo; mask?: TensorInfo };
    const { pad, rowSplit } = args.attrs as unknown as { pad: ExplicitPad; rowSplit: number };
    const backend = args.backend as Parameters<typeof winogradConv>[0];
    const out = winogradConv(backend, { x, filter, strides: 1, pad }, { mask, rowSplit });
    if (out) return out;
    return onTensors([x, filter, ...(mask ? [mask] : [])], ([xt, ft, mt]) =>
      tf.tidy(() => {
        const z = tf.conv2d(reluMasked(xt as tf.Tensor4D, mt), ft as tf.Tensor4D, 1, pad);
        if (rowSplit === 1) return z;
        const [n, ho, wo, cout] = z.shape;
        return tf.reshape(tf.transpose(tf.reshape(z, [n * ho, wo, rowSplit, cout / rowSplit]), [0, 2, 1, 3]), [n, ho * rowSplit, wo, cout / rowSplit]);
      }),
    );
  });
}

/** `fn` on a kernel's inputs as tensors ({@link asTensor}), the wrappers disposed after: a kernel's fallback to tfjs ops. */
function onTensors<T>(infos: TensorInfo[], fn: (tensors: tf.Tensor[]) => T): T {
  const wrapped = infos.map(asTensor);
  try {
    return fn(wrapped.map((w) => w.t));
  } finally {
    for (const w of wrapped) if (w.wrapped) w.t.dispose();
  }
}

/**
 * One L∞ PGD step on wasm (see linfStepOps in src/engine/ops.ts): inputs x, xAdv, g of one shape,
 * attributes alpha, eps, lo, hi. Ravine's kernel computes it in one pass, with the same values
 * as the ops; where it declines, the ops run.
 */
export const LINF_STEP = 'RavineLinfStep';

function makeLinfStepKernel(): FastKernelConfig {
  return wasmKernel(LINF_STEP, undefined, (args) => {
    const { x, xAdv, g } = args.inputs as { x: TensorInfo; xAdv: TensorInfo; g: TensorInfo };
    const { alpha, eps, lo, hi } = args.attrs as unknown as { alpha: number; eps: number; lo: number; hi: number };
    const out = ravineLinfStep(args.backend as Parameters<typeof ravineLinfStep>[0], { x, xAdv, g, alpha, eps, lo, hi });
    if (out) return out;
    return onTensors([x, xAdv, g], ([xt, at, gt]) => linfStepOps(xt, at, gt, alpha, eps, lo, hi));
  });
}

/** A loss surface's chunk of inputs in one pass on wasm (SURFACE_BATCH, src/engine/ops.ts); where Ravine's kernel declines, the ops. */
function makeSurfaceBatchKernel(): FastKernelConfig {
  return wasmKernel(SURFACE_BATCH, undefined, (args) => {
    const { x, d1, d2, a, b } = args.inputs as { x: TensorInfo; d1: TensorInfo; d2: TensorInfo; a: TensorInfo; b: TensorInfo };
    const { lo, hi } = args.attrs as unknown as { lo: number; hi: number };
    const out = ravineSurfaceBatch(args.backend as Parameters<typeof ravineSurfaceBatch>[0], { x, d1, d2, a, b, lo, hi });
    if (out) return out;
    return onTensors([x, d1, d2, a, b], ([xt, t1, t2, at, bt]) => surfaceInputsOps(xt, t1, t2, at as tf.Tensor1D, bt as tf.Tensor1D, lo, hi));
  });
}

/** What a loss surface shows at its points, from their logits, in one pass on wasm (SURFACE_HEAD, src/engine/ops.ts); where Ravine's kernel declines, the ops. */
function makeSurfaceHeadKernel(): FastKernelConfig {
  return wasmKernel(SURFACE_HEAD, undefined, (args) => {
    const { z } = args.inputs as { z: TensorInfo };
    const { label } = args.attrs as unknown as { label: number };
    const out = ravineSurfaceHead(args.backend as Parameters<typeof ravineSurfaceHead>[0], z, label);
    if (out) return out;
    return onTensors([z], ([zt]) => surfaceHeadOps(zt as tf.Tensor2D, label));
  });
}

/** Two convolution layers in one pass on wasm (CONV_PAIR, src/engine/ops.ts); where Ravine's kernels decline, tfjs's fused convolutions. */
function makeConvPairKernel(): FastKernelConfig {
  return wasmKernel(CONV_PAIR, undefined, (args) => {
    const { x, filter1, bias1, filter2, bias2 } = args.inputs as { x: TensorInfo; filter1: TensorInfo; bias1?: TensorInfo; filter2: TensorInfo; bias2?: TensorInfo };
    const a = args.attrs as unknown as {
      strides1: [number, number]; pad1: 'same' | 'valid'; activation1: 'relu' | 'linear';
      strides2: [number, number]; pad2: 'same' | 'valid'; activation2: 'relu' | 'linear';
    };
    const out = ravineConvPair(
      args.backend as Parameters<typeof ravineConvPair>[0],
      { x, filter: filter1, bias: bias1, strides: a.strides1, pad: a.pad1, activation: a.activation1 },
      { filter: filter2, bias: bias2, strides: a.strides2, pad: a.pad2, activation: a.activation2 },
    );
    if (out) return out;
    const infos = [x, filter1, filter2, bias1, bias2].filter((t): t is TensorInfo => t !== undefined);
    return onTensors(infos, (tensors) => {
      const of = (info: TensorInfo | undefined) => (info ? tensors[infos.indexOf(info)] : undefined);
      const layer = (filter: TensorInfo, bias: TensorInfo | undefined, strides: [number, number], pad: 'same' | 'valid', activation: 'relu' | 'linear'): PairLayer =>
        ({ filter: of(filter) as tf.Tensor4D, bias: of(bias) as tf.Tensor1D | undefined, strides, pad, activation });
      return convPairOps(of(x) as tf.Tensor4D, layer(filter1, bias1, a.strides1, a.pad1, a.activation1), layer(filter2, bias2, a.strides2, a.pad2, a.activation2));
    });
  });
}

/** The metric's objective and its gradient in one pass on wasm (KL_TO_TARGET, src/engine/ops.ts); where Ravine's kernel declines, the ops. */
function makeKlToTargetKernel(): FastKernelConfig {
  return wasmKernel(KL_TO_TARGET, undefined, (args) => {
    const { z, logP, p, scale } = args.inputs as { z: TensorInfo; logP: TensorInfo; p: TensorInfo; scale: TensorInfo };
    const out = ravineKlToTarget(args.backend as Parameters<typeof ravineKlToTarget>[0], { z, logP, p, scale });
    if (out) return out;
    return onTensors([z, logP, p, scale], ([zt, lt, pt, st]) => klToTargetOps(zt, lt, pt, st));
  });
}

/**
 * wasm kernels for `FusedConv2D` and `Conv2D` that run the convolutions Ravine's kernels take
 * (src/engine/winograd.ts) through them: one-channel inputs (the built-in CNNs' first layer) in its
 * direct kernel, 5×5 at stride 2 (their second layer) and 3×3 at stride 1 (the stacked phases of
 * their input gradients) in its Winograd kernel, and every other one through wasm's own kernel.
 * A `Conv2D` has no bias, activation or PReLU weights.
 */
function makeRavineConvKernel(kernelName: typeof tf.FusedConv2D | typeof tf.Conv2D): (original: KernelConfig) => FastKernelConfig {
  return (original) =>
    wasmKernel(kernelName, original, (args) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
      const a = args.attrs as unknown as tf.Conv2DAttrs & Partial<tf.FusedConv2DAttrs>;
      const backend = args.backend as Parameters<typeof winogradConv>[0];
      const call = {
        x, filter, bias: bias ?? undefined, strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dilations: a.dilations,
        dimRoundingMode: a.dimRoundingMode, activation: a.activation, hasPrelu: preluActivationWeights != null,
      };
      return directConv(backend, call) ?? winogradConv(backend, call) ?? original.kernelFunc(args);
    });
}

/**
 * wasm kernel for `_FusedMatMul` (a Dense layer's forward pass) that runs the products Ravine's
 * matrix-product kernel takes through it (src/engine/winograd.ts `ravineMatMul`: float32, one
 * batch, no or ReLU activation, output columns a multiple of 4; a transposed weight through its
 * cached transpose) and every other one through wasm's own kernel.
 */
function makeFusedMatMulKernel(original: KernelConfig): FastKernelConfig {
  return wasmKernel(tf._FusedMatMul, original, (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const attrs = args.attrs as unknown as tf._FusedMatMulAttrs;
    if (attrs.transposeA || preluActivationWeights != null) return original.kernelFunc(args);
    const backend = args.backend as Parameters<typeof ravineMatMul>[0];
    if (!attrs.transposeB) return ravineMatMul(backend, { a, b, bias: bias ?? undefined, activation: attrs.activation }) ?? original.kernelFunc(args);
    return withTransposedWeight(
      b,
      (bt) =>
        ravineMatMul(backend, { a, b: bt, bias: bias ?? undefined, activation: attrs.activation }) ??
        original.kernelFunc({ ...args, inputs: { ...args.inputs, b: bt }, attrs: { ...args.attrs, transposeB: false } }),
    );
  });
}

/**
 * `fn` on the transpose of the weight `b` (its last two axes swapped), kept in a weight-cache
 * scope ({@link derivedFromWeight}); what was made for this call alone is disposed after.
 */
function withTransposedWeight<T>(b: TensorInfo, fn: (bt: tf.Tensor) => T): T {
  const w = asTensor(b);
  const t = derivedFromWeight(b, 'transpose', () => [swapLast(w.t)]);
  try {
    return fn(t.tensors[0]);
  } finally {
    if (t.owned) tf.dispose(t.tensors);
    if (w.wrapped) w.t.dispose();
  }
}

/**
 * A Dense layer's input gradient through its ReLU on wasm (MASKED_MATMUL, src/engine/ops.ts):
 * (a ⊙ step(mask)) · bᵀ in Ravine's matrix-product kernel, with bᵀ the weight's cached transpose;
 * where the kernel declines, the ops.
 */
function makeMaskedMatMulKernel(): FastKernelConfig {
  return wasmKernel(MASKED_MATMUL, undefined, (args) => {
    const { a, mask, b } = args.inputs as { a: TensorInfo; mask: TensorInfo; b: TensorInfo };
    return withTransposedWeight(
      b,
      (bt) =>
        ravineMatMul(args.backend as Parameters<typeof ravineMatMul>[0], { a, b: bt, aMask: mask }) ??
        onTensors([a, mask], ([at, mt]) => tf.tidy(() => tf.matMul(reluMasked(at, mt), bt))),
    );
  });
}

/** wasm's own kernels that {@link registerFastConvGradients} wraps or replaces, and the makers. */
const WRAPPED_KERNELS: [string, (native: KernelConfig) => FastKernelConfig][] = [
  [tf.Conv2DBackpropInput, makeInputKernel],
  [tf.BatchMatMul, makeMatMulKernel],
  [tf.Identity, makeIdentityKernel],
  [tf.Cast, makeCastKernel],
  [tf.FusedConv2D, makeRavineConvKernel(tf.FusedConv2D)],
  [tf.Conv2D, makeRavineConvKernel(tf.Conv2D)],
  [tf._FusedMatMul, makeFusedMatMulKernel],
];

/**
 * Makes Conv2D gradients on the wasm backend fast and available. Idempotent; safe to
 * call from Node, a Web Worker or the page, before or after `tf.setBackend`.
 *
 * - Replaces the registered gradient of the `Conv2D` kernel (what `tf.conv2d`, and
 *   `tf.fused.conv2d` with a non-linear activation while recording, put on the tape).
 *   On wasm, NHWC, dilation 1 it uses {@link conv2dInputGradViaForward} and
 *   {@link conv2dFilterGradViaForward}; otherwise it delegates to tfjs-core's own
 *   gradient, so webgl and cpu keep their native backprop kernels.
 * - Registers a wasm `Conv2DBackpropFilter` kernel (wasm has none) and replaces wasm's
 *   `Conv2DBackpropInput` kernel, both via forward convolutions. This covers fused convs
 *   with a linear activation, whose gradient calls those kernels directly.
 * - Replaces wasm's `BatchMatMul` kernel by one that transposes explicitly instead of taking
 *   wasm's slow transposed path (see {@link makeMatMulKernel}): the gradients of Dense layers;
 *   the products themselves, and `_FusedMatMul`'s (Dense layers forward), run in Ravine's own
 *   matrix-product kernel where it takes them (src/engine/winograd.ts).
 * - Replaces wasm's `Identity`, and `Cast` to the same type, by kernels that share the data
 *   instead of copying it (see {@link makeIdentityKernel}): what the tape saves, and ReLU gradients.
 * - Wraps wasm's `FusedConv2D` and `Conv2D` kernels so that 5×5 stride-2 and 3×3 stride-1
 *   convolutions (with channel counts it takes) run as Winograd fast convolutions, and those of
 *   one-channel inputs as direct ones, in Ravine's own WebAssembly kernels
 *   (src/engine/winograd.ts), the rest as before. Not gradients, but the same registry of
 *   Ravine's wasm kernels, so that every caller (the worker, the CLI, scripts, benchmarks) gets
 *   the same arithmetic.
 *
 * The `Conv2DBackpropInput` replacement needs the wasm backend's kernels to be registered
 * already (importing `@tensorflow/tfjs-backend-wasm` does that); if they are not, call this
 * again after that import (a later call completes the registration; nothing is duplicated).
 */
export function registerFastConvGradients(): void {
  const grad = tf.getGradient(tf.Conv2D);
  if (!isFastGrad(grad)) {
    tf.registerGradient(makeGradConfig(grad));
  }
  const filterKernel = tf.getKernel(tf.Conv2DBackpropFilter, FAST_BACKEND);
  if (!isFastKernel(filterKernel)) {
    replaceKernel(makeFilterKernel(filterKernel), filterKernel);
  }
  // Registering ours before wasm registers its own would only earn a warning and be
  // overwritten at import: wait for the native kernel to exist.
  for (const [name, make] of WRAPPED_KERNELS) {
    const native = tf.getKernel(name, FAST_BACKEND);
    if (native !== undefined && !isFastKernel(native)) replaceKernel(make(native), native);
  }
  if (!isFastKernel(tf.getKernel(PHASE_CONV, FAST_BACKEND))) tf.registerKernel(makePhaseConvKernel());
  if (!isFastKernel(tf.getKernel(LINF_STEP, FAST_BACKEND))) tf.registerKernel(makeLinfStepKernel());
  if (!isFastKernel(tf.getKernel(KL_TO_TARGET, FAST_BACKEND))) tf.registerKernel(makeKlToTargetKernel());
  if (!isFastKernel(tf.getKernel(SURFACE_BATCH, FAST_BACKEND))) tf.registerKernel(makeSurfaceBatchKernel());
  if (!isFastKernel(tf.getKernel(SURFACE_HEAD, FAST_BACKEND))) tf.registerKernel(makeSurfaceHeadKernel());
  if (!isFastKernel(tf.getKernel(MASKED_MATMUL, FAST_BACKEND))) tf.registerKernel(makeMaskedMatMulKernel());
  if (!isFastKernel(tf.getKernel(CONV_PAIR, FAST_BACKEND))) tf.registerKernel(makeConvPairKernel());
}

/**
 * Undoes {@link registerFastConvGradients}: restores tfjs-core's Conv2D gradient and wasm's
 * original kernels (so Conv2DBackpropFilter is again missing on wasm, BatchMatMul is slow with
 * transposes again, and Identity and Cast copy again). For benchmarks and tests that need the
 * native behaviour; the app never calls it.
 */
export function unregisterFastConvGradients(): void {
  const grad = tf.getGradient(tf.Conv2D);
  if (isFastGrad(grad)) tf.registerGradient(grad.original);
  for (const name of [tf.Conv2DBackpropFilter, PHASE_CONV, LINF_STEP, KL_TO_TARGET, SURFACE_BATCH, SURFACE_HEAD, MASKED_MATMUL, CONV_PAIR, ...WRAPPED_KERNELS.map(([n]) => n)]) {
    const kernel = tf.getKernel(name, FAST_BACKEND);
    if (isFastKernel(kernel)) {
      tf.unregisterKernel(name, FAST_BACKEND);
      if (kernel.original !== undefined) {
        tf.registerKernel(kernel.original);
        // setBackend runs kernel setup (wasm binds its C function there); if wasm is already
        // active, the restored kernel may never have been set up while ours was registered.
        if (tf.getBackend() === FAST_BACKEND) kernel.original.setupFunc?.(tf.backend());
      }
    }
  }
}
