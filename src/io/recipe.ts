/**
 * Figure recipes: one JSON file that rebuilds a view exactly — the config (grid, quantity,
 * colour map, camera, theme, title), the models by id and content hash, the sample (the
 * pixels themselves when it was a dropped image), and the directions d1, d2 as numbers, so
 * the figure does not depend on the random generator or the gradient staying the same.
 * Parsing is validation: everything in a recipe comes from a file a user dropped.
 */
import { base64ToFloat32, float32ToBase64 } from './base64';

export const RECIPE_FORMAT = 'ravine-recipe';
export const RECIPE_VERSION = 1;
/** Largest recipe file read (directions of a 224×224×3 input are 1.6 MB of base64 each). */
export const RECIPE_MAX_BYTES = 8 * 1024 * 1024;
/** Largest input (values) a recipe may carry: 224×224×3 with room to spare. */
const MAX_INPUT_VALUES = 1 << 20;

/** A model as a recipe names it: built-in id (if any), content hash, display name. */
export interface RecipeModel {
  id?: string;
  /** sha256 (hex) over the model files sorted by name. */
  sha256: string;
  name: string;
}

/** The directions a slot's surface was drawn with. */
export interface RecipeDirections {
  d1: Float32Array;
  d2: Float32Array;
  /** How d1 was obtained ('cross-entropy', 'margin', 'supplied'). */
  d1Source: string;
  /** Which model's gradient made d1 (sha256), and for which sample: they apply only there. */
  modelSha256: string;
  sampleId: string;
}

export interface Recipe {
  created: string;
  ravineVersion: string;
  tfjsVersion: string;
  backend: string;
  /** The lab config, as written (validated again by sanitizeConfig when opened). */
  config: Record<string, unknown>;
  models: { A: RecipeModel | null; B: RecipeModel | null };
  sample: {
    dataset: string;
    /** Test-split index (when not custom). */
    index: number;
    /** e.g. 'mnist:17' or 'custom:digit.png'. */
    id: string;
    label: number;
    /** A dropped image: its pixels in [0, 1], in the model's input layout. */
    custom?: { name: string; x: Float32Array };
  };
  directions: { A?: RecipeDirections; B?: RecipeDirections };
}

export class RecipeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeError';
  }
}

/** The recipe as pretty-printed JSON (typed arrays as base64 of little-endian float32). */
export function recipeToJson(r: Recipe): string {
  const dirs = (d?: RecipeDirections) =>
    d && { d1: float32ToBase64(d.d1), d2: float32ToBase64(d.d2), length: d.d1.length, d1Source: d.d1Source, modelSha256: d.modelSha256, sampleId: d.sampleId };
  return JSON.stringify(
    {
      format: RECIPE_FORMAT,
      version: RECIPE_VERSION,
      created: r.created,
      ravineVersion: r.ravineVersion,
      tfjsVersion: r.tfjsVersion,
      backend: r.backend,
      config: r.config,
      models: r.models,
      sample: { ...r.sample, custom: r.sample.custom && { name: r.sample.custom.name, x: float32ToBase64(r.sample.custom.x), length: r.sample.custom.x.length } },
      directions: { A: dirs(r.directions.A), B: dirs(r.directions.B) },
    },
    null,
    1,
  );
}

/** True when `text` looks like a recipe (cheap check before a full parse, e.g. on drop). */
export function looksLikeRecipe(text: string): boolean {
  return text.length < RECIPE_MAX_BYTES && /"format"\s*:\s*"ravine-recipe"/.test(text.slice(0, 4096));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const SHA256 = /^[0-9a-f]{64}$/;

function model(v: unknown, slot: string): RecipeModel | null {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) throw new RecipeError(`models.${slot} must be an object or null.`);
  if (typeof v.sha256 !== 'string' || !SHA256.test(v.sha256)) throw new RecipeError(`models.${slot}.sha256 must be 64 hex digits (the model's content hash).`);
  if (v.id !== undefined && (typeof v.id !== 'string' || !/^[a-z0-9._-]{1,100}$/i.test(v.id))) throw new RecipeError(`models.${slot}.id is not a model id.`);
  const name = typeof v.name === 'string' ? v.name.slice(0, 200) : v.sha256.slice(0, 12);
  return { ...(v.id ? { id: v.id as string } : {}), sha256: v.sha256, name };
}

function length(v: unknown, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_INPUT_VALUES) throw new RecipeError(`${what} must be a whole number from 1 to ${MAX_INPUT_VALUES}.`);
  return n;
}

function directions(v: unknown, slot: string): RecipeDirections | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isObject(v)) throw new RecipeError(`directions.${slot} must be an object.`);
  const n = length(v.length, `directions.${slot}.length`);
  if (typeof v.d1 !== 'string' || typeof v.d2 !== 'string') throw new RecipeError(`directions.${slot} needs d1 and d2 (base64 float32).`);
  if (typeof v.modelSha256 !== 'string' || !SHA256.test(v.modelSha256)) throw new RecipeError(`directions.${slot}.modelSha256 must be 64 hex digits.`);
  if (typeof v.sampleId !== 'string') throw new RecipeError(`directions.${slot}.sampleId must be text.`);
  try {
    return {
      d1: base64ToFloat32(v.d1, n, `directions.${slot}.d1`),
      d2: base64ToFloat32(v.d2, n, `directions.${slot}.d2`),
      d1Source: typeof v.d1Source === 'string' ? v.d1Source : 'supplied',
      modelSha256: v.modelSha256,
      sampleId: v.sampleId.slice(0, 300),
    };
  } catch (e) {
    throw new RecipeError((e as Error).message);
  }
}

/** Parses and validates a recipe file; throws RecipeError naming the first problem. */
export function parseRecipe(text: string, fileName = 'the recipe'): Recipe {
  if (text.length > RECIPE_MAX_BYTES) throw new RecipeError(`${fileName} is ${(text.length / 1e6).toFixed(1)} MB; a recipe is at most ${RECIPE_MAX_BYTES / (1024 * 1024)} MB.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RecipeError(`${fileName} is not valid JSON (${(e as Error).message}).`);
  }
  if (!isObject(raw) || raw.format !== RECIPE_FORMAT) throw new RecipeError(`${fileName} is not a Ravine recipe (no "format": "${RECIPE_FORMAT}").`);
  if (raw.version !== RECIPE_VERSION) throw new RecipeError(`${fileName} is recipe version ${String(raw.version)}; this Ravine reads version ${RECIPE_VERSION}.`);
  if (!isObject(raw.config)) throw new RecipeError(`${fileName} has no config object.`);
  const models = isObject(raw.models) ? raw.models : {};
  const sample = isObject(raw.sample) ? raw.sample : null;
  if (!sample) throw new RecipeError(`${fileName} has no sample.`);
  const index = Number(sample.index ?? 0);
  if (!Number.isInteger(index) || index < 0) throw new RecipeError('sample.index must be a whole number ≥ 0.');
  let custom: Recipe['sample']['custom'];
  if (sample.custom !== undefined && sample.custom !== null) {
    if (!isObject(sample.custom) || typeof sample.custom.x !== 'string') throw new RecipeError('sample.custom needs x (base64 float32).');
    const n = length(sample.custom.length, 'sample.custom.length');
    let x: Float32Array;
    try {
      x = base64ToFloat32(sample.custom.x, n, 'sample.custom.x');
    } catch (e) {
      throw new RecipeError((e as Error).message);
    }
    const bad = x.findIndex((v) => v < 0 || v > 1);
    if (bad >= 0) throw new RecipeError(`sample.custom.x has ${x[bad]} at index ${bad}, outside the input range [0, 1].`);
    custom = { name: typeof sample.custom.name === 'string' ? sample.custom.name.slice(0, 200) : 'custom', x };
  }
  const label = Number(sample.label ?? 0);
  if (!Number.isInteger(label) || label < 0 || label > 100000) throw new RecipeError('sample.label must be a class index.');
  const dirs = isObject(raw.directions) ? raw.directions : {};
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 100) : '');
  return {
    created: str(raw.created),
    ravineVersion: str(raw.ravineVersion),
    tfjsVersion: str(raw.tfjsVersion),
    backend: str(raw.backend),
    config: raw.config,
    models: { A: model(models.A, 'A'), B: model(models.B, 'B') },
    sample: { dataset: str(sample.dataset), index, id: str(sample.id) || `${str(sample.dataset)}:${index}`, label, ...(custom ? { custom } : {}) },
    directions: { A: directions(dirs.A, 'A'), B: directions(dirs.B, 'B') },
  };
}
