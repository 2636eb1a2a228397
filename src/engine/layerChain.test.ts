import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifier, type Classifier } from './classifier';
import { registerFastConvGradients } from './convGrad';
import { layerChain } from './layerChain';
import { crossEntropy, crossEntropyWithGrad, KlToTarget } from './ops';
import { fixedInputs, scaleLastLayer, useBackend } from './testSupport';

beforeAll(async () => {
  await useBackend('wasm');
  registerFastConvGradients();
});

/**
 * Every case the chain handles: a strided 'same' Conv2D with ReLU, a 'valid' Conv2D without
 * bias or activation, a layer that runs as itself (max pooling), Flatten, Dense with ReLU, and
 * a Dense softmax read as logits. Biases are not zero, so a bias that went missing would show.
 * `pool: false` leaves the max pooling out: then every layer is fused or a Flatten, and the chain
 * has its tape-free input gradient.
 */
function mixedCnn({ pool = true } = {}): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: 700 + s });
  const bias = (s: number) => tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 800 + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: bias(1) }),
      tf.layers.conv2d({ filters: 6, kernelSize: 2, padding: 'valid', useBias: false, kernelInitializer: init(2) }),
      ...(pool ? [tf.layers.maxPooling2d({ poolSize: 2 })] : []),
      tf.layers.flatten(),
      tf.layers.dense({ units: 12, activation: 'relu', kernelInitializer: init(3), biasInitializer: bias(3) }),
      tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(4), biasInitializer: bias(4) }),
    ],
  });
}

/** Logits and the input gradient of a fixed linear read-out of them, as plain arrays. */
function logitsAndGradient(c: Classifier, x: tf.Tensor): { z: Float32Array; g: Float32Array } {
  return tf.tidy(() => {
    const weights = tf.tensor2d([[1, -2, 0.5, 3, -1]]);
    const z = c.logits(x);
    const g = tf.grad((xa: tf.Tensor) => tf.sum(tf.mul(c.logits(xa as tf.Tensor4D), weights)))(x);
    return { z: z.dataSync() as Float32Array, g: g.dataSync() as Float32Array };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Names of the kernels that one input gradient of `c` runs. */
async function gradientKernels(c: Classifier, x: tf.Tensor): Promise<Set<string>> {
  const info = await tf.profile(() => {
    const g = tf.grad((xa: tf.Tensor) => tf.sum(c.logits(xa as tf.Tensor4D)))(x);
    g.dispose();
  });
  return new Set(info.kernels.map((k) => k.name));
}

describe('fused layer chain', () => {
  it('gives the logits and input gradients of the layers themselves', () => {
    const model = mixedCnn();
    const fast = createClassifier(model);
    const plain = createClassifier(model, { weightGradients: true });
    const x = tf.tensor(fixedInputs(6, 144, 21), [6, 12, 12, 1]);
    const a = logitsAndGradient(fast, x);
    const b = logitsAndGradient(plain, x);
    // The fused kernels add the bias inside the product, so the last bits may differ.
    expect(maxAbs(b.z)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(a.z, b.z)).toBeLessThan(1e-5 * maxAbs(b.z));
    expect(maxAbs(b.g)).toBeGreaterThan(0.01);
    expect(maxAbsDiff(a.g, b.g)).toBeLessThan(1e-5 * maxAbs(b.g));
    // And the logits are those under the model's softmax.
    const probs = tf.tidy(() => tf.softmax(tf.tensor2d(a.z, [6, 5])).dataSync());
    const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    expect(maxAbsDiff(probs as Float32Array, predicted as Float32Array)).toBeLessThan(1e-6);
    x.dispose();
    model.dispose();
  });

  it('runs each ReLU inside its convolution or product while recording, unlike the layers themselves', async () => {
    const model = mixedCnn();
    const x = tf.tensor(fixedInputs(4, 144, 22), [4, 12, 12, 1]);
    const fused = await gradientKernels(createClassifier(model), x);
    expect(fused.has('FusedConv2D')).toBe(true);
    expect(fused.has('_FusedMatMul')).toBe(true);
    expect(fused.has('Relu')).toBe(false);
    expect(fused.has('MaxPool')).toBe(true); // the layer without a fused form ran as itself
    // The input gradients are forward convolutions, run directly: no kernel wraps them (a
    // profile would count them twice).
    expect(fused.has('Conv2D')).toBe(true);
    expect(fused.has('Conv2DBackpropInput')).toBe(false);
    const plain = await gradientKernels(createClassifier(model, { weightGradients: true }), x);
    expect(plain.has('Relu')).toBe(true);
    x.dispose();
    model.dispose();
  });

  it('leaves no tensor behind, forward or backward', () => {
    const model = mixedCnn();
    const c = createClassifier(model);
    const x = tf.tensor(fixedInputs(3, 144, 23), [3, 12, 12, 1]);
    logitsAndGradient(c, x); // first call: tfjs's one-time allocations
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) logitsAndGradient(c, x);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('frees each activation once the next layer has used it: no more peak memory than the layers themselves', async () => {
    const model = mixedCnn();
    const x = tf.tensor(fixedInputs(64, 144, 27), [64, 12, 12, 1]);
    const peak = async (c: Classifier) => (await tf.profile(() => c.logits(x).dispose())).peakBytes;
    const fused = await peak(createClassifier(model));
    const plain = await peak(createClassifier(model, { weightGradients: true }));
    // Holding every layer's output to the end would add the first layer's (64 × 6 × 6 × 4 floats).
    expect(fused).toBeLessThanOrEqual(plain);
    x.dispose();
    model.dispose();
  });

  it('reads the weights at each call, so new weights take effect', () => {
    const model = mixedCnn();
    const c = createClassifier(model);
    const x = tf.tensor(fixedInputs(2, 144, 24), [2, 12, 12, 1]);
    const before = logitsAndGradient(c, x).z;
    scaleLastLayer(model, 2);
    const after = logitsAndGradient(c, x).z;
    for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(2 * before[i], 4);
    x.dispose();
    model.dispose();
  });

  it('keeps weight gradients for training when asked', () => {
    const model = mixedCnn();
    const c = createClassifier(model, { weightGradients: true });
    const x = tf.tensor(fixedInputs(3, 144, 25), [3, 12, 12, 1]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(c.logits(x))) as tf.Scalar);
    // Every trainable weight (4 kernels, 3 biases) gets a non-zero gradient.
    expect(Object.keys(grads).sort()).toEqual(model.trainableWeights.map((w) => (w.read() as tf.Variable).name).sort());
    expect(Object.keys(grads)).toHaveLength(7);
    for (const g of Object.values(grads)) expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose(Object.values(grads));
    // Without the option the fused layers' weights get no gradient, and with every layer fused
    // tfjs says so instead of training nothing.
    const fused = createClassifier(model);
    expect(() => tf.variableGrads(() => tf.sum(tf.square(fused.logits(x))) as tf.Scalar)).toThrow(/connection between any variable/);
    x.dispose();
    model.dispose();
  });

  it('finds plain chains only', () => {
    const model = mixedCnn();
    expect(layerChain(model)?.map((l) => l.getClassName())).toEqual(['Conv2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
    // A residual branch is not a chain: the model keeps its own forward pass, with the same results.
    const input = tf.input({ shape: [6] });
    const h = tf.layers.dense({ units: 6, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([h, input]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3 }).apply(sum) as tf.SymbolicTensor;
    const branched = tf.model({ inputs: input, outputs: out });
    expect(layerChain(branched)).toBeUndefined();
    const c = createClassifier(branched);
    const x = tf.tensor2d(fixedInputs(2, 6, 26), [2, 6]);
    const z = c.logits(x);
    const expected = branched.predict(x) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(z, expected))).dataSync()[0])).toBe(0);
    tf.dispose([x, z, expected]);
    model.dispose();
    branched.dispose();
  });
});

describe('tape-free input gradient', () => {
  const n = 6;
  const labels = () => tf.tensor1d([0, 1, 2, 3, 4, 1], 'int32');

  it('gives the value and input gradient of tfjs\'s tape to the bit (cross-entropy and the metric\'s KL)', () => {
    const model = mixedCnn({ pool: false });
    const c = createClassifier(model);
    expect(c.inputGradient).toBeDefined();
    const x = tf.tensor(fixedInputs(n, 144, 41), [n, 12, 12, 1]);
    const y = labels();
    const [zp, scale] = tf.tidy(() => [tf.mul(c.logits(tf.reverse(x, 1)), 0.7) as tf.Tensor2D, tf.fill([n, 1], 1.3)]);
    const kl = new KlToTarget(zp as tf.Tensor2D, scale);
    tf.dispose([zp, scale]);
    const heads = [
      { name: 'cross-entropy', value: (z: tf.Tensor2D) => crossEntropy(z, y), withGrad: (z: tf.Tensor2D) => crossEntropyWithGrad(z, y) },
      { name: 'KL', value: (z: tf.Tensor2D) => kl.at(z), withGrad: (z: tf.Tensor2D) => kl.withGrad(z) },
    ];
    for (const head of heads) {
      const [tv, tg, fv, fg] = tf.tidy(() => {
        const taped = tf.valueAndGrad((xa: tf.Tensor) => head.value(c.logits(xa)))(x);
        const free = (c.inputGradient as NonNullable<Classifier['inputGradient']>)(x, head.withGrad);
        return [taped.value, taped.grad, free.value, free.grad].map((t) => t.dataSync() as Float32Array);
      });
      expect(maxAbs(tg), `${head.name}: a gradient to compare`).toBeGreaterThan(1e-3);
      expect(Array.from(fv), head.name).toEqual(Array.from(tv));
      expect(Array.from(fg), head.name).toEqual(Array.from(tg));
    }
    kl.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('returns two tensors and leaves nothing else, also when the head throws', () => {
    const model = mixedCnn({ pool: false });
    const c = createClassifier(model);
    const vg = c.inputGradient as NonNullable<Classifier['inputGradient']>;
    const x = tf.tensor(fixedInputs(n, 144, 42), [n, 12, 12, 1]);
    const y = labels();
    tf.dispose(Object.values(vg(x, (z) => crossEntropyWithGrad(z, y)))); // tfjs's one-time allocations
    const before = tf.memory().numTensors;
    const out = vg(x, (z) => crossEntropyWithGrad(z, y));
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(out.grad.shape).toEqual(x.shape);
    tf.dispose([out.value, out.grad]);
    expect(() =>
      vg(x, () => {
        throw new Error('head failed');
      }),
    ).toThrow('head failed');
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.zeros([2, 10, 10, 1]);
    expect(() => vg(wrong, (z) => crossEntropyWithGrad(z, y))).toThrow(/does not fit the model/);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y, wrong]);
    model.dispose();
  });

  it('needs no more memory at its peak than the tape', async () => {
    const model = mixedCnn({ pool: false });
    const c = createClassifier(model);
    const x = tf.tensor(fixedInputs(64, 144, 43), [64, 12, 12, 1]);
    const y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 5), 'int32');
    const peak = async (f: () => tf.Tensor[]) => (await tf.profile(() => tf.dispose(f()))).peakBytes;
    const free = await peak(() => Object.values((c.inputGradient as NonNullable<Classifier['inputGradient']>)(x, (z) => crossEntropyWithGrad(z, y))));
    const taped = await peak(() => Object.values(tf.valueAndGrad((xa: tf.Tensor) => crossEntropy(c.logits(xa), y))(x)));
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(taped);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('is absent where a layer has no backward pass of its own (the tape takes the gradient)', () => {
    const model = mixedCnn(); // its max pooling runs as the layer itself
    expect(createClassifier(model).inputGradient).toBeUndefined();
    const fused = mixedCnn({ pool: false });
    expect(createClassifier(fused, { weightGradients: true }).inputGradient).toBeUndefined();
    model.dispose();
    fused.dispose();
  });
});

