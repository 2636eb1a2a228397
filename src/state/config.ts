/**
 * The experiment config: everything that decides what the lab shows. Serialisable (URL hash,
 * recipes), validated on the way in, with defaults from PAPER.md.
 */
import type { DirectionSettings } from '../engine/directions';
import type { Norm } from '../engine/pgd';
import type { CameraState, Vec3 } from '../render/camera';

export type Quantity = 'loss' | 'margin';
export type ColorBy = 'value' | 'class';
export type ViewMode = '3d' | '2d' | '1d';
export type Theme = 'dark' | 'light';
export type ZMode = 'auto' | 'shared';
export type SlotName = 'A' | 'B';

export interface MetricConfig {
  /** Test samples for R (the live estimate). */
  samples: number;
  /** ε; null = the dataset's default. */
  eps: number | null;
  norm: Norm;
  steps: number;
  restarts: number;
  normalize: boolean;
}

export interface LabConfig {
  /** Built-in model ids (or 'user:<sha256>' for dropped models) in each slot. */
  slotA: string | null;
  slotB: string | null;
  active: SlotName;
  dataset: 'mnist' | 'fashion-mnist';
  /** Index into the dataset's test split (ignored when a custom sample is loaded). */
  sample: number;
  quantity: Quantity;
  /** Half-width of the a axis (input units). */
  range: number;
  /** Half-width of the b axis. */
  rangeB: number;
  /** Grid points per side (11–201). */
  resolution: number;
  directions: DirectionSettings;
  /** Use slot A's adversarial direction for both slots (transfer view). */
  shareDirection: boolean;
  colormap: string;
  colorBy: ColorBy;
  zMode: ZMode;
  wireframe: boolean;
  view: ViewMode;
  split: boolean;
  theme: Theme;
  /** Pose of the 3D camera the user chose (orbit or preset); null = the default view. */
  camera: CameraState | null;
  /** Title drawn into exported figures ('' = none). Plain text, never markup. */
  title: string;
  metric: MetricConfig;
}

/** Grid sides the lab offers. 201² = 40,401 points is a few seconds on wasm for a small CNN. */
export const RESOLUTION_MIN = 11;
export const RESOLUTION_MAX = 201;
/** Preview grid side: cheap enough to appear within a fraction of a second. */
export const PREVIEW_RESOLUTION = 15;

export const DEFAULT_CONFIG: LabConfig = {
  slotA: 'mnist-cnn-natural',
  slotB: 'mnist-cnn-pgd',
  active: 'A',
  dataset: 'mnist',
  sample: 0,
  quantity: 'loss',
  range: 0.3,
  rangeB: 0.3,
  resolution: 41,
  directions: { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false },
  shareDirection: false,
  colormap: 'viridis',
  colorBy: 'value',
  zMode: 'shared',
  wireframe: false,
  view: '3d',
  split: false,
  theme: 'dark',
  camera: null,
  title: '',
  metric: { samples: 100, eps: null, norm: 'linf', steps: 20, restarts: 1, normalize: true },
};

/** A setting that was refused, with why. */
export interface ConfigIssue {
  key: string;
  message: string;
}

function num(v: unknown, fallback: number, min: number, max: number, key: string, issues: ConfigIssue[], integer = false): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    issues.push({ key, message: `${key} must be ${integer ? 'an integer' : 'a number'}; got '${String(v)}'` });
    return fallback;
  }
  if (n < min || n > max) {
    issues.push({ key, message: `${key} must be between ${min} and ${max}; got ${n} (clamped)` });
    return Math.min(max, Math.max(min, n));
  }
  return n;
}

function pick<T extends string>(v: unknown, allowed: readonly T[], fallback: T, key: string, issues: ConfigIssue[]): T {
  if (v === undefined) return fallback;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  issues.push({ key, message: `${key} must be one of ${allowed.join(', ')}; got '${String(v)}'` });
  return fallback;
}

/** A refused value comes back as NaN from num(); use the base setting then (which may be null). */
function orBase(v: number, base: number | null): number | null {
  return Number.isNaN(v) ? base : v;
}

function bool(v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Longest figure title accepted (a title is a line above the plot, not a caption). */
export const TITLE_MAX_LENGTH = 120;
/** Camera coordinates beyond this (world units; the surface is 2 wide) cannot frame the surface. */
const CAMERA_LIMIT = 100;

function vec3(v: unknown): Vec3 | null {
  if (!Array.isArray(v) || v.length !== 3) return null;
  const out = v.map(Number);
  return out.every((x) => Number.isFinite(x) && Math.abs(x) <= CAMERA_LIMIT) ? (out as Vec3) : null;
}

function camera(v: unknown, fallback: CameraState | null, issues: ConfigIssue[]): CameraState | null {
  if (v === undefined) return fallback;
  if (v === null) return null;
  const o = (typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const position = vec3(o.position);
  const target = vec3(o.target);
  const zoom = o.zoom === undefined ? 1 : Number(o.zoom);
  if (!position || !target || !Number.isFinite(zoom) || zoom < 0.1 || zoom > 20) {
    issues.push({ key: 'camera', message: `camera must be {position: [x, y, z], target: [x, y, z], zoom} with coordinates within ±${CAMERA_LIMIT} and zoom in 0.1–20; the default view is used.` });
    return fallback;
  }
  const d = Math.hypot(position[0] - target[0], position[1] - target[1], position[2] - target[2]);
  if (d < 1e-3) {
    issues.push({ key: 'camera', message: 'camera position and target coincide; the default view is used.' });
    return fallback;
  }
  return { position, target, zoom };
}

function title(v: unknown, fallback: string, issues: ConfigIssue[]): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string') {
    issues.push({ key: 'title', message: 'title must be text.' });
    return fallback;
  }
  // Control characters have no place in a one-line title.
  const clean = v.replace(/\p{Cc}/gu, ' ');
  if (clean.length > TITLE_MAX_LENGTH) issues.push({ key: 'title', message: `title is longer than ${TITLE_MAX_LENGTH} characters (cut).` });
  return clean.slice(0, TITLE_MAX_LENGTH);
}

/** Validates a partial config from an untrusted source (URL, recipe), clamping or refusing each bad value. */
export function sanitizeConfig(raw: Record<string, unknown>, base: LabConfig = DEFAULT_CONFIG): { config: LabConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const dir = (raw.directions ?? {}) as Record<string, unknown>;
  const met = (raw.metric ?? {}) as Record<string, unknown>;
  const idOrNull = (v: unknown, fallback: string | null, key: string): string | null => {
    if (v === undefined) return fallback;
    if (v === null || v === '') return null;
    if (typeof v === 'string' && /^[a-z0-9:._-]{1,100}$/i.test(v)) return v;
    issues.push({ key, message: `${key} is not a model id` });
    return fallback;
  };
  const config: LabConfig = {
    slotA: idOrNull(raw.slotA, base.slotA, 'slotA'),
    slotB: idOrNull(raw.slotB, base.slotB, 'slotB'),
    active: pick(raw.active, ['A', 'B'] as const, base.active, 'active', issues),
    dataset: pick(raw.dataset, ['mnist', 'fashion-mnist'] as const, base.dataset, 'dataset', issues),
    sample: num(raw.sample, base.sample, 0, 1e6, 'sample', issues, true),
    quantity: pick(raw.quantity, ['loss', 'margin'] as const, base.quantity, 'quantity', issues),
    range: num(raw.range, base.range, 1e-4, 10, 'range', issues),
    rangeB: num(raw.rangeB, base.rangeB, 1e-4, 10, 'rangeB', issues),
    resolution: num(raw.resolution, base.resolution, RESOLUTION_MIN, RESOLUTION_MAX, 'resolution', issues, true),
    directions: {
      adversarial: pick(dir.adversarial, ['sign', 'gradient'] as const, base.directions.adversarial, 'directions.adversarial', issues),
      random: pick(dir.random, ['rademacher', 'gaussian'] as const, base.directions.random, 'directions.random', issues),
      seed: num(dir.seed, base.directions.seed, 0, 2 ** 31 - 1, 'directions.seed', issues, true),
      orthogonal: bool(dir.orthogonal, base.directions.orthogonal),
    },
    shareDirection: bool(raw.shareDirection, base.shareDirection),
    colormap: typeof raw.colormap === 'string' && /^[a-z0-9-]{1,32}$/.test(raw.colormap) ? raw.colormap : base.colormap,
    colorBy: pick(raw.colorBy, ['value', 'class'] as const, base.colorBy, 'colorBy', issues),
    zMode: pick(raw.zMode, ['auto', 'shared'] as const, base.zMode, 'zMode', issues),
    wireframe: bool(raw.wireframe, base.wireframe),
    view: pick(raw.view, ['3d', '2d', '1d'] as const, base.view, 'view', issues),
    split: bool(raw.split, base.split),
    theme: pick(raw.theme, ['dark', 'light'] as const, base.theme, 'theme', issues),
    camera: camera(raw.camera, base.camera, issues),
    title: title(raw.title, base.title, issues),
    metric: {
      samples: num(met.samples, base.metric.samples, 1, 2000, 'metric.samples', issues, true),
      eps: met.eps === undefined || met.eps === null || met.eps === '' ? base.metric.eps : orBase(num(met.eps, Number.NaN, 0, 1, 'metric.eps', issues), base.metric.eps),
      norm: pick(met.norm, ['linf', 'l2'] as const, base.metric.norm, 'metric.norm', issues),
      steps: num(met.steps, base.metric.steps, 1, 200, 'metric.steps', issues, true),
      restarts: num(met.restarts, base.metric.restarts, 1, 20, 'metric.restarts', issues, true),
      normalize: bool(met.normalize, base.metric.normalize),
    },
  };
  return { config, issues };
}

/** A camera pose rounded for links and recipes (1e-4 world units: far below a pixel). */
export function roundCamera(c: CameraState): CameraState {
  const r = (v: number) => Math.round(v * 1e4) / 1e4;
  return { position: c.position.map(r) as Vec3, target: c.target.map(r) as Vec3, zoom: r(c.zoom ?? 1) };
}

/** The config as a URL hash (only values that differ from the defaults, so links stay short). */
export function configToHash(config: LabConfig): string {
  const diff: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const d = (DEFAULT_CONFIG as unknown as Record<string, unknown>)[k];
    if (JSON.stringify(v) !== JSON.stringify(d)) diff[k] = v;
  }
  return Object.keys(diff).length === 0 ? '' : `#${encodeURIComponent(JSON.stringify(diff))}`;
}

/** Reads a config from a URL hash written by configToHash. */
export function configFromHash(hash: string): { config: LabConfig; issues: ConfigIssue[] } {
  const body = hash.replace(/^#/, '');
  if (!body) return { config: DEFAULT_CONFIG, issues: [] };
  try {
    const raw = JSON.parse(decodeURIComponent(body)) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
    return sanitizeConfig(raw as Record<string, unknown>);
  } catch (e) {
    return { config: DEFAULT_CONFIG, issues: [{ key: 'url', message: `The link's settings could not be read (${(e as Error).message}); defaults are shown.` }] };
  }
}
