/**
 * Loading datasets from disk in Node (CLI, scripts, tests). The format and its validation
 * are in `dataset.ts`; this file only reads bytes.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatasetError, parseDataset, validateManifest, type Dataset } from './dataset';

/** The repository root, found from this file's location (src/io/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the shipped test splits live. */
export const PUBLIC_DATA_DIR = join(REPO_ROOT, 'public', 'data');
/** Where `scripts/prepare-data.ts` puts the training splits (git-ignored, not shipped). */
export const TRAIN_CACHE_DIR = join(REPO_ROOT, '.cache', 'data');

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
    throw new DatasetError(`${what}: ${path} ${reason}`, { cause: e });
  }
}

/**
 * Reads and validates dataset `id` from `dir` (`<id>.json` and the two .npy files it names).
 *
 * @throws DatasetError when a file is missing, unreadable or invalid, or the manifest
 *   describes another dataset.
 */
export async function loadDatasetFromDir(dir: string, id: string): Promise<Dataset> {
  if (!ID_PATTERN.test(id)) throw new DatasetError(`'${id}' is not a dataset id`);
  const where = `dataset '${id}'`;
  const manifestPath = join(dir, `${id}.json`);
  const text = new TextDecoder().decode(await readBytes(manifestPath, where));
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${where}: ${manifestPath} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const m = validateManifest(manifest);
  if (m.id !== id) throw new DatasetError(`${where}: ${manifestPath} describes dataset '${m.id}'`);
  const [x, y] = await Promise.all([m.files.x, m.files.y].map((name) => readBytes(join(dir, name), where)));
  return parseDataset(m, x, y);
}

/**
 * Reads the training split of a built-in dataset from the cache that
 * `scripts/prepare-data.ts` fills (`.cache/data/<id>.json`, split "train").
 *
 * @param cacheDir where to look; defaults to {@link TRAIN_CACHE_DIR}.
 * @throws DatasetError with the command to run when the cache is empty.
 */
export async function loadTrainSplit(id: string, cacheDir: string = TRAIN_CACHE_DIR): Promise<Dataset> {
  let ds: Dataset;
  try {
    ds = await loadDatasetFromDir(cacheDir, id);
  } catch (e) {
    const code = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (e instanceof DatasetError && code === 'ENOENT') {
      throw new DatasetError(
        `the training split of '${id}' is not in ${cacheDir}; run \`npx tsx scripts/prepare-data.ts\` to make it`,
        { cause: e },
      );
    }
    throw e;
  }
  if (ds.manifest.split !== 'train') {
    throw new DatasetError(`dataset '${id}' in ${cacheDir} is the ${ds.manifest.split} split, not the training split`);
  }
  return ds;
}
