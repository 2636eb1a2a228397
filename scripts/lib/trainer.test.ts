import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from '../../src/engine/classifier';
import { registerFastConvGradients } from '../../src/engine/convGrad';
import { datasetToFloat } from '../../src/io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR } from '../../src/io/datasetNode';
import { loadModelFromPath, saveModelToDir } from '../../src/io/modelNode';
import { adversarialBatch, trainModel, type TrainSpec } from './trainer';

let dir = '';
beforeAll(async () => {
  await tf.setBackend('wasm');
  registerFastConvGradients();
  dir = await mkdtemp(join(tmpdir(), 'ravine-train-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('training code path (scripts/lib/trainer.ts)', () => {
  it('trains a tiny CNN adversarially for one short epoch, saves it, and the files load back with identical logits', async () => {
    // Real MNIST images (the shipped test split stands in for training data here).
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, 'mnist');
    const n = 300;
    const idx = Array.from({ length: n }, (_, i) => i);
    const data = { x: datasetToFloat(ds, idx), y: Int32Array.from(ds.labels.subarray(0, n)), inputShape: [28, 28, 1], numClasses: 10 };
    const spec: TrainSpec = { arch: 'tiny-cnn', method: 'pgd', eps: 0.1, steps: 2, stepFactor: 2.5, epochs: 1, rampEpochs: 0, batchSize: 50, learningRate: 3e-3, decayEpochs: 0, seed: 3, maxSamples: 0 };
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const { model, history } = await trainModel(spec, data, (l) => lines.push(l));
    expect(history).toHaveLength(1);
    expect(history[0].loss).toBeGreaterThan(0);
    expect(Number.isFinite(history[0].loss)).toBe(true);
    expect(lines[0]).toMatch(/^epoch 1\/1 {2}eps 0\.100 {2}loss \d/);
    // Only the model's own weights remain (kernel + bias of two layers).
    expect(tf.memory().numTensors - before).toBe(4);

    const written = await saveModelToDir(model, dir);
    expect(written).toBeGreaterThan(1000);
    expect((await readdir(dir)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const loaded = (await loadModelFromPath(dir)) as tf.LayersModel;
    const x = tf.tensor(data.x.subarray(0, 20 * 784), [20, 28, 28, 1]);
    const a = createClassifier(model).logits(x);
    const b = createClassifier(loaded).logits(x);
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('makes adversarial training batches inside the ε-ball and the valid range', () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    const c = createClassifier(model);
    const x = tf.randomUniform([8, 4, 4, 1], 0, 1, 'float32', 1);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    for (const method of ['pgd', 'fgsm-rs'] as const) {
      const xa = adversarialBatch(c, x, y, method, 0.2, 3, 2.5, 7);
      const dist = tf.max(tf.abs(tf.sub(xa, x))).dataSync()[0];
      expect(dist).toBeLessThanOrEqual(0.2 + 1e-6);
      expect(dist).toBeGreaterThan(0.1);
      expect(tf.min(xa).dataSync()[0]).toBeGreaterThanOrEqual(0);
      expect(tf.max(xa).dataSync()[0]).toBeLessThanOrEqual(1);
      xa.dispose();
    }
    const same = adversarialBatch(c, x, y, 'natural', 0.2, 3, 2.5, 7);
    expect(tf.max(tf.abs(tf.sub(same, x))).dataSync()[0]).toBe(0);
    tf.dispose([x, y, same]);
    model.dispose();
  });
});
