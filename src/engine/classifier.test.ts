import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifier, isKnownLayerClass, MAX_SAMPLE_ACTIVATION_BYTES } from './classifier';
import { EngineError } from './errors';
import { fixedInputs, smallCnn, useBackend } from './testSupport';

beforeAll(() => useBackend('wasm'));

async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  // Save to memory and load back, as a user's model.json + shards would arrive.
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
}

describe('classifier adapter', () => {
  it('strips a Dense softmax so logits are real logits (softmax of them = model output)', async () => {
    const model = smallCnn(2);
    const c = createClassifier(model);
    expect(c.logitsSource).toBe('dense-without-softmax');
    expect(c.inputShape).toEqual([12, 12, 1]);
    expect(c.numClasses).toBe(10);
    expect(c.valueRange).toEqual([0, 1]);
    const x = tf.tensor(fixedInputs(3, 144, 2), [3, 12, 12, 1]);
    const z = c.logits(x);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.softmax(z), model.predict(x) as tf.Tensor))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-6);
    // Real logits are not log-probabilities: their log-sum-exp is not 0.
    const lse = tf.tidy(() => Math.abs(tf.logSumExp(z, 1).dataSync()[0]));
    expect(lse).toBeGreaterThan(1e-3);
    tf.dispose([x, z]);
    model.dispose();
  });

  it('reads the input of a trailing Activation(softmax) layer, also after save/load', async () => {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 5 }), tf.layers.activation({ activation: 'softmax' })],
    });
    const loaded = await roundTrip(model);
    const c = createClassifier(loaded);
    expect(c.logitsSource).toBe('before-softmax-layer');
    const x = tf.ones([2, 4, 4, 1]);
    const z = c.logits(x);
    const expected = loaded.layers[1].apply(loaded.layers[0].apply(x)) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(z, expected))).dataSync()[0])).toBeLessThan(1e-6);
    tf.dispose([x, z, expected]);
    model.dispose();
    loaded.dispose();
  });

  it('leaves a model that already outputs logits alone, and owns nothing of it', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    const before = tf.memory().numTensors;
    const c = createClassifier(model);
    expect(c.logitsSource).toBe('output');
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // The model still works after the adapter is gone.
    const y = model.predict(tf.ones([1, 3])) as tf.Tensor;
    expect(y.shape).toEqual([1, 2]);
    y.dispose();
    model.dispose();
  });

  it('rejects outputs that are not [N, K ≥ 2] with a typed, readable error', () => {
    const oneClass = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] });
    expect(() => createClassifier(oneClass)).toThrow(EngineError);
    expect(() => createClassifier(oneClass)).toThrow(/outputs 1 score per sample; a classifier needs at least 2 classes/);
    const image = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 3, kernelSize: 3 })] });
    expect(() => createClassifier(image)).toThrow(/output has shape \[\?, 6, 6, 3\]; a classifier must output \[N, K\]/);
    try {
      createClassifier(image);
    } catch (e) {
      expect((e as EngineError).code).toBe('model-output');
    }
    const open = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [null, null, 3] }), tf.layers.dense({ units: 4 })] });
    expect(() => createClassifier(open)).toThrow(/leaves dimensions open/);
    expect(createClassifier(open, { inputShape: [16, 16, 3] }).inputShape).toEqual([16, 16, 3]);
    oneClass.dispose();
    image.dispose();
    open.dispose();
  });

  it('rejects an input of the wrong shape with a message naming both shapes', () => {
    const model = smallCnn(1);
    const c = createClassifier(model);
    const wrong = tf.zeros([2, 28, 28, 1]);
    expect(() => c.logits(wrong)).toThrow(/Input of shape \[2, 28, 28, 1\] does not fit the model, which expects \[\?, 12, 12, 1\]/);
    expect(() => createClassifier(model, { inputShape: [28, 28, 1] })).toThrow(/Input shape mismatch: the model expects \[\?, 12, 12, 1\] but \[\?, 28, 28, 1\] was given/);
    wrong.dispose();
    model.dispose();
  });

  it('refuses a model whose activations for one sample exceed the limit, before running it', () => {
    // 16 × 16 → 11,200 × 11,200 × 1 by a transposed convolution with stride 700: 502 MB.
    const model = tf.sequential({ layers: [tf.layers.conv2dTranspose({ inputShape: [16, 16, 1], filters: 1, kernelSize: 3, strides: 700, padding: 'same' }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 2 })] });
    const before = tf.memory();
    expect(() => createClassifier(model)).toThrow(/^One sample's activations in this model add up to \d+ MiB; Ravine runs models up to 256 MiB per sample\. Nothing was run\.$/);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(MAX_SAMPLE_ACTIVATION_BYTES).toBe(256 * 2 ** 20);
    model.dispose();
  });

  it('knows which layer classes TF.js can build', () => {
    for (const name of ['Dense', 'Conv2D', 'Flatten', 'BatchNormalization', 'Sequential', 'Functional', 'InputLayer']) expect(isKnownLayerClass(name), name).toBe(true);
    for (const name of ['Lambda', 'TFOpLambda', 'MyAttention', 'toString', '__proto__', 'constructor']) expect(isKnownLayerClass(name), name).toBe(false);
  });

  it('reports NaN weights', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    tf.tidy(() => model.layers[0].setWeights([tf.fill([3, 2], Number.NaN), tf.zeros([2])]));
    expect(() => createClassifier(model)).toThrow(/NaN or Infinity/);
    model.dispose();
  });
});

describe('classifier adapter on a GraphModel', () => {
  it('reads the logits feeding the output Softmax op of a converted graph', async () => {
    // A graph as tensorflowjs_converter writes one: x → MatMul(W) → Softmax.
    const W = new Float32Array([0.5, -1, 2, 1.5, 0.25, -0.5, -2, 1, 0.75, 0, -0.25, 1.25]);
    const artifacts: tf.io.ModelArtifacts = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
          { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '3' }] } } } } },
          { name: 'logits', op: 'MatMul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        versions: { producer: 1 },
      },
      weightSpecs: [{ name: 'w', shape: [4, 3], dtype: 'float32' }],
      weightData: W.buffer,
    };
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const c = createClassifier(model);
    expect(c.logitsSource).toBe('before-softmax-op');
    expect(c.inputShape).toEqual([4]);
    expect(c.numClasses).toBe(3);
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const z = Array.from(c.logits(x).dataSync());
    const expected = [0, 1, 2].map((k) => [1, 2, 3, 4].reduce((s, v, i) => s + v * W[i * 3 + k], 0));
    z.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    // Gradients flow through the graph as through a layers model.
    const g = tf.grad((xi: tf.Tensor) => tf.sum(c.logits(xi)))(x);
    const gv = Array.from(g.dataSync());
    gv.forEach((v, i) => expect(v).toBeCloseTo(W[i * 3] + W[i * 3 + 1] + W[i * 3 + 2], 5));
    tf.dispose([x, g]);
    model.dispose();
  });
});
