/**
 * The lab's one store: the experiment config, what is loaded, and every result. Components
 * read it through selectors; the lab controller (lab.ts) is the only writer of results.
 */
import { create } from 'zustand';
import type { AttackResult } from '../engine/attacks';
import type { BackendChoice } from '../engine/backend';
import type { GradientSource } from '../engine/directions';
import type { MetricSummary } from '../engine/metric';
import type { SurfaceResult } from '../engine/surface';
import type { Dataset } from '../io/dataset';
import type { RecipeDirections, RecipeModel } from '../io/recipe';
import type { ZooManifest } from '../io/zoo';
import type { ModelInfo } from '../worker/host';
import { DEFAULT_CONFIG, type LabConfig, type SlotName } from './config';

export type SurfaceState = 'idle' | 'computing' | 'ready' | 'error';

export interface SlotModel {
  info: ModelInfo | null;
  loading: boolean;
}

export interface SurfaceSlot {
  /** Identity of the settings that produced `result` (model, sample, directions, grid). */
  key: string;
  /** Key of the surface being computed, or null when nothing runs. */
  pending: string | null;
  result: SurfaceResult | null;
  /** True while `result` is the coarse preview. */
  preview: boolean;
  state: SurfaceState;
  /** Fraction of the full grid done, 0..1. */
  progress: number;
  error: string | null;
  d1: Float32Array | null;
  d2: Float32Array | null;
  d1Source: GradientSource | null;
}

export interface MetricSlot {
  key: string;
  running: boolean;
  progress: number;
  summary: MetricSummary | null;
  /** psi of the current sample. */
  samplePsi: number | null;
  /** PGD-20 accuracy on the metric's samples at the dataset's ε grid. */
  attack: AttackResult | null;
  /** FGSM accuracy on the same samples. */
  fgsm: AttackResult | null;
  attackRunning: boolean;
  error: string | null;
}

export interface CustomSample {
  name: string;
  /** inputSize values in [0, 1]. */
  x: Float32Array;
  label: number;
}

/** Images the user dropped as a .npy array (with optional labels), browsable like the test split. */
export interface UserSet {
  name: string;
  /** count × size values in [0, 1]. */
  x: Float32Array;
  labels: Int32Array | null;
  size: number;
  count: number;
}

/** Directions from a recipe: used instead of computing them while model, sample and settings match. */
export interface SuppliedDirections extends RecipeDirections {
  settings: LabConfig['directions'];
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface LabState {
  config: LabConfig;
  backend: BackendChoice | null;
  thread: string;
  zoo: ZooManifest | null;
  dataset: Dataset | null;
  customSample: CustomSample | null;
  userSet: UserSet | null;
  /** Predicted class of every test image under the active model (for the misclassified filter). */
  predictions: Record<SlotName, Int32Array | null>;
  models: Record<SlotName, SlotModel>;
  surfaces: Record<SlotName, SurfaceSlot>;
  metrics: Record<SlotName, MetricSlot>;
  /** Directions an opened recipe supplied, per slot. */
  supplied: Record<SlotName, SuppliedDirections | null>;
  /** Models an opened recipe names that are not loaded yet (the user is asked to drop them). */
  recipeNeeds: Record<SlotName, RecipeModel | null>;
  /** True from a config change until its surfaces are computed (or found cached): what is drawn may be stale. */
  settling: boolean;
  /** Surface keys actually drawn on screen (set by the views after rendering). */
  drawn: Record<SlotName, string>;
  notices: Notice[];
  help: boolean;
  about: boolean;
  setConfig(patch: Partial<LabConfig>): void;
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
}

export const emptySurface = (): SurfaceSlot => ({ key: '', pending: null, result: null, preview: false, state: 'idle', progress: 0, error: null, d1: null, d2: null, d1Source: null });
export const emptyMetric = (): MetricSlot => ({ key: '', running: false, progress: 0, summary: null, samplePsi: null, attack: null, fgsm: null, attackRunning: false, error: null });

let noticeId = 0;

export const useLab = create<LabState>()((set) => ({
  config: DEFAULT_CONFIG,
  backend: null,
  thread: '',
  zoo: null,
  dataset: null,
  customSample: null,
  userSet: null,
  predictions: { A: null, B: null },
  models: { A: { info: null, loading: false }, B: { info: null, loading: false } },
  surfaces: { A: emptySurface(), B: emptySurface() },
  metrics: { A: emptyMetric(), B: emptyMetric() },
  settling: false,
  supplied: { A: null, B: null },
  recipeNeeds: { A: null, B: null },
  drawn: { A: '', B: '' },
  notices: [],
  help: false,
  about: false,
  setConfig: (patch) => set((s) => ({ config: { ...s.config, ...patch } })),
  notify: (kind, text) => set((s) => ({ notices: [...s.notices.filter((n) => n.text !== text), { id: ++noticeId, kind, text }].slice(-4) })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
}));

/** Updates one slot's surface state. */
export function patchSurface(slot: SlotName, patch: Partial<SurfaceSlot>): void {
  useLab.setState((s) => ({ surfaces: { ...s.surfaces, [slot]: { ...s.surfaces[slot], ...patch } } }));
}

export function patchMetric(slot: SlotName, patch: Partial<MetricSlot>): void {
  useLab.setState((s) => ({ metrics: { ...s.metrics, [slot]: { ...s.metrics[slot], ...patch } } }));
}

export function patchModel(slot: SlotName, patch: Partial<SlotModel>): void {
  useLab.setState((s) => ({ models: { ...s.models, [slot]: { ...s.models[slot], ...patch } } }));
}
