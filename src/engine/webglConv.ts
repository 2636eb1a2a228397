/**
 * Direct convolution shaders for tfjs's WebGL backend (NHWC, dilation 1): the forward
 * convolution with its bias and ReLU, and the input gradient.
 *
 * Why: tfjs-backend-webgl 4.22 runs a convolution as im2col (a texture of every receptive field,
 * 25 × 16 values per output pixel for the CNN's second layer) followed by a matrix product, and
 * its input gradient as a shader that walks every filter tap and skips, with a float division and
 * a branch, those the stride leaves out. Under SwiftShader (the software renderer headless
 * Chromium gets without a GPU) the im2col pass costs twice the product itself.
 *
 * Both programs here read the packed textures (2 × 2 blocks of the last two axes, RGBA) that
 * tfjs's packed kernels produce and write one such block per fragment: 2 neighbouring pixels of a
 * row × 2 channels. The forward one fetches each input texel once for every tap that uses it in
 * either pixel (a texel holds 2 pixels × 2 channels), the gradient one each gradient texel once
 * per row of taps; the tap layout is unrolled at build time for the layer's geometry, so the
 * only branches left are the padding's rows.
 */
import * as tf from '@tensorflow/tfjs';
import type { backend_util, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/** What {@link convForwardProgram} needs to know about a layer (all but the batch is baked in). */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** The geometry of tfjs's conv info, or null where these shaders do not apply. */
export function convGeometry(info: backend_util.Conv2DInfo): ConvGeometry | null {
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  if (info.strideWidth > 2) return null;
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** The shape of a GPGPU program as tfjs-backend-webgl's `compileAndRun` takes it. */
export interface PackedProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs: true;
  packedOutput: true;
  enableShapeUniforms: true;
  userCode: string;
}

/**
 * Generated shader code by layer geometry (without the batch, which only enters through the
 * output shape): a PGD run or a naive loop calls the same layers thousands of times.
 */
const codeCache = new Map<string, string>();

function memo(key: string, make: () => string): string {
  let code = codeCache.get(key);
  if (code === undefined) {
    code = make();
    codeCache.set(key, code);
  }
  return code;
}

const geometryKey = (g: ConvGeometry) => JSON.stringify({ ...g, batch: 0 });

/** Floor division and modulo for the build-time arithmetic (negative offsets occur at the padding). */
const fdiv = (a: number, b: number) => Math.floor(a / b);
const fmod = (a: number, b: number) => a - b * fdiv(a, b);

/**
 * GLSL that reads packed texels by their flat index, without tfjs's samplers, which work out
 * every fetch's texture row with an integer division and its coordinates in floats (under
 * SwiftShader the CNN's second layer took 59–69 ms with them and 43 ms with this addressing). A
 * packed texture holds a tensor's texels in row-major order of their flat index (the order
 * tfjs's own samplers assume, whatever the texture's shape). A shader here splits one index per
 * filter row with a division (`tsplit`, rounding down for the padding's negative indices) and
 * reaches the texels near it in float arithmetic (`tuv`: exact for the small offsets involved),
 * sampling at the texel's centre; rows past the texture's edges clamp to it (its wrap mode) and
 * the caller masks what lies outside the tensor.
 */
const ADDRESSING = `
  vec2 tsplit(int i, int n) {
    int r = i / n;
    int c = i - r * n;
    if (c < 0) { c += n; r -= 1; }
    return vec2(c, r) + 0.5;
  }
  vec2 tuv(vec2 base, float off, vec2 inv) {
    float v = (base.x + off) * inv.x;
    float f = floor(v);
    return vec2(v - f, (base.y + f) * inv.y);
  }
`;

/** Declarations of a packed input's texture width (texels) and the inverses of its width and height. */
const texelGrid = (name: string) => `
      int ${name}N = (${name}TexShape[1] + 1) / 2;
      vec2 ${name}Inv = 1.0 / vec2(${name}N, (${name}TexShape[0] + 1) / 2);`;

/** The texel at `base` + `off` (a float expression) of packed input `name`. */
const texel = (name: string, base: string, off: string) => `texture(${name}, tuv(${base}, ${off}, ${name}Inv))`;

/**
 * `inCol` (whether a column lies within `width`) and, for each of `texels` texels from the even
 * column `start`, a mask of which of its two columns do: the halves outside read as zeros.
 */
const columnMasks = (start: string, texels: number, width: number) => ({
  fn: `bool inCol(int c) { return c >= 0 && c < ${width}; }`,
  decls: Array.from({ length: texels }, (_, t) =>
    `bvec4 m${t} = bvec4(inCol(${start} + ${2 * t}), inCol(${start} + ${2 * t}), inCol(${start} + ${2 * t + 1}), inCol(${start} + ${2 * t + 1}));`).join('\n      '),
});

/**
 * The loop over the summed channels in pairs (a texel holds two), `body` taking the pair index
 * as a float, then the odd channel left over, if any, on its own (`single`).
 */
const channelPairs = (channels: number, body: (pExpr: string, single: boolean) => string) => {
  const pairs = channels >> 1;
  return `for (int p = 0; p < ${pairs}; p++) {
          float fp = float(p);
          ${body('fp', false)}
        }
        ${channels % 2 === 1 ? `{\n          ${body(`${pairs}.0`, true)}\n        }` : ''}`;
};

/**
 * Forward convolution, y = act(conv(x, w) + bias), as one packed program. Inputs: `x`
 * [B, H, W, Ci], `W` [kh, kw, Ci, Co] and, with `hasBias`, `bias` [Co]; output [B, Ho, Wo, Co].
 *
 * A fragment owns output pixels (ow, ow + 1) of one row × channels (co, co + 1). Their
 * receptive fields span input columns ow·s − pl … ow·s − pl + s + kw − 1; since ow is even,
 * where each column falls within its texel (even or odd) is known at build time, so the loop
 * over those texels and the taps each half of a texel feeds are unrolled here.
 */
export function convForwardProgram(g: ConvGeometry, hasBias: boolean, relu: boolean): PackedProgram {
  const variableNames = hasBias ? ['x', 'W', 'bias'] : ['x', 'W'];
  const userCode = memo(`fwd ${geometryKey(g)} ${hasBias} ${relu}`, () => forwardCode(g, hasBias, relu));
  return { variableNames, outputShape: [g.batch, g.outHeight, g.outWidth, g.outChannels], packedInputs: true, packedOutput: true, enableShapeUniforms: true, userCode };
}

function forwardCode(g: ConvGeometry, hasBias: boolean, relu: boolean): string {
  const { filterWidth: kw, strideWidth: sw, inChannels: ci } = g;
  // Column of pixel a's first tap, relative to the even column where the texel walk starts.
  const lead = fmod(-g.padLeft, 2);
  const texels = Math.ceil((lead + sw + kw) / 2);
  const ciT = Math.ceil(ci / 2);
  const coT = Math.ceil(g.outChannels / 2);
  const wT = Math.ceil(g.inWidth / 2);

  // One half of a texel: `v` is its pixel's 2 channels (or 1 where `single`).
  const tap = (v: string, t: number, e: number, single: boolean): string[] => {
    const lines: string[] = [];
    const r = 2 * t + e - lead;
    const term = (k: number) => (single ? `${v}.x * w${k}.xy` : `${v}.x * w${k}.xy + ${v}.y * w${k}.zw`);
    if (r >= 0 && r < kw) lines.push(`acc.xy += ${term(r)};`);
    if (r - sw >= 0 && r - sw < kw) lines.push(`acc.zw += ${term(r - sw)};`);
    return lines;
  };
  const body = (pExpr: string, single: boolean): string => {
    const out: string[] = [];
    for (let k = 0; k < kw; k++) out.push(`vec4 w${k} = ${texel('W', 'wb', `${k * ciT * coT}.0 + ${pExpr} * ${coT}.0`)};`);
    for (let t = 0; t < texels; t++) {
      const used = [0, 1].some((e) => {
        const r = 2 * t + e - lead;
        return (r >= 0 && r < kw) || (r - sw >= 0 && r - sw < kw);
      });
      if (!used) continue;
      out.push(`vec4 x${t} = mix(vec4(0.0), ${texel('x', 'xb', `${t * ciT}.0 + ${pExpr}`)}, m${t});`);
      out.push(...tap(`x${t}.xy`, t, 0, single), ...tap(`x${t}.zw`, t, 1, single));
    }
    return out.join('\n          ');
  };
  const masks = columnMasks('c0', texels, g.inWidth);
  return `
    ${ADDRESSING}
    ${masks.fn}
    void main() {
      ivec4 o = getOutputCoords();
      int b = o.x; int co = o.w;
      ${texelGrid('x')}
      ${texelGrid('W')}
      int ih0 = o.y * ${g.strideHeight} - ${g.padTop};
      int c0 = o.z * ${sw} - ${g.padLeft} - ${lead};
      ${masks.decls}
      vec4 acc = vec4(0.0);
      for (int kh = 0; kh < ${g.filterHeight}; kh++) {
        int ih = ih0 + kh;
        if (ih < 0 || ih >= ${g.inHeight}) continue;
        vec2 xb = tsplit(((b * ${g.inHeight} + ih) * ${wT} + c0 / 2) * ${ciT}, xN);
        vec2 wb = tsplit(kh * ${kw * ciT * coT} + co / 2, WN);
        ${channelPairs(ci, body)}
      }
      ${hasBias ? 'vec4 bv = getBias(co); acc += bv.xyxy;' : ''}
      ${relu ? 'acc *= vec4(greaterThanEqual(acc, vec4(0.0)));' : ''}
      if (o.z + 1 >= ${g.outWidth}) acc.zw = vec2(0.0);
      if (co + 1 >= ${g.outChannels}) acc.yw = vec2(0.0);
      setOutput(acc);
    }
  `;
}

/**
 * Input gradient of a convolution, dx = conv2dTranspose(dy, w), as one packed program. Inputs:
 * `dy` [B, Ho, Wo, Co], `W` [kh, kw, Ci, Co]; output [B, H, W, Ci]. Horizontal strides 1 and 2
 * only ({@link convGeometry} leaves others to tfjs).
 *
 * A fragment owns input pixels (iw, iw + 1) × channels (ci, ci + 1). With iw even, which taps
 * reach each of the two pixels, and from which gradient column (iw / s plus a build-time
 * offset), is fixed; on stride 2 only the parity of iw / 2, which says where that column sits in
 * its texel, is left to run time, and both cases are unrolled.
 */
export function convInputGradProgram(g: ConvGeometry): PackedProgram {
  const userCode = memo(`grad ${geometryKey(g)}`, () => inputGradCode(g));
  return { variableNames: ['dy', 'W'], outputShape: [g.batch, g.inHeight, g.inWidth, g.inChannels], packedInputs: true, packedOutput: true, enableShapeUniforms: true, userCode };
}

function inputGradCode(g: ConvGeometry): string {
  const { filterWidth: kw, strideWidth: sw, outChannels: co } = g;
  // For pixel e (0: iw, 1: iw + 1) and tap k: gradient column = iw / sw + off, when the tap
  // lines up with the stride.
  interface Use { e: number; k: number; off: number }
  const uses: Use[] = [];
  for (let e = 0; e < 2; e++) {
    for (let k = 0; k < kw; k++) {
      const num = e + g.padLeft - k;
      if (fmod(num, sw) === 0) uses.push({ e, k, off: fdiv(num, sw) });
    }
  }
  const offs = [...new Set(uses.map((u) => u.off))].sort((a, b) => a - b);
  const offMin = offs[0];
  const span = offs[offs.length - 1] - offMin + 1;
  // Texels fetched from column q0 = iw / sw + offMin rounded down to even: with q0 odd the
  // span reaches one column further.
  const texels = Math.ceil((span + 1) / 2);
  const ciT = Math.ceil(g.inChannels / 2);
  const coT = Math.ceil(co / 2);
  const woT = Math.ceil(g.outWidth / 2);

  const body = (pExpr: string, single: boolean): string => {
    const out: string[] = [];
    for (let t = 0; t < texels; t++) {
      out.push(`vec4 d${t} = mix(vec4(0.0), ${texel('dy', 'db', `${t * coT}.0 + ${pExpr}`)}, m${t});`);
    }
    // Column offset j from q0: in texel j >> 1, half j & 1 (q0 even); one further when q0 is odd.
    const pick = (j: number, shift: number) => `d${(j + shift) >> 1}.${(j + shift) & 1 ? 'zw' : 'xy'}`;
    for (const off of offs) {
      const j = off - offMin;
      out.push(`vec2 g${j} = odd ? ${pick(j, 1)} : ${pick(j, 0)};`);
    }
    const byTap = new Map<number, Use[]>();
    for (const u of uses) byTap.set(u.k, [...(byTap.get(u.k) ?? []), u]);
    for (const [k, us] of byTap) {
      out.push(`vec4 w${k} = ${texel('W', 'wb', `${k * ciT * coT}.0 + ${pExpr}`)};`);
      for (const u of us) {
        const v = `g${u.off - offMin}`;
        const target = u.e === 0 ? 'acc.xy' : 'acc.zw';
        out.push(single
          ? `${target} += ${v}.x * w${k}.xz;`
          : `${target} += vec2(dot(${v}, w${k}.xy), dot(${v}, w${k}.zw));`);
      }
    }
    return out.join('\n          ');
  };
  const masks = columnMasks('q0', texels, g.outWidth);
  const colBase = sw === 2 ? 'o.z / 2' : 'o.z';
  return `
    ${ADDRESSING}
    ${masks.fn}
    void main() {
      ivec4 o = getOutputCoords();
      int b = o.x; int ci = o.w;
      ${texelGrid('dy')}
      ${texelGrid('W')}
      int qa = ${colBase} + ${offMin};
      bool odd = (qa & 1) == 1;
      int q0 = qa - (odd ? 1 : 0);
      ${masks.decls}
      vec4 acc = vec4(0.0);
      for (int kh = 0; kh < ${g.filterHeight}; kh++) {
        int num = o.y + ${g.padTop} - kh;
        if (num < 0) break;
        int oh = num / ${g.strideHeight};
        if (oh * ${g.strideHeight} != num || oh >= ${g.outHeight}) continue;
        vec2 db = tsplit(((b * ${g.outHeight} + oh) * ${woT} + q0 / 2) * ${coT}, dyN);
        vec2 wb = tsplit((kh * ${kw * ciT} + ci / 2) * ${coT}, WN);
        ${channelPairs(co, body)}
      }
      if (o.z + 1 >= ${g.inWidth}) acc.zw = vec2(0.0);
      if (ci + 1 >= ${g.inChannels}) acc.yw = vec2(0.0);
      setOutput(acc);
    }
  `;
}

/** The part of tfjs-backend-webgl's MathBackendWebGL these kernels use. */
interface WebGLBackend {
  runWebGLProgram(program: PackedProgram, inputs: TensorInfo[], outputDtype: 'float32'): TensorInfo;
}

const BACKEND = 'webgl';
const MARK = '__ravineWebglConv';

/**
 * tfjs environment flag that sends the registered kernels back to tfjs's own (false), for
 * benchmarks that compare the two in one page (bench/browser, bench/gpu); default true.
 */
export const WEBGL_CONV_FLAG = 'RAVINE_WEBGL_CONV';

function ensureFlag(): void {
  const registry = (tf.env() as unknown as { flagRegistry: Record<string, unknown> }).flagRegistry;
  if (registry[WEBGL_CONV_FLAG] === undefined) tf.env().registerFlag(WEBGL_CONV_FLAG, () => true);
}

/** Whether a call may run these shaders: WebGL 2 (GLSL ES 3.0's texture() and mix with a bool mask; tfjs's kernels serve WebGL 1) and the flag on. */
const enabled = () => tf.env().getNumber('WEBGL_VERSION') === 2 && tf.env().getBool(WEBGL_CONV_FLAG);

interface RavineKernelConfig extends KernelConfig {
  [MARK]: true;
  /** tfjs's kernel, which runs whatever these shaders do not cover, and is restored by unregister. */
  original: KernelConfig;
}

/** Calls of the registered kernels so far: run by the shaders here, or passed on to tfjs's. */
export const webglConvStats = { shader: 0, tfjs: 0 };

const isOurs = (config: KernelConfig | undefined): config is RavineKernelConfig =>
  config !== undefined && (config as Partial<RavineKernelConfig>)[MARK] === true;

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
  inputShape?: [number, number, number, number];
};

/** tfjs's conv info for an NHWC convolution of `xShape` by `filterShape`. */
function convInfoOf(xShape: number[], filterShape: number[], a: ConvAttrs): backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
}

/**
 * Where tfjs's own kernel is as good or the shaders do not apply: a 1 × 1 stride-1 filter
 * (tfjs runs it as one matrix product, no im2col), or anything {@link convGeometry} declines.
 */
function forwardGeometry(info: backend_util.Conv2DInfo): ConvGeometry | null {
  if (info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1) return null;
  return convGeometry(info);
}

function makeForwardKernel(original: KernelConfig, fused: boolean): RavineKernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs;
    const activation = fused ? attrs.activation ?? 'linear' : 'linear';
    const info = convInfoOf(x!.shape, filter!.shape, attrs);
    const g = enabled() && x!.dtype === 'float32' ? forwardGeometry(info) : null;
    const biasFits = bias === undefined || (bias.shape.length === 1 && bias.shape[0] === info.outChannels);
    if (g === null || preluActivationWeights !== undefined || !biasFits || (activation !== 'linear' && activation !== 'relu')) {
      webglConvStats.tfjs++;
      return original.kernelFunc(args);
    }
    webglConvStats.shader++;
    const inputs = bias === undefined ? [x!, filter!] : [x!, filter!, bias];
    const program = convForwardProgram(g, bias !== undefined, activation === 'relu');
    return (args.backend as unknown as WebGLBackend).runWebGLProgram(program, inputs, 'float32');
  };
  return { kernelName: original.kernelName, backendName: BACKEND, kernelFunc, [MARK]: true, original };
}

function makeInputGradKernel(original: KernelConfig): RavineKernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { dy, filter } = args.inputs as Record<string, TensorInfo>;
    const attrs = args.attrs as unknown as ConvAttrs;
    const info = convInfoOf(attrs.inputShape!, filter.shape, { ...attrs, dilations: 1 });
    const g = enabled() && dy.dtype === 'float32' ? convGeometry(info) : null;
    if (g === null) {
      webglConvStats.tfjs++;
      return original.kernelFunc(args);
    }
    webglConvStats.shader++;
    return (args.backend as unknown as WebGLBackend).runWebGLProgram(convInputGradProgram(g), [dy, filter], 'float32');
  };
  return { kernelName: original.kernelName, backendName: BACKEND, kernelFunc, [MARK]: true, original };
}

const KERNELS: [string, (original: KernelConfig) => RavineKernelConfig][] = [
  [tf.FusedConv2D, (o) => makeForwardKernel(o, true)],
  [tf.Conv2D, (o) => makeForwardKernel(o, false)],
  [tf.Conv2DBackpropInput, makeInputGradKernel],
];

/**
 * Runs WebGL's Conv2D, FusedConv2D and Conv2DBackpropInput through the shaders above where
 * they apply (NHWC, dilation 1, horizontal stride ≤ 2, no activation other than ReLU, WebGL 2),
 * and through tfjs's own kernels otherwise. Idempotent; a no-op until tfjs-backend-webgl has
 * registered its kernels (it does so when imported).
 */
export function registerWebglConvolutions(): void {
  ensureFlag();
  for (const [name, make] of KERNELS) {
    const native = tf.getKernel(name, BACKEND);
    if (native === undefined || isOurs(native)) continue;
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(make(native));
  }
}

/** Undoes {@link registerWebglConvolutions} (for benchmarks and tests that compare with tfjs's kernels). */
export function unregisterWebglConvolutions(): void {
  for (const [name] of KERNELS) {
    const kernel = tf.getKernel(name, BACKEND);
    if (!isOurs(kernel)) continue;
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(kernel.original);
  }
}

