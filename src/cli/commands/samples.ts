/**
 * The sample set of `metric` and `attack`: the first --samples images of a dataset split, or
 * of a --data .npy file (with --labels), checked against the model.
 */
import type { Classifier } from '../../engine/classifier';
import { BUILTIN_DATASETS, type BuiltinDatasetId, type Dataset } from '../../io/dataset';
import type { ParsedNpy } from '../../io/npy';
import { type OptionSpec, type ParsedArgs, UsageError } from '../args';
import { datasetSamples, fileSamples, labelValues, loadDataset, readNpyFile, type SampleSet } from '../inputs';
import { modelDatasetId, type ModelRef } from '../models';

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
