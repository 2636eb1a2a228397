/**
 * The engine host with real model files (tfjs models serialised to model.json + shard bytes,
 * some broken on purpose): what a refused model leaves behind, jobs on a model that is
 * replaced under them, the fault-injection hook, and memory over many loads.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHUNK } from '../engine/schedule';
import { gridAxis, type SurfaceSpec } from '../engine/surface';
import { fixedInputs, fixedValues, smallCnn, useBackend } from '../engine/testSupport';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeModel } from '../io/modelFiles';
import { EngineHost, FAULT_CHUNK_POINTS, type ModelFile } from './host';

beforeAll(() => useBackend('wasm'));

const SHARD = 'group1-shard1of1.bin';

/** model.json + shard as a user would drop them, from a tfjs model (which is then disposed). */
async function filesOf(model: tf.LayersModel, edit?: (json: Record<string, unknown>, shard: Uint8Array) => Uint8Array): Promise<ModelFile[]> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  const { modelJson, shard } = serializeModel(artifacts as tf.io.ModelArtifacts);
  const json = JSON.parse(modelJson) as Record<string, unknown>;
  const bytes = edit ? edit(json, shard) : shard;
  return [
    { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(json)) },
    { name: SHARD, bytes },
  ];
}

function spec(side: number, label = 3): SurfaceSpec {
  return { x: fixedInputs(1, 144, 9), label, d1: fixedValues(144, 11, 1).map(Math.sign), d2: fixedValues(144, 12, 1).map(Math.sign), a: gridAxis(0.3, side), b: gridAxis(0.3, side) };
}

const memory = () => {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
};

describe('a refused model leaves the slot and the memory as they were', () => {
  it('for every way a real model can be unusable', async () => {
    const host = new EngineHost();
    await host.loadModel('A', 'cnn', await filesOf(smallCnn(4)));
    const x = fixedInputs(2, 144, 5);
    const before = await host.predict('A', x);
    const base = memory();

    const input = () => tf.input({ shape: [6] });
    const twoIn = (() => {
      const a = input();
      const b = input();
      return tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 3 }).apply(tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor) as tf.SymbolicTensor });
    })();
    const twoOut = (() => {
      const a = input();
      return tf.model({ inputs: a, outputs: [tf.layers.dense({ units: 3 }).apply(a) as tf.SymbolicTensor, tf.layers.dense({ units: 2 }).apply(a) as tf.SymbolicTensor] });
    })();
    const cases: [string, ModelFile[], RegExp][] = [
      ['two inputs', await filesOf(twoIn), /^The model has 2 inputs; Ravine needs a classifier with exactly one input\.$/],
      ['two outputs', await filesOf(twoOut), /^The model has 2 outputs; Ravine needs a classifier with exactly one output/],
      [
        'an image output',
        await filesOf(tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 3, kernelSize: 3 })] })),
        /^The model's output has shape \[\?, 6, 6, 3\]; a classifier must output \[N, K\] class scores \(logits or probabilities\)\.$/,
      ],
      ['one class', await filesOf(tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 1 })] })), /outputs 1 score per sample; a classifier needs at least 2 classes/],
      [
        // A gamma of 5 values for a layer of 4 features: only tfjs notices, after it has
        // built (allocated) every layer.
        'a weight whose shape disagrees with its layer',
        await filesOf(tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 4 }), tf.layers.batchNormalization(), tf.layers.dense({ units: 3 })] }), (json, shard) => {
          const weights = (json.weightsManifest as { weights: { name: string; shape: number[] }[] }[])[0].weights;
          const gamma = weights.findIndex((w) => w.name.endsWith('/gamma'));
          weights[gamma].shape = [5];
          const offset = 4 * (6 * 4 + 4 + 4);
          const out = new Uint8Array(shard.length + 4);
          out.set(shard.subarray(0, offset));
          out.set(shard.subarray(offset), offset + 4);
          return out;
        }),
        /^model\.json: TF\.js could not build the model: .*\[4\].*\[5\]|^model\.json: TF\.js could not build the model: .*\[5\].*\[4\]/,
      ],
      [
        // A transposed convolution with stride 1400 turns 8 × 8 into 11,200 × 11,200: tiny
        // weights, 502 MB of activations per sample, refused before the first run.
        'activations too large for one sample',
        await filesOf(tf.sequential({ layers: [tf.layers.conv2dTranspose({ inputShape: [8, 8, 1], filters: 1, kernelSize: 3, strides: 1400, padding: 'same' }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 2 })] })),
        /^One sample's activations in this model add up to \d+ MiB; Ravine runs models up to 256 MiB per sample\. Nothing was run\.$/,
      ],
      [
        'NaN weights',
        await filesOf(tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 3 })] }), (_json, shard) => {
          const s = shard.slice();
          new DataView(s.buffer).setFloat32(8, Number.NaN, true);
          return s;
        }),
        /weight 'dense_Dense\d+\/kernel' holds NaN \(value 2 of 18\)/,
      ],
    ];
    for (const [what, files, message] of cases) {
      await expect(host.loadModel('A', what, files), what).rejects.toThrow(message);
      expect(memory(), `${what}: memory`).toEqual(base);
    }
    // The slot still holds the first model, which still answers as before.
    const after = await host.predict('A', x);
    expect(Array.from(after.logits)).toEqual(Array.from(before.logits));
    host.unloadModel('A');
  });

  it('a graph model using an op TF.js lacks is refused with the op named', async () => {
    const host = new EngineHost();
    const base = memory();
    const json = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
          { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '3' }] } } } } },
          { name: 'z', op: 'MatMul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: 'out', op: 'FancyCustomActivation', input: ['z'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [{ paths: [SHARD], weights: [{ name: 'w', shape: [4, 3], dtype: 'float32' }] }],
    };
    const files = [
      { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(json)) },
      { name: SHARD, bytes: new Uint8Array(new Float32Array(12).fill(0.5).buffer) },
    ];
    await expect(host.loadModel('A', 'graph', files)).rejects.toThrow(/^The model uses the TensorFlow op 'FancyCustomActivation', which TF\.js cannot run\.$/);
    expect(memory()).toEqual(base);
  });
});

describe('the host loads models itself (to free what a failed load made)', () => {
  it('every built-in model loads and predicts exactly as tf.loadLayersModel has it', async () => {
    const host = new EngineHost();
    const ids = (await readdir('public/models', { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(ids.length).toBeGreaterThanOrEqual(9);
    const x = fixedInputs(4, 784, 21);
    for (const id of ids) {
      const dir = join('public/models', id);
      const files = [
        { name: 'model.json', bytes: new Uint8Array(await readFile(join(dir, 'model.json'))) },
        { name: SHARD, bytes: new Uint8Array(await readFile(join(dir, SHARD))) },
      ];
      const info = await host.loadModel('A', id, files);
      const ours = await host.predict('A', x);
      const json = JSON.parse(new TextDecoder().decode(files[0].bytes)) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const theirs = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: files[1].bytes.buffer }));
      const probs = tf.tidy(() => (theirs.predict(tf.tensor(x, [4, 28, 28, 1])) as tf.Tensor).dataSync());
      theirs.dispose();
      expect(info.numClasses, id).toBe(10);
      // The adapter's logits through softmax equal the stock model's probabilities.
      Array.from(ours.probs).forEach((p, i) => expect(Math.abs(p - probs[i]), `${id} [${i}]`).toBeLessThan(1e-6));
    }
    host.unloadModel('A');
  });
});

describe('nothing in a model file is evaluated', () => {
  it('"__proto__" keys and code-like strings in model.json stay data: the model loads, no prototype changes', async () => {
    const host = new EngineHost();
    const files = await filesOf(tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, name: 'd' })] }), (json, shard) => {
      const layer = (json.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[0];
      layer.config.name = 'd';
      (json as Record<string, unknown>).userDefinedMetadata = { note: '<script>window.__pwned = 1</script>' };
      return shard;
    });
    // JSON.stringify drops a "__proto__" set as a property; write it into the text itself.
    const text = new TextDecoder().decode(files[0].bytes).replace('"trainable":true', '"trainable":true,"__proto__":{"polluted":"yes"}');
    expect(text).toContain('"__proto__":{"polluted":"yes"}');
    const info = await host.loadModel('A', 'proto', [{ name: 'model.json', bytes: new TextEncoder().encode(text) }, files[1]]);
    expect(info.numClasses).toBe(3);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((globalThis as Record<string, unknown>).__pwned).toBeUndefined();
    host.unloadModel('A');
  });
});

describe('jobs and the models under them', () => {
  it('replacing a model while its surface computes aborts the job cleanly; the old model is freed after it stops', async () => {
    const host = new EngineHost();
    const files = await filesOf(smallCnn(6));
    await host.loadModel('A', 'cnn', files);
    const base = memory();
    let chunks = 0;
    // 201² points in chunks of at most MAX_CHUNK (2048): 20 chunks, long enough for the load to land mid-way.
    const job = host.surface(1, 'A', spec(201), () => chunks++);
    const reload = host.loadModel('A', 'cnn again', files);
    // Not "Tensor is disposed": the job saw an abort at a chunk boundary, on weights still alive.
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    const info = await reload;
    expect(info.name).toBe('cnn again');
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThan(Math.ceil((201 * 201) / MAX_CHUNK));
    // Old model disposed, new one (same files) in its place: the same memory as before.
    expect(memory()).toEqual(base);
    const again = await host.surface(2, 'A', spec(11));
    expect(again.loss.every(Number.isFinite)).toBe(true);
    host.unloadModel('A');
  });

  it('an injected fault fails the next surface mid-way: the error, no leaked tensors, the next surface equal to one before', async () => {
    const host = new EngineHost();
    await host.loadModel('A', 'cnn', await filesOf(smallCnn(7)));
    const reference = await host.surface(1, 'A', spec(11));
    const base = memory();
    host.injectFault({ afterChunks: 2 });
    const done: number[] = [];
    await expect(host.surface(2, 'A', spec(11), (p) => done.push(p.done))).rejects.toThrow(/^Out of memory in chunk 3 \(a fault injected for testing with window\.ravine\.injectFault\)\.$/);
    // Two chunks of 16 points were computed and read back before the third failed.
    expect(done).toEqual([FAULT_CHUNK_POINTS, 2 * FAULT_CHUNK_POINTS]);
    expect(memory()).toEqual(base);
    // The fault was used up: the same surface computes, equal to the one before.
    const next = await host.surface(3, 'A', spec(11));
    expect(Array.from(next.loss)).toEqual(Array.from(reference.loss));
    expect(Array.from(next.pred)).toEqual(Array.from(reference.pred));
    expect(() => host.injectFault({ afterChunks: -1 })).toThrow(/afterChunks must be a non-negative integer/);
    host.unloadModel('A');
  });

  it('20 loads and unloads bring tensors and bytes back to where they started', async () => {
    const host = new EngineHost();
    const files = [await filesOf(smallCnn(8)), await filesOf(smallCnn(9))];
    const base = memory();
    for (let i = 0; i < 20; i++) {
      await host.loadModel('A', `model ${i}`, files[i % 2]);
      await host.surface(i, 'A', spec(11));
      if (i % 4 === 3) host.unloadModel('A');
    }
    host.unloadModel('A');
    expect(memory()).toEqual(base);
  });
});
