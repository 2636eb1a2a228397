/**
 * The lab controller: turns config changes into engine jobs and results into store updates.
 * One direction only (DESIGN.md): UI → store.config → here → engine (worker) → store → views.
 * Every job carries an id; a result whose id is no longer the latest for its slot is dropped.
 */
import type { BackendPreference } from '../engine/backend';
import type { GradientSource } from '../engine/directions';
import { isAbortError } from '../engine/errors';
import type { MetricSummary } from '../engine/metric';
import { gridAxis } from '../engine/surface';
import { datasetToFloat, fetchDataset } from '../io/dataset';
import { parseRecipe, type Recipe, type RecipeDirections } from '../io/recipe';
import { fetchModelFiles, fetchZoo } from '../io/zoo';
import { connectEngine, type EngineConnection } from '../worker/client';
import type { ModelFile } from '../worker/host';
import { burstScheduler } from './burst';
import { configFromHash, configToHash, PREVIEW_RESOLUTION, sanitizeConfig, type LabConfig, type SlotName } from './config';
import { emptyMetric, patchMetric, patchModel, patchSurface, useLab, type CustomSample, type SuppliedDirections, type UserSet } from './store';

let engine: EngineConnection | null = null;
let jobs = 0;
const latestSurfaceJob: Record<SlotName, number> = { A: 0, B: 0 };
const latestMetricJob: Record<SlotName, number> = { A: 0, B: 0 };
/** Surfaces already computed, by key: flipping back or revisiting a sample is instant. */
const surfaceCache = new Map<string, { result: import('../engine/surface').SurfaceResult; d1: Float32Array; d2: Float32Array; d1Source: import('../engine/directions').GradientSource }>();
/** Cached surfaces (51² grids are ~50 KB each; 40 of them stay well under 10 MB). */
const SURFACE_CACHE_SIZE = 40;
/** Test images per prediction chunk when classifying the whole split for the filter. */
const PREDICT_CHUNK = 500;

const appBase = () => new URL('./', window.location.href).href;
const slots: SlotName[] = ['A', 'B'];
const other = (s: SlotName): SlotName => (s === 'A' ? 'B' : 'A');

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The sample on screen: a custom (dropped) one, or a test image. */
export function currentSample(): { id: string; x: Float32Array; label: number } | null {
  const s = useLab.getState();
  if (s.customSample) return { id: `custom:${s.customSample.name}`, x: s.customSample.x, label: s.customSample.label };
  if (!s.dataset) return null;
  const i = Math.min(s.config.sample, s.dataset.labels.length - 1);
  return { id: `${s.dataset.manifest.id}:${i}`, x: datasetToFloat(s.dataset, [i]), label: s.dataset.labels[i] };
}

function surfaceKey(slot: SlotName, c: LabConfig, sampleId: string, label: number, supplied: SuppliedDirections | null): string | null {
  const m = useLab.getState().models;
  const info = m[slot].info;
  if (!info) return null;
  const dirFrom = c.shareDirection ? m.A.info?.sha256 : info.sha256;
  return JSON.stringify([info.sha256, dirFrom, sampleId, label, c.range, c.rangeB, c.resolution, c.directions, supplied ? `supplied:${fingerprint(supplied.d1)}:${fingerprint(supplied.d2)}` : '']);
}

/**
 * Whether two surface keys describe a grid of the same size around the same sample with the
 * same settings, whatever the models and whatever directions a recipe supplied: the key's
 * entries 2 to 7 (sample, label, ranges, resolution, direction settings).
 */
export function sameGrid(k1: string, k2: string): boolean {
  if (!k1 || !k2) return false;
  try {
    return JSON.stringify((JSON.parse(k1) as unknown[]).slice(2, 8)) === JSON.stringify((JSON.parse(k2) as unknown[]).slice(2, 8));
  } catch {
    return false;
  }
}

/** FNV-1a over the bytes of a float array: tells supplied directions apart in cache keys. */
function fingerprint(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16);
}

const sameDirectionSettings = (p: LabConfig['directions'], q: LabConfig['directions']) => JSON.stringify(p) === JSON.stringify(q);

/** The recipe's directions for `slot`'s surface when they apply to this model, sample and settings. */
function suppliedFor(slot: SlotName, c: LabConfig, sampleId: string, size: number): SuppliedDirections | null {
  const s = useLab.getState();
  const dirSlot = c.shareDirection ? 'A' : slot;
  const sup = s.supplied[dirSlot];
  const sha = s.models[dirSlot].info?.sha256;
  if (!sup || sup.sampleId !== sampleId || sup.modelSha256 !== sha || sup.d1.length !== size || !sameDirectionSettings(sup.settings, c.directions)) return null;
  return sup;
}

const GRADIENT_SOURCES: readonly GradientSource[] = ['cross-entropy', 'margin', 'supplied'];

/**
 * Longest wait for a view to show a result before the engine's next job starts anyway (ms):
 * the view may be hidden, or the tab in the background where frames stop.
 */
const DRAW_WAIT_MS = 150;

/**
 * Resolves once `slot`'s view has drawn `drawnKey` (the views set `drawn` after rendering)
 * and the browser has begun the next frame, i.e. put that one on screen; at once when the slot
 * is not on screen, and after DRAW_WAIT_MS at the latest. The engine's next job (the full grid
 * after its preview, the other slot's surface) waits for it: started at once, its threads
 * take the CPU that the page and the GPU process need to draw, and the picture comes later.
 */
function onScreenOrTimeout(slot: SlotName, drawnKey: string): Promise<void> {
  type State = ReturnType<typeof useLab.getState>;
  const shown = (s: State) => (s.config.split || s.config.active === slot) && !!s.surfaces[slot].result;
  if (!shown(useLab.getState())) return Promise.resolve();
  return new Promise((resolve) => {
    let unsubscribe = () => {};
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(finish, DRAW_WAIT_MS);
    const drawn = (s: State) => s.drawn[slot] === drawnKey || !shown(s);
    const nextFrame = () => {
      unsubscribe();
      requestAnimationFrame(finish);
    };
    if (drawn(useLab.getState())) nextFrame();
    else
      unsubscribe = useLab.subscribe((s) => {
        if (drawn(s)) nextFrame();
      });
  });
}

/** The surface `slot` should show for the config and sample on screen: its sample, supplied directions and key (null: none yet). */
function wantedSurface(slot: SlotName): { sample: NonNullable<ReturnType<typeof currentSample>>; supplied: SuppliedDirections | null; key: string } | null {
  const state = useLab.getState();
  const sample = currentSample();
  if (!sample || !state.models[slot].info) return null;
  const supplied = suppliedFor(slot, state.config, sample.id, sample.x.length);
  const key = surfaceKey(slot, state.config, sample.id, sample.label, supplied);
  return key ? { sample, supplied, key } : null;
}

async function refreshSurface(slot: SlotName): Promise<void> {
  const state = useLab.getState();
  const c = state.config;
  const wanted = wantedSurface(slot);
  if (!engine || !wanted) return;
  const { sample, supplied, key } = wanted;
  const current = state.surfaces[slot];
  if (current.pending === key || (current.pending === null && current.key === key && !current.preview && current.state === 'ready')) return;
  const cached = surfaceCache.get(key);
  const previous = latestSurfaceJob[slot];
  if (previous && current.pending) void engine.api.cancel(previous);
  if (cached) {
    latestSurfaceJob[slot] = ++jobs;
    patchSurface(slot, { key, pending: null, ...cached, preview: false, state: 'ready', progress: 1, error: null });
    return;
  }
  const id = ++jobs;
  latestSurfaceJob[slot] = id;
  const stale = () => latestSurfaceJob[slot] !== id;
  patchSurface(slot, { pending: key, state: 'computing', progress: 0, error: null });
  try {
    const dirSlot = c.shareDirection ? 'A' : slot;
    const dirs = supplied
      ? { d1: supplied.d1, d2: supplied.d2, d1Source: GRADIENT_SOURCES.includes(supplied.d1Source as GradientSource) ? (supplied.d1Source as GradientSource) : 'supplied' }
      : await engine.api.directions(dirSlot, sample.x, sample.label, c.directions);
    if (stale()) return;
    const spec = (n: number, m: number) => ({ x: sample.x, label: sample.label, d1: dirs.d1, d2: dirs.d2, a: gridAxis(c.range, n), b: gridAxis(c.rangeB, m) });
    const n = c.resolution;
    if (n > PREVIEW_RESOLUTION) {
      const preview = await engine.api.surface(id, slot, spec(PREVIEW_RESOLUTION, PREVIEW_RESOLUTION));
      if (stale()) return;
      patchSurface(slot, { key, result: preview, preview: true, d1: dirs.d1, d2: dirs.d2, d1Source: dirs.d1Source });
      await onScreenOrTimeout(slot, `${key}#preview`);
      if (stale()) return;
    }
    const full = await engine.api.surface(
      id,
      slot,
      spec(n, n),
      engine.callback((p: { done: number; total: number }) => {
        if (!stale()) patchSurface(slot, { progress: p.done / p.total });
      }),
    );
    if (stale()) return;
    const entry = { result: full, d1: dirs.d1, d2: dirs.d2, d1Source: dirs.d1Source };
    surfaceCache.set(key, entry);
    while (surfaceCache.size > SURFACE_CACHE_SIZE) surfaceCache.delete(surfaceCache.keys().next().value as string);
    patchSurface(slot, { key, pending: null, ...entry, preview: false, state: 'ready', progress: 1 });
  } catch (e) {
    if (stale()) return;
    const shown = useLab.getState().surfaces[slot];
    if (isAbortError(e)) {
      patchSurface(slot, { pending: null, state: shown.result ? 'ready' : 'idle', progress: 0 });
      return;
    }
    patchSurface(slot, { pending: null, state: 'error', error: errorText(e) });
    useLab.getState().notify('error', `Surface for slot ${slot}: ${errorText(e)}`);
  }
}

/** Cancels the running surface job of `slot` (the Cancel button). */
export function cancelSurface(slot: SlotName): void {
  const id = latestSurfaceJob[slot];
  latestSurfaceJob[slot] = ++jobs;
  if (engine && id) void engine.api.cancel(id);
  const s = useLab.getState().surfaces[slot];
  // What is on screen stays (a preview of the cancelled grid, or the previous surface).
  patchSurface(slot, { pending: null, state: s.result ? 'ready' : 'idle', progress: 0 });
}

function metricKey(slot: SlotName, c: LabConfig): string | null {
  const s = useLab.getState();
  const info = s.models[slot].info;
  if (!info || !s.dataset) return null;
  return JSON.stringify([info.sha256, s.dataset.manifest.id, c.metric]);
}

async function refreshMetric(slot: SlotName): Promise<void> {
  const s = useLab.getState();
  const c = s.config;
  const key = metricKey(slot, c);
  if (!engine || !key || !s.dataset) return;
  if (s.metrics[slot].key === key) return;
  const id = ++jobs;
  const previous = latestMetricJob[slot];
  latestMetricJob[slot] = id;
  if (previous) void engine.api.cancel(previous);
  const stale = () => latestMetricJob[slot] !== id;
  const ds = s.dataset;
  const n = Math.min(c.metric.samples, ds.labels.length);
  const indices = Array.from({ length: n }, (_, i) => i);
  const x = datasetToFloat(ds, indices);
  const labels = Array.from(ds.labels.subarray(0, n));
  const eps = c.metric.eps ?? ds.manifest.defaultEps;
  patchMetric(slot, { ...emptyMetric(), key, running: true });
  try {
    const result = await engine.api.metric(
      id,
      slot,
      x,
      { eps, norm: c.metric.norm, steps: c.metric.steps, restarts: c.metric.restarts, normalize: c.metric.normalize, seed: 0 },
      engine.callback((psi: Float32Array, summary: MetricSummary) => {
        if (!stale()) patchMetric(slot, { summary, progress: psi.length / n });
      }),
    );
    if (stale()) return;
    patchMetric(slot, { summary: result, running: false, progress: 1, attackRunning: true });
    const grid = ds.manifest.epsGrid;
    const fgsm = await engine.api.attack(id, slot, x, labels, { method: 'fgsm', norm: 'linf', eps: grid, steps: 0, restarts: 1, seed: 0 });
    if (stale()) return;
    patchMetric(slot, { fgsm });
    const pgd = await engine.api.attack(id, slot, x, labels, { method: 'pgd', norm: 'linf', eps: grid, steps: 20, restarts: 1, seed: 0 });
    if (stale()) return;
    patchMetric(slot, { attack: pgd, attackRunning: false });
  } catch (e) {
    if (stale()) return;
    if (isAbortError(e)) {
      patchMetric(slot, { running: false, attackRunning: false, key: '' });
      return;
    }
    patchMetric(slot, { running: false, attackRunning: false, error: errorText(e) });
  }
}

/** Cancels the metric (and attack) jobs of `slot`. */
export function cancelMetric(slot: SlotName): void {
  const id = latestMetricJob[slot];
  latestMetricJob[slot] = ++jobs;
  if (engine && id) void engine.api.cancel(id);
  patchMetric(slot, { running: false, attackRunning: false });
}

/** Restarts the metric of `slot` even if its settings did not change. */
export function restartMetric(slot: SlotName): void {
  patchMetric(slot, { key: '' });
  void refreshMetric(slot);
}

/** The running or last finished ψ job of the sample on screen, per slot: its id and what it computes. */
const psiJob: Record<SlotName, { id: number; key: string; done: boolean } | null> = { A: null, B: null };

/** What ψ of the sample on screen depends on: the model, the sample and the metric settings. */
function psiKey(slot: SlotName): string | null {
  const s = useLab.getState();
  const sample = currentSample();
  const info = s.models[slot].info;
  if (!sample || !info || !s.dataset) return null;
  return JSON.stringify([info.sha256, sample.id, sample.label, s.config.metric, s.config.metric.eps ?? s.dataset.manifest.defaultEps]);
}

/** Cancels a running ψ job whose sample or settings are no longer on screen: it would hold the engine up. */
function cancelStalePsi(): void {
  for (const slot of slots) {
    const job = psiJob[slot];
    if (!job || job.done || job.key === psiKey(slot)) continue;
    psiJob[slot] = null;
    if (engine) void engine.api.cancel(job.id);
  }
}

async function refreshSamplePsi(slot: SlotName): Promise<void> {
  const s = useLab.getState();
  const sample = currentSample();
  const key = psiKey(slot);
  if (!engine || !sample || !key || !s.dataset) return;
  // Already computed (and still shown) or on its way: a camera move or a new colour map must
  // not run the attack again.
  const job = psiJob[slot];
  if (job && job.key === key && (!job.done || s.metrics[slot].samplePsi !== null)) return;
  if (job && !job.done) void engine.api.cancel(job.id);
  const c = s.config;
  const eps = c.metric.eps ?? s.dataset.manifest.defaultEps;
  const id = ++jobs;
  psiJob[slot] = { id, key, done: false };
  const current = () => psiJob[slot]?.id === id && psiKey(slot) === key;
  try {
    const r = await engine.api.metric(id, slot, sample.x, { eps, norm: c.metric.norm, steps: c.metric.steps, restarts: c.metric.restarts, normalize: c.metric.normalize, seed: 0 });
    if (current()) {
      psiJob[slot] = { id, key, done: true };
      patchMetric(slot, { samplePsi: r.psi[0] });
    }
  } catch (e) {
    const mine = current();
    if (psiJob[slot]?.id === id) psiJob[slot] = null;
    if (!isAbortError(e) && mine) patchMetric(slot, { samplePsi: null });
  }
}

async function refreshPredictions(slot: SlotName): Promise<void> {
  const s = useLab.getState();
  const info = s.models[slot].info;
  if (!engine || !s.dataset || !info) return;
  const ds = s.dataset;
  const n = ds.labels.length;
  const K = info.numClasses;
  const preds = new Int32Array(n);
  // A model or dataset swapped in between chunks makes these predictions stale: stop.
  const current = () => useLab.getState().models[slot].info === info && useLab.getState().dataset === ds;
  for (let first = 0; first < n; first += PREDICT_CHUNK) {
    const idx = Array.from({ length: Math.min(PREDICT_CHUNK, n - first) }, (_, k) => first + k);
    const { logits } = await engine.api.predict(slot, datasetToFloat(ds, idx));
    if (!current()) return;
    for (let k = 0; k < idx.length; k++) {
      let best = 0;
      for (let j = 1; j < K; j++) if (logits[k * K + j] > logits[k * K + best]) best = j;
      preds[first + k] = best;
    }
  }
  if (current()) useLab.setState((st) => ({ predictions: { ...st.predictions, [slot]: preds } }));
}

/** Config changes closer together than this form a burst, run once it pauses (src/state/burst.ts). */
const BURST_MS = 30;

/** The longest the URL hash may lag behind the config while the views catch up (see startLab). */
const HASH_MAX_DELAY_MS = 1000;

/** Brings every result in line with the config (cheap when nothing changed). */
function bringInLine(run: number): void {
  const { config, models, surfaces } = useLab.getState();
  const active = config.active;
  cancelStalePsi();
  // A job still computing the other slot's surface for the settings before would hold the
  // engine up while the active one computes: stop it (it is asked for again afterwards).
  const pendingOther = surfaces[other(active)].pending;
  if (pendingOther && pendingOther !== wantedSurface(other(active))?.key) cancelSurface(other(active));
  void (async () => {
    try {
      await refreshSurface(active);
      // The other slot's surface waits until the active one is on screen (see onScreenOrTimeout).
      await onScreenOrTimeout(active, useLab.getState().surfaces[active].key);
      if (models[other(active)].info) await refreshSurface(other(active));
    } finally {
      if (run === scheduler.latest) useLab.setState({ settling: false });
    }
    void refreshSamplePsi(active);
  })();
  for (const slot of slots) void refreshMetric(slot);
}

/** Runs of bringInLine, each with the generation of the latest schedule() before it started. */
const scheduler = burstScheduler(bringInLine, BURST_MS);

/**
 * Brings every result in line with the config: an isolated change at once (in a microtask,
 * so the changes made by one synchronous piece of code count as one), a burst of changes
 * when it pauses (see BURST_MS and src/state/burst.ts).
 */
export function schedule(): void {
  // Until the surfaces of this config have been brought in line, what is drawn may be stale:
  // the views must not report 'ready' (the page's ready signal) in between. Only the run of
  // the latest request clears `settling` (bringInLine).
  if (!useLab.getState().settling) useLab.setState({ settling: true });
  scheduler.request();
}

async function loadFiles(slot: SlotName, name: string, files: ModelFile[], builtinId?: string): Promise<boolean> {
  if (!engine) return false;
  // Stop this slot's jobs first: they must not run on a model that is about to be disposed.
  // The engine handles messages in order, so the cancel lands before the new model replaces it.
  if (useLab.getState().surfaces[slot].pending) cancelSurface(slot);
  if (useLab.getState().metrics[slot].running || useLab.getState().metrics[slot].attackRunning) cancelMetric(slot);
  patchModel(slot, { loading: true });
  try {
    const info = await engine.api.loadModel(
      slot,
      name,
      engine.send(files, files.map((f) => f.bytes.buffer)),
      builtinId,
    );
    patchModel(slot, { info, loading: false });
    useLab.setState((s) => ({ predictions: { ...s.predictions, [slot]: null } }));
    void refreshPredictions(slot);
    return true;
  } catch (e) {
    patchModel(slot, { loading: false });
    useLab.getState().notify('error', `Could not load ${name} into slot ${slot}: ${errorText(e)}`);
    return false;
  }
}

/** Loads a built-in model by id into `slot`. */
export async function loadBuiltin(slot: SlotName, id: string): Promise<void> {
  const zoo = useLab.getState().zoo;
  const entry = zoo?.models.find((m) => m.id === id);
  if (!entry) {
    useLab.getState().notify('error', `The built-in model '${id}' does not exist; slot ${slot} keeps its model.`);
    return;
  }
  try {
    const files = await fetchModelFiles(appBase(), entry);
    if (await loadFiles(slot, entry.title, files, entry.id)) {
      const s = useLab.getState();
      if (s.dataset?.manifest.id !== entry.dataset) await switchDataset(entry.dataset);
      s.setConfig(slot === 'A' ? { slotA: id } : { slotB: id });
    }
  } catch (e) {
    useLab.getState().notify('error', errorText(e));
  }
}

/** Loads a built-in natural/adversarial pair into A and B. */
export async function loadPair(naturalId: string, robustId: string): Promise<void> {
  await loadBuiltin('A', naturalId);
  await loadBuiltin('B', robustId);
}

/** Loads dropped or picked model files into the active slot. */
export async function loadUserModel(files: ModelFile[], name: string): Promise<boolean> {
  const slot = useLab.getState().config.active;
  const ok = await loadFiles(slot, name, files);
  const info = useLab.getState().models[slot].info;
  if (ok && info) {
    const s = useLab.getState();
    s.setConfig(slot === 'A' ? { slotA: `user:${info.sha256.slice(0, 16)}` } : { slotB: `user:${info.sha256.slice(0, 16)}` });
    const needed = s.recipeNeeds[slot];
    if (needed) {
      if (needed.sha256 === info.sha256) {
        useLab.setState((st) => ({ recipeNeeds: { ...st.recipeNeeds, [slot]: null } }));
        const next = useLab.getState().recipeNeeds[other(slot)];
        if (next) {
          s.setConfig({ active: other(slot) });
          s.notify('info', `Slot ${slot} has the recipe's model. Now drop '${next.name}' (sha256 ${next.sha256.slice(0, 12)}…) for slot ${other(slot)}.`);
        }
      } else {
        s.notify('error', `This model (sha256 ${info.sha256.slice(0, 12)}…) is not the one the recipe names for slot ${slot} ('${needed.name}', sha256 ${needed.sha256.slice(0, 12)}…); its surface will differ from the recipe's.`);
      }
    }
  }
  return ok;
}

export async function switchDataset(id: 'mnist' | 'fashion-mnist'): Promise<void> {
  const s = useLab.getState();
  if (s.dataset?.manifest.id === id) return;
  try {
    const ds = await fetchDataset(appBase() + 'data/', id);
    useLab.setState((st) => ({ dataset: ds, predictions: { A: null, B: null }, config: { ...st.config, dataset: id, sample: Math.min(st.config.sample, ds.labels.length - 1) } }));
    for (const slot of slots) void refreshPredictions(slot);
  } catch (e) {
    s.notify('error', `The ${id} test images could not be loaded: ${errorText(e)}`);
  }
}

export function setUserSet(set: UserSet | null): void {
  useLab.setState({ userSet: set });
}

export function setCustomSample(sample: CustomSample | null): void {
  useLab.setState({ customSample: sample });
  schedule();
}

/** Starts the lab: engine, backend, manifest, data, default models, first surface. */
export async function startLab(): Promise<void> {
  const store = useLab.getState();
  const { config, issues } = configFromHash(window.location.hash);
  store.setConfig(config);
  for (const issue of issues) store.notify('error', issue.message);
  const pref = new URLSearchParams(window.location.search).get('backend');
  const preference: BackendPreference = pref === 'webgl' || pref === 'wasm' || pref === 'cpu' ? pref : 'auto';
  engine = await connectEngine();
  const status = await engine.api.init(preference);
  const pool = status.wasmThreads === undefined ? '' : `, ${status.wasmThreads} wasm thread${status.wasmThreads === 1 ? '' : 's'}`;
  useLab.setState({ backend: status.choice, thread: engine.thread + pool });
  try {
    useLab.setState({ zoo: await fetchZoo(appBase()) });
  } catch (e) {
    store.notify('error', errorText(e));
  }
  await switchDataset(config.dataset);
  const zoo = useLab.getState().zoo;
  const want: [SlotName, string | null][] = [
    ['A', config.slotA],
    ['B', config.slotB],
  ];
  for (const [slot, id] of want) {
    if (!id) continue;
    if (id.startsWith('user:')) {
      store.notify('error', `This link needs a model you dropped earlier (${id}); drop its files to continue. Slot ${slot} is empty.`);
      continue;
    }
    if (zoo?.models.some((m) => m.id === id)) await loadBuiltin(slot, id);
    else store.notify('error', `The built-in model '${id}' is not in models/index.json; slot ${slot} stays empty.`);
  }
  // The URL hash follows the config once the views have caught up with it (settling over), or
  // HASH_MAX_DELAY_MS after the change when a long grid keeps them busy, not at the change
  // itself: each write is a same-document navigation, on which Chromium also reloads and
  // re-decodes the page's favicon (a PNG for that reason: index.html), work that would
  // otherwise fall between a click on a sample and the preview it asks for.
  let hashTimer: ReturnType<typeof setTimeout> | null = null;
  const writeHash = () => {
    if (hashTimer !== null) clearTimeout(hashTimer);
    hashTimer = null;
    const hash = configToHash(useLab.getState().config);
    if (hash !== window.location.hash && !(hash === '' && window.location.hash === '')) history.replaceState(null, '', hash || window.location.pathname + window.location.search);
  };
  useLab.subscribe((s, prev) => {
    if (s.config !== prev.config) {
      hashTimer ??= setTimeout(writeHash, HASH_MAX_DELAY_MS);
      schedule();
    }
    if (s.models !== prev.models || s.dataset !== prev.dataset) schedule();
    if (hashTimer !== null && !useLab.getState().settling) writeHash();
  });
  schedule();
}

/**
 * The recipe of what is on screen: the config, the models by id and hash, the sample, and
 * the directions each drawn surface used. Null before a model and a sample are loaded.
 */
export function currentRecipe(versions: { ravine: string; tfjs: string }): Recipe | null {
  const s = useLab.getState();
  const sample = currentSample();
  if (!sample || !s.dataset) return null;
  const model = (slot: SlotName) => {
    const info = s.models[slot].info;
    return info ? { ...(info.builtinId ? { id: info.builtinId } : {}), sha256: info.sha256, name: info.name } : null;
  };
  const directions = (slot: SlotName): RecipeDirections | undefined => {
    const surface = s.surfaces[slot];
    const dirSlot = s.config.shareDirection ? 'A' : slot;
    const sha = s.models[dirSlot].info?.sha256;
    if (!surface.d1 || !surface.d2 || surface.state !== 'ready' || surface.pending || !sha) return undefined;
    return { d1: surface.d1, d2: surface.d2, d1Source: surface.d1Source ?? 'supplied', modelSha256: sha, sampleId: sample.id };
  };
  return {
    created: new Date().toISOString(),
    ravineVersion: versions.ravine,
    tfjsVersion: versions.tfjs,
    backend: s.backend?.backend ?? '',
    config: { ...s.config } as unknown as Record<string, unknown>,
    models: { A: model('A'), B: model('B') },
    sample: {
      dataset: s.dataset.manifest.id,
      index: s.config.sample,
      id: sample.id,
      label: sample.label,
      ...(s.customSample ? { custom: { name: s.customSample.name, x: s.customSample.x } } : {}),
    },
    directions: { A: directions('A'), B: directions('B') },
  };
}

/**
 * Rebuilds the view a recipe describes: built-in models by content hash (or id), the sample,
 * the directions and every setting, camera included. A model that is not built in must be
 * dropped by the user: the notice names it and its hash, and the slot waits for it.
 */
export async function openRecipe(recipe: Recipe, fileName: string): Promise<void> {
  const store = useLab.getState();
  const { config, issues } = sanitizeConfig(recipe.config);
  for (const issue of issues) store.notify('error', `${fileName}: ${issue.message}`);
  const zoo = store.zoo;
  const ids: Record<SlotName, string | null> = { A: null, B: null };
  const needs: Record<SlotName, Recipe['models']['A']> = { A: null, B: null };
  for (const slot of slots) {
    const m = recipe.models[slot];
    if (!m) continue;
    const loaded = useLab.getState().models[slot].info;
    if (loaded?.sha256 === m.sha256) {
      ids[slot] = loaded.builtinId ?? `user:${m.sha256.slice(0, 16)}`;
      continue;
    }
    const byHash = zoo?.models.find((z) => z.sha256 === m.sha256);
    const entry = byHash ?? (m.id ? zoo?.models.find((z) => z.id === m.id) : undefined);
    if (entry) {
      if (!byHash) store.notify('info', `The built-in model '${entry.id}' has changed since ${fileName} was saved (sha256 ${m.sha256.slice(0, 12)}… then, ${entry.sha256.slice(0, 12)}… now); its surface may differ.`);
      await loadBuiltin(slot, entry.id);
      ids[slot] = entry.id;
      continue;
    }
    needs[slot] = m;
    ids[slot] = `user:${m.sha256.slice(0, 16)}`;
    store.notify('error', `${fileName} needs the model '${m.name}' (sha256 ${m.sha256.slice(0, 12)}…) in slot ${slot}, which is not built in; drop its files to continue.`);
  }
  await switchDataset(config.dataset);
  const supplied = (d: RecipeDirections | undefined): SuppliedDirections | null => (d ? { ...d, settings: config.directions } : null);
  useLab.setState({
    supplied: { A: supplied(recipe.directions.A), B: supplied(recipe.directions.B) },
    recipeNeeds: { A: needs.A, B: needs.B },
    customSample: recipe.sample.custom ? { name: recipe.sample.custom.name, x: recipe.sample.custom.x, label: recipe.sample.label } : null,
  });
  const active: SlotName = needs.A ? 'A' : needs.B ? 'B' : config.active;
  useLab.getState().setConfig({ ...config, slotA: ids.A, slotB: ids.B, active });
  if (!needs.A && !needs.B) store.notify('info', `Opened ${fileName}.`);
}

/** Parses and opens a recipe file's text; a refused file becomes a notice naming the problem. */
export async function openRecipeText(text: string, fileName: string): Promise<void> {
  try {
    await openRecipe(parseRecipe(text, fileName), fileName);
  } catch (e) {
    useLab.getState().notify('error', errorText(e));
  }
}

/** Memory counters of the engine (for the status bar and leak tests). */
export async function engineMemory(): Promise<{ numTensors: number; numBytes: number; backend: string } | null> {
  return engine ? engine.api.memory() : null;
}
