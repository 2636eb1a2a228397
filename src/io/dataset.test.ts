import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUILTIN_DATASETS,
  BUILTIN_DATASET_IDS,
  DatasetError,
  SPLIT_SEED,
  datasetToFloat,
  imageBytes,
  mulberry32,
  parseDataset,
  stratifiedSplit,
  validateManifest,
  type DatasetManifest,
} from './dataset';
import { PUBLIC_DATA_DIR, loadDatasetFromDir, loadTrainSplit } from './datasetNode';
import { NpyError, writeNpy } from './npy';

/** A valid 2x2x1, 3-class manifest for `count` images, to be broken field by field. */
function tinyManifest(count: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'tiny',
    name: 'Tiny',
    split: 'test',
    count,
    shape: [2, 2, 1],
    classes: ['a', 'b', 'c'],
    valueRange: [0, 1],
    defaultEps: 0.1,
    epsGrid: [0.05, 0.1],
    source: { package: 'none', version: '0.0.0' },
    seed: 1,
    files: { x: 'tiny-test-x.npy', y: 'tiny-test-y.npy' },
    ...over,
  };
}

/** Three 2x2 images: all 0, all 255, and 0, 51, 102, 255; labels 2, 0, 1. */
const TINY_X = writeNpy({
  dtype: 'uint8',
  shape: [3, 2, 2, 1],
  data: new Uint8Array([0, 0, 0, 0, 255, 255, 255, 255, 0, 51, 102, 255]),
});
const TINY_Y = writeNpy({ dtype: 'uint8', shape: [3], data: new Uint8Array([2, 0, 1]) });

/** Runs `fn`, asserts it throws a DatasetError, and returns the message. */
function datasetErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return (e as DatasetError).message;
  }
  throw new Error('expected a DatasetError, nothing was thrown');
}

async function rejectsWith(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return (e as DatasetError).message;
}

describe('parseDataset', () => {
  it('assembles a valid dataset', () => {
    const ds = parseDataset(tinyManifest(3), TINY_X, TINY_Y);
    expect(ds.manifest.count).toBe(3);
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
    expect(ds.images.length).toBe(12);
    expect(Array.from(imageBytes(ds, 2))).toEqual([0, 51, 102, 255]);
  });

  it('accepts int64 labels as NumPy writes them by default', () => {
    const header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
    const text = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const file = new Uint8Array(10 + text.length + 24);
    file.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
    for (let i = 0; i < text.length; i++) file[10 + i] = text.charCodeAt(i);
    file.set(new Uint8Array(new BigInt64Array([2n, 0n, 1n]).buffer), 10 + text.length);
    expect(Array.from(parseDataset(tinyManifest(3), TINY_X, file).labels)).toEqual([2, 0, 1]);
  });

  it.each([
    ['not an object', [1, 2], /dataset manifest: must be a JSON object/],
    ['a bad id', { id: '../etc' }, /'id' must use only lower-case letters/],
    ['no name', { name: '' }, /'name' must be a non-empty string/],
    ['an unknown split', { split: 'val' }, /'split' must be "test" or "train"/],
    ['a zero count', { count: 0 }, /'count' must be a positive integer, got 0/],
    ['a 2-d image shape', { shape: [28, 28] }, /'shape' must be an image shape/],
    ['one class', { classes: ['a'] }, /'classes' must be a list of 2 to 256/],
    ['a repeated class', { classes: ['a', 'b', 'a'] }, /has a name twice/],
    ['a reversed value range', { valueRange: [1, 0] }, /'valueRange' must be \[lo, hi\] with lo < hi/],
    ['a radius wider than the range', { defaultEps: 2 }, /'defaultEps' must be a radius in \(0, 1\]/],
    ['a decreasing eps grid', { epsGrid: [0.2, 0.1] }, /'epsGrid' must increase/],
    ['no source version', { source: { package: 'x' } }, /'source' must be/],
    ['a negative seed', { seed: -1 }, /'seed' must be an unsigned 32-bit integer/],
    ['a file path with a folder', { files: { x: '../secret.npy', y: 'y.npy' } }, /'files.x' must be a plain .npy file name/],
  ])('rejects a manifest with %s', (_label, over, pattern) => {
    const manifest = Array.isArray(over) ? over : tinyManifest(3, over);
    expect(datasetErrorOf(() => parseDataset(manifest, TINY_X, TINY_Y))).toMatch(pattern);
  });

  it('rejects float images, with the conversion to use', () => {
    const x = writeNpy({ dtype: 'float32', shape: [3, 2, 2, 1], data: new Float32Array(12) });
    expect(datasetErrorOf(() => parseDataset(tinyManifest(3), x, TINY_Y))).toBe(
      "dataset 'tiny': tiny-test-x.npy holds <f4 values; images must be uint8 bytes 0..255 " +
        '(e.g. np.save(path, np.round(x * 255).astype(np.uint8)) for floats on [0, 1])',
    );
  });

  it('rejects images whose shape disagrees with the manifest', () => {
    expect(datasetErrorOf(() => parseDataset(tinyManifest(3, { shape: [28, 28, 1] }), TINY_X, TINY_Y))).toMatch(
      /tiny-test-x\.npy has shape \[3, 2, 2, 1\]; the manifest says \[3, 28, 28, 1\]/,
    );
    expect(datasetErrorOf(() => parseDataset(tinyManifest(4), TINY_X, TINY_Y))).toMatch(/the manifest says \[4, 2, 2, 1\]/);
  });

  it('rejects a label file of the wrong length', () => {
    const y = writeNpy({ dtype: 'uint8', shape: [2], data: new Uint8Array([0, 1]) });
    expect(datasetErrorOf(() => parseDataset(tinyManifest(3), TINY_X, y))).toMatch(
      /tiny-test-y\.npy has shape \[2\]; the manifest says \[3\]/,
    );
  });

  it('rejects a label that names no class', () => {
    const y = writeNpy({ dtype: 'uint8', shape: [3], data: new Uint8Array([0, 3, 1]) });
    expect(datasetErrorOf(() => parseDataset(tinyManifest(3), TINY_X, y))).toBe(
      "dataset 'tiny': tiny-test-y.npy: label 3 of image 1 is not a class index 0..2",
    );
  });

  it('wraps a broken .npy file, keeping the NpyError as the cause', () => {
    let error: unknown;
    try {
      parseDataset(tinyManifest(3), TINY_X.subarray(0, TINY_X.length - 1), TINY_Y);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(/^dataset 'tiny': tiny-test-x\.npy: file is truncated/);
    expect((error as Error).cause).toBeInstanceOf(NpyError);
  });
});

describe('datasetToFloat', () => {
  const ds = parseDataset(tinyManifest(3), TINY_X, TINY_Y);

  it('gives [n, H, W, C] in [0, 1], in the order asked', () => {
    const out = datasetToFloat(ds, [2, 1, 2]);
    expect(out.length).toBe(3 * 4);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0.2, 0.4, 1].map(Math.fround));
    expect(Array.from(out.subarray(4, 8))).toEqual([1, 1, 1, 1]);
    expect(Array.from(out.subarray(8, 12))).toEqual(Array.from(out.subarray(0, 4)));
    expect(datasetToFloat(ds, []).length).toBe(0);
  });

  it('maps bytes onto another value range', () => {
    const signed = parseDataset(tinyManifest(3, { valueRange: [-1, 1] }), TINY_X, TINY_Y);
    expect(Array.from(datasetToFloat(signed, [2]))).toEqual([-1, -1 + 102 / 255, -1 + 204 / 255, 1].map(Math.fround));
  });

  it('rejects an index outside the dataset', () => {
    expect(datasetErrorOf(() => datasetToFloat(ds, [0, 3]))).toBe("dataset 'tiny': image index 3 is outside 0..2");
    expect(datasetErrorOf(() => datasetToFloat(ds, [1.5]))).toMatch(/image index 1.5/);
  });
});

describe('stratifiedSplit', () => {
  /** The `mnist` package's per-class counts: its labels are these runs, class 0 first. */
  const MNIST_CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
  const runs = (counts: number[]) => Uint8Array.from(counts.flatMap((n, c) => new Array<number>(n).fill(c)));

  it('mulberry32 gives the reference sequence', () => {
    // mulberry32(1)'s first value as published with the algorithm; the shipped split depends on it.
    expect(mulberry32(1)()).toBe(0.6270739405881613);
    const r = mulberry32(SPLIT_SEED);
    expect([r(), r(), r()]).toEqual([0.8369034586939961, 0.10692773014307022, 0.43363374494947493]);
  });

  it('partitions the items, class shares to within one item, exact totals', () => {
    const labels = runs(MNIST_CLASS_COUNTS);
    const { train, test, testPerClass } = stratifiedSplit(labels, 10, 2000, SPLIT_SEED);
    expect(test.length).toBe(2000);
    expect(train.length).toBe(8000);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(Array.from({ length: 10000 }, (_, i) => i));
    // Largest remainder of n_c / 5: 200.2 225.4 198.2 206.4 196 172.6 202.8 214 188.8 195.6.
    expect(testPerClass).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    const counted = new Array<number>(10).fill(0);
    for (const i of test) counted[labels[i]]++;
    expect(counted).toEqual(testPerClass);
    // Shuffled, not grouped by class.
    expect(Array.from(test.subarray(0, 20), (i) => labels[i])).not.toEqual(new Array(20).fill(labels[test[0]]));
  });

  it('is deterministic in the seed', () => {
    const labels = runs([30, 50, 20]);
    const a = stratifiedSplit(labels, 3, 10, 7);
    const b = stratifiedSplit(labels, 3, 10, 7);
    const c = stratifiedSplit(labels, 3, 10, 8);
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
    expect(a.testPerClass).toEqual([3, 5, 2]);
  });

  it('rejects a test count larger than the data and labels out of range', () => {
    expect(() => stratifiedSplit(runs([2, 2]), 2, 5, 1)).toThrow(RangeError);
    expect(() => stratifiedSplit([0, 2], 2, 1, 1)).toThrow(/label 2 of item 1/);
  });

  it('made the shipped label files (same seed, same split)', async () => {
    // The packages store images grouped by class, so their labels are runs; the shipped
    // test labels must be exactly those runs permuted by the split.
    const cases = [
      ['mnist', MNIST_CLASS_COUNTS, 2000],
      ['fashion-mnist', new Array<number>(10).fill(7000), 10000],
    ] as const;
    for (const [id, counts, testCount] of cases) {
      const labels = runs([...counts]);
      const { test } = stratifiedSplit(labels, 10, testCount, SPLIT_SEED);
      const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, id);
      expect(ds.manifest.seed).toBe(SPLIT_SEED);
      expect(Array.from(ds.labels), id).toEqual(Array.from(test, (i) => labels[i]));
    }
  });
});

describe('the shipped datasets', () => {
  it.each(BUILTIN_DATASET_IDS)('%s loads, validates and matches the documented format', async (id) => {
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, id);
    const info = BUILTIN_DATASETS[id];
    const m: DatasetManifest = ds.manifest;
    expect(m).toMatchObject({
      id,
      name: info.name,
      split: 'test',
      shape: [28, 28, 1],
      classes: info.classes,
      valueRange: [0, 1],
      defaultEps: info.defaultEps,
      epsGrid: info.epsGrid,
      source: { package: id, version: '1.1.0' },
      files: { x: `${id}-test-x.npy`, y: `${id}-test-y.npy` },
    });
    expect(m.count).toBe(id === 'mnist' ? 2000 : 10000);
    expect(ds.images.length).toBe(m.count * 784);
    const perClass = new Array<number>(10).fill(0);
    for (const l of ds.labels) perClass[l]++;
    expect(perClass).toEqual(id === 'mnist' ? [200, 225, 198, 206, 196, 173, 203, 214, 189, 196] : new Array(10).fill(1000));
    // Real images: mostly dark background, some full-white pixels, in [0, 1] after scaling.
    const x = datasetToFloat(ds, [0, 1, 2, 3]);
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
    expect(Math.max(...x)).toBeGreaterThan(0.9);
  });

  it('names the Fashion-MNIST classes in label order', () => {
    expect(BUILTIN_DATASETS['fashion-mnist'].classes[0]).toBe('T-shirt/top');
    expect(BUILTIN_DATASETS['fashion-mnist'].classes[9]).toBe('Ankle boot');
    expect(BUILTIN_DATASETS.mnist.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('every built-in manifest passes its own validator unchanged', async () => {
    for (const id of BUILTIN_DATASET_IDS) {
      const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, id);
      expect(validateManifest(ds.manifest)).toEqual(ds.manifest);
    }
  });
});

describe('loading from disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ravine-dataset-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const writeTiny = (id: string, manifest: Record<string, unknown>) => {
    writeFileSync(join(dir, `${id}.json`), JSON.stringify(manifest));
    writeFileSync(join(dir, 'tiny-test-x.npy'), TINY_X);
    writeFileSync(join(dir, 'tiny-test-y.npy'), TINY_Y);
  };

  it('loads a folder', async () => {
    writeTiny('tiny', tinyManifest(3));
    const ds = await loadDatasetFromDir(dir, 'tiny');
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
  });

  it('says which file is missing', async () => {
    expect(await rejectsWith(loadDatasetFromDir(dir, 'nothing'))).toMatch(/nothing\.json does not exist/);
    writeTiny('gone', tinyManifest(3, { id: 'gone', files: { x: 'tiny-test-x.npy', y: 'absent.npy' } }));
    expect(await rejectsWith(loadDatasetFromDir(dir, 'gone'))).toMatch(/absent\.npy does not exist/);
  });

  it('rejects a manifest that is not JSON or describes another dataset', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"id": "broken",');
    expect(await rejectsWith(loadDatasetFromDir(dir, 'broken'))).toMatch(/broken\.json is not valid JSON/);
    writeTiny('other', tinyManifest(3));
    expect(await rejectsWith(loadDatasetFromDir(dir, 'other'))).toMatch(/describes dataset 'tiny'/);
    expect(await rejectsWith(loadDatasetFromDir(dir, '../tiny'))).toMatch(/not a dataset id/);
  });

  it('loadTrainSplit reads a train split and says how to make a missing one', async () => {
    writeTiny('tiny', tinyManifest(3, { split: 'train' }));
    expect((await loadTrainSplit('tiny', dir)).manifest.split).toBe('train');
    writeTiny('tiny', tinyManifest(3));
    expect(await rejectsWith(loadTrainSplit('tiny', dir))).toMatch(/is the test split, not the training split/);
    expect(await rejectsWith(loadTrainSplit('mnist', join(dir, 'empty')))).toMatch(
      /training split of 'mnist' is not in .*; run `npx tsx scripts\/prepare-data\.ts`/,
    );
  });
});
