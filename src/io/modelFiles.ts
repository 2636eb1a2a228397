/**
 * TF.js model files (model.json + weight shards) → validated ModelArtifacts, and back.
 *
 * Shared by the page's engine (dropped files, fetched built-ins), the CLI and the training
 * scripts: everything here works on plain bytes and JSON. Validation happens before tfjs sees
 * anything, so a broken or hostile upload yields a message that names the file and the
 * problem, and nothing the file declares is allocated before it has been checked:
 *
 * - the JSON: syntax, that it is a TF.js model (and not, say, a Keras `model.to_json()`);
 * - the weights manifest: names, dtypes (float weights only in a layers model), shapes, the
 *   total size ({@link MAX_WEIGHT_BYTES}), which shard files it needs and their sizes;
 * - the topology, before tfjs builds a layer (building allocates every kernel): layer
 *   classes TF.js knows, declared input shapes ({@link MAX_INPUT_VALUES}), the activations of
 *   one sample ({@link MAX_SAMPLE_ACTIVATION_BYTES}), and that each Dense / Conv / Embedding
 *   layer's declared size matches its kernel in the manifest;
 * - the weights themselves: every float is finite.
 */
import type * as tf from '@tensorflow/tfjs';
import { MAX_INPUT_VALUES, MAX_SAMPLE_ACTIVATION_BYTES } from '../engine/classifier';

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** Bytes of weights we accept in one model (a 500 MB model would not be explored in a tab). */
export const MAX_WEIGHT_BYTES = 512 * 1024 * 1024;

export type ModelFormat = 'layers-model' | 'graph-model';

export interface ParsedModel {
  format: ModelFormat;
  artifacts: tf.io.ModelArtifacts;
  /** Total bytes of weights. */
  weightBytes: number;
  /** The shard files the manifest named, in order. */
  shardNames: string[];
}

export interface ParseOptions {
  /**
   * Whether TF.js can build a layer of this Keras class name. The engine passes tfjs's own
   * registry (engine/classifier.ts `isKnownLayerClass`); without it layer classes are not
   * checked here and an unknown one fails later, inside tfjs.
   */
  knownLayer?: (className: string) => boolean;
}

/** Bytes per value of each dtype a weights manifest may name (storage dtypes included). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };
/**
 * Un-quantized dtypes allowed in a graph model: int32 and bool constants are legitimate
 * there (reshape targets, gather indices, flags). A layers model holds float32 only.
 */
const GRAPH_DTYPES = new Set(['float32', 'int32', 'bool']);
/** Storage dtypes of quantized float32 weights (tfjs decodes them to float32 when loading). */
const QUANTIZED_DTYPES = new Set(['uint8', 'uint16', 'float16']);

interface WeightGroup {
  paths: unknown[];
  weights: tf.io.WeightsManifestEntry[];
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

function describeJsonError(text: string, e: Error): string {
  if (text.trim().length === 0) return 'it is empty';
  return `it is not valid JSON (${e.message})`;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function showShape(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** "1,234,567" without depending on the host's locale. */
function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const MIB = 2 ** 20;

/**
 * Reads `model.json` text and its shards (by file name; folders are ignored) into tfjs
 * ModelArtifacts. Checks everything listed in this module's comment; throws a
 * {@link ModelFileError} naming the file and the problem at the first failure.
 */
export function parseModelFiles(modelJsonName: string, modelJsonText: string, shards: ReadonlyMap<string, Uint8Array>, options: ParseOptions = {}): ParsedModel {
  const fail = (message: string): never => {
    throw new ModelFileError(`${modelJsonName}: ${message}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(modelJsonText);
  } catch (e) {
    throw new ModelFileError(`${modelJsonName}: ${describeJsonError(modelJsonText, e as Error)}.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('expected a JSON object describing a TF.js model.');
  }
  const obj = json as Record<string, unknown>;
  const topology = obj.modelTopology as Record<string, unknown> | undefined;
  if (typeof topology !== 'object' || topology === null) {
    if (typeof obj.class_name === 'string' && typeof obj.config === 'object') {
      return fail(
        `this is a Keras architecture (what model.to_json() writes), without weights. Save the whole model in Python and convert it: ` +
          '`tensorflowjs_converter --input_format keras model.h5 out_dir/`, then drop out_dir.',
      );
    }
    return fail('this JSON has no "modelTopology", so it is not a TF.js model (expected the model.json written by tfjs or tensorflowjs_converter).');
  }
  const isGraph = Array.isArray((topology as { node?: unknown }).node);
  const format: ModelFormat = obj.format === 'graph-model' || isGraph ? 'graph-model' : 'layers-model';
  if (format === 'layers-model' && typeof (topology as { class_name?: unknown }).class_name !== 'string' && typeof (topology as { model_config?: unknown }).model_config !== 'object') {
    return fail('"modelTopology" is neither a Keras layers model nor a graph.');
  }
  if (format === 'graph-model' && !isGraph) return fail('it says it is a graph model, but "modelTopology" has no "node" list.');
  const manifest = obj.weightsManifest;
  if (!Array.isArray(manifest)) {
    return fail('"weightsManifest" is missing, so the weights cannot be found.');
  }

  // The manifest: what each weight is and how many bytes each group of shards must hold.
  const shardNames: string[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const groupBytes: number[] = [];
  let declared = 0;
  for (const [gi, group] of (manifest as WeightGroup[]).entries()) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      fail(`weightsManifest[${gi}] needs "paths" and "weights" lists.`);
    }
    let bytesInGroup = 0;
    for (const w of group.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
        fail(`a weight entry in weightsManifest[${gi}] lacks a name, shape or dtype.`);
      }
      if (w.shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) fail(`weight '${w.name}' has an invalid shape ${showShape(w.shape)}.`);
      let bytes: number;
      if (w.quantization) {
        const q = w.quantization as { dtype?: string; scale?: unknown; min?: unknown };
        if (!QUANTIZED_DTYPES.has(q.dtype ?? '')) fail(`weight '${w.name}' is quantized to '${String(q.dtype)}', which TF.js cannot decode (uint8, uint16 or float16).`);
        if (q.dtype !== 'float16' && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) fail(`weight '${w.name}' is quantized without a finite scale and minimum.`);
        bytes = DTYPE_BYTES[q.dtype as string];
      } else {
        const allowed = format === 'graph-model' ? GRAPH_DTYPES.has(w.dtype) : w.dtype === 'float32';
        if (!allowed) {
          fail(
            format === 'graph-model'
              ? `weight '${w.name}' has dtype '${w.dtype}', which TF.js cannot load.`
              : `weight '${w.name}' has dtype '${w.dtype}'; the weights of a layers model must be float32 (or quantized float32), so this model cannot compute gradients.`,
          );
        }
        bytes = DTYPE_BYTES[w.dtype];
      }
      const size = product(w.shape) * bytes;
      bytesInGroup += size;
      declared += size;
      if (declared > MAX_WEIGHT_BYTES) {
        fail(`the weights add up to more than ${MAX_WEIGHT_BYTES / MIB} MiB (weight '${w.name}' alone has shape ${showShape(w.shape)}); Ravine handles smaller models. Nothing was allocated.`);
      }
      weightSpecs.push(w);
    }
    for (const p of group.paths) {
      if (typeof p !== 'string' || p.length === 0) fail(`weightsManifest[${gi}] names a weight file that is not a file name.`);
      shardNames.push(p as string);
    }
    groupBytes.push(bytesInGroup);
  }

  // The topology, before tfjs builds anything from it.
  if (format === 'layers-model') checkLayersTopology(topology, weightSpecs, options, fail);
  else checkGraphTopology(topology, fail);

  // The shard files: all present, each group exactly as long as its weights.
  const named = new Set(shardNames.map(baseName));
  const missing = shardNames.filter((p) => !shards.has(baseName(p)));
  if (missing.length > 0) {
    const strays = [...shards.keys()].filter((k) => !named.has(k) && !/\.(json|txt|md)$/i.test(k));
    throw new ModelFileError(
      `${modelJsonName} names weight file${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} that ${missing.length > 1 ? 'were' : 'was'} not provided; add ${missing.length > 1 ? 'them' : 'it'} next to model.json.` +
        (strays.length > 0 ? ` Given but not named in its weightsManifest: ${strays.map((s) => `'${s}'`).join(', ')} (weight files must keep the names model.json gives them).` : ''),
    );
  }
  for (const [gi, group] of (manifest as WeightGroup[]).entries()) {
    const files = group.paths.map((p) => baseName(p as string));
    const held = files.reduce((n, f) => n + (shards.get(f) as Uint8Array).byteLength, 0);
    if (held !== groupBytes[gi]) {
      throw new ModelFileError(
        `${files.map((f) => `'${f}'`).join(' + ')} ${files.length > 1 ? 'hold' : 'holds'} ${grouped(held)} bytes but ${modelJsonName} declares ${grouped(groupBytes[gi])} for ${files.length > 1 ? 'them' : 'it'}; ` +
          `${held < groupBytes[gi] ? 'a shard is truncated' : 'a shard is too long'}, or belongs to another model.`,
      );
    }
  }
  const parts = shardNames.map((p) => shards.get(baseName(p)) as Uint8Array);
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.byteLength;
  }
  checkFiniteWeights(weightSpecs, weightData, fail);

  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: topology as tf.io.ModelArtifacts['modelTopology'],
    format: format,
    generatedBy: typeof obj.generatedBy === 'string' ? obj.generatedBy : undefined,
    convertedBy: typeof obj.convertedBy === 'string' ? obj.convertedBy : undefined,
    weightSpecs,
    weightData: weightData.buffer,
    userDefinedMetadata: obj.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
  };
  if (obj.signature) artifacts.signature = obj.signature as object;
  if (obj.modelInitializer) artifacts.modelInitializer = obj.modelInitializer as object;
  return { format, artifacts, weightBytes: total, shardNames };
}

// ---------------------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------------------

/** Refuses NaN and ±Infinity in float weights (float32, and float16-quantized). */
function checkFiniteWeights(specs: readonly tf.io.WeightsManifestEntry[], data: Uint8Array, fail: (m: string) => never): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const w of specs) {
    const count = product(w.shape);
    const q = w.quantization as { dtype?: string } | undefined;
    const storage = q ? (q.dtype as string) : w.dtype;
    const report = (i: number, what: string) =>
      fail(`weight '${w.name}' holds ${what} (value ${grouped(i)} of ${grouped(count)}); the training diverged or a weight file is damaged. Ravine loads only finite weights.`);
    if (storage === 'float32') {
      for (let i = 0; i < count; i++) {
        const v = view.getFloat32(offset + 4 * i, true);
        if (!Number.isFinite(v)) report(i, String(v));
      }
    } else if (storage === 'float16') {
      for (let i = 0; i < count; i++) {
        const h = view.getUint16(offset + 2 * i, true);
        // Exponent bits all ones: Infinity (zero mantissa) or NaN.
        if ((h & 0x7c00) === 0x7c00) report(i, (h & 0x03ff) === 0 ? (h & 0x8000 ? '-Infinity' : 'Infinity') : 'NaN');
      }
    }
    offset += count * DTYPE_BYTES[storage];
  }
}

// ---------------------------------------------------------------------------------------
// Topology
// ---------------------------------------------------------------------------------------

type Config = Record<string, unknown>;

interface LayerEntry {
  className: string;
  name: string;
  config: Config;
  /** Names of the layers feeding this one (functional models); null when unknown. */
  inbound: string[] | null;
}

/** Per-sample shape (no batch axis); null when it cannot be inferred here. */
type Shape = number[] | null;

/** The layer list of a Sequential or functional topology (Keras 2 and tfjs forms). */
function layerList(topology: Config): { functional: boolean; layers: LayerEntry[] } {
  const model = (typeof topology.model_config === 'object' && topology.model_config !== null ? topology.model_config : topology) as Config;
  const config = model.config as Config | Config[] | undefined;
  const raw = Array.isArray(config) ? config : Array.isArray(config?.layers) ? (config.layers as Config[]) : [];
  const functional = model.class_name !== 'Sequential';
  const layers = raw
    .filter((l): l is Config => typeof l === 'object' && l !== null)
    .map((l) => {
      const cfg = (typeof l.config === 'object' && l.config !== null ? l.config : {}) as Config;
      const name = typeof cfg.name === 'string' ? cfg.name : typeof l.name === 'string' ? l.name : '';
      return { className: typeof l.class_name === 'string' ? l.class_name : '', name, config: cfg, inbound: functional ? inboundNames(l.inbound_nodes) : null };
    });
  return { functional, layers };
}

/** Inbound layer names of a layer's first (and only supported) call; null when not readable. */
function inboundNames(nodes: unknown): string[] | null {
  if (!Array.isArray(nodes) || nodes.length !== 1) return nodes === undefined || (Array.isArray(nodes) && nodes.length === 0) ? [] : null;
  const node = nodes[0] as unknown;
  // Keras 2 / tfjs: [[name, nodeIndex, tensorIndex, kwargs], ...].
  if (Array.isArray(node)) {
    const names = node.map((e) => (Array.isArray(e) && typeof e[0] === 'string' ? e[0] : null));
    return names.every((n): n is string => n !== null) ? names : null;
  }
  // Keras 3: {args: [{class_name: '__keras_tensor__', config: {keras_history: [name, ...]}}]}.
  const args = (node as { args?: unknown[] }).args;
  if (Array.isArray(args)) {
    const flat = args.flatMap((a) => (Array.isArray(a) ? a : [a]));
    const names = flat.map((a) => {
      const h = (a as { config?: { keras_history?: unknown[] } })?.config?.keras_history;
      return Array.isArray(h) && typeof h[0] === 'string' ? h[0] : null;
    });
    return names.length > 0 && names.every((n): n is string => n !== null) ? names : null;
  }
  return null;
}

/** The declared per-sample input shape of a layer config, if it declares one. */
function declaredInput(cfg: Config): (number | null)[] | undefined {
  const s = cfg.batch_input_shape ?? cfg.batchInputShape ?? cfg.batch_shape;
  if (Array.isArray(s)) return s.slice(1) as (number | null)[];
  if (Array.isArray(cfg.input_shape)) return cfg.input_shape as (number | null)[];
  return undefined;
}

function ints(v: unknown, rank: number, fallback: number): number[] | null {
  if (v === undefined || v === null) return new Array(rank).fill(fallback);
  if (typeof v === 'number') return new Array(rank).fill(v);
  if (Array.isArray(v) && v.length === rank && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) return v as number[];
  return null;
}

/** Spatial output size of a window (conv or pool) along one axis, as Keras computes it. */
function windowOut(size: number, k: number, stride: number, dilation: number, padding: unknown): number {
  if (padding === 'same' || padding === 'causal') return Math.ceil(size / stride);
  return Math.max(0, Math.floor((size - (k - 1) * dilation - 1) / stride) + 1);
}

const IDENTITY_LAYERS = new Set([
  'Activation', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
  'BatchNormalization', 'LayerNormalization', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'Rescaling', 'Masking',
  'ActivityRegularization',
]);
const MERGE_SAME = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']);

/**
 * Output shape of one layer from its config and input shapes, for the layer types common in
 * classifiers (channels-last). Anything else: null (not inferred, so not checked here; the
 * engine's activation estimate after tfjs has built the model still applies).
 */
function inferOutput(cls: string, cfg: Config, inputs: Shape[]): Shape {
  if (inputs.length === 0 || inputs.some((s) => s === null)) return null;
  const ins = inputs as number[][];
  const x = ins[0];
  if (cfg.data_format === 'channels_first') return null;
  if (IDENTITY_LAYERS.has(cls)) return x;
  if (MERGE_SAME.has(cls)) return ins.every((s) => s.length === x.length && s.every((d, i) => d === x[i])) ? x : null;
  const conv = /^(Conv|MaxPooling|AveragePooling|UpSampling|ZeroPadding|Cropping|GlobalAveragePooling|GlobalMaxPooling)([123])D$/.exec(cls);
  if (conv) {
    const rank = Number(conv[2]);
    if (x.length !== rank + 1) return null;
    const spatial = x.slice(0, rank);
    const ch = x[rank];
    switch (conv[1]) {
      case 'Conv': {
        const k = ints(cfg.kernel_size, rank, 1);
        const s = ints(cfg.strides, rank, 1);
        const d = ints(cfg.dilation_rate, rank, 1);
        const f = cfg.filters;
        if (!k || !s || !d || typeof f !== 'number') return null;
        return [...spatial.map((n, i) => windowOut(n, k[i], s[i], d[i], cfg.padding)), f];
      }
      case 'MaxPooling':
      case 'AveragePooling': {
        const p = ints(cfg.pool_size, rank, 2);
        const s = cfg.strides === null || cfg.strides === undefined ? p : ints(cfg.strides, rank, 1);
        if (!p || !s) return null;
        return [...spatial.map((n, i) => windowOut(n, p[i], s[i], 1, cfg.padding)), ch];
      }
      case 'UpSampling': {
        const f = ints(cfg.size, rank, 2);
        return f ? [...spatial.map((n, i) => n * f[i]), ch] : null;
      }
      case 'ZeroPadding':
      case 'Cropping': {
        const key = conv[1] === 'ZeroPadding' ? 'padding' : 'cropping';
        const v = cfg[key];
        const pairs: [number, number][] | null =
          typeof v === 'number'
            ? new Array(rank).fill([v, v])
            : Array.isArray(v) && v.length === rank
              ? v.map((e) => (typeof e === 'number' ? [e, e] : Array.isArray(e) && e.length === 2 ? (e as [number, number]) : [NaN, NaN]))
              : Array.isArray(v) && rank === 1 && v.length === 2
                ? [v as [number, number]]
                : null;
        if (!pairs || pairs.some((p) => !p.every((n) => Number.isInteger(n) && n >= 0))) return null;
        const sign = conv[1] === 'ZeroPadding' ? 1 : -1;
        return [...spatial.map((n, i) => n + sign * (pairs[i][0] + pairs[i][1])), ch];
      }
      default:
        return [ch];
    }
  }
  switch (cls) {
    case 'InputLayer': {
      const s = declaredInput(cfg);
      return s && s.every((d) => typeof d === 'number') ? (s as number[]) : null;
    }
    case 'Dense':
      return typeof cfg.units === 'number' ? [...x.slice(0, -1), cfg.units] : null;
    case 'Flatten':
      return [product(x)];
    case 'Reshape': {
      const t = cfg.target_shape;
      if (!Array.isArray(t) || !t.every((d) => typeof d === 'number')) return null;
      const known = product((t as number[]).filter((d) => d !== -1));
      return (t as number[]).map((d) => (d === -1 && known > 0 ? product(x) / known : d));
    }
    case 'Permute':
      return Array.isArray(cfg.dims) && cfg.dims.length === x.length ? (cfg.dims as number[]).map((d) => x[d - 1]) : null;
    case 'RepeatVector':
      return typeof cfg.n === 'number' ? [cfg.n, ...x] : null;
    case 'Embedding':
      return typeof cfg.output_dim === 'number' ? [...x, cfg.output_dim] : null;
    case 'Concatenate': {
      const axis = typeof cfg.axis === 'number' ? cfg.axis : -1;
      const a = axis < 0 ? x.length + axis : axis - 1;
      if (a < 0 || a >= x.length || !ins.every((s) => s.length === x.length)) return null;
      return x.map((d, i) => (i === a ? ins.reduce((n, s) => n + s[i], 0) : d));
    }
    default:
      return null;
  }
}

/** Kernel-like weights by layer name: the manifest names weights `<scopes…>/<layer>/<weight>`. */
function weightsByLayer(specs: readonly tf.io.WeightsManifestEntry[]): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const w of specs) {
    const segs = w.name.replace(/:\d+$/, '').split('/');
    if (segs.length < 2) continue;
    const layer = segs[segs.length - 2];
    if (!out.has(layer)) out.set(layer, new Map());
    (out.get(layer) as Map<string, number[]>).set(segs[segs.length - 1], w.shape);
  }
  return out;
}

function checkLayersTopology(topology: Config, specs: readonly tf.io.WeightsManifestEntry[], options: ParseOptions, fail: (m: string) => never): void {
  const { functional, layers } = layerList(topology);
  const describe = (l: LayerEntry) => `layer '${l.name}' (${l.className})`;

  // 1. Layer classes: an unknown one would make tfjs throw half-way through building.
  if (options.knownLayer) {
    for (const l of layers) {
      if (l.className && !options.knownLayer(l.className)) {
        if (l.className === 'Lambda' || l.className === 'TFOpLambda') {
          fail(`${describe(l)} is a Keras Lambda layer: its code is Python, which never runs in the browser. Rebuild the model without Lambda layers, or convert it to a graph model (tensorflowjs_converter --input_format tf_saved_model).`);
        }
        fail(`${describe(l)} uses the layer class '${l.className}', which TF.js does not provide (a custom layer?). Ravine can only run the built-in Keras layers; convert the model to a graph model (tensorflowjs_converter --input_format tf_saved_model) or rebuild it from built-in layers.`);
      }
    }
  }

  // 2. Declared input shapes.
  for (const l of layers) {
    const s = declaredInput(l.config);
    if (!s) continue;
    if (s.some((d) => d !== null && (typeof d !== 'number' || !Number.isInteger(d) || d < 1))) fail(`${describe(l)} declares the input shape ${showShape([null, ...s])}, whose sizes must be positive integers.`);
    const values = product(s.map((d) => d ?? 1));
    if (values > MAX_INPUT_VALUES) {
      fail(`${describe(l)} declares inputs of shape ${showShape([null, ...s])}, ${grouped(values)} values per sample; Ravine handles at most ${grouped(MAX_INPUT_VALUES)} (a 1024 × 1024 RGB image). Nothing was allocated.`);
    }
  }

  // 3. Shapes through the network: activations of one sample, and each weighted layer's
  // declared size against its kernel in the manifest (tfjs allocates what the topology says
  // before it compares with the weights).
  const kernels = weightsByLayer(specs);
  const outputs = new Map<string, Shape>();
  let previous: Shape = null;
  let activationValues = 0;
  for (const [index, l] of layers.entries()) {
    const own = declaredInput(l.config);
    const ownShape: Shape = own && own.every((d) => typeof d === 'number') ? (own as number[]) : null;
    const inputs: Shape[] = functional
      ? l.inbound === null
        ? [null]
        : l.inbound.length === 0
          ? [ownShape]
          : l.inbound.map((n) => outputs.get(n) ?? null)
      : [index === 0 ? ownShape : previous];
    const out = l.className === 'InputLayer' ? inputs[0] : inferOutput(l.className, l.config, inputs);
    const input = inputs[0];
    const leaves = kernels.get(l.name);
    const checkKernel = (leaf: string, expected: (number | null)[]) => {
      const shape = leaves?.get(leaf);
      if (!shape) {
        if (kernels.size > 0) fail(`${describe(l)} has no '${leaf}' in the weights manifest; model.json and its weights do not belong together.`);
        return;
      }
      if (shape.length !== expected.length || expected.some((d, i) => d !== null && d !== shape[i])) {
        fail(`${describe(l)} needs a ${leaf} of shape ${showShape(expected)}, but the weights manifest gives ${showShape(shape)}; model.json and its weights do not belong together. Nothing was allocated.`);
      }
    };
    if (l.className === 'Dense' && typeof l.config.units === 'number') {
      checkKernel('kernel', [input ? input[input.length - 1] : null, l.config.units]);
    } else if (/^Conv[123]D$/.test(l.className) && typeof l.config.filters === 'number') {
      const rank = Number(l.className[4]);
      const k = ints(l.config.kernel_size, rank, 1);
      if (k) checkKernel('kernel', [...k, input && input.length === rank + 1 ? input[rank] : null, l.config.filters]);
    } else if (l.className === 'Embedding' && typeof l.config.input_dim === 'number' && typeof l.config.output_dim === 'number') {
      checkKernel('embeddings', [l.config.input_dim, l.config.output_dim]);
    }
    if (out) {
      if (out.some((d) => !Number.isFinite(d) || d < 0)) fail(`${describe(l)} produces the impossible shape ${showShape([null, ...out])}.`);
      activationValues += product(out);
      if (4 * activationValues > MAX_SAMPLE_ACTIVATION_BYTES) {
        fail(
          `${describe(l)} outputs ${showShape([null, ...out])} per sample; the activations of one sample would exceed ${MAX_SAMPLE_ACTIVATION_BYTES / MIB} MiB, more than a browser tab can spare. Nothing was allocated.`,
        );
      }
    }
    outputs.set(l.name, out);
    previous = out;
  }
}

interface GraphNode {
  name?: string;
  op?: string;
  attr?: { shape?: { shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean } } };
}

function checkGraphTopology(topology: Config, fail: (m: string) => never): void {
  for (const n of (topology.node as GraphNode[]).filter((n) => n && n.op === 'Placeholder')) {
    const dims = n.attr?.shape?.shape?.dim;
    if (!Array.isArray(dims)) continue;
    const sizes = dims.map((d) => Number(d.size ?? -1));
    const values = product(sizes.slice(1).map((d) => (d > 0 ? d : 1)));
    if (values > MAX_INPUT_VALUES) {
      fail(`the graph input '${n.name}' declares the shape ${showShape(sizes.map((d) => (d < 0 ? null : d)))}, ${grouped(values)} values per sample; Ravine handles at most ${grouped(MAX_INPUT_VALUES)}. Nothing was allocated.`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/** model.json text and one shard from artifacts, as `model.save()` would write to disk. */
export function serializeModel(artifacts: tf.io.ModelArtifacts, shardName = 'group1-shard1of1.bin'): { modelJson: string; shard: Uint8Array } {
  const data = artifacts.weightData;
  const bytes = data === undefined ? new Uint8Array(0) : Array.isArray(data) ? concat(data.map((b) => new Uint8Array(b))) : new Uint8Array(data);
  const json = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [shardName], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  return { modelJson: JSON.stringify(json), shard: bytes };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
