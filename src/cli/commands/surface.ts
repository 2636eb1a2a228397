/**
 * `ravine surface`: one input-space surface (PAPER.md §1) on a G × G grid, written to a folder
 * as surface.json (settings, axes, grids) and .npy files, for plotting elsewhere.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { computeDirections, type AdversarialKind, type RandomKind } from '../../engine/directions';
import { computeSurface, gridAxis, MAX_GRID_SIDE, type SurfaceResult } from '../../engine/surface';
import { datasetToFloat } from '../../io/dataset';
import { writeNpy } from '../../io/npy';
import { type CommandSpec, type ParsedArgs, quote, UsageError } from '../args';
import { BACKEND_OPTIONS, provenance, readBackendArgs, startBackend } from '../backend';
import { checkSampleShape, directionValues, imageValues, loadDataset, readNpyFile } from '../inputs';
import { EXIT_OK, type CliIo } from '../io';
import { float32List, formatJson, gridRows, shortestFloat32 } from '../json';
import { describeModel, resolveModel, withClassifier } from '../models';
import { createProgress } from '../progress';

/** Largest --range / --range-b: far past any useful perturbation of inputs on [0, 1]. */
const MAX_RANGE = 100;
/** Seeds are unsigned 32-bit integers (the generator hashes them). */
const MAX_SEED = 2 ** 32 - 1;

export const surfaceSpec: CommandSpec = {
  name: 'surface',
  summary: 'compute one input-space loss / decision surface and write it to a folder',
  usage: [
    '--model <id|path> --dataset <id> --index <i> --out-dir <dir> [options]',
    '--model <id|path> --input <x.npy> --label <k> --out-dir <dir> [options]',
  ],
  options: {
    model: { type: 'string', value: '<id|path>', help: "a built-in model id (see 'ravine zoo'), a model.json file, or a folder holding one" },
    dataset: { type: 'string', value: '<id>', help: 'take the sample from this dataset: mnist or fashion-mnist (their test splits in public/data)' },
    index: { type: 'string', value: '<i>', help: 'which image of --dataset (0-based)' },
    'data-dir': { type: 'string', value: '<dir>', help: 'read --dataset from <dir>/<id>.json and its .npy files instead of public/data' },
    input: { type: 'string', value: '<x.npy>', help: 'take the sample from a .npy file: uint8 (0..255) or float32 (on [0, 1]),\nany shape with the model input\'s element count (see below)' },
    label: { type: 'string', value: '<k>', help: 'true class of --input (0-based)' },
    grid: { type: 'string', value: '<G>', help: `points per axis, 2..${MAX_GRID_SIDE} (odd puts the clean input on the grid)`, default: '51' },
    range: { type: 'string', value: '<r>', help: 'the a axis spans [-r, r] along d1 (input units, L∞ for sign directions)', default: '0.3' },
    'range-b': { type: 'string', value: '<r>', help: 'the b axis spans [-r, r] along d2', default: '--range' },
    seed: { type: 'string', value: '<n>', help: 'seed of the random direction d2', default: '0' },
    direction: { type: 'string', value: 'sign|gradient', help: 'd1 = sign of the input gradient of the loss, or the raw gradient\nscaled to the same L2 norm', default: 'sign' },
    random: { type: 'string', value: 'rademacher|gaussian', help: 'distribution of d2 (gaussian is scaled to the norm of a ±1 vector)', default: 'rademacher' },
    orthogonal: { type: 'boolean', help: 'Gram-Schmidt d2 against d1 (keeping its norm)' },
    d1: { type: 'string', value: '<npy>', help: 'use this float32 direction as d1 instead of the gradient' },
    d2: { type: 'string', value: '<npy>', help: 'use this float32 direction as d2 instead of a random one' },
    ...BACKEND_OPTIONS,
    'out-dir': { type: 'string', value: '<dir>', help: 'folder to write surface.json and the .npy files to (created if needed)' },
  },
  notes: [
    'Writes <dir>/surface.json (settings, model id and sha256, backend, seconds spent on the\n' +
      'grid, axes a and b, grids loss / margin / pred / confidence as G rows of G values: row j\n' +
      'is b[j], column i is a[i]) and <dir>/{loss,margin,confidence}.npy (float32 [G, G]),\n' +
      '<dir>/pred.npy (int32 [G, G], the argmax class), <dir>/{x,d1,d2}.npy (float32, the\n' +
      "model's input shape). Point (i, j) is clip(x + a[i]*d1 + b[j]*d2) in the input range.",
    "Sample shape rule: --input, --d1 and --d2 need the model input's element count, and either\n" +
      'a flat shape or the same shape up to axes of length 1: for a [28, 28, 1] model, [784],\n' +
      '[28, 28], [28, 28, 1] and [1, 28, 28, 1] all work.',
    'Exit status: 0 done, 2 bad arguments or input files, 3 internal error.',
  ],
  examples: [
    'ravine surface --model mnist-cnn-natural --dataset mnist --index 0 --out-dir out/s0',
    'ravine surface --model ./my-model/ --input digit.npy --label 3 --grid 101 --range 0.5 --out-dir out/mine',
  ],
};

interface Sample {
  x: Float32Array;
  label: number;
  valueRange: [number, number];
  describe: Record<string, unknown>;
}

/** Smallest |coefficient| on the clean row / column where the prediction is not the label. */
function firstFlip(pred: Int32Array, axis: Float32Array, label: number, at: (k: number) => number): number | undefined {
  let best: number | undefined;
  for (let k = 0; k < axis.length; k++) {
    if (pred[at(k)] !== label && (best === undefined || Math.abs(axis[k]) < Math.abs(best))) best = axis[k];
  }
  return best;
}

function summary(result: SurfaceResult, sample: Sample, g: number): string[] {
  const lines: string[] = [];
  if (g % 2 === 0) return lines;
  const c = (g - 1) / 2;
  const centre = c * g + c;
  lines.push(
    `clean input: label ${sample.label}, predicted ${result.pred[centre]} (confidence ${result.confidence[centre].toFixed(4)}, margin ${result.margin[centre].toFixed(4)}, loss ${result.loss[centre].toFixed(4)})`,
  );
  const alongA = firstFlip(result.pred, result.a, sample.label, (i) => c * g + i);
  const alongB = firstFlip(result.pred, result.b, sample.label, (j) => j * g + c);
  const show = (v: number | undefined, range: number) => (v === undefined ? `no change within ±${shortestFloat32(range)}` : `first at ${v > 0 ? '+' : ''}${Number(v.toPrecision(4))}`);
  lines.push(`prediction differs from the label along d1 (b = 0): ${show(alongA, result.a[g - 1])}; along d2 (a = 0): ${show(alongB, result.b[g - 1])}`);
  return lines;
}

export async function runSurface(args: ParsedArgs, io: CliIo): Promise<number> {
  // Everything that needs no file or backend is checked first, so a typo fails at once.
  const modelArg = args.required('model');
  const outDir = args.required('out-dir');
  const grid = args.int('grid', 2, MAX_GRID_SIDE, 51);
  const range = args.number('range', { min: 0, max: MAX_RANGE, minExclusive: true }, 0.3);
  const rangeB = args.number('range-b', { min: 0, max: MAX_RANGE, minExclusive: true }, range);
  const seed = args.int('seed', 0, MAX_SEED, 0);
  const direction = args.choice<AdversarialKind>('direction', ['sign', 'gradient'], 'sign');
  const random = args.choice<RandomKind>('random', ['rademacher', 'gaussian'], 'rademacher');
  const orthogonal = args.flag('orthogonal');
  const backendRequest = readBackendArgs(args);
  const fromDataset = args.has('dataset');
  const fromFile = args.has('input');
  if (fromDataset && fromFile) throw new UsageError('give either --dataset with --index or --input with --label, not both');
  if (!fromDataset && !fromFile) throw new UsageError("a sample is needed: --dataset <id> --index <i>, or --input <x.npy> --label <k>; see 'ravine surface --help'");
  if (fromDataset) {
    args.required('index', 'with --dataset');
    if (args.has('label')) throw new UsageError('--label goes with --input; with --dataset the label comes from the dataset');
  } else {
    args.required('label', 'with --input');
    if (args.has('index')) throw new UsageError('--index goes with --dataset; --input is a single sample');
    if (args.has('data-dir')) throw new UsageError('--data-dir goes with --dataset');
  }

  // Files: the dataset or input, and supplied directions (read before the backend starts).
  const dataset = fromDataset ? await loadDataset(args.required('dataset'), args.string('data-dir')) : undefined;
  const inputFile = fromFile ? await readNpyFile('--input', args.required('input')) : undefined;
  const d1File = args.has('d1') ? await readNpyFile('--d1', args.required('d1')) : undefined;
  const d2File = args.has('d2') ? await readNpyFile('--d2', args.required('d2')) : undefined;
  let index = 0;
  if (dataset) index = args.int('index', 0, dataset.manifest.count - 1) as number;

  const ref = await resolveModel(modelArg);
  const backend = await startBackend(backendRequest, io);
  const valueRange: [number, number] = dataset ? [dataset.manifest.valueRange[0], dataset.manifest.valueRange[1]] : [0, 1];
  return withClassifier(ref, valueRange, async (classifier, loaded) => {
    const shape = classifier.inputShape;
    let sample: Sample;
    if (dataset) {
      const m = dataset.manifest;
      if (m.shape.reduce((a, b) => a * b, 1) !== classifier.inputSize) {
        throw new UsageError(`--dataset ${m.id}: its images are [${m.shape.join(', ')}] but the model expects [${shape.join(', ')}]`);
      }
      const label = dataset.labels[index];
      if (label >= classifier.numClasses) {
        throw new UsageError(`--dataset ${m.id}: image ${index} has label ${label}, but the model has only ${classifier.numClasses} classes`);
      }
      sample = { x: datasetToFloat(dataset, [index]), label, valueRange, describe: { source: 'dataset', dataset: m.id, split: m.split, dataDir: args.has('data-dir') ? resolve(args.string('data-dir') as string) : undefined, index, label } };
    } else {
      const { npy, path } = inputFile as NonNullable<typeof inputFile>;
      checkSampleShape('--input', path, npy.shape, shape);
      const x = imageValues('--input', path, npy, valueRange);
      const label = args.int('label', 0, classifier.numClasses - 1) as number;
      sample = { x, label, valueRange, describe: { source: 'file', input: path, dtype: npy.sourceDescr, shape: npy.shape, label } };
    }
    const supplied = {
      d1: d1File ? directionValues('--d1', d1File.path, d1File.npy, shape) : undefined,
      d2: d2File ? directionValues('--d2', d2File.path, d2File.npy, shape) : undefined,
    };
    const dirs = await computeDirections(classifier, sample.x, sample.label, { adversarial: direction, random, seed, orthogonal }, supplied);
    const a = gridAxis(range, grid);
    const b = gridAxis(rangeB, grid);
    const progress = createProgress(io, 'surface', 'points');
    let result: SurfaceResult;
    try {
      result = await computeSurface(
        classifier,
        { x: sample.x, label: sample.label, d1: dirs.d1, d2: dirs.d2, a, b },
        { signal: io.signal, onProgress: (p) => progress.update(p.done, p.total) },
      );
    } finally {
      progress.stop();
    }

    const dir = resolve(outDir);
    const gg = [grid, grid];
    const files: Record<string, { file: string; dtype: string; shape: number[]; bytes: Uint8Array }> = {
      loss: { file: 'loss.npy', dtype: 'float32', shape: gg, bytes: writeNpy({ dtype: 'float32', shape: gg, data: result.loss }) },
      margin: { file: 'margin.npy', dtype: 'float32', shape: gg, bytes: writeNpy({ dtype: 'float32', shape: gg, data: result.margin }) },
      pred: { file: 'pred.npy', dtype: 'int32', shape: gg, bytes: writeNpy({ dtype: 'int32', shape: gg, data: result.pred }) },
      confidence: { file: 'confidence.npy', dtype: 'float32', shape: gg, bytes: writeNpy({ dtype: 'float32', shape: gg, data: result.confidence }) },
      x: { file: 'x.npy', dtype: 'float32', shape: [...shape], bytes: writeNpy({ dtype: 'float32', shape: [...shape], data: sample.x }) },
      d1: { file: 'd1.npy', dtype: 'float32', shape: [...shape], bytes: writeNpy({ dtype: 'float32', shape: [...shape], data: dirs.d1 }) },
      d2: { file: 'd2.npy', dtype: 'float32', shape: [...shape], bytes: writeNpy({ dtype: 'float32', shape: [...shape], data: dirs.d2 }) },
    };
    const record = {
      format: 'ravine-surface',
      formatVersion: 1,
      ...provenance(backend),
      seconds: result.seconds,
      model: { ...describeModel(loaded), inputShape: [...shape], numClasses: classifier.numClasses, logitsSource: classifier.logitsSource },
      sample: sample.describe,
      settings: {
        grid,
        range,
        rangeB,
        seed,
        direction,
        random,
        orthogonal,
        d1: d1File ? d1File.path : null,
        d2: d2File ? d2File.path : null,
        valueRange: sample.valueRange,
      },
      directions: { d1Source: dirs.d1Source, d2Supplied: dirs.d2Supplied },
      layout: 'grids are G rows of G values: row j is b[j], column i is a[i]; the point is clip(x + a[i]*d1 + b[j]*d2) to valueRange',
      files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, { file: f.file, dtype: f.dtype, shape: f.shape }])),
      a: float32List(result.a),
      b: float32List(result.b),
      loss: gridRows(result.loss, grid, grid),
      margin: gridRows(result.margin, grid, grid),
      pred: gridRows(result.pred, grid, grid),
      confidence: gridRows(result.confidence, grid, grid),
    };
    try {
      await mkdir(dir, { recursive: true });
      for (const f of Object.values(files)) await writeFile(join(dir, f.file), f.bytes);
      await writeFile(join(dir, 'surface.json'), `${formatJson(record)}\n`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`--out-dir ${quote(outDir)}: cannot write there (${code ?? (e as Error).message})`);
    }
    const lines = [
      `surface ${grid}×${grid} of ${ref.id} on ${dataset ? `${dataset.manifest.id} image ${index}` : (inputFile as { path: string }).path}: ${result.seconds.toFixed(2)} s on ${backend.text}`,
      ...summary(result, sample, grid),
      `wrote ${join(dir, 'surface.json')} and ${Object.values(files).map((f) => f.file).join(', ')}`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  });
}
