/**
 * The built-in model manifest (public/models/index.json, written by scripts/evaluate.ts).
 */

export interface ZooModel {
  id: string;
  title: string;
  dataset: 'mnist' | 'fashion-mnist';
  arch: string;
  training: { method: 'natural' | 'pgd' | 'fgsm-rs'; eps: number; steps: number; epochs: number; samples: number; seconds: number; command: string };
  /** Id of the natural/adversarial twin. */
  pair: string;
  robust: boolean;
  params: number;
  bytes: number;
  sha256: string;
  /** model.json path relative to the app root. */
  path: string;
  logitsSource: string;
  accuracy: { clean: number; cleanSamples: number; attackSamples: number; eps: number[]; fgsm: number[]; pgd20: number[] };
  metric: { R: number; std: number; ci95: [number, number]; n: number; eps: number; norm: string; steps: number; restarts: number; normalize: boolean; seed: number };
}

export interface ZooManifest {
  generatedBy: string;
  generatedAt: string;
  tfjs: string;
  backend: string;
  models: ZooModel[];
}

export function validateZooManifest(raw: unknown): ZooManifest {
  const m = raw as ZooManifest;
  if (!m || typeof m !== 'object' || !Array.isArray(m.models)) throw new Error('models/index.json is not a Ravine model manifest (no "models" list).');
  for (const e of m.models) {
    if (typeof e.id !== 'string' || typeof e.path !== 'string' || typeof e.dataset !== 'string') {
      throw new Error('models/index.json has an entry without id, path or dataset.');
    }
  }
  return m;
}

/** Fetches and validates the manifest relative to `baseUrl` (the app root). */
export async function fetchZoo(baseUrl: string): Promise<ZooManifest> {
  const res = await fetch(new URL('models/index.json', baseUrl));
  if (!res.ok) throw new Error(`models/index.json could not be loaded (HTTP ${res.status}).`);
  return validateZooManifest(await res.json());
}

/** Fetches a built-in model's files (model.json and the shards it names) as bytes. */
export async function fetchModelFiles(baseUrl: string, model: ZooModel): Promise<{ name: string; bytes: Uint8Array }[]> {
  const jsonUrl = new URL(model.path, baseUrl);
  const res = await fetch(jsonUrl);
  if (!res.ok) throw new Error(`${model.path} could not be loaded (HTTP ${res.status}).`);
  const jsonBytes = new Uint8Array(await res.arrayBuffer());
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as { weightsManifest?: { paths: string[] }[] };
  const paths = (json.weightsManifest ?? []).flatMap((g) => g.paths);
  const shards = await Promise.all(
    paths.map(async (p) => {
      const r = await fetch(new URL(p, jsonUrl));
      if (!r.ok) throw new Error(`${p} of ${model.id} could not be loaded (HTTP ${r.status}).`);
      return { name: p, bytes: new Uint8Array(await r.arrayBuffer()) };
    }),
  );
  return [{ name: 'model.json', bytes: jsonBytes }, ...shards];
}
