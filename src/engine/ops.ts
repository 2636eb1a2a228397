/**
 * The per-sample quantities of PAPER.md, as tensor functions. All take logits `z` [N, K]
 * and integer labels `y` [N] (int32), both owned by the caller, and return new [N] tensors
 * owned by the caller. Use inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Cross-entropy CE(z, y) = logsumexp(z) - z_y, via logSoftmax for numerical safety.
 * Differentiable in z with the closed-form gradient softmax(z) - onehot(y) (per sample, times
 * the upstream gradient): PGD and FGSM take it at every step, and automatic differentiation
 * of the log-softmax and the masked sum records a dozen ops, mostly broadcasts against
 * [N, 1] that tfjs-backend-wasm runs through a slow indexed loop. Same value to the bit.
 */
export function crossEntropy(z: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const { oneHot, logProbs, value } = crossEntropyParts(logits as tf.Tensor2D, y);
    save([logProbs, oneHot]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [lp, oh]: tf.Tensor[]) => tf.mul(tf.sub(tf.exp(lp), oh), tf.reshape(dy, [dy.shape[0], 1])),
    };
  }) as unknown as (logits: tf.Tensor2D) => tf.Tensor1D;
  return ce(z);
}

/**
 * {@link crossEntropy}'s value with its gradient with respect to z, softmax(z) − onehot(y), from
 * the same ops (so the same values), for a caller that takes the gradient without the tape.
 */
export function crossEntropyWithGrad(z: tf.Tensor2D, y: tf.Tensor1D): { value: tf.Tensor1D; grad: tf.Tensor2D } {
  return tf.tidy(() => {
    const { oneHot, logProbs, value } = crossEntropyParts(z, y);
    return { value, grad: tf.sub(tf.exp(logProbs), oneHot) as tf.Tensor2D };
  });
}

/** onehot(y), log softmax(z) and CE = −Σ onehot · log softmax, as both forms above compute them. */
function crossEntropyParts(z: tf.Tensor2D, y: tf.Tensor1D): { oneHot: tf.Tensor2D; logProbs: tf.Tensor2D; value: tf.Tensor1D } {
  const oneHot = tf.oneHot(y, z.shape[1]) as tf.Tensor2D;
  const logProbs = tf.logSoftmax(z);
  return { oneHot, logProbs, value: tf.neg(tf.sum(tf.mul(oneHot, logProbs), 1)) as tf.Tensor1D };
}

/** Logit margin M(z, y) = z_y - max_{j != y} z_j; positive iff the sample is classified as y. */
export function logitMargin(z: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const isLabel = tf.cast(tf.oneHot(y, z.shape[1]), 'bool');
    const zy = tf.sum(tf.where(isLabel, z, tf.zerosLike(z)), 1);
    const others = tf.max(tf.where(isLabel, tf.fill(z.shape, -Infinity), z), 1);
    return tf.sub(zy, others) as tf.Tensor1D;
  });
}

/**
 * KL(p || q) per sample where p = softmax(zp), q = softmax(zq), computed from log-softmaxes
 * (never log(softmax)) so a confident p does not produce log(0).
 */
export function klDivergence(zp: tf.Tensor2D, zq: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(zp);
    const logQ = tf.logSoftmax(zq);
    return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1) as tf.Tensor1D;
  });
}

/** dy ⊙ step(mask): the upstream gradient through a ReLU whose output is `mask`; dy itself without one. */
export function reluMasked<T extends tf.Tensor>(dy: T, mask: tf.Tensor | undefined): T {
  return mask === undefined ? dy : (tf.mul(dy, tf.step(mask)) as T);
}

/**
 * A Dense layer's input gradient through its ReLU: (dy ⊙ step(mask)) · kernelᵀ, dy [N, units],
 * kernel [inputs, units]. One kernel on wasm (Ravine's matrix product masks its rows on the way
 * in, registered by registerFastConvGradients), where the ops take three: a step, a product of
 * two [N, units] tensors, the matrix product. Where the mask is ≤ 0 the kernel counts dy as 0
 * and the ops multiply it by 0, which differs only in the sign of a zero or where dy is infinite
 * or NaN. Tensors owned by the caller.
 */
export const MASKED_MATMUL = 'RavineMaskedMatMul';

export function maskedMatMulTransposeB(dy: tf.Tensor, mask: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
  return kernelOrOps(MASKED_MATMUL, { a: dy, mask, b: kernel }, {}, () => tf.matMul(reluMasked(dy, mask), kernel, false, true));
}

/**
 * `name`'s kernel on `inputs` where the current backend has it (Ravine's one-pass kernels, which
 * registerFastConvGradients registers on wasm), else `ops()`, which computes the same.
 */
export function kernelOrOps<T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap, ops: () => T): T {
  if (tf.getKernel(name, tf.getBackend()) === undefined) return ops();
  return tf.engine().runKernel(name, inputs, attrs) as unknown as T;
}

/**
 * The name of the kernel that runs two convolution layers in a row (each a fused convolution with
 * its bias and activation) in one pass: inputs x, filter1, bias1?, filter2, bias2?; attributes
 * strides1, pad1, activation1, strides2, pad2, activation2 (NHWC, dilation 1). Registered on wasm
 * by registerFastConvGradients (src/engine/convGrad.ts), for forward passes that nothing records;
 * elsewhere {@link convPairOps} runs.
 */
export const CONV_PAIR = 'RavineConvPair';

/** One convolution layer of a {@link convPair}: its weights and how it is applied. */
export interface PairLayer {
  filter: tf.Tensor4D;
  bias?: tf.Tensor1D;
  strides: [number, number];
  pad: 'same' | 'valid';
  activation: 'relu' | 'linear';
}

/** {@link convPair} as tfjs's fused convolutions, one after the other. x owned by the caller; returns a new tensor. */
export function convPairOps(x: tf.Tensor4D, first: PairLayer, second: PairLayer): tf.Tensor4D {
  return tf.tidy(() => {
    const layer = (h: tf.Tensor4D, l: PairLayer) => tf.fused.conv2d({ x: h, filter: l.filter, bias: l.bias, strides: l.strides, pad: l.pad, activation: l.activation });
    return layer(layer(x, first), second);
  });
}

/** Two convolution layers in a row (see {@link CONV_PAIR}); not differentiable. x owned by the caller; returns a new tensor. */
export function convPair(x: tf.Tensor4D, first: PairLayer, second: PairLayer): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = { x, filter1: first.filter, filter2: second.filter };
  if (first.bias) inputs.bias1 = first.bias;
  if (second.bias) inputs.bias2 = second.bias;
  const attrs = {
    strides1: first.strides, pad1: first.pad, activation1: first.activation,
    strides2: second.strides, pad2: second.pad, activation2: second.activation,
  } as unknown as tf.NamedAttrMap;
  return kernelOrOps(CONV_PAIR, inputs, attrs, () => convPairOps(x, first, second));
}

/**
 * The name of the kernel that builds a loss surface's chunk of inputs in one pass (inputs x, d1,
 * d2 [1, ...shape], a, b [n]; attributes lo, hi; output [n, ...shape]). Registered on wasm by
 * registerFastConvGradients (src/engine/convGrad.ts); elsewhere {@link surfaceInputsOps} runs.
 */
export const SURFACE_BATCH = 'RavineSurfaceBatch';

/**
 * clip(x + (a[i] · d1 + b[i] · d2), lo, hi) for every grid point i, as tfjs ops: x, d1, d2 are
 * [1, ...shape], a and b [n]; returns [n, ...shape]. Tensors owned by the caller.
 */
export function surfaceInputsOps(x: tf.Tensor, d1: tf.Tensor, d2: tf.Tensor, a: tf.Tensor1D, b: tf.Tensor1D, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    const ca = perSample(a, x.shape.length);
    const cb = perSample(b, x.shape.length);
    return tf.clipByValue(tf.add(x, tf.add(tf.mul(ca, d1), tf.mul(cb, d2))), lo, hi);
  });
}

/**
 * The inputs of a loss surface's chunk (see surfaceInputsOps): on wasm one pass of Ravine's
 * kernel, where the ops are five passes, two of them broadcasts; the same values either way.
 */
export function surfaceInputs(x: tf.Tensor, d1: tf.Tensor, d2: tf.Tensor, a: tf.Tensor1D, b: tf.Tensor1D, lo: number, hi: number): tf.Tensor {
  return kernelOrOps(SURFACE_BATCH, { x, d1, d2, a, b }, { lo, hi }, () => surfaceInputsOps(x, d1, d2, a, b, lo, hi));
}

/**
 * The name of the kernel that computes what a loss surface shows at each of its points from their
 * logits, in one pass: input z [n, K]; attribute label; outputs [cross-entropy [n], logit margin
 * [n], predicted class [n] (int32), confidence, the largest softmax probability [n]]. Registered
 * on wasm by registerFastConvGradients (src/engine/convGrad.ts); elsewhere {@link surfaceHeadOps}
 * runs.
 */
export const SURFACE_HEAD = 'RavineSurfaceHead';

/** {@link surfaceHead} as tfjs ops. z owned by the caller; returns new tensors. */
export function surfaceHeadOps(z: tf.Tensor2D, label: number): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  return tf.tidy(() => {
    const y = tf.fill([z.shape[0]], label, 'int32') as tf.Tensor1D;
    return [crossEntropy(z, y), logitMargin(z, y), tf.cast(tf.argMax(z, 1), 'int32') as tf.Tensor1D, tf.max(tf.softmax(z), 1) as tf.Tensor1D];
  });
}

/**
 * Cross-entropy, logit margin, predicted class and confidence of every row of logits z [n, K]
 * for one label. On wasm one pass of Ravine's kernel over the logits (in float64, stored as
 * float32: the cross-entropy and the confidence may differ from the ops' in the last bit, the
 * margin and the class do not), where the ops are about thirty kernel calls per chunk.
 */
export function surfaceHead(z: tf.Tensor2D, label: number): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  return kernelOrOps(SURFACE_HEAD, { z }, { label }, () => surfaceHeadOps(z, label)) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
}

/**
 * The name of the kernel that computes {@link KlToTarget}'s value and gradient in one pass:
 * inputs z, logP, p, scale; outputs [value [N], gradient [N, K]]. Registered on wasm by
 * registerFastConvGradients (src/engine/convGrad.ts); elsewhere {@link klToTargetOps} runs.
 */
export const KL_TO_TARGET = 'RavineKlToTarget';

/**
 * KL(p || softmax(z / s)) per sample and its gradient with respect to z, (softmax(z / s) − p) / s,
 * as tfjs ops (what the KL_TO_TARGET kernel computes in one pass). Tensors owned by the caller.
 */
export function klToTargetOps(z: tf.Tensor, logP: tf.Tensor, p: tf.Tensor, scale: tf.Tensor): [tf.Tensor1D, tf.Tensor2D] {
  return tf.tidy(() => {
    const logQ = tf.logSoftmax(tf.div(z, scale));
    const value = tf.sum(tf.mul(p, tf.sub(logP, logQ)), 1) as tf.Tensor1D;
    return [value, tf.div(tf.sub(tf.exp(logQ), p), scale) as tf.Tensor2D];
  });
}

/**
 * The KL divergence from a fixed distribution p to softmax(z / s), per sample, with its
 * gradient written out: the metric's PGD objective, evaluated once per step on a batch.
 *
 * Equal to `klDivergence(zp, z / s)` with zp the logits of p, but p's log-softmax is taken
 * once, not at every step, and the gradient with respect to z is the closed form
 * (softmax(z / s) - p) / s, scaled per sample by the upstream gradient. Value and gradient come
 * from one kernel (KL_TO_TARGET) where it is registered, wasm: one pass over the [N, K] logits
 * where automatic differentiation of the log-softmax, the product and the sum records a dozen
 * kernels (for 100 MNIST samples, value, gradient and the metric's running maximum took 0.11 ms
 * a step against 0.13–0.20 ms with the ops). It sums in float64, so its value differs from
 * klDivergence's float32 ops in the last bits; elsewhere the ops run (klToTargetOps), which give
 * klDivergence's value to the bit.
 */
export class KlToTarget {
  /** log p [N, K] and p [N, K]. */
  private readonly logP: tf.Tensor2D;
  private readonly p: tf.Tensor2D;
  /** s [N, 1] (or a scalar). */
  private readonly scale: tf.Tensor;
  private readonly fn: (z: tf.Tensor2D) => tf.Tensor1D;

  /**
   * @param zp logits of the fixed distribution, `[N, K]`, already divided by their scale;
   *   owned by the caller (this keeps its own tensors).
   * @param scale the divisor s of z, `[N, 1]` or a scalar; owned by the caller.
   */
  constructor(zp: tf.Tensor2D, scale: tf.Tensor) {
    // Kept: the object may be made inside a tidy, and its tensors outlive it until dispose().
    this.logP = tf.keep(tf.tidy(() => tf.logSoftmax(zp))) as tf.Tensor2D;
    this.p = tf.keep(tf.exp(this.logP)) as tf.Tensor2D;
    this.scale = tf.keep(tf.clone(scale));
    this.fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
      const { value, grad } = this.withGrad(z as tf.Tensor2D);
      save([grad]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], tf.reshape(dy, [dy.shape[0], 1])),
      };
    }) as unknown as (z: tf.Tensor2D) => tf.Tensor1D;
  }

  /** KL(p || softmax(z / s)) per sample, `[N]`, for logits z `[N, K]` owned by the caller. */
  at(z: tf.Tensor2D): tf.Tensor1D {
    return this.fn(z);
  }

  /** The same values with their gradient with respect to z, (softmax(z / s) − p) / s, from the same kernel (for the tape-free path). */
  withGrad(z: tf.Tensor2D): { value: tf.Tensor1D; grad: tf.Tensor2D } {
    const [value, grad] = kernelOrOps(KL_TO_TARGET, { z, logP: this.logP, p: this.p, scale: this.scale }, {}, () => klToTargetOps(z, this.logP, this.p, this.scale));
    return { value: value as tf.Tensor1D, grad: grad as tf.Tensor2D };
  }

  dispose(): void {
    tf.dispose([this.logP, this.p, this.scale]);
  }
}

/**
 * sign(t) ∈ {-1, 0, +1}, exact for every float (NaN stays NaN, as in torch.sign). Not tf.sign:
 * tfjs-backend-wasm 4.22's Sign kernel returns 0 for |t| below about 1e-5 (measured: sign(1e-8)
 * = 0 on wasm, 1 on cpu), and input gradients of a confident classifier are mostly that small,
 * so FGSM/PGD steps built on tf.sign silently stop moving on wasm. step(t) - step(-t) is exact
 * and on wasm takes 0.05 ms for a batch of 100 MNIST gradients, where comparing with 0
 * (greater/less against a broadcast scalar, then casts) took 0.6 ms: that was 3 % of a metric
 * run, on its single-threaded part.
 */
export function exactSign(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.step(t, 0), tf.step(tf.neg(t), 0)));
}

/**
 * One L∞ PGD step as tfjs ops: the ascent along the gradient's exact sign and the projection
 * back onto the ε-ball around x and onto [lo, hi],
 *   clip(x + clip(xAdv + α · sign(g) − x, −ε, ε), lo, hi).
 * On wasm Ravine's kernel computes the same in one pass (src/engine/pgd.ts `linfStep`).
 */
export function linfStepOps(x: tf.Tensor, xAdv: tf.Tensor, g: tf.Tensor, alpha: number, eps: number, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    const delta = tf.clipByValue(tf.sub(tf.add(xAdv, tf.mul(alpha, exactSign(g))), x), -eps, eps);
    return tf.clipByValue(tf.add(x, delta), lo, hi);
  });
}

/** Broadcasts a per-sample vector `v` [N] against a batch of shape [N, ...rest]. */
export function perSample(v: tf.Tensor1D, rank: number): tf.Tensor {
  return tf.reshape(v, [v.shape[0], ...new Array<number>(rank - 1).fill(1)]);
}

/** Per-sample L2 norm of a batch [N, ...] → [N]. */
export function l2PerSample(t: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.reshape(t, [t.shape[0], -1])), 1)) as tf.Tensor1D);
}
