/**
 * Inputs from files and datasets, checked before the engine sees them.
 *
 * Accepted .npy dtypes (the npy reader converts more; the CLI refuses the rest by name):
 * - images (`--input`, `--data`): uint8 (bytes 0..255, mapped to lo + (hi - lo) · b / 255 on
 *   the input range [lo, hi] = [0, 1], exactly as the built-in datasets are) or float32
 *   (already in input units; every value must lie in [0, 1]);
 * - labels (`--labels`): any integer dtype (uint8, int8..int64, uint16..uint64), shape [N];
 * - directions (`--d1`, `--d2`): float32 only, in input units (signed, so never bytes).
 *
 * Shape rule for one sample (`--input`, `--d1`, `--d2`, and each row of `--data`): its
 * element count must equal the model's input size, and either shape must be flat (at most one
 * axis longer than 1) or both must agree once axes of length 1 are dropped. For a
 * [28, 28, 1] model: [784], [28, 28], [28, 28, 1], [1, 28, 28, 1] and [1, 784] are accepted;
 * a channels-first [3, 32, 32] for a [32, 32, 3] model is refused. Values are taken in C
 * order. `--data` has the sample axis first: [N, ...one sample].
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Dataset, datasetToFloat } from '../io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR } from '../io/datasetNode';
import { type ParsedNpy, parseNpy } from '../io/npy';
import { quote, UsageError } from './args';

const DTYPE_NAMES: Record<string, string> = {
  b1: 'bool',
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  u8: 'uint64',
  i8: 'int64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
};

/** 'u1', 'f4', ... from a descr such as '|u1' or '<f4'. */
function dtypeCode(npy: ParsedNpy): string {
  return npy.sourceDescr.replace(/^[<>|=]/, '');
}

function dtypeName(npy: ParsedNpy): string {
  const code = dtypeCode(npy);
  return `${DTYPE_NAMES[code] ?? code} (${quote(npy.sourceDescr)})`;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Reads and parses a .npy file named by `flag`. @throws UsageError (unreadable) or NpyError (malformed). */
export async function readNpyFile(flag: string, path: string): Promise<{ npy: ParsedNpy; path: string }> {
  const abs = resolve(path);
  let bytes: Uint8Array;
  try {
    const b = await readFile(abs);
    bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`}`);
  }
  return { npy: parseNpy(bytes, path), path: abs };
}

/**
 * Whether one sample of shape `shape` fits a model input of shape `inputShape` (rule in the
 * module comment).
 */
export function fitsSampleShape(shape: readonly number[], inputShape: readonly number[]): boolean {
  if (product(shape) !== product(inputShape)) return false;
  const s = shape.filter((d) => d !== 1);
  const m = inputShape.filter((d) => d !== 1);
  if (s.length <= 1 || m.length <= 1) return true;
  return s.length === m.length && s.every((d, i) => d === m[i]);
}

/** @throws UsageError naming `flag` when one sample of `shape` does not fit the model. */
export function checkSampleShape(flag: string, path: string, shape: readonly number[], inputShape: readonly number[]): void {
  if (fitsSampleShape(shape, inputShape)) return;
  const size = product(inputShape);
  const why =
    product(shape) !== size
      ? `${product(shape)} values, but the model's input ${showShape(inputShape)} has ${size}`
      : `the same number of values as the model's input ${showShape(inputShape)} but in another layout (channels first?)`;
  throw new UsageError(`${flag} ${path}: shape ${showShape(shape)} holds ${why}; accepted: ${showShape(inputShape)}, [${size}], or the same with axes of length 1 added or dropped`);
}

/**
 * Image values in input units from a uint8 or float32 array (see the module comment).
 * @throws UsageError naming the file and its dtype for any other dtype, and for float32
 *   values outside `range` or not finite.
 */
export function imageValues(flag: string, path: string, npy: ParsedNpy, range: readonly [number, number]): Float32Array {
  const code = dtypeCode(npy);
  const [lo, hi] = range;
  if (npy.dtype === 'uint8' && code === 'u1') {
    // The same table as datasetToFloat, so a byte means the same value as in the built-in data.
    const table = new Float32Array(256);
    for (let b = 0; b < 256; b++) table[b] = lo + ((hi - lo) * b) / 255;
    return Float32Array.from(npy.data, (b) => table[b]);
  }
  if (npy.dtype === 'float32' && code === 'f4') {
    const data = npy.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(v >= lo && v <= hi)) {
        throw new UsageError(
          `${flag} ${path}: value ${v} at index ${i} is outside the input range [${lo}, ${hi}]; ` +
            `float32 images must already be on [${lo}, ${hi}] (divide 0..255 pixels by 255, or save them as uint8)`,
        );
      }
    }
    return data;
  }
  throw new UsageError(
    `${flag} ${path}: the array is ${dtypeName(npy)}; ravine reads images as uint8 (0..255, divided by 255) or float32 (already on [${lo}, ${hi}]); ` +
      `convert with x.astype(np.float32) or x.astype(np.uint8)`,
  );
}

/** A direction (--d1, --d2): float32, finite, one sample's shape. */
export function directionValues(flag: string, path: string, npy: ParsedNpy, inputShape: readonly number[]): Float32Array {
  if (npy.dtype !== 'float32' || dtypeCode(npy) !== 'f4') {
    throw new UsageError(`${flag} ${path}: the array is ${dtypeName(npy)}; a direction must be float32 (in input units), e.g. d.astype(np.float32)`);
  }
  checkSampleShape(flag, path, npy.shape, inputShape);
  const i = npy.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new UsageError(`${flag} ${path}: value ${npy.data[i]} at index ${i} is not a finite number`);
  return npy.data;
}

/** Labels (--labels): integers of shape [n], each in [0, numClasses). */
export function labelValues(flag: string, path: string, npy: ParsedNpy, n: number, numClasses: number): Int32Array {
  const code = dtypeCode(npy);
  if (npy.dtype === 'float32' || code === 'b1') {
    throw new UsageError(`${flag} ${path}: the array is ${dtypeName(npy)}; labels must be integers (e.g. y.astype(np.int64) or np.uint8)`);
  }
  if (npy.shape.length !== 1 || npy.shape[0] !== n) {
    throw new UsageError(`${flag} ${path}: shape ${showShape(npy.shape)}; expected [${n}], one label per sample of --data`);
  }
  const out = Int32Array.from(npy.data);
  const bad = out.findIndex((y) => y < 0 || y >= numClasses);
  if (bad >= 0) throw new UsageError(`${flag} ${path}: label ${out[bad]} of sample ${bad} is not one of the model's classes 0..${numClasses - 1}`);
  return out;
}

/** Loads dataset `id` from `dir` (default: the built-in test splits in public/data). */
export async function loadDataset(id: string, dir: string | undefined): Promise<Dataset> {
  return loadDatasetFromDir(dir === undefined ? PUBLIC_DATA_DIR : resolve(dir), id);
}

/** A set of samples for the metric or an attack, in input units. */
export interface SampleSet {
  /** n × inputSize values. */
  x: Float32Array;
  /** n labels, when known. */
  labels?: Int32Array;
  n: number;
  /** Input range of the values. */
  valueRange: [number, number];
  /** What the samples are, for the outputs. */
  describe: Record<string, unknown>;
  /** Short text, e.g. "mnist test images 0-199". */
  text: string;
}

/** Dataset images 0..n-1 (the first n of the split, as scripts/evaluate.ts takes them). */
export function datasetSamples(ds: Dataset, n: number, dir: string | undefined): SampleSet {
  const m = ds.manifest;
  const indices = Array.from({ length: n }, (_, i) => i);
  return {
    x: datasetToFloat(ds, indices),
    labels: Int32Array.from(ds.labels.subarray(0, n)),
    n,
    valueRange: [m.valueRange[0], m.valueRange[1]],
    describe: { source: 'dataset', dataset: m.id, split: m.split, dataDir: dir === undefined ? undefined : resolve(dir), first: 0, count: n },
    text: `${m.id} ${m.split} images 0-${n - 1}`,
  };
}

/**
 * The first `n` samples of a --data array of shape [N, ...one sample], checked against the
 * model's input shape. @throws UsageError naming --data.
 */
export function fileSamples(path: string, npy: ParsedNpy, n: number, inputShape: readonly number[]): Omit<SampleSet, 'labels'> {
  const shape = npy.shape;
  if (shape.length < 2) {
    throw new UsageError(`--data ${path}: shape ${showShape(shape)}; expected [N, ...one sample] with the sample axis first, e.g. [N, ${inputShape.join(', ')}]`);
  }
  checkSampleShape('--data', path, shape.slice(1), inputShape);
  const range: [number, number] = [0, 1];
  const size = product(inputShape);
  const all = imageValues('--data', path, npy, range);
  return {
    x: all.subarray(0, n * size),
    n,
    valueRange: range,
    describe: { source: 'file', data: path, dtype: DTYPE_NAMES[dtypeCode(npy)], shape, first: 0, count: n },
    text: `${path} samples 0-${n - 1}`,
  };
}
