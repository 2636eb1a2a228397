/**
 * Bad input, as people drop it (project issue #8; the table is docs/reliability.md): real
 * TF.js models serialised by tfjs and then broken on purpose, real files in other model
 * formats, images with absurd or damaged headers, and .npy samples that do not fit the model.
 * Every case must end in a message that names the file and the problem.
 */
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKnownLayerClass, MAX_INPUT_VALUES } from '../engine/classifier';
import { useBackend } from '../engine/testSupport';
import { DatasetError, MAX_USER_SAMPLE_VALUES, userSamplesFromNpy } from './dataset';
import { classifyDrop, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES, sniffForeignModel, unzipModel } from './dropped';
import { checkImageFile, imageToInput, MAX_IMAGE_PIXELS } from './images';
import { MAX_WEIGHT_BYTES, parseModelFiles, serializeModel } from './modelFiles';
import { NpyError, writeNpy } from './npy';
import { corruptPng, grayPng, hdf5File, hugePng, jpegHeader, kerasArchive, onnxModel, pickleBytes, safetensorsFile, savedModelPb, tfliteModel, torchZip } from './testFilesNode';

beforeAll(() => useBackend('wasm'));

const text = (s: string) => new TextEncoder().encode(s);
const SHARD = 'group1-shard1of1.bin';

interface SavedModel {
  /** model.json as tfjs wrote it, parsed (edit a copy, then JSON.stringify). */
  json: Record<string, unknown>;
  modelJson: string;
  shard: Uint8Array;
}

/** Saves a tfjs LayersModel to model.json + one shard, as `model.save()` writes them to disk. */
async function save(model: tf.LayersModel): Promise<SavedModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const { modelJson, shard } = serializeModel(artifacts as tf.io.ModelArtifacts);
  return { json: JSON.parse(modelJson) as Record<string, unknown>, modelJson, shard };
}

/** An MLP on 8×8×1 inputs: Flatten → Dense(16, relu) → Dense(3, softmax); 1,091 float32 weights. */
function smallMlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 1], name: 'flat' }),
      tf.layers.dense({ units: 16, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

let mlp: SavedModel;
beforeAll(async () => {
  const m = smallMlp();
  mlp = await save(m);
  m.dispose();
});

const parse = (json: string, shards: [string, Uint8Array][]) => () => parseModelFiles('model.json', json, new Map(shards), { knownLayer: isKnownLayerClass });
const edited = (edit: (j: Record<string, unknown>) => void): string => {
  const copy = JSON.parse(mlp.modelJson) as Record<string, unknown>;
  edit(copy);
  return JSON.stringify(copy);
};
type Layer = { class_name: string; config: Record<string, unknown> };
const layersOf = (j: Record<string, unknown>) => ((j.modelTopology as { config: { layers: Layer[] } }).config.layers);
const manifestOf = (j: Record<string, unknown>) => (j.weightsManifest as { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: object }[] }[]);

describe('model files: real TF.js models, broken on purpose', () => {
  it('the unbroken model parses (the control for every case below)', () => {
    const p = parse(mlp.modelJson, [[SHARD, mlp.shard]])();
    expect(p.weightBytes).toBe(4 * (64 * 16 + 16 + 16 * 3 + 3));
    expect(p.shardNames).toEqual([SHARD]);
  });

  it('a model.json cut off half-way, or empty, is not valid JSON', () => {
    expect(parse(mlp.modelJson.slice(0, Math.floor(mlp.modelJson.length / 2)), [[SHARD, mlp.shard]])).toThrow(/^model\.json: it is not valid JSON \(/);
    expect(parse('', [[SHARD, mlp.shard]])).toThrow(/^model\.json: it is empty\.$/);
  });

  it('JSON from another project, or a Keras architecture without weights, is not a TF.js model', () => {
    expect(parse('{"name": "my-app", "version": "1.0.0", "dependencies": {}}', [])).toThrow(/no "modelTopology", so it is not a TF\.js model/);
    const kerasToJson = JSON.stringify({ class_name: 'Sequential', config: { name: 'sequential', layers: [] }, keras_version: '2.15.0', backend: 'tensorflow' });
    expect(parse(kerasToJson, [])).toThrow(/a Keras architecture \(what model\.to_json\(\) writes\), without weights.*tensorflowjs_converter --input_format keras/);
  });

  it('a missing shard is named, and a dropped file the manifest does not name is pointed out', () => {
    // The same weights written as two shards, as tfjs does past 4 MB; only the first is given.
    const half = 4 * (64 * 16);
    const twoShards = edited((j) => {
      manifestOf(j)[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    });
    const first = mlp.shard.slice(0, half);
    const second = mlp.shard.slice(half);
    expect(parse(twoShards, [['group1-shard1of2.bin', first], ['group1-shard2of2.bin', second]])().weightBytes).toBe(mlp.shard.length);
    expect(parse(twoShards, [['group1-shard1of2.bin', first]])).toThrow(/names weight file 'group1-shard2of2\.bin' that was not provided; add it next to model\.json\.$/);
    // The shard renamed on disk: the manifest's name is missing, the given file is named.
    expect(parse(mlp.modelJson, [['weights.bin', mlp.shard]])).toThrow(
      /names weight file 'group1-shard1of1\.bin' that was not provided.*Given but not named in its weightsManifest: 'weights\.bin'/,
    );
  });

  it('a shard of the wrong size: cut short, or too long', () => {
    expect(parse(mlp.modelJson, [[SHARD, mlp.shard.slice(0, 1000)]])).toThrow(/'group1-shard1of1\.bin' holds 1,000 bytes but model\.json declares 4,364 for it; a shard is truncated/);
    const longer = new Uint8Array(mlp.shard.length + 4);
    longer.set(mlp.shard);
    expect(parse(mlp.modelJson, [[SHARD, longer]])).toThrow(/holds 4,368 bytes but model\.json declares 4,364 for it; a shard is too long, or belongs to another model/);
  });

  it('an unknown or custom layer class is named, a Lambda layer is called out, before tfjs builds anything', () => {
    const custom = edited((j) => {
      layersOf(j)[1].class_name = 'MyAttention';
    });
    expect(parse(custom, [[SHARD, mlp.shard]])).toThrow(/layer 'hidden' \(MyAttention\) uses the layer class 'MyAttention', which TF\.js does not provide/);
    const lambda = edited((j) => {
      layersOf(j).splice(1, 0, { class_name: 'Lambda', config: { name: 'scale', function: ['4wEAAAAAAAAA...', null, null], function_type: 'lambda' } });
    });
    expect(parse(lambda, [[SHARD, mlp.shard]])).toThrow(/layer 'scale' \(Lambda\) is a Keras Lambda layer: its code is Python, which never runs in the browser/);
  });

  it('non-float weights in a layers model are refused; unknown quantization too', () => {
    const ints = edited((j) => {
      manifestOf(j)[0].weights[0].dtype = 'int32';
    });
    expect(parse(ints, [[SHARD, mlp.shard]])).toThrow(/weight 'hidden\/kernel' has dtype 'int32'; the weights of a layers model must be float32/);
    const strings = edited((j) => {
      manifestOf(j)[0].weights[1].dtype = 'string';
    });
    expect(parse(strings, [[SHARD, mlp.shard]])).toThrow(/weight 'hidden\/bias' has dtype 'string'/);
    const q = edited((j) => {
      manifestOf(j)[0].weights[0].quantization = { dtype: 'int4', scale: 0.1, min: 0 };
    });
    expect(parse(q, [[SHARD, mlp.shard]])).toThrow(/weight 'hidden\/kernel' is quantized to 'int4', which TF\.js cannot decode/);
  });

  it('NaN and ±Infinity in the weights are found and located', () => {
    const withValue = (index: number, v: number) => {
      const s = mlp.shard.slice();
      new DataView(s.buffer).setFloat32(4 * index, v, true);
      return s;
    };
    // Index 1024 + 16 + 5 is the 6th value of logits/kernel (after hidden's kernel and bias).
    expect(parse(mlp.modelJson, [[SHARD, withValue(1045, Number.NaN)]])).toThrow(/weight 'logits\/kernel' holds NaN \(value 5 of 48\); the training diverged or a weight file is damaged/);
    expect(parse(mlp.modelJson, [[SHARD, withValue(3, Number.POSITIVE_INFINITY)]])).toThrow(/weight 'hidden\/kernel' holds Infinity \(value 3 of 1,024\)/);
    expect(parse(mlp.modelJson, [[SHARD, withValue(1090, Number.NEGATIVE_INFINITY)]])).toThrow(/weight 'logits\/bias' holds -Infinity \(value 2 of 3\)/);
    // The same check on float16-quantized weights (0x7c00 is +Infinity in half precision).
    const half = edited((j) => {
      manifestOf(j)[0].weights = [{ name: 'logits/bias', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } }];
      layersOf(j).splice(0, 3);
    });
    const halfShard = new Uint8Array(new Uint16Array([0x3c00, 0x7c00, 0x0000]).buffer);
    expect(parse(half, [[SHARD, halfShard]])).toThrow(/weight 'logits\/bias' holds Infinity \(value 1 of 3\)/);
  });

  it('declared shapes too large for memory are refused from the JSON, before anything is allocated', () => {
    const before = tf.memory();
    // A weight of 2^20 × 2^20 floats (4 TiB) in the manifest.
    const hugeWeight = edited((j) => {
      manifestOf(j)[0].weights[0].shape = [2 ** 20, 2 ** 20];
    });
    expect(parse(hugeWeight, [[SHARD, mlp.shard]])).toThrow(/the weights add up to more than 512 MiB \(weight 'hidden\/kernel' alone has shape \[1048576, 1048576\]\).*Nothing was allocated/);
    expect(MAX_WEIGHT_BYTES).toBe(512 * 2 ** 20);
    // An input of 40,000 × 40,000 pixels declared in the topology (tfjs would build a
    // 1.6 G × 16 kernel for the Dense layer after it).
    const hugeInput = edited((j) => {
      layersOf(j)[0].config.batch_input_shape = [null, 40000, 40000, 1];
    });
    expect(parse(hugeInput, [[SHARD, mlp.shard]])).toThrow(/layer 'flat' \(Flatten\) declares inputs of shape \[\?, 40000, 40000, 1\], 1,600,000,000 values per sample; Ravine handles at most 3,145,728/);
    expect(MAX_INPUT_VALUES).toBe(3_145_728);
    // 50 million units declared for a layer whose kernel in the manifest is [64, 16].
    const wide = edited((j) => {
      layersOf(j)[1].config.units = 50_000_000;
    });
    expect(parse(wide, [[SHARD, mlp.shard]])).toThrow(/layer 'hidden' \(Dense\) needs a kernel of shape \[64, 50000000\], but the weights manifest gives \[64, 16\]/);
    // An UpSampling layer in front that turns 8 × 8 into 11,200 × 11,200: 502 MB of
    // activations per sample from a layer with no weights at all.
    const blowUp = edited((j) => {
      const layers = layersOf(j);
      layers[0].config.batch_input_shape = [null, 8, 8, 1];
      layers.splice(0, 0, { class_name: 'UpSampling2D', config: { name: 'up', size: [1400, 1400], batch_input_shape: [null, 8, 8, 1], data_format: 'channels_last' } });
      delete layers[1].config.batch_input_shape;
    });
    expect(parse(blowUp, [[SHARD, mlp.shard]])).toThrow(/layer 'up' \(UpSampling2D\) outputs \[\?, 11200, 11200, 1\] per sample; the activations of one sample would exceed 256 MiB/);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('a converted graph model whose placeholder declares an absurd input is refused the same way', () => {
    const graph = JSON.stringify({
      format: 'graph-model',
      modelTopology: { node: [{ name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '65536' }, { size: '65536' }, { size: '3' }] } } } }] },
      weightsManifest: [],
    });
    expect(parse(graph, [])).toThrow(/the graph input 'x' declares the shape \[\?, 65536, 65536, 3\], 12,884,901,888 values per sample/);
    const noNodes = JSON.stringify({ format: 'graph-model', modelTopology: { versions: { producer: 1 } }, weightsManifest: [] });
    expect(parse(noNodes, [])).toThrow(/^model\.json: it says it is a graph model, but "modelTopology" has no "node" list\.$/);
  });
});

describe('files from other frameworks: named, with how to convert them', () => {
  const reason = (name: string, bytes: Uint8Array) => {
    const k = classifyDrop([{ name, bytes }]);
    return k.kind === 'unsupported' ? k.reason : `classified as ${k.kind}`;
  };

  it('a Keras .h5 (real HDF5 signature and superblock), under its own name or another', () => {
    const h5 = hdf5File();
    expect(reason('model.h5', h5)).toMatch(/^model\.h5 is a Keras model in HDF5 format; convert it with `tensorflowjs_converter --input_format keras model\.h5 out_dir\/` and drop out_dir\.$/);
    expect(reason('weights.bin', h5)).toMatch(/^weights\.bin is a Keras model in HDF5 format/);
    expect(classifyDrop([{ name: 'model.json', bytes: h5 }])).toEqual({ kind: 'unsupported', reason: expect.stringMatching(/^model\.json is not JSON: it is a Keras model in HDF5 format/) });
    // HDF5 allows a user block before the superblock: the signature at 512 counts too.
    const withUserBlock = new Uint8Array(2560);
    withUserBlock.set(h5.subarray(0, 2048), 512);
    expect(sniffForeignModel(withUserBlock)).toMatch(/HDF5/);
  });

  it('a Keras 3 .keras archive (a real zip), also when renamed to .zip, refused before expanding', () => {
    const keras = kerasArchive();
    expect(reason('model.keras', keras)).toMatch(/^model\.keras is a Keras 3 model archive \(\.keras\); convert it with `tensorflowjs_converter --input_format keras_keras model\.keras out_dir\/`/);
    expect(reason('model.zip', keras)).toMatch(/^model\.zip is a Keras 3 model archive/);
  });

  it('a PyTorch checkpoint: the zip torch.save writes, and an old-style pickle', () => {
    expect(reason('resnet.pt', torchZip())).toMatch(/^resnet\.pt is a PyTorch checkpoint \(torch\.save\); export the model with torch\.onnx\.export/);
    expect(reason('checkpoint.zip', torchZip())).toMatch(/^checkpoint\.zip is a PyTorch checkpoint/);
    expect(reason('old.pth', pickleBytes())).toMatch(/^old\.pth is a Python pickle .*never loaded here/);
  });

  it('ONNX (protobuf ModelProto bytes), a SavedModel .pb, TFLite and safetensors', () => {
    expect(reason('net.onnx', onnxModel())).toMatch(/^net\.onnx is an ONNX model; convert it to a TensorFlow SavedModel \(onnx2tf or onnx-tf\)/);
    expect(reason('net.bin', onnxModel())).toMatch(/^net\.bin is an ONNX model/);
    expect(reason('saved_model.pb', savedModelPb())).toMatch(/^saved_model\.pb is a TensorFlow protobuf \(SavedModel or frozen graph\); convert its SavedModel folder with `tensorflowjs_converter --input_format tf_saved_model/);
    expect(reason('m.tflite', tfliteModel())).toMatch(/TensorFlow Lite model, which TF\.js cannot run/);
    expect(reason('model.safetensors', safetensorsFile())).toMatch(/safetensors weight file \(weights only, no architecture\)/);
  });

  it('a real TF.js model.json is not mistaken for any of them', () => {
    expect(sniffForeignModel(text(mlp.modelJson))).toBeNull();
    expect(sniffForeignModel(mlp.shard)).toBeNull();
    expect(sniffForeignModel(grayPng(4, 4, () => 0))).toBeNull();
    expect(classifyDrop([{ name: 'model.json', bytes: text(mlp.modelJson) }, { name: SHARD, bytes: mlp.shard }])).toMatchObject({ kind: 'model', label: 'model.json' });
  });
});

describe('zip archives', () => {
  it('refuses absolute paths and drive letters as it refuses ../', () => {
    expect(() => unzipModel({ name: 'abs.zip', bytes: zipSync({ '/etc/model.json': text('{}') }) })).toThrow(/abs\.zip contains the unsafe path '\/etc\/model\.json'; nothing was loaded/);
    expect(() => unzipModel({ name: 'win.zip', bytes: zipSync({ 'C:\\model.json': text('{}') }) })).toThrow(/win\.zip contains the unsafe path 'C:\\model\.json'/);
    expect(() => unzipModel({ name: 'up.zip', bytes: zipSync({ 'a/../../model.json': text('{}') }) })).toThrow(/up\.zip contains the unsafe path/);
  });

  it('refuses more entries than the limit', () => {
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i <= MAX_ZIP_ENTRIES; i++) many[`f${i}.bin`] = new Uint8Array(1);
    expect(() => unzipModel({ name: 'many.zip', bytes: zipSync(many, { level: 0 }) })).toThrow(/many\.zip holds more than 2000 files; nothing was loaded/);
  });

  it('a zip whose headers under-declare an entry never expands beyond what they declare', () => {
    // 5 MB of zeros deflate to a few KB; the headers are rewritten to claim 100 bytes.
    const bomb = zipSync({ 'a.bin': new Uint8Array(5_000_000) }, { level: 9 });
    const view = new DataView(bomb.buffer);
    for (let i = 0; i + 4 <= bomb.length; i++) {
      const sig = view.getUint32(i, true);
      if (sig === 0x02014b50) view.setUint32(i + 24, 100, true);
      if (sig === 0x04034b50) view.setUint32(i + 22, 100, true);
    }
    expect(bomb.length).toBeLessThan(20_000);
    const out = unzipModel({ name: 'liar.zip', bytes: bomb });
    expect(out.map((f) => f.bytes.byteLength)).toEqual([100]);
    expect(MAX_UNZIPPED_BYTES).toBe(600 * 2 ** 20);
  });

  it('a real model zipped with its folder loads as a model, and its contents are intact', () => {
    const zip = zipSync({ 'net/model.json': text(mlp.modelJson), [`net/${SHARD}`]: mlp.shard, '__MACOSX/net/._model.json': new Uint8Array(4) });
    const k = classifyDrop([{ name: 'net.zip', bytes: zip }]);
    expect(k.kind).toBe('model');
    const files = k.kind === 'model' ? k.files : [];
    expect(files.map((f) => f.name).sort()).toEqual(['net/group1-shard1of1.bin', 'net/model.json']);
    expect(Array.from(unzipSync(zip)[`net/${SHARD}`])).toEqual(Array.from(mlp.shard));
  });
});

describe('images: refused from the header, before decoding', () => {
  it('a 100,000 × 100,000 PNG (10 gigapixels in an 83-byte file) and a 65,535² JPEG', async () => {
    const png = hugePng(100_000, 100_000);
    expect(png.length).toBe(83);
    expect(() => checkImageFile('huge.png', png)).toThrow(/^huge\.png is 100000 × 100000 pixels; Ravine decodes images up to 40 megapixels and 32767 pixels a side\. Downscale it first\.$/);
    // imageToInput stops there too: Node has no createImageBitmap, so reaching the decoder
    // would fail differently.
    await expect(imageToInput('huge.png', png, [28, 28, 1], [0, 1])).rejects.toThrow(/100000 × 100000 pixels/);
    expect(() => checkImageFile('big.jpg', jpegHeader(65535, 65535))).toThrow(/big\.jpg is 65535 × 65535 pixels/);
    expect(MAX_IMAGE_PIXELS).toBe(40_000_000);
  });

  it('a strip longer than a canvas allows, an image with no pixels, and a file too large', () => {
    expect(() => checkImageFile('strip.png', hugePng(40_000, 1))).toThrow(/strip\.png is 40000 × 1 pixels; .*32767 pixels a side/);
    expect(() => checkImageFile('empty.png', hugePng(0, 10))).toThrow(/empty\.png is 0 × 10 pixels: it has no pixels to use/);
    const big = new Uint8Array(21 * 2 ** 20);
    big.set(grayPng(4, 4, () => 0));
    expect(() => checkImageFile('photo.png', big)).toThrow(/photo\.png is 21\.0 MB; images up to 20 MB are accepted/);
  });

  it('a damaged header, and a file that is not an image at all', () => {
    const png = grayPng(28, 28, () => 128);
    const noIhdr = png.slice();
    noIhdr.set(text('IDAT'), 12);
    expect(() => checkImageFile('broken.png', noIhdr)).toThrow(/broken\.png is a damaged PNG: its header does not give the image size/);
    expect(() => checkImageFile('cut.jpg', jpegHeader(28, 28).subarray(0, 12))).toThrow(/cut\.jpg is a damaged JPEG/);
    expect(() => checkImageFile('notes.png', text('just some text, saved as .png'))).toThrow(/notes\.png is not a PNG or JPEG image/);
  });

  it('sizes of real images are read exactly (the control), a corrupt body passes the header check', () => {
    expect(checkImageFile('digit.png', grayPng(56, 40, (x) => x))).toEqual({ width: 56, height: 40, type: 'png' });
    expect(checkImageFile('photo.jpg', jpegHeader(640, 480))).toEqual({ width: 640, height: 480, type: 'jpeg' });
    // Its pixels are noise, which only the browser's decoder finds (e2e/hardening.spec.ts).
    expect(checkImageFile('corrupt.png', corruptPng())).toEqual({ width: 28, height: 28, type: 'png' });
  });
});

/** A .npy file with any dtype string (writeNpy writes only uint8, int32 and float32). */
function npyRaw(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(text(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

describe('.npy samples for a model with input [28, 28, 1] and 10 classes', () => {
  const shape = [28, 28, 1];
  const images = (n: number) => writeNpy({ dtype: 'uint8', shape: [n, 28, 28, 1], data: Uint8Array.from({ length: n * 784 }, (_, i) => i % 256) });
  const labels = (values: number[]) => writeNpy({ dtype: 'uint8', shape: [values.length], data: Uint8Array.from(values) });
  const read = (x: Uint8Array, y?: Uint8Array, name = 'x.npy') => () => userSamplesFromNpy({ name, bytes: x }, y && { name: 'y.npy', bytes: y }, shape, 10);

  it('three uint8 images with three labels (the control)', () => {
    const r = read(images(3), labels([7, 2, 1]))();
    expect(r.count).toBe(3);
    expect(r.size).toBe(784);
    expect(Array.from(r.labels ?? [])).toEqual([7, 2, 1]);
    expect(r.x[255]).toBeCloseTo(1, 6);
    expect(r.x[256]).toBe(0);
  });

  it('an unsupported dtype: int16 images, complex numbers', () => {
    expect(read(npyRaw('<i2', [784], new Uint8Array(1568))), 'int16').toThrow(/^x\.npy holds <i2 integers; save images as uint8 \(0–255\) or float32 \(0–1\)\.$/);
    expect(read(npyRaw('<c8', [784], new Uint8Array(784 * 8))), 'complex64').toThrow(NpyError);
  });

  it('the wrong shape: too few values, or the right count in the wrong layout', () => {
    expect(read(writeNpy({ dtype: 'uint8', shape: [2, 10], data: new Uint8Array(20) }), undefined, 'wrong.npy')).toThrow(/^wrong\.npy holds 20 values \(shape \[2, 10\]\); the model needs 784 per sample \(\[28, 28, 1\]\)\.$/);
    expect(read(writeNpy({ dtype: 'uint8', shape: [28, 84], data: new Uint8Array(2352) }))).toThrow(/x\.npy holds 2352 values in shape \[28, 84\], which is not a stack of inputs of shape \[28, 28, 1\]/);
    // Flat rows and squeezed axes are fine.
    expect(read(writeNpy({ dtype: 'uint8', shape: [2, 784], data: new Uint8Array(1568) }))().count).toBe(2);
    expect(read(writeNpy({ dtype: 'uint8', shape: [28, 28], data: new Uint8Array(784) }))().count).toBe(1);
  });

  it('float images outside [0, 1] or not finite', () => {
    const f = new Float32Array(784).fill(0.5);
    f[100] = 255;
    expect(read(writeNpy({ dtype: 'float32', shape: [784], data: f }))).toThrow(/x\.npy has value 255 at index 100, outside the model's input range \[0, 1\]/);
    f[100] = Number.NaN;
    expect(read(writeNpy({ dtype: 'float32', shape: [784], data: f }))).toThrow(/x\.npy has value NaN at index 100/);
  });

  it('fewer labels than images, a label outside the classes, float or one-hot labels', () => {
    expect(read(images(3), labels([1, 2]))).toThrow(/^y\.npy has 2 labels for 3 images in x\.npy\.$/);
    expect(read(images(3), labels([1, 12, 3]))).toThrow(/^y\.npy: label 12 of image 1 is outside the model's classes 0–9\.$/);
    expect(read(images(3), writeNpy({ dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) }))).toThrow(/y\.npy: labels must be integers; got <f4/);
    expect(read(images(3), writeNpy({ dtype: 'uint8', shape: [3, 10], data: new Uint8Array(30) }))).toThrow(/y\.npy has shape \[3, 10\], one-hot rows; save class indices instead/);
  });

  it('a header holding Python code is refused as text: it is parsed, never evaluated', () => {
    const evil = npyRaw('<f4', [784], new Uint8Array(784 * 4));
    const header = "{'descr': __import__('os').system('rm -rf ~'), 'fortran_order': False, 'shape': (784,), }";
    const bytes = evil.slice();
    const padded = header.padEnd(bytes.length - 10 - 784 * 4 - 1, ' ') + '\n';
    bytes.set([padded.length & 0xff, padded.length >> 8], 8);
    bytes.set(text(padded), 10);
    expect(read(bytes)).toThrow(/x\.npy: the header is not a valid \.npy header/);
  });

  it('a truncated .npy and an array too large to browse', () => {
    const x = images(2);
    expect(read(x.subarray(0, x.length - 10))).toThrow(/x\.npy: file is truncated/);
    expect(read(x.subarray(0, x.length - 10))).toThrow(NpyError);
    // 85,599 images (67 M values, just over the limit): refused before the float copy.
    const n = Math.floor(MAX_USER_SAMPLE_VALUES / 784) + 1;
    const many = npyRaw('|u1', [n, 28, 28, 1], new Uint8Array(n * 784));
    expect(read(many)).toThrow(/^x\.npy holds 85599 images \(67109616 values\); Ravine keeps up to 85598 of this size\. Save a subset\.$/);
    expect(() => read(images(3), labels([1, 12, 3]))()).toThrow(DatasetError);
  });
});
