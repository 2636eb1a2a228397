import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { classifyDrop, MAX_UNZIPPED_BYTES, unzipModel } from './dropped';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('what a drop is', () => {
  it('recognises model files, a folder, a zip of a model, images and .npy arrays with labels', () => {
    const model = classifyDrop([{ name: 'model.json', bytes: bytes('{}') }, { name: 'group1-shard1of1.bin', bytes: new Uint8Array(4) }]);
    expect(model).toMatchObject({ kind: 'model', label: 'model.json' });
    expect(classifyDrop([{ name: 'my-net/model.json', bytes: bytes('{}') }])).toMatchObject({ kind: 'model', label: 'my-net/model.json' });
    const zip = zipSync({ 'net/model.json': bytes('{}'), 'net/w.bin': new Uint8Array(8) });
    const fromZip = classifyDrop([{ name: 'net.zip', bytes: zip }]);
    expect(fromZip).toMatchObject({ kind: 'model', label: 'net.zip' });
    expect(fromZip.kind === 'model' && fromZip.files.map((f) => f.name).sort()).toEqual(['net/model.json', 'net/w.bin']);
    expect(classifyDrop([{ name: 'digit.PNG', bytes: new Uint8Array(8) }])).toMatchObject({ kind: 'image' });
    const pair = classifyDrop([
      { name: 'y.npy', bytes: new Uint8Array(10) },
      { name: 'x.npy', bytes: new Uint8Array(100) },
    ]);
    expect(pair.kind === 'npy' && [pair.file.name, pair.labels?.name]).toEqual(['x.npy', 'y.npy']);
  });

  it('names foreign model formats and says how to convert them', () => {
    expect(classifyDrop([{ name: 'model.h5', bytes: new Uint8Array(4) }])).toEqual({ kind: 'unsupported', reason: expect.stringMatching(/model\.h5 is a Keras model in HDF5 format; convert it with `tensorflowjs_converter --input_format keras model\.h5 out_dir\/`/) });
    expect(classifyDrop([{ name: 'net.onnx', bytes: new Uint8Array(4) }])).toEqual({ kind: 'unsupported', reason: expect.stringMatching(/net\.onnx is an ONNX model/) });
    expect(classifyDrop([{ name: 'ckpt.pt', bytes: new Uint8Array(4) }])).toEqual({ kind: 'unsupported', reason: expect.stringMatching(/PyTorch checkpoint/) });
    expect(classifyDrop([{ name: 'w.bin', bytes: new Uint8Array(4) }])).toEqual({ kind: 'unsupported', reason: expect.stringMatching(/Only weight files/) });
    expect(classifyDrop([{ name: 'notes.txt', bytes: new Uint8Array(4) }])).toEqual({ kind: 'unsupported', reason: expect.stringMatching(/notes\.txt: not a TF\.js model/) });
  });

  it('refuses zips with unsafe paths, zip bombs and damaged archives before expanding them', () => {
    const traversal = zipSync({ '../evil/model.json': bytes('{}') });
    expect(() => unzipModel({ name: 'bad.zip', bytes: traversal })).toThrow(/bad\.zip contains the unsafe path '\.\.\/evil\/model\.json'; nothing was loaded/);
    // A small archive whose central directory declares a 3.75 GiB entry: refused from the
    // declared size, before anything is inflated.
    const bomb = zipSync({ 'a.bin': new Uint8Array(64) }, { level: 0 });
    const view = new DataView(bomb.buffer);
    const central = bomb.findIndex((_, i) => i + 4 <= bomb.length && view.getUint32(i, true) === 0x02014b50);
    expect(central).toBeGreaterThan(0);
    view.setUint32(central + 24, 0xf0000000, true);
    expect(0xf0000000).toBeGreaterThan(MAX_UNZIPPED_BYTES);
    expect(() => unzipModel({ name: 'bomb.zip', bytes: bomb })).toThrow(/bomb\.zip expands to more than 600 MiB \(a zip bomb\?\)/);
    expect(() => unzipModel({ name: 'broken.zip', bytes: bytes('PK this is not a zip') })).toThrow(/broken\.zip is not a readable zip archive/);
  });
});
