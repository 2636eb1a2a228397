/**
 * The classifier adapter: any tfjs LayersModel or GraphModel becomes "input batch → logits".
 *
 * Everything downstream (directions, surfaces, the metric, attacks) needs real logits: the
 * decision margin is a difference of logits and the metric's scale normaliser divides by
 * their spread. Models saved for deployment usually end in a softmax, so the adapter finds
 * that softmax and reads the tensor that feeds it instead.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from './errors';
import { inputGradientChain, type InputGradientChain, layerChain, type LogitHead } from './layerChain';

export type { LogitHead } from './layerChain';

/** How the adapter obtains logits from the wrapped model. */
export type LogitsSource =
  | 'output' // the model's output already is logits
  | 'before-softmax-layer' // a trailing Softmax / Activation('softmax') layer was skipped
  | 'dense-without-softmax' // the last Dense layer's softmax activation was replaced by identity
  | 'before-softmax-op' // GraphModel: the node feeding the output Softmax op is read
  | 'log-of-output'; // last resort: log of the model's probabilities (equal to logits up to a shift)

/** A differentiable map from an input batch to logits. */
export interface Classifier {
  /** Shape of one input without the batch axis, e.g. [28, 28, 1]. */
  readonly inputShape: readonly number[];
  /** Number of input values per sample (product of inputShape). */
  readonly inputSize: number;
  /** Number of classes K (>= 2). */
  readonly numClasses: number;
  /** Valid input range [lo, hi] in the model's own input units (e.g. [0, 1] for pixels/255). */
  readonly valueRange: readonly [number, number];
  /** Where the logits come from (shown to the user next to the model). */
  readonly logitsSource: LogitsSource;
  /**
   * Rough activation memory of one sample's forward pass in bytes, used to size batches
   * (forward outputs of every layer, float32). Backward passes need about twice this.
   */
  readonly bytesPerSample: number;
  /**
   * Logits for a batch. `x`: [N, ...inputShape] float32, owned by the caller. Returns [N, K],
   * owned by the caller. Differentiable (works inside tf.grad / tf.valueAndGrads).
   */
  logits(x: tf.Tensor): tf.Tensor2D;
  /**
   * head(logits(x)) per sample and the gradient of its sum with respect to x, by the model's
   * layers' own backward passes without tfjs's tape (fewer calls into tfjs per step than
   * tf.valueAndGrad; the same kernels, so the same values). Present where the model is a chain of
   * layers that all have one (src/engine/layerChain.ts); otherwise use tf.valueAndGrad on
   * `logits`. `x` is owned by the caller; the results are the caller's.
   */
  inputGradient?(x: tf.Tensor, head: LogitHead): { value: tf.Tensor1D; grad: tf.Tensor };
  /** Frees what the adapter created (never the wrapped model or its weights). */
  dispose(): void;
}

export interface ClassifierOptions {
  /** Valid input range; default [0, 1]. */
  valueRange?: readonly [number, number];
  /** Input shape without batch, needed only when the model leaves some dimensions open. */
  inputShape?: readonly number[];
  /**
   * Keep `logits` differentiable with respect to the model's weights too (training). By default
   * it is differentiable with respect to its input only, which is all that attacks, the metric
   * and directions take, and lets the common layers of a layer chain run fused kernels while
   * gradients are recorded (src/engine/layerChain.ts). Training must set it: by default those
   * layers' weights get no gradient (tf.variableGrads leaves them out, or throws when no weight
   * is reached at all).
   */
  weightGradients?: boolean;
}

/**
 * Largest input we accept per sample (values): a 1024×1024 RGB image. Bigger needs tiling.
 * io/modelFiles.ts checks a model's declared input against it before tfjs builds anything.
 */
export const MAX_INPUT_VALUES = 1024 * 1024 * 3;

/**
 * Largest forward activation memory of one sample we accept (bytes, float32 outputs of every
 * layer, the {@link Classifier.bytesPerSample} estimate). Four times a chunk's budget
 * (CHUNK_BUDGET_BYTES, 64 MiB in schedule.ts): a gradient job holds about three times the
 * forward activations, so one sample above this would need most of a gigabyte, more than
 * WebGL gives a tab on integrated GPUs and than the wasm heap can spare. A model whose layers
 * blow a small input up (a huge UpSampling, say) is refused with this before its first run;
 * io/modelFiles.ts applies the same bound to the topology before tfjs builds it.
 */
export const MAX_SAMPLE_ACTIVATION_BYTES = 256 * 1024 * 1024;

/**
 * Whether TF.js can build a layer saved under this Keras class name (the registry tfjs-layers
 * fills when it loads; custom Python layers and Lambda are not in it).
 */
export function isKnownLayerClass(className: string): boolean {
  return Object.prototype.hasOwnProperty.call(tf.serialization.SerializationMap.getMap().classNameMap, className);
}

function describeShape(shape: readonly (number | null | undefined)[]): string {
  return `[${shape.map((d) => (d == null || d < 0 ? '?' : String(d))).join(', ')}]`;
}

function resolveInputShape(declared: readonly (number | null)[], override?: readonly number[]): number[] {
  const perSample = declared.slice(1);
  if (override) {
    if (override.length !== perSample.length) {
      throw new EngineError(
        'model-input',
        `The model expects inputs of rank ${declared.length} ${describeShape(declared)}, but an input shape of rank ${override.length + 1} was given.`,
      );
    }
    override.forEach((d, i) => {
      const want = perSample[i];
      if (want != null && want >= 0 && want !== d) {
        throw new EngineError(
          'model-input',
          `Input shape mismatch: the model expects ${describeShape(declared)} but ${describeShape([null, ...override])} was given.`,
        );
      }
    });
    return [...override];
  }
  if (perSample.length === 0 || perSample.some((d) => d == null || d < 1)) {
    throw new EngineError(
      'model-input',
      `The model's input shape ${describeShape(declared)} leaves dimensions open; Ravine needs a fixed input size (e.g. [?, 28, 28, 1]).`,
    );
  }
  return perSample as number[];
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

interface Built {
  fn: (x: tf.Tensor) => tf.Tensor;
  /** The tape-free input gradient, where the layers have one (InputGradientChain.valueAndGrad). */
  valueAndGrad?: InputGradientChain['valueAndGrad'];
  source: LogitsSource;
  bytesPerSample: number;
  declaredInput: (number | null)[];
  ownedDispose?: () => void;
}

function layerActivationName(layer: tf.layers.Layer): string | undefined {
  const config = layer.getConfig() as { activation?: unknown };
  return typeof config.activation === 'string' ? config.activation : undefined;
}

/** A model's own forward pass, in inference mode. */
function applyOf(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  return (x) => model.apply(x, { training: false }) as tf.Tensor;
}

/**
 * Logits of a model ending in Dense(softmax): `features` (a sub-model sharing the layers before
 * it), then the Dense layer's own kernel and bias without the activation. It reads the layer's
 * variables and owns none of them.
 */
function denseWithoutActivation(features: tf.LayersModel, dense: tf.layers.Layer): (x: tf.Tensor) => tf.Tensor {
  const config = dense.getConfig() as { useBias?: boolean };
  const [kernel, bias] = dense.getWeights();
  return (x) =>
    tf.tidy(() => {
      const h = features.apply(x, { training: false }) as tf.Tensor;
      const z = tf.matMul(h.reshape([h.shape[0], -1]), kernel);
      return config.useBias !== false && bias ? tf.add(z, bias) : z;
    });
}

function buildFromLayers(model: tf.LayersModel, weightGradients: boolean): Built {
  if (model.inputs.length !== 1) {
    throw new EngineError('model-input', `The model has ${model.inputs.length} inputs; Ravine needs a classifier with exactly one input.`);
  }
  if (model.outputs.length !== 1) {
    throw new EngineError('model-output', `The model has ${model.outputs.length} outputs; Ravine needs a classifier with exactly one output (the class scores).`);
  }
  const declaredInput = model.inputs[0].shape as (number | null)[];
  let bytesPerSample = 0;
  for (const layer of model.layers) {
    const shapes = layer.outputShape;
    const list = Array.isArray(shapes[0]) || shapes.length === 0 ? (shapes as (number | null)[][]) : [shapes as (number | null)[]];
    for (const s of list) bytesPerSample += 4 * product(s.slice(1).map((d) => (d == null ? 1 : d)));
  }
  const outLayer = model.outputs[0].sourceLayer as tf.layers.Layer;
  const className = outLayer.getClassName();
  const activation = layerActivationName(outLayer);
  const featureInput = outLayer.input;
  const single = !Array.isArray(featureInput);
  // Layers in a plain chain can run fused while input gradients are recorded (layerChain.ts).
  const chain = weightGradients ? undefined : layerChain(model);
  const fast = (layers: tf.layers.Layer[] | undefined, linearLast: boolean) => (layers ? inputGradientChain(layers, linearLast) : undefined);

  if (single && (className === 'Softmax' || (className === 'Activation' && activation === 'softmax'))) {
    // The logits are the tensor entering the softmax layer: the chain without it, or else a
    // sub-model that shares the original layers (and their weights) and ends one layer earlier.
    const f = fast(chain?.slice(0, -1), false);
    const fn = f?.forward ?? applyOf(tf.model({ inputs: model.inputs, outputs: featureInput as tf.SymbolicTensor }));
    return { fn, valueAndGrad: f?.valueAndGrad, source: 'before-softmax-layer', bytesPerSample, declaredInput };
  }
  if (single && className === 'Dense' && activation === 'softmax') {
    // Same idea for Dense(activation='softmax'): the chain with its last layer run without the
    // activation, or else a sub-model's features through the Dense layer's kernel and bias.
    const f = fast(chain, true);
    const fn = f?.forward ?? denseWithoutActivation(tf.model({ inputs: model.inputs, outputs: featureInput as tf.SymbolicTensor }), outLayer);
    return { fn, valueAndGrad: f?.valueAndGrad, source: 'dense-without-softmax', bytesPerSample, declaredInput };
  }
  if (activation === 'softmax') {
    // Another layer type with a built-in softmax: log-probabilities equal the logits up to a
    // per-sample shift, which leaves CE, margin and the metric unchanged; only probabilities
    // that underflow to 0 lose information, so clamp them.
    return {
      fn: (x) => tf.tidy(() => tf.log(tf.maximum(model.apply(x, { training: false }) as tf.Tensor, 1e-30))),
      source: 'log-of-output',
      bytesPerSample,
      declaredInput,
    };
  }
  const f = fast(chain, false);
  return { fn: f?.forward ?? applyOf(model), valueAndGrad: f?.valueAndGrad, source: 'output', bytesPerSample, declaredInput };
}

interface GraphNodeDef {
  name: string;
  op: string;
  input?: string[];
}

function buildFromGraph(model: tf.GraphModel): Built {
  if (model.inputs.length !== 1) {
    throw new EngineError('model-input', `The model has ${model.inputs.length} inputs; Ravine needs a classifier with exactly one input.`);
  }
  if (model.outputs.length !== 1) {
    throw new EngineError('model-output', `The model has ${model.outputs.length} outputs; Ravine needs a classifier with exactly one output (the class scores).`);
  }
  const declaredInput = (model.inputs[0].shape ?? []).map((d) => (d < 0 ? null : d));
  const inputName = model.inputs[0].name;
  const outputName = model.outputs[0].name;
  // The graph definition is not part of tfjs's typed surface; read it defensively.
  const topology = (model as unknown as { artifacts?: { modelTopology?: { node?: GraphNodeDef[] } } }).artifacts?.modelTopology;
  const nodes = new Map<string, GraphNodeDef>();
  for (const n of topology?.node ?? []) nodes.set(n.name, n);
  const outNode = nodes.get(outputName.replace(/:\d+$/, ''));
  let target = outputName;
  let source: LogitsSource = 'output';
  if (outNode && outNode.op === 'Softmax' && outNode.input?.[0]) {
    target = outNode.input[0].replace(/^\^/, '');
    source = 'before-softmax-op';
  }
  const inputValues = product(declaredInput.slice(1).map((d) => d ?? 1));
  return {
    fn: (x) => model.execute({ [inputName]: x }, target) as tf.Tensor,
    source,
    // Graph models do not expose per-layer shapes; assume a small CNN's worth of activations.
    bytesPerSample: 4 * inputValues * 32,
    declaredInput,
  };
}

/**
 * Wraps a loaded tfjs model. Checks (with a dry run on one zero input) that it maps one
 * input of a fixed shape to `[N, K]` class scores with K >= 2 and throws an EngineError
 * with a user-readable message otherwise. The wrapped model stays owned by the caller.
 */
export function createClassifier(model: tf.LayersModel | tf.GraphModel, options: ClassifierOptions = {}): Classifier {
  const built = model instanceof tf.GraphModel ? buildFromGraph(model) : buildFromLayers(model as tf.LayersModel, options.weightGradients === true);
  const inputShape = resolveInputShape(built.declaredInput, options.inputShape);
  const inputSize = product(inputShape);
  if (inputSize > MAX_INPUT_VALUES) {
    throw new EngineError('model-input', `The model's input ${describeShape([null, ...inputShape])} has ${inputSize} values per sample; Ravine handles at most ${MAX_INPUT_VALUES}.`);
  }
  const valueRange = options.valueRange ?? ([0, 1] as const);
  if (!(valueRange[0] < valueRange[1])) {
    throw new EngineError('bad-setting', `The value range [${valueRange[0]}, ${valueRange[1]}] is empty.`);
  }
  if (built.bytesPerSample > MAX_SAMPLE_ACTIVATION_BYTES) {
    throw new EngineError(
      'model-unsupported',
      `One sample's activations in this model add up to ${Math.round(built.bytesPerSample / 2 ** 20)} MiB; Ravine runs models up to ${MAX_SAMPLE_ACTIVATION_BYTES / 2 ** 20} MiB per sample. Nothing was run.`,
    );
  }
  let probe: { shape: number[]; finite: boolean };
  try {
    // One blank sample through the model: the output shape, and whether it is finite. A
    // kernel that fails here (an op tfjs lacks, a broken graph) frees what it made (tidy).
    probe = tf.tidy(() => {
      const z = built.fn(tf.zeros([1, ...inputShape]));
      return { shape: z.shape.slice(), finite: tf.all(tf.isFinite(z)).dataSync()[0] === 1 };
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const op = (/Unknown op '([^']+)'/.exec(message) ?? /Op is not supported: ([\w.-]+)/i.exec(message))?.[1];
    throw new EngineError(
      'model-unsupported',
      op ? `The model uses the TensorFlow op '${op}', which TF.js cannot run.` : `The model fails on a blank input of shape ${describeShape([1, ...inputShape])}: ${message}`,
    );
  }
  if (probe.shape.length !== 2 || probe.shape[0] !== 1) {
    throw new EngineError(
      'model-output',
      `The model's output has shape ${describeShape([null, ...probe.shape.slice(1)])}; a classifier must output [N, K] class scores (logits or probabilities).`,
    );
  }
  const numClasses = probe.shape[1];
  if (numClasses < 2) {
    throw new EngineError('model-output', `The model outputs ${numClasses} score per sample; a classifier needs at least 2 classes.`);
  }
  if (!probe.finite) {
    throw new EngineError('model-output', 'The model outputs NaN or Infinity on a blank input; its weights are probably broken.');
  }
  let disposed = false;
  const checkInput = (x: tf.Tensor) => {
    if (disposed) throw new EngineError('model-unsupported', 'This model has been unloaded.');
    if (x.shape.length !== inputShape.length + 1 || x.shape.slice(1).some((d, i) => d !== inputShape[i])) {
      throw new EngineError(
        'input-shape',
        `Input of shape ${describeShape(x.shape)} does not fit the model, which expects ${describeShape([null, ...inputShape])}.`,
      );
    }
  };
  const valueAndGrad = built.valueAndGrad;
  return {
    inputShape,
    inputSize,
    numClasses,
    valueRange: [valueRange[0], valueRange[1]],
    logitsSource: built.source,
    bytesPerSample: Math.max(built.bytesPerSample, 4 * inputSize),
    logits(x: tf.Tensor): tf.Tensor2D {
      checkInput(x);
      return built.fn(x) as tf.Tensor2D;
    },
    ...(valueAndGrad && {
      inputGradient(x: tf.Tensor, head: LogitHead) {
        checkInput(x);
        return valueAndGrad(x, head);
      },
    }),
    dispose() {
      disposed = true;
      built.ownedDispose?.();
    },
  };
}

/** A classifier from a plain logits function; used by tests and synthetic models. */
export function classifierFromFunction(
  fn: (x: tf.Tensor) => tf.Tensor2D,
  inputShape: readonly number[],
  numClasses: number,
  valueRange: readonly [number, number] = [0, 1],
): Classifier {
  const inputSize = product(inputShape);
  return {
    inputShape: [...inputShape],
    inputSize,
    numClasses,
    valueRange: [valueRange[0], valueRange[1]],
    logitsSource: 'output',
    bytesPerSample: 4 * inputSize * 4,
    logits: fn,
    dispose() {},
  };
}
