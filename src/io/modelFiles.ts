/**
 * TF.js model files (model.json + weight shards) → validated ModelArtifacts, and back.
 *
 * Shared by the page (dropped files, fetched built-ins), the worker, the CLI and the training
 * scripts: everything here works on plain bytes. Validation happens before tfjs sees anything,
 * so a broken upload yields a message that names the file and the problem.
 */
import type * as tf from '@tensorflow/tfjs';

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** Bytes of weights we accept in one model (a 500 MB model would not be explored in a tab). */
export const MAX_WEIGHT_BYTES = 512 * 1024 * 1024;

export type ModelFormat = 'layers-model' | 'graph-model';

export interface ParsedModel {
  format: ModelFormat;
  artifacts: tf.io.ModelArtifacts;
  /** Total bytes of weights. */
  weightBytes: number;
  /** The shard files the manifest named, in order. */
  shardNames: string[];
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

interface WeightGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

function describeJsonError(text: string, e: Error): string {
  if (text.trim().length === 0) return 'it is empty';
  return `it is not valid JSON (${e.message})`;
}

/**
 * Reads `model.json` text and its shards (by file name; folders are ignored) into tfjs
 * ModelArtifacts. Checks: JSON syntax, that it is a TF.js model, the weights manifest, that
 * every named shard is present, and that shard sizes match what the manifest declares.
 */
export function parseModelFiles(modelJsonName: string, modelJsonText: string, shards: ReadonlyMap<string, Uint8Array>): ParsedModel {
  let json: unknown;
  try {
    json = JSON.parse(modelJsonText);
  } catch (e) {
    throw new ModelFileError(`${modelJsonName}: ${describeJsonError(modelJsonText, e as Error)}.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFileError(`${modelJsonName}: expected a JSON object describing a TF.js model.`);
  }
  const obj = json as Record<string, unknown>;
  const topology = obj.modelTopology as Record<string, unknown> | undefined;
  if (typeof topology !== 'object' || topology === null) {
    throw new ModelFileError(`${modelJsonName}: this JSON has no "modelTopology", so it is not a TF.js model (expected the model.json written by tfjs or tensorflowjs_converter).`);
  }
  const isGraph = Array.isArray((topology as { node?: unknown }).node);
  const format: ModelFormat = obj.format === 'graph-model' || isGraph ? 'graph-model' : 'layers-model';
  if (format === 'layers-model' && typeof (topology as { class_name?: unknown; config?: unknown }).class_name !== 'string' && typeof (topology as { model_config?: unknown }).model_config !== 'object') {
    throw new ModelFileError(`${modelJsonName}: "modelTopology" is neither a Keras layers model nor a graph.`);
  }
  const manifest = obj.weightsManifest;
  if (!Array.isArray(manifest)) {
    throw new ModelFileError(`${modelJsonName}: "weightsManifest" is missing, so the weights cannot be found.`);
  }
  const shardNames: string[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  let declared = 0;
  for (const [gi, group] of (manifest as WeightGroup[]).entries()) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelFileError(`${modelJsonName}: weightsManifest[${gi}] needs "paths" and "weights" lists.`);
    }
    for (const w of group.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
        throw new ModelFileError(`${modelJsonName}: a weight entry in weightsManifest[${gi}] lacks a name, shape or dtype.`);
      }
      if (w.quantization) {
        const q = w.quantization as { dtype?: string };
        declared += w.shape.reduce((a: number, b: number) => a * b, 1) * (DTYPE_BYTES[q.dtype ?? ''] ?? 1);
      } else {
        const bytes = DTYPE_BYTES[w.dtype];
        if (bytes === undefined) throw new ModelFileError(`${modelJsonName}: weight '${w.name}' has dtype '${w.dtype}', which TF.js cannot load.`);
        if (w.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ModelFileError(`${modelJsonName}: weight '${w.name}' has an invalid shape [${w.shape.join(', ')}].`);
        declared += w.shape.reduce((a: number, b: number) => a * b, 1) * bytes;
      }
      if (declared > MAX_WEIGHT_BYTES) {
        throw new ModelFileError(`${modelJsonName}: the weights add up to more than ${MAX_WEIGHT_BYTES / 2 ** 20} MiB; Ravine handles smaller models.`);
      }
      weightSpecs.push(w);
    }
    for (const p of group.paths) shardNames.push(p);
  }
  const missing = shardNames.filter((p) => !shards.has(baseName(p)));
  if (missing.length > 0) {
    throw new ModelFileError(
      `${modelJsonName} names weight file${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} that ${missing.length > 1 ? 'were' : 'was'} not provided; add ${missing.length > 1 ? 'them' : 'it'} next to model.json.`,
    );
  }
  const parts = shardNames.map((p) => shards.get(baseName(p)) as Uint8Array);
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  if (total !== declared) {
    throw new ModelFileError(
      `The weight files hold ${total} bytes but ${modelJsonName} declares ${declared}; a shard is truncated, or belongs to another model.`,
    );
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.byteLength;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: topology as tf.io.ModelArtifacts['modelTopology'],
    format: format,
    generatedBy: typeof obj.generatedBy === 'string' ? obj.generatedBy : undefined,
    convertedBy: typeof obj.convertedBy === 'string' ? obj.convertedBy : undefined,
    weightSpecs,
    weightData: weightData.buffer,
    userDefinedMetadata: obj.userDefinedMetadata as tf.io.ModelArtifacts["userDefinedMetadata"],
  };
  if (obj.signature) artifacts.signature = obj.signature as object;
  if (obj.modelInitializer) artifacts.modelInitializer = obj.modelInitializer as object;
  return { format, artifacts, weightBytes: total, shardNames };
}

/** model.json text and one shard from artifacts, as `model.save()` would write to disk. */
export function serializeModel(artifacts: tf.io.ModelArtifacts, shardName = 'group1-shard1of1.bin'): { modelJson: string; shard: Uint8Array } {
  const data = artifacts.weightData;
  const bytes = data === undefined ? new Uint8Array(0) : Array.isArray(data) ? concat(data.map((b) => new Uint8Array(b))) : new Uint8Array(data);
  const json = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [shardName], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  return { modelJson: JSON.stringify(json), shard: bytes };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
