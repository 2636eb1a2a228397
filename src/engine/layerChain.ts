/**
 * A forward pass for chains of common Keras layers that stays fused while tfjs records
 * gradients with respect to the input.
 *
 * Why: while it records gradients, tfjs-core will not fuse a convolution or a matrix product with
 * a non-linear activation (its `shouldFuse`): a `Conv2D` or `Dense` layer with a ReLU then runs
 * as three kernels (product, bias add, ReLU), each on the tape. On wasm the bias add is a
 * broadcast that the backend runs through an indexed loop (0.35 ms for one [100, 14, 14, 16]
 * activation, about twice the ReLU and its gradient's mask together), and with threads every
 * extra small kernel also wakes the thread pool. Attacks and the metric take a gradient per
 * step, so these ran 20 times per PGD run.
 *
 * What: a `Conv2D` or `Dense` layer with a ReLU or no activation runs as one fused kernel (the
 * one tfjs itself runs when nothing records) under `tf.customGrad`, whose gradient is the
 * input gradient alone: the upstream gradient masked where the output is 0, then the
 * transposed convolution (src/engine/convGrad.ts's forward-convolution form on wasm) or the
 * product with the transposed kernel. `Flatten` is a reshape;
 * every other layer runs as itself (`layer.apply`), recorded as usual.
 *
 * Without the tape: where every layer of the chain is fused or a Flatten, the chain also runs
 * forward keeping each layer's backward pass and then runs those in reverse
 * (InputGradientChain.valueAndGrad, Classifier.inputGradient). The kernels are the ones the tape
 * would run, so the values are the same to the bit; what goes is tfjs's recording, its custom
 * gradient wrappers (which also save their inputs and outputs through Identity kernels: five a
 * step of the CNN metric) and its walk back along the tape.
 * Same process, alternating, 11 rounds of the 100-sample CNN metric (PGD-20) on wasm in Node:
 * the tape took ×1.042 (1 thread) and ×1.049 (2 threads) the time of this path.
 *
 * The catch: the weights are read inside and do not appear as inputs of the custom gradients,
 * so the result is differentiable with respect to its input only. Training needs gradients with
 * respect to the weights: it asks the classifier for `weightGradients` and gets the layers'
 * own `apply` (src/engine/classifier.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dInputGrad, pair } from './convGrad';
import { CONV_PAIR, convPair, maskedMatMulTransposeB, type PairLayer } from './ops';

/** One layer's part of the forward pass: a batch in, a batch out (tensors owned by the caller). */
type Step = (x: tf.Tensor) => tf.Tensor;

/**
 * One layer's forward pass that also hands back its input gradient as a function of the
 * upstream gradient (no tape): what {@link InputGradientChain.valueAndGrad} chains. `y` and
 * what `backward` returns are owned by the caller; `backward` reads `x` and `y`, so both must
 * live until it has run.
 */
type StepWithBackward = (x: tf.Tensor) => { y: tf.Tensor; backward: (dy: tf.Tensor) => tf.Tensor };

/** The activations that fuse into the kernel here; a layer with another one runs as itself. */
type FusedActivation = 'relu' | 'linear';

interface LayerConfig {
  activation?: unknown;
  dataFormat?: string;
  dilationRate?: number | [number, number];
  strides?: number | [number, number];
  padding?: string;
}

/**
 * The layers from the model's input to its output if they form a plain chain (each layer called
 * once, on the output of the one before), without the InputLayer; otherwise undefined.
 */
export function layerChain(model: tf.LayersModel): tf.layers.Layer[] | undefined {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const chain: tf.layers.Layer[] = [];
  let layer = model.outputs[0].sourceLayer as tf.layers.Layer;
  while (layer.getClassName() !== 'InputLayer') {
    if (layer.inboundNodes.length !== 1) return undefined;
    const inbound = layer.inboundNodes[0].inboundLayers;
    if (inbound.length !== 1) return undefined;
    chain.unshift(layer);
    layer = inbound[0];
  }
  return layer === model.inputs[0].sourceLayer ? chain : undefined;
}

function fusedActivation(layer: tf.layers.Layer, linear: boolean): FusedActivation | undefined {
  if (linear) return 'linear';
  // Keras configs name the activation ('relu'); tfjs-layers' own getConfig does too.
  const activation = (layer.getConfig() as LayerConfig).activation;
  return activation === 'relu' || activation === 'linear' ? activation : undefined;
}

/**
 * A layer that runs as one fused kernel: `forward` gets the weights it read, and `backward` the
 * same ones, so both see one version of them; `backward` gets the upstream gradient and, where
 * the activation is a ReLU, the layer's output as the mask to apply to it (dy ⊙ step(y); a
 * convolution's input gradient on wasm applies it inside Ravine's kernel, src/engine/convGrad.ts).
 */
interface FusedLayer<W> {
  readWeights: () => W;
  activation: FusedActivation;
  /** A convolution's layer as {@link convPair} takes it, with the weights it reads now. */
  convLayer?: () => PairLayer;
  forward: (x: tf.Tensor, w: W) => tf.Tensor;
  backward: (dy: tf.Tensor, mask: tf.Tensor | undefined, x: tf.Tensor, w: W) => tf.Tensor;
}

/** A fused layer's forward pass under a custom gradient that returns the input gradient only. */
function inputGradientOp<W>(layer: FusedLayer<W>): Step {
  const relu = layer.activation === 'relu';
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const w = layer.readWeights();
    const y = layer.forward(x, w);
    save(relu ? [y] : []);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layer.backward(dy, relu ? saved[0] : undefined, x, w),
    };
  }) as unknown as Step;
  return op;
}

/** The same fused layer with its input gradient as a function of the upstream gradient (no tape). */
function withBackwardOf<W>(layer: FusedLayer<W>): StepWithBackward {
  const relu = layer.activation === 'relu';
  return (x) => {
    const w = layer.readWeights();
    const y = tf.tidy(() => layer.forward(x, w));
    return { y, backward: (dy) => tf.tidy(() => layer.backward(dy, relu ? y : undefined, x, w)) };
  };
}

/** [kernel, bias?] of a layer, as the variables themselves (the weight cache keys on them). */
function kernelAndBias(layer: tf.layers.Layer): { kernel: tf.Tensor; bias?: tf.Tensor } {
  const [kernel, bias] = layer.getWeights();
  return { kernel, bias };
}

function conv2dLayer(layer: tf.layers.Layer, activation: FusedActivation): FusedLayer<{ kernel: tf.Tensor; bias?: tf.Tensor }> | undefined {
  const cfg = layer.getConfig() as LayerConfig;
  const dilations = pair(cfg.dilationRate ?? 1);
  if (cfg.dataFormat !== 'channelsLast' || dilations.some((d) => d !== 1)) return undefined;
  if (cfg.padding !== 'same' && cfg.padding !== 'valid') return undefined;
  const pad = cfg.padding;
  const strides = pair(cfg.strides ?? 1);
  return {
    readWeights: () => kernelAndBias(layer),
    activation,
    convLayer: () => {
      const { kernel, bias } = kernelAndBias(layer);
      return { filter: kernel as tf.Tensor4D, bias: bias as tf.Tensor1D | undefined, strides, pad, activation };
    },
    forward: (x, { kernel, bias }) =>
      tf.engine().runKernel(tf.FusedConv2D, { x, filter: kernel, ...(bias ? { bias } : {}) }, {
        strides,
        pad,
        dataFormat: 'NHWC',
        dilations: [1, 1],
        activation,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    backward: (dy, mask, x, { kernel }) =>
      conv2dInputGrad(dy as tf.Tensor4D, kernel as tf.Tensor4D, x.shape as [number, number, number, number], strides, pad, mask as tf.Tensor4D | undefined),
  };
}

function denseLayer(layer: tf.layers.Layer, activation: FusedActivation): FusedLayer<{ kernel: tf.Tensor; bias?: tf.Tensor }> | undefined {
  // Dense acts on the last axis; only a layer fed a flat batch takes the fused path.
  if ((layer.input as tf.SymbolicTensor).shape.length !== 2) return undefined;
  return {
    readWeights: () => kernelAndBias(layer),
    activation,
    forward: (x, { kernel, bias }) => {
      // The fused kernel takes batched operands, as tfjs's fused matMul passes them.
      const [n, k] = x.shape as [number, number];
      const units = kernel.shape[1] as number;
      const inputs = { a: tf.reshape(x, [1, n, k]), b: tf.reshape(kernel, [1, k, units]), ...(bias ? { bias } : {}) };
      const attrs = { transposeA: false, transposeB: false, activation } as unknown as tf.NamedAttrMap;
      return tf.reshape(tf.engine().runKernel(tf._FusedMatMul, inputs, attrs) as tf.Tensor, [n, units]);
    },
    backward: (dy, mask, _x, { kernel }) => (mask ? maskedMatMulTransposeB(dy, mask, kernel) : tf.matMul(dy, kernel, false, true)),
  };
}

/** The fused form of a layer, or undefined if it has none. `linear`: run it without its activation. */
function fusedLayer(layer: tf.layers.Layer, linear: boolean): FusedLayer<{ kernel: tf.Tensor; bias?: tf.Tensor }> | undefined {
  const activation = fusedActivation(layer, linear);
  if (activation === undefined) return undefined;
  const className = layer.getClassName();
  if (className === 'Conv2D') return conv2dLayer(layer, activation);
  if (className === 'Dense') return denseLayer(layer, activation);
  return undefined;
}

/** How a layer runs in the chain: its forward step, and its tape-free form where it has one. */
interface ChainStep {
  step: Step;
  withBackward?: StepWithBackward;
  fused: boolean;
  /** A convolution layer's weights and attributes, for a pair of them in one kernel (forward only). */
  convLayer?: () => PairLayer;
}

function fusedChainStep(fused: FusedLayer<{ kernel: tf.Tensor; bias?: tf.Tensor }>): ChainStep {
  return { step: inputGradientOp(fused), withBackward: withBackwardOf(fused), fused: true, convLayer: fused.convLayer };
}

/** How a layer runs in the chain: fused, as a reshape (Flatten), or as itself (recorded, no tape-free form). */
function layerStep(layer: tf.layers.Layer): ChainStep {
  if (layer.getClassName() === 'Flatten' && (layer.getConfig() as LayerConfig).dataFormat !== 'channelsFirst') {
    const flatten: Step = (x) => tf.reshape(x, [x.shape[0], -1]);
    return { step: flatten, withBackward: (x) => ({ y: flatten(x), backward: (dy) => tf.reshape(dy, x.shape) }), fused: false };
  }
  const fused = fusedLayer(layer, false);
  return fused ? fusedChainStep(fused) : { step: (x) => layer.apply(x, { training: false }) as tf.Tensor, fused: false };
}

/**
 * A per-sample objective of a batch's logits `z` [N, K] (owned by the caller): its values [N],
 * and the gradient of their sum with respect to z [N, K], both owned by the caller.
 */
export type LogitHead = (z: tf.Tensor2D) => { value: tf.Tensor1D; grad: tf.Tensor2D };

/** A layer chain's forward pass, differentiable with respect to its input, and where every layer allows, its input gradient without tfjs's tape. */
export interface InputGradientChain {
  /** Logits of a batch (owned by the caller), recorded by tfjs's tape when it records. */
  forward: (x: tf.Tensor) => tf.Tensor;
  /**
   * head(forward(x)) and its gradient with respect to x, from the layers' own backward passes
   * in reverse order: the same kernels the tape would run, without recording them. Defined when
   * every layer is fused or a Flatten. Tensors returned are owned by the caller; x is not touched.
   */
  valueAndGrad?: (x: tf.Tensor, head: LogitHead) => { value: tf.Tensor1D; grad: tf.Tensor };
}

/**
 * A forward pass through `layers` (a chain from {@link layerChain}) that is differentiable with
 * respect to its input only, with fused kernels where a layer allows. `linearLast`: the last
 * layer is a Dense layer to run without its activation (a softmax, read as logits). Undefined
 * when no layer fuses (the layers' own `apply` is then just as fast) or when the last layer
 * cannot run without its activation here.
 */
export function inputGradientChain(layers: tf.layers.Layer[], linearLast: boolean): InputGradientChain | undefined {
  if (layers.length === 0) return undefined;
  const steps = layers.map((layer) => layerStep(layer));
  if (linearLast) {
    const last = fusedLayer(layers[layers.length - 1], true);
    if (!last) return undefined;
    steps[steps.length - 1] = fusedChainStep(last);
  }
  if (!steps.some((s) => s.fused)) return undefined;
  const forward = (x: tf.Tensor): tf.Tensor => {
    // Two convolution layers in a row run as one kernel where the backend has it (wasm: the
    // first layer's output then stays in the cache, src/engine/winograd.ts ravineConvPair), but
    // only while nothing records: the pair has no gradient.
    const pairs = !tf.engine().isTapeOn() && tf.getKernel(CONV_PAIR, tf.getBackend()) !== undefined;
    // Each activation is freed as soon as the next layer has used it (as tfjs-layers does), not
    // at the end: a 2048-point surface chunk would otherwise hold every layer's output at once.
    // Safe while recording too: the tape keeps its own references to what it saved.
    let h = x;
    try {
      for (let i = 0; i < steps.length; i++) {
        const { step, convLayer } = steps[i];
        const second = pairs && i + 1 < steps.length ? steps[i + 1].convLayer : undefined;
        const input = h;
        const next = convLayer && second ? tf.tidy(() => convPair(input as tf.Tensor4D, convLayer(), second())) : tf.tidy(() => step(input));
        if (convLayer && second) i++;
        if (h !== x && next !== h) h.dispose();
        h = next;
      }
      return h;
    } catch (e) {
      if (h !== x) h.dispose();
      throw e;
    }
  };
  const tapeFree = steps.every((s) => s.withBackward) ? steps.map((s) => s.withBackward as StepWithBackward) : undefined;
  return { forward, valueAndGrad: tapeFree && ((x, head) => chainValueAndGrad(tapeFree, x, head)) };
}

/**
 * Forward through `steps`, keeping each layer's backward; the head's value and gradient at the
 * logits; then the gradient back through the layers, each upstream gradient and activation
 * freed once the layer below no longer needs it. Memory at its peak is what the tape would hold:
 * the activations the ReLUs' masks are read from, and one gradient at a time.
 */
function chainValueAndGrad(steps: StepWithBackward[], x: tf.Tensor, head: LogitHead): { value: tf.Tensor1D; grad: tf.Tensor } {
  const made: tf.Tensor[] = [];
  const backwards: ((dy: tf.Tensor) => tf.Tensor)[] = [];
  let value: tf.Tensor1D | undefined;
  let grad: tf.Tensor | undefined;
  try {
    let h = x;
    for (const step of steps) {
      const { y, backward } = step(h);
      made.push(y);
      backwards.push(backward);
      h = y;
    }
    ({ value, grad } = head(h as tf.Tensor2D));
    for (let i = backwards.length - 1; i >= 0; i--) {
      const next: tf.Tensor = backwards[i](grad);
      if (next !== grad) grad.dispose();
      grad = next;
      // This layer's output is no longer needed once its gradient has passed through it.
      (made.pop() as tf.Tensor).dispose();
    }
    return { value, grad };
  } catch (e) {
    tf.dispose([value, grad].filter((t): t is tf.Tensor => t !== undefined));
    throw e;
  } finally {
    tf.dispose(made);
  }
}
