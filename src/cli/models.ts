/**
 * Which model a `--model` argument names, loading it, and its content hash.
 *
 * Resolution rule: an argument that contains a path separator or ends in `.json` is a path;
 * otherwise it is a built-in id when `public/models/<id>/model.json` exists (relative to the
 * package root, found from this file's location), and a path when a file or folder of that
 * name exists. A path may be a model.json file or a folder holding `model.json`.
 */
import * as tf from '@tensorflow/tfjs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type Classifier, createClassifier } from '../engine/classifier';
import { REPO_ROOT } from '../io/datasetNode';
import { modelFilesIdentity, readModelFiles } from '../io/modelNode';
import { quote, UsageError } from './args';

/** The built-in models shipped with the package. */
export const MODELS_DIR = join(REPO_ROOT, 'public', 'models');
/** The zoo manifest written by scripts/evaluate.ts. */
export const MODEL_INDEX_PATH = join(MODELS_DIR, 'index.json');

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** One model of public/models/index.json (the fields the CLI reads; the rest pass through). */
export interface ModelIndexEntry {
  id: string;
  title?: string;
  dataset?: string;
  arch?: string;
  training?: { method?: string; eps?: number; steps?: number; epochs?: number };
  pair?: string;
  robust?: boolean;
  sha256?: string;
  accuracy?: { clean?: number; eps?: number[]; fgsm?: number[]; pgd20?: number[]; attackSamples?: number; cleanSamples?: number };
  metric?: { R?: number; eps?: number; n?: number };
  [key: string]: unknown;
}

export interface ModelIndex {
  generatedBy?: string;
  generatedAt?: string;
  models: ModelIndexEntry[];
}

/** Reads public/models/index.json. @throws UsageError when it is missing or malformed. */
export async function readModelIndex(): Promise<ModelIndex> {
  let text: string;
  try {
    text = await readFile(MODEL_INDEX_PATH, 'utf8');
  } catch (e) {
    throw new UsageError(
      `${MODEL_INDEX_PATH} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ` +
        `it is written by 'npx tsx scripts/evaluate.ts'`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${MODEL_INDEX_PATH} is not valid JSON (${(e as Error).message})`);
  }
  const models = (raw as { models?: unknown } | null)?.models;
  if (!Array.isArray(models) || !models.every((m) => typeof (m as { id?: unknown })?.id === 'string')) {
    throw new UsageError(`${MODEL_INDEX_PATH} has no "models" list of entries with an "id"`);
  }
  return raw as ModelIndex;
}

/** The index entry of a built-in model, or undefined (not evaluated yet, or no index). */
export async function findIndexEntry(id: string): Promise<ModelIndexEntry | undefined> {
  try {
    return (await readModelIndex()).models.find((m) => m.id === id);
  } catch {
    return undefined;
  }
}

/**
 * The dataset a model was trained on: its index.json entry's, else the `dataset` of the
 * training.json that scripts/train.ts writes beside model.json; undefined when neither says.
 */
export async function modelDatasetId(ref: ModelRef): Promise<string | undefined> {
  if (ref.builtin) {
    const entry = await findIndexEntry(ref.id);
    if (typeof entry?.dataset === 'string') return entry.dataset;
  }
  try {
    const training = JSON.parse(await readFile(join(dirname(ref.jsonPath), 'training.json'), 'utf8')) as { dataset?: unknown };
    return typeof training.dataset === 'string' ? training.dataset : undefined;
  } catch {
    return undefined;
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/** Ids of the folders under public/models that hold a model.json, sorted. */
export async function builtinModelIds(): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(MODELS_DIR);
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const n of names.sort()) {
    if (ID_PATTERN.test(n) && (await statOrNull(join(MODELS_DIR, n, 'model.json')))?.isFile()) ids.push(n);
  }
  return ids;
}

/** Where a `--model` argument points. */
export interface ModelRef {
  /** The argument as given. */
  arg: string;
  /** The built-in id, or for a path the folder's name (or the .json file's stem). */
  id: string;
  builtin: boolean;
  /** Absolute path of the model.json file. */
  jsonPath: string;
}

/** Resolves `--model` by the rule in this module's comment. @throws UsageError naming --model. */
export async function resolveModel(arg: string): Promise<ModelRef> {
  const looksLikePath = /[\\/]/.test(arg) || arg.endsWith('.json') || arg === '.' || arg === '..';
  if (!looksLikePath && ID_PATTERN.test(arg)) {
    const jsonPath = join(MODELS_DIR, arg, 'model.json');
    if ((await statOrNull(jsonPath))?.isFile()) return { arg, id: arg, builtin: true, jsonPath };
  }
  const path = resolve(arg);
  const st = await statOrNull(path);
  if (st?.isDirectory()) {
    const jsonPath = join(path, 'model.json');
    if (!(await statOrNull(jsonPath))?.isFile()) throw new UsageError(`--model ${quote(arg)}: the folder holds no model.json`);
    return { arg, id: basename(path), builtin: false, jsonPath };
  }
  if (st?.isFile()) {
    if (!path.endsWith('.json')) throw new UsageError(`--model ${quote(arg)}: expected a model.json file or a folder holding one`);
    const stem = basename(path, '.json');
    return { arg, id: stem === 'model' ? basename(dirname(path)) : stem, builtin: false, jsonPath: path };
  }
  if (looksLikePath) throw new UsageError(`--model ${quote(arg)}: no such file or folder`);
  const ids = await builtinModelIds();
  throw new UsageError(
    `--model ${quote(arg)} is neither a built-in model (${ids.length ? ids.join(', ') : 'none on disk'}; see 'ravine zoo') nor a file or folder`,
  );
}

/** A loaded model and what identifies it. */
export interface LoadedModel {
  ref: ModelRef;
  /** Owned by the caller: dispose when done. */
  model: tf.LayersModel | tf.GraphModel;
  /** sha256 over model.json and its weight shards (see modelFilesIdentity in io/modelNode.ts). */
  sha256: string;
  format: 'layers-model' | 'graph-model';
}

/**
 * Reads, validates and builds the model (modelNode.readModelFiles, then tfjs from memory, as
 * loadModelFromPath does). @throws ModelFileError for broken files, UsageError when tfjs
 * cannot build the topology.
 */
export async function loadModel(ref: ModelRef): Promise<LoadedModel> {
  const parsed = await readModelFiles(ref.jsonPath);
  const { sha256 } = await modelFilesIdentity(ref.jsonPath, parsed.shardNames);
  const handler = tf.io.fromMemory(parsed.artifacts);
  let model: tf.LayersModel | tf.GraphModel;
  try {
    model = parsed.format === 'graph-model' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  } catch (e) {
    throw new UsageError(`--model ${quote(ref.arg)}: TensorFlow.js could not build the model from ${ref.jsonPath} (${(e as Error).message})`);
  }
  return { ref, model, sha256, format: parsed.format };
}

/**
 * Loads the model, wraps it as a classifier on `valueRange`, runs `work` with both, and disposes
 * them whatever happens: the shape every computing command shares.
 */
export async function withClassifier<T>(ref: ModelRef, valueRange: readonly [number, number], work: (classifier: Classifier, loaded: LoadedModel) => Promise<T>): Promise<T> {
  const loaded = await loadModel(ref);
  try {
    const classifier = createClassifier(loaded.model, { valueRange: [valueRange[0], valueRange[1]] });
    try {
      return await work(classifier, loaded);
    } finally {
      classifier.dispose();
    }
  } finally {
    loaded.model.dispose();
  }
}

/** How a model is named in outputs: the id, and its file relative to the package root for built-ins. */
export function describeModel(m: LoadedModel): { id: string; builtin: boolean; file: string; sha256: string; format: string } {
  return {
    id: m.ref.id,
    builtin: m.ref.builtin,
    file: m.ref.builtin ? relative(REPO_ROOT, m.ref.jsonPath).split('\\').join('/') : m.ref.jsonPath,
    sha256: m.sha256,
    format: m.format,
  };
}
