/**
 * Benchmark of the forward-convolution Conv2D gradients (src/engine/convGrad.ts) on the
 * tfjs wasm backend, for an MNIST-like CNN at batch 64:
 *   L1: [64, 28, 28, 1]  -> conv 5x5x32, stride 2, 'same' -> [64, 14, 14, 32]
 *   L2: [64, 14, 14, 32] -> conv 5x5x64, stride 2, 'same' -> [64, 7, 7, 64]
 * Figures are medians of RUNS timed runs after WARMUP untimed ones, candidates interleaved
 * round-robin so machine-load drift hits all of them alike. wasm and cpu kernels run
 * synchronously, so the clock stops when the op returns; nothing is read back.
 *
 * Also the Dense layers' input gradient, a BatchMatMul with a transposed operand, which
 * registerFastConvGradients() routes around wasm's slow transposed path.
 *
 * Run: npx tsx bench/convGrad.ts
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  conv2dFilterGradViaForward,
  conv2dInputGradViaForward,
  registerFastConvGradients,
  unregisterFastConvGradients,
} from '../src/engine/convGrad';

type Shape4 = [number, number, number, number];

/** Timed runs per candidate: enough for a stable median on a shared 2-core machine. */
const RUNS = 11;
/** Untimed runs first: XNNPACK builds and caches its operators on the first call. */
const WARMUP = 3;
/** The cpu backend's backprop takes ~20 s per call on L2 at batch 64: fewer runs there. */
const CPU_RUNS = 3;
const CPU_WARMUP = 1;

interface Layer {
  name: string;
  x: Shape4;
  filter: Shape4;
  stride: number;
}

const LAYERS: Layer[] = [
  { name: 'L1 28x28x1 -> 5x5x32 s2', x: [64, 28, 28, 1], filter: [5, 5, 1, 32], stride: 2 },
  { name: 'L2 14x14x32 -> 5x5x64 s2', x: [64, 14, 14, 32], filter: [5, 5, 32, 64], stride: 2 },
];

/** Median milliseconds of each candidate, timed round-robin. `setup` runs untimed before each call. */
function timeAll(
  cands: Record<string, { run: () => tf.Tensor; setup?: () => void }>,
  runs = RUNS,
  warmup = WARMUP,
): Record<string, number> {
  const names = Object.keys(cands);
  const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = -warmup; r < runs; r++) {
    for (const k of names) {
      cands[k].setup?.();
      const t0 = performance.now();
      const out = cands[k].run();
      const dt = performance.now() - t0;
      out.dispose();
      if (r >= 0) times[k].push(dt);
    }
  }
  return Object.fromEntries(
    names.map((k) => {
      const s = [...times[k]].sort((a, b) => a - b);
      return [k, s[Math.floor(s.length / 2)]];
    }),
  );
}

/**
 * The textbook input gradient, for comparison with our polyphase one: zero-dilate dy by
 * the stride (two rank-4 pads, no conv2dTranspose), then a stride-1 'full' correlation with
 * the 180-degree-rotated, channel-swapped filter. Written for positive 'same' padding only.
 */
function inputGradViaDilatedDy(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: Shape4, s: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, ho, wo, c] = dy.shape;
    const [kh, kw] = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape, s, 1, 'same');
    // Width: [N*Ho, Wo, 1, C] -> [N*Ho, Wo, s, C]; height: [N, Ho, 1, Wo*s*C] -> [N, Ho, s, ...].
    let d: tf.Tensor = tf.pad(tf.reshape(dy, [n * ho, wo, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
    d = tf.pad(tf.reshape(d, [n, ho, 1, wo * s * c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
    const dilated = tf.reshape(d, [n, ho * s, wo * s, c]) as tf.Tensor4D;
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = xShape[1] + kh - 1 - top - ho * s;
    const right = xShape[2] + kw - 1 - left - wo * s;
    return tf.conv2d(dilated, rotated, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  });
}

/** Uniform [lo, hi) values, as a plain array so each backend can build its own tensor. */
function randomData(shape: number[], lo: number, hi: number): Float32Array {
  const t = tf.randomUniform(shape, lo, hi);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const fmt = (ms: number): string => `${ms.toFixed(2).padStart(8)} ms`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
/** "2.31x faster" or "2.04x slower": how `ours` compares with `native`. */
const versus = (native: number, ours: number): string =>
  native >= ours ? `${ratio(native, ours)} faster` : `${ratio(ours, native)} slower`;

async function main(): Promise<void> {
  console.log('command: npx tsx bench/convGrad.ts');
  console.log(
    `node ${process.version}, tfjs ${tf.version.tfjs}, ${os.cpus().length} cpu(s) ${os.cpus()[0]?.model ?? ''}`.trim(),
  );
  await tf.setBackend('wasm');
  console.log(
    `wasm SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}; ` +
      `median of ${RUNS} runs after ${WARMUP} warm-up runs (cpu backend: ${CPU_RUNS} after ${CPU_WARMUP})\n`,
  );

  for (const layer of LAYERS) {
    const s = layer.stride;
    const yShape = tf.backend_util.computeConv2DInfo(layer.x, layer.filter, s, 1, 'same').outShape as Shape4;
    const xData = randomData(layer.x, -1, 1);
    const fData = randomData(layer.filter, -1, 1);
    const dyData = randomData(yShape, -1, 1);

    await tf.setBackend('wasm');
    const x = tf.tensor4d(xData, layer.x);
    const filter = tf.tensor4d(fData, layer.filter);
    const dy = tf.tensor4d(dyData, yShape);
    const wasm = timeAll(
      {
        forward: { run: () => tf.conv2d(x, filter, s, 'same') },
        // conv2dTranspose is the Conv2DBackpropInput kernel; ours replaces wasm's while registered.
        nativeDx: { setup: unregisterFastConvGradients, run: () => tf.conv2dTranspose(dy, filter, layer.x, s, 'same') },
        oursDx: { setup: registerFastConvGradients, run: () => conv2dInputGradViaForward(dy, filter, layer.x, s, 'same') },
        dilatedDx: { run: () => inputGradViaDilatedDy(dy, filter, layer.x, s) },
        oursDw: { run: () => conv2dFilterGradViaForward(x, dy, layer.filter, s, 'same') },
      },
    );
    registerFastConvGradients();
    // Cross-checks, so the figures are for correct results.
    unregisterFastConvGradients();
    const native = tf.conv2dTranspose(dy, filter, layer.x, s, 'same');
    registerFastConvGradients();
    const ours = conv2dInputGradViaForward(dy, filter, layer.x, s, 'same');
    const dilated = inputGradViaDilatedDy(dy, filter, layer.x, s);
    const dxDiff = Math.max(maxAbsDiff(ours, native), maxAbsDiff(dilated, native));
    const oursDw = conv2dFilterGradViaForward(x, dy, layer.filter, s, 'same');
    const oursDwData = oursDw.dataSync() as Float32Array;
    tf.dispose([x, filter, dy, native, ours, dilated, oursDw]);

    await tf.setBackend('cpu');
    const xc = tf.tensor4d(xData, layer.x);
    const fc = tf.tensor4d(fData, layer.filter);
    const dyc = tf.tensor4d(dyData, yShape);
    const filterGradAttrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: layer.filter };
    // tfjs's conv2DBackpropFilter op is not in the public API; this is the kernel it runs.
    const cpuDwRun = () => tf.engine().runKernel('Conv2DBackpropFilter', { x: xc, dy: dyc }, filterGradAttrs as never) as tf.Tensor;
    const cpu = timeAll({ forward: { run: () => tf.conv2d(xc, fc, s, 'same') }, nativeDw: { run: cpuDwRun } }, CPU_RUNS, CPU_WARMUP);
    const cpuDw = cpuDwRun();
    const dwRef = cpuDw.dataSync() as Float32Array;
    let dwDiff = 0;
    let dwMax = 0;
    for (let i = 0; i < dwRef.length; i++) {
      dwDiff = Math.max(dwDiff, Math.abs(dwRef[i] - oursDwData[i]));
      dwMax = Math.max(dwMax, Math.abs(dwRef[i]));
    }
    tf.dispose([xc, fc, dyc, cpuDw]);

    console.log(`${layer.name}  (x ${layer.x.join('x')}, filter ${layer.filter.join('x')}, dy ${yShape.join('x')})`);
    console.log(`  wasm forward conv                 ${fmt(wasm.forward)}`);
    console.log(`  wasm native Conv2DBackpropInput   ${fmt(wasm.nativeDx)}   ${ratio(wasm.nativeDx, wasm.forward)} forward`);
    console.log(`  wasm ours dx (polyphase)          ${fmt(wasm.oursDx)}   ${ratio(wasm.oursDx, wasm.forward)} forward, ${versus(wasm.nativeDx, wasm.oursDx)} than native`);
    console.log(`  wasm alt dx (zero-dilated dy)     ${fmt(wasm.dilatedDx)}   ${ratio(wasm.dilatedDx, wasm.forward)} forward`);
    console.log(`  wasm ours dW                      ${fmt(wasm.oursDw)}   ${ratio(wasm.oursDw, wasm.forward)} forward (wasm has no native dW)`);
    console.log(`  cpu  forward conv                 ${fmt(cpu.forward)}`);
    console.log(`  cpu  native Conv2DBackpropFilter  ${fmt(cpu.nativeDw)}   ${ratio(cpu.nativeDw, wasm.oursDw)} slower than wasm ours dW`);
    console.log(
      `  max |diff|: dx ours/alt vs native ${dxDiff.toExponential(1)}; ` +
        `dW ours vs cpu ${dwDiff.toExponential(1)} (max |dW| ${dwMax.toFixed(1)}: sums of ${yShape[0] * yShape[1] * yShape[2]} products)\n`,
    );
  }

  // Batch 1: fixed per-call costs dominate (op dispatch, XNNPACK packing a new filter).
  await tf.setBackend('wasm');
  console.log('Batch 1 (single-sample attacks): wasm input gradient');
  for (const layer of LAYERS) {
    const xShape: Shape4 = [1, layer.x[1], layer.x[2], layer.x[3]];
    const yShape = tf.backend_util.computeConv2DInfo(xShape, layer.filter, layer.stride, 1, 'same').outShape as Shape4;
    const x = tf.tensor4d(randomData(xShape, -1, 1), xShape);
    const filter = tf.tensor4d(randomData(layer.filter, -1, 1), layer.filter);
    const dy = tf.tensor4d(randomData(yShape, -1, 1), yShape);
    const t = timeAll({
      forward: { run: () => tf.conv2d(x, filter, layer.stride, 'same') },
      nativeDx: { setup: unregisterFastConvGradients, run: () => tf.conv2dTranspose(dy, filter, xShape, layer.stride, 'same') },
      oursDx: { setup: registerFastConvGradients, run: () => conv2dInputGradViaForward(dy, filter, xShape, layer.stride, 'same') },
      oursDw: { run: () => conv2dFilterGradViaForward(x, dy, layer.filter, layer.stride, 'same') },
    });
    registerFastConvGradients();
    tf.dispose([x, filter, dy]);
    console.log(
      `  ${layer.name.slice(0, 2)}: forward ${fmt(t.forward)}, native dx ${fmt(t.nativeDx)}, ours dx ${fmt(t.oursDx)} ` +
        `(${versus(t.nativeDx, t.oursDx)}), ours dW ${fmt(t.oursDw)}`,
    );
  }
  console.log();

  // End to end: the input gradient of a small CNN (what a PGD step costs), native vs ours.
  await tf.setBackend('wasm');
  const [l1, l2] = LAYERS;
  const x = tf.randomUniform(l1.x, 0, 1) as tf.Tensor4D;
  const w1 = tf.randomUniform(l1.filter, -0.2, 0.2) as tf.Tensor4D;
  const w2 = tf.randomUniform(l2.filter, -0.05, 0.05) as tf.Tensor4D;
  const wd = tf.randomUniform([7 * 7 * 64, 10], -0.02, 0.02) as tf.Tensor2D;
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10));
  const loss = (input: tf.Tensor): tf.Scalar => {
    const h1 = tf.relu(tf.conv2d(input as tf.Tensor4D, w1, 2, 'same'));
    const h2 = tf.relu(tf.conv2d(h1, w2, 2, 'same'));
    const logits = tf.matMul(tf.reshape(h2, [64, -1]), wd);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const pgd = timeAll(
    {
      forwardOnly: { run: () => tf.tidy(() => loss(x)) },
      gradNative: { setup: unregisterFastConvGradients, run: () => tf.grad(loss)(x) },
      gradOurs: { setup: registerFastConvGradients, run: () => tf.grad(loss)(x) },
    },
  );
  registerFastConvGradients();
  tf.dispose([x, w1, w2, wd, labels]);
  console.log('Input gradient of conv(L1)-relu-conv(L2)-relu-dense + softmax cross-entropy, batch 64 (one PGD step)');
  console.log(`  wasm forward only                 ${fmt(pgd.forwardOnly)}`);
  console.log(`  wasm tf.grad, native backprop     ${fmt(pgd.gradNative)}`);
  console.log(`  wasm tf.grad, ours                ${fmt(pgd.gradOurs)}   ${versus(pgd.gradNative, pgd.gradOurs)}`);
}

async function denseGradients(): Promise<void> {
  await tf.setBackend('wasm');
  console.log('\nDense layer gradients at batch 100 (BatchMatMul with a transposed operand), wasm');
  const w = tf.tensor2d(randomData([1568, 128], -1, 1), [1568, 128]);
  const x = tf.tensor2d(randomData([100, 1568], -1, 1), [100, 1568]);
  const dy = tf.tensor2d(randomData([100, 128], -1, 1), [100, 128]);
  const fast = tf.getKernel(tf.BatchMatMul, 'wasm') as tf.KernelConfig & { original?: tf.KernelConfig };
  const use = (config: tf.KernelConfig | undefined) => () => {
    if (!config) return;
    tf.unregisterKernel(tf.BatchMatMul, 'wasm');
    tf.registerKernel(config);
  };
  const t = timeAll({
    forward: { setup: use(fast), run: () => tf.matMul(x, w) },
    nativeDx: { setup: use(fast.original), run: () => tf.matMul(dy, w, false, true) },
    oursDx: { setup: use(fast), run: () => tf.matMul(dy, w, false, true) },
    nativeDw: { setup: use(fast.original), run: () => tf.matMul(x, dy, true, false) },
    oursDw: { setup: use(fast), run: () => tf.matMul(x, dy, true, false) },
  });
  use(fast)();
  tf.dispose([w, x, dy]);
  console.log(`  forward x·W   [100,1568]x[1568,128]   ${fmt(t.forward)}`);
  console.log(`  dx = dy·W^T   native ${fmt(t.nativeDx)}, ours ${fmt(t.oursDx)} (${versus(t.nativeDx, t.oursDx)})`);
  console.log(`  dW = x^T·dy   native ${fmt(t.nativeDw)}, ours ${fmt(t.oursDw)} (${versus(t.nativeDw, t.oursDw)})`);
}

await main();
await denseGradients();
