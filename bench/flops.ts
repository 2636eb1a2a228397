/**
 * Forward-pass FLOPs of a tfjs Sequential model, and a plain description of its layers for
 * the PyTorch peer (bench/peer.py). Only the layer types of the built-in models are known:
 * Conv2D, Dense, Flatten (and InputLayer); anything else is an error, not a silent zero.
 */
import * as tf from '@tensorflow/tfjs';

/** A convolution's multiply-adds per sample, from its layer, output shape and kernel [kh, kw, in, out]. */
type ConvCost = (layer: tf.layers.Layer, out: number[], kernel: number[]) => number;

/** FLOPs per sample with `conv` pricing each convolution; dense layers at their nominal count. */
function countFlops(model: tf.LayersModel, conv: ConvCost): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'Conv2D') {
      flops += 2 * conv(layer, layer.outputShape as number[], (layer.getWeights()[0] as tf.Tensor).shape);
    } else if (cls === 'Dense') {
      const [din, dout] = (layer.getWeights()[0] as tf.Tensor).shape;
      flops += 2 * din * dout;
    } else if (cls !== 'Flatten' && cls !== 'InputLayer') {
      throw new Error(`flops: layer type ${cls} is not counted`);
    }
  }
  return flops;
}

/** Multiply-adds count 2; bias adds and activations are not counted. Per sample. */
export function forwardFlopsPerSample(model: tf.LayersModel): number {
  return countFlops(model, (_layer, out, [kh, kw, cin, cout]) => out[1] * out[2] * cout * kh * kw * cin);
}

/** The output tile of the Winograd count that bench/run.ts reports: F(4×4, ·), a common choice in float32. */
export const WINOGRAD_TILE = 4;

/**
 * Forward-pass FLOPs per sample if every convolution ran as a Winograd fast convolution with
 * F(m×m, ·) output tiles: the nominal count's lower-bound counterpart for kernels that do not
 * do the nominal multiply-adds. A strided convolution is first split into its stride phases
 * (a 5×5 stride-2 kernel into 3×3, 3×2, 2×3 and 2×2 stride-1 kernels, each over its own
 * subsampled input, all adding into the same outputs); a phase with an r_h × r_w kernel then
 * costs (m + r_h − 1)(m + r_w − 1) multiplications per m × m tile of outputs and per
 * (input, output) channel pair, with the outputs rounded up to whole tiles. The input and
 * output transforms (additions and scalings) are not counted, so this is a floor. Dense layers
 * keep their nominal count. A convolution's input gradient splits into the same phases with
 * the channels swapped, so the ratio to the nominal count holds for gradient steps too.
 * m = 1 gives back the nominal count.
 */
export function winogradFlopsPerSample(model: tf.LayersModel, m: number): number {
  if (!Number.isInteger(m) || m < 1) throw new Error(`winograd: tile size ${m} is not a positive integer`);
  return countFlops(model, (layer, out, [kh, kw, cin, cout]) => {
    const cfg = layer.getConfig() as { strides?: number[]; dilationRate?: number | number[] };
    if ([cfg.dilationRate ?? 1].flat().some((d) => d !== 1)) throw new Error(`winograd: dilated convolution ${layer.name} is not counted`);
    const [sh, sw] = cfg.strides ?? [1, 1];
    const tiles = Math.ceil(out[1] / m) * Math.ceil(out[2] / m);
    const phases = (k: number, s: number) => Array.from({ length: s }, (_, p) => Math.ceil((k - p) / s)).filter((r) => r > 0);
    let macs = 0;
    for (const rh of phases(kh, sh)) for (const rw of phases(kw, sw)) macs += tiles * (m + rh - 1) * (m + rw - 1) * cin * cout;
    return macs;
  });
}

export interface LayerDescription {
  type: 'conv2d' | 'dense' | 'flatten';
  activation?: string;
  /** Weight files (.npy, Keras layout: conv HWIO, dense [in, out]) in .cache/bench. */
  kernel?: string;
  bias?: string;
  strides?: [number, number];
  /** Explicit padding [top, bottom, left, right] exactly as tfjs computes 'same'/'valid'. */
  pads?: [number, number, number, number];
  /** The weights themselves, removed before the description is written. */
  weights?: { kernel?: { shape: number[]; data: Float32Array }; bias?: { shape: number[]; data: Float32Array } };
}

export function describeLayers(model: tf.LayersModel, prefix: string): LayerDescription[] {
  const out: LayerDescription[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as { activation?: string; strides?: number[]; padding?: string; useBias?: boolean };
    const ws = layer.getWeights();
    const weights = {
      kernel: ws[0] ? { shape: ws[0].shape, data: ws[0].dataSync() as Float32Array } : undefined,
      bias: ws[1] ? { shape: ws[1].shape, data: ws[1].dataSync() as Float32Array } : undefined,
    };
    if (cls === 'Conv2D') {
      const input = (layer.input as tf.SymbolicTensor).shape as number[];
      const [kh, kw, cin, cout] = ws[0].shape;
      const info = tf.backend_util.computeConv2DInfo([1, input[1], input[2], cin], [kh, kw, cin, cout], cfg.strides as [number, number], 1, cfg.padding as 'same' | 'valid');
      const p = info.padInfo;
      if (!ws[1]) throw new Error(`${layer.name}: conv without bias is not supported by the peer`);
      out.push({ type: 'conv2d', activation: cfg.activation, kernel: `${prefix}-${layer.name}-kernel.npy`, bias: `${prefix}-${layer.name}-bias.npy`, strides: [info.strideHeight, info.strideWidth], pads: [p.top, p.bottom, p.left, p.right], weights });
    } else if (cls === 'Dense') {
      if (!ws[1]) throw new Error(`${layer.name}: dense without bias is not supported by the peer`);
      out.push({ type: 'dense', activation: cfg.activation, kernel: `${prefix}-${layer.name}-kernel.npy`, bias: `${prefix}-${layer.name}-bias.npy`, weights });
    } else if (cls === 'Flatten') {
      out.push({ type: 'flatten' });
    } else if (cls !== 'InputLayer') {
      throw new Error(`describeLayers: layer type ${cls} is not supported by the peer`);
    }
  }
  return out;
}
