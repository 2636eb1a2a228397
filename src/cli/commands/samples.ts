/**
 * The sample set of `metric` and `attack`: the first --samples images of a dataset split, or
 * of a --data .npy file (with --labels), checked against the model.
 */
import type { Classifier } from '../../engine/classifier';
import { BUILTIN_DATASETS, type BuiltinDatasetId, type Dataset } from '../../io/dataset';
import type { ParsedNpy } from '../../io/npy';
import { type OptionSpec, type ParsedArgs, UsageError } from '../args';
import { datasetSamples, fileSamples, labelValues, loadDataset, readNpyFile, type SampleSet } from '../inputs';
import type { Norm } from '../../engine/pgd';
import { modelDatasetId, resolveModel, type ModelRef } from '../models';

/** The options every sample-set command shares. */
export const SAMPLE_OPTIONS: Record<string, OptionSpec> = {
  dataset: { type: 'string', value: '<id>', help: 'samples from this dataset: mnist or fashion-mnist (their test splits in public/data)' },
  'data-dir': { type: 'string', value: '<dir>', help: 'read --dataset from <dir>/<id>.json and its .npy files instead of public/data' },
  data: { type: 'string', value: '<x.npy>', help: 'samples from a .npy file [N, ...one sample], uint8 (0..255) or float32 (on [0, 1])' },
  labels: { type: 'string', value: '<y.npy>', help: 'labels of --data: integers, shape [N]' },
};

/** Where the samples come from, read from disk but not yet matched with a model. */
export interface SampleSource {
  dataset?: Dataset;
  dataDir?: string;
  data?: { npy: ParsedNpy; path: string };
  labels?: { npy: ParsedNpy; path: string };
  /** Samples available. */
  available: number;
}

/** Reads --dataset or --data/--labels. `labelsRequired`: --data needs --labels. */
export async function readSampleSource(args: ParsedArgs, labelsRequired: boolean): Promise<SampleSource> {
  const fromDataset = args.has('dataset');
  const fromFile = args.has('data');
  const cmd = args.command;
  if (fromDataset && fromFile) throw new UsageError('give either --dataset or --data, not both');
  if (!fromDataset && !fromFile) {
    throw new UsageError(`samples are needed: --dataset <id>, or --data <x.npy>${labelsRequired ? ' --labels <y.npy>' : ' [--labels <y.npy>]'}; see 'ravine ${cmd} --help'`);
  }
  if (fromDataset) {
    if (args.has('labels')) throw new UsageError('--labels goes with --data; a dataset has its own labels');
    const dataDir = args.string('data-dir');
    const dataset = await loadDataset(args.required('dataset'), dataDir);
    return { dataset, dataDir, available: dataset.manifest.count };
  }
  if (args.has('data-dir')) throw new UsageError('--data-dir goes with --dataset');
  if (labelsRequired) args.required('labels', 'with --data');
  const data = await readNpyFile('--data', args.required('data'));
  const labels = args.has('labels') ? await readNpyFile('--labels', args.required('labels')) : undefined;
  return { data, labels, available: data.npy.shape.length >= 1 ? data.npy.shape[0] : 0 };
}

/**
 * The dataset whose default ε and ε grid apply: --dataset's, else the one the model was
 * trained on (from index.json or the training.json beside model.json), else none.
 */
export async function defaultsDataset(source: SampleSource, ref: ModelRef): Promise<{ id: string; defaultEps: number; epsGrid: number[] } | undefined> {
  if (source.dataset) return { id: source.dataset.manifest.id, defaultEps: source.dataset.manifest.defaultEps, epsGrid: source.dataset.manifest.epsGrid };
  const id = await modelDatasetId(ref);
  const known = id === undefined ? undefined : BUILTIN_DATASETS[id as BuiltinDatasetId];
  return known ? { id: id as string, defaultEps: known.defaultEps, epsGrid: known.epsGrid } : undefined;
}

/** The value range samples will be on: the dataset's, or [0, 1] for files. */
export function sourceValueRange(source: SampleSource): [number, number] {
  const r = source.dataset?.manifest.valueRange;
  return r ? [r[0], r[1]] : [0, 1];
}

/** The first `n` samples, matched with the classifier. @throws UsageError naming the option at fault. */
export function buildSamples(source: SampleSource, n: number, classifier: Classifier): SampleSet {
  if (source.dataset) {
    const m = source.dataset.manifest;
    if (m.shape.reduce((a, b) => a * b, 1) !== classifier.inputSize) {
      throw new UsageError(`--dataset ${m.id}: its images are [${m.shape.join(', ')}] but the model expects [${classifier.inputShape.join(', ')}]`);
    }
    if (m.classes.length > classifier.numClasses) {
      throw new UsageError(`--dataset ${m.id} has ${m.classes.length} classes but the model outputs only ${classifier.numClasses}`);
    }
    return datasetSamples(source.dataset, n, source.dataDir);
  }
  const data = source.data as NonNullable<SampleSource['data']>;
  const set: SampleSet = fileSamples(data.path, data.npy, n, classifier.inputShape);
  if (source.labels) {
    const all = labelValues('--labels', source.labels.path, source.labels.npy, data.npy.shape[0], classifier.numClasses);
    set.labels = all.subarray(0, n);
    set.describe = { ...set.describe, labels: source.labels.path };
  }
  return set;
}

/** Largest ε for L2 as a multiple of the input range's width (the engine's own bound). */
const L2_EPS_FACTOR = 1e3;

/** What metric and attack settle before any tensor work. */
export interface SampleRun {
  ref: ModelRef;
  source: SampleSource;
  /** Samples to use (--samples, or `defaultSamples`, or all when fewer). */
  n: number;
  /** The samples' value range. */
  range: [number, number];
  /** Largest ε accepted for `norm`. */
  epsMax: number;
  /** The dataset whose default radii apply, when one is known. */
  defaults: Awaited<ReturnType<typeof defaultsDataset>>;
}

/**
 * Shared preparation of `metric` and `attack`: the L2 radius rule, the model reference, the
 * samples and their count, the value range and the largest ε, in the order their errors
 * should surface.
 */
export async function prepareSampleRun(args: ParsedArgs, modelArg: string, norm: Norm, labelsRequired: boolean, defaultSamples: number): Promise<SampleRun> {
  if (norm === 'l2' && !args.has('eps')) throw new UsageError("--eps is required with --norm l2 (the datasets' default radii are L∞ radii)");
  const ref = await resolveModel(modelArg);
  const source = await readSampleSource(args, labelsRequired);
  const n = args.int('samples', 1, source.available, Math.min(defaultSamples, source.available));
  const range = sourceValueRange(source);
  const width = range[1] - range[0];
  const defaults = await defaultsDataset(source, ref);
  return { ref, source, n, range, epsMax: norm === 'linf' ? width : width * L2_EPS_FACTOR, defaults };
}
