/**
 * Model files on disk (Node: CLI, scripts, tests). Parsing and validation live in
 * modelFiles.ts; this file only reads and writes bytes.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFileError, parseModelFiles, serializeModel, type ParsedModel } from './modelFiles';

/** Reads `<dir>/model.json` (or the given model.json path) and its shards, validated. */
export async function readModelFiles(path: string): Promise<ParsedModel> {
  const jsonPath = path.endsWith('.json') ? path : join(path, 'model.json');
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new ModelFileError(`${jsonPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  const dir = dirname(jsonPath);
  const shards = new Map<string, Uint8Array>();
  for (const name of await readdir(dir)) {
    if (name.endsWith('.json')) continue;
    const b = await readFile(join(dir, name));
    shards.set(name, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }
  return parseModelFiles(basename(jsonPath), text, shards);
}

/**
 * A model's identity: sha256 over model.json and the weight shards it names, concatenated in
 * sorted file-name order, and their total size in bytes. The CLI and scripts/evaluate.ts
 * (which writes it into public/models/index.json) both use this; the page computes the same
 * digest from dropped files with SubtleCrypto (worker/host.ts).
 */
export async function modelFilesIdentity(jsonPath: string, shardNames: readonly string[]): Promise<{ sha256: string; bytes: number }> {
  const dir = dirname(jsonPath);
  const names = [...new Set([basename(jsonPath), ...shardNames.map((p) => basename(p))])].sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const n of names) {
    const b = await readFile(join(dir, n));
    hash.update(b);
    bytes += b.byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Loads a LayersModel or GraphModel from disk. The caller owns (and disposes) the model. */
export async function loadModelFromPath(path: string): Promise<tf.LayersModel | tf.GraphModel> {
  const parsed = await readModelFiles(path);
  const handler = tf.io.fromMemory(parsed.artifacts);
  return parsed.format === 'graph-model' ? tf.loadGraphModel(handler) : tf.loadLayersModel(handler);
}

/** Writes a LayersModel as `<dir>/model.json` + `<dir>/group1-shard1of1.bin`; returns bytes written. */
export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<number> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('tfjs produced no model artifacts');
  const { modelJson, shard } = serializeModel(artifacts);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), modelJson);
  await writeFile(join(dir, 'group1-shard1of1.bin'), shard);
  return modelJson.length + shard.byteLength;
}
