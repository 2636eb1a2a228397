/**
 * The evidence study (project issue #9): does Ravine's robustness metric R behave as the
 * paper claims on Ravine's own built-in models? Measures, then writes docs/validation.md, its
 * SVG figures (docs/validation/*.svg), the example pair's surface grids as CSV, and the
 * headline numbers the About overlay shows (src/ui/validationSummary.json). Every number in
 * those files comes from this run.
 *
 *   npm run validate                          # the full study (about 20-30 min on 2 cores)
 *   npx tsx --tsconfig tsconfig.node.json scripts/validate.ts --quick       # a reduced study (MNIST, 3 models, few samples)
 *   npx tsx --tsconfig tsconfig.node.json scripts/validate.ts --out <dir>   # write <dir>/validation.md, <dir>/validation/
 *                                             # and <dir>/validationSummary.json instead
 *
 * Sections: 1 ranking (R vs FGSM / PGD accuracy, Spearman ρ), 2 invariance (last layer × 0.1
 * and × 10, normaliser on and off), 3 stability (R and PGD accuracy across attack settings),
 * 4 cost (CI half-width against sample count; time to a stable R vs a full PGD evaluation),
 * 5 surfaces (where the margin crosses zero along d1; the largest loss in the ε-box).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adversarialAccuracy } from '../src/engine/attacks';
import { createClassifier, type Classifier } from '../src/engine/classifier';
import { registerFastConvGradients } from '../src/engine/convGrad';
import { computeDirections, DEFAULT_DIRECTION_SETTINGS } from '../src/engine/directions';
import { computeMetric, DEFAULT_METRIC_SETTINGS, type MetricSettings } from '../src/engine/metric';
import { crossEntropy } from '../src/engine/ops';
import { defaultStepSize } from '../src/engine/pgd';
import { chunkSizeFor } from '../src/engine/schedule';
import { summarize, tQuantile975 } from '../src/engine/stats';
import { computeSurface, gridAxis, type SurfaceResult } from '../src/engine/surface';
import { datasetToFloat, type Dataset } from '../src/io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR, REPO_ROOT } from '../src/io/datasetNode';
import { surfaceCsv } from '../src/io/exports';
import { loadModelFromPath } from '../src/io/modelNode';
import { validateZooManifest, type ZooModel } from '../src/io/zoo';
import { svgFigure } from '../src/render/figures2d';
import { writeReport } from './lib/validationReport';
import { firstZeroCrossing, maxInBox, relativeSpread, spearman } from './lib/validationStats';
import type {
  AttackSetting,
  CostRow,
  DatasetInfo,
  InvarianceRow,
  MachineInfo,
  ModelInfo,
  RankCorrelation,
  RankingRow,
  StabilityRow,
  StudyConfig,
  StudyResults,
  SurfaceModel,
  SurfacePair,
} from './lib/validationTypes';

const MODELS_DIR = join(REPO_ROOT, 'public', 'models');
/** Where the full run's headline numbers go (imported by the About overlay). */
export const UI_SUMMARY_PATH = join(REPO_ROOT, 'src', 'ui', 'validationSummary.json');
export const DEFAULT_OUT_DIR = join(REPO_ROOT, 'docs');

/**
 * The full study. Sample counts are chosen so the whole run stays near 20 minutes on the
 * 2-core development machine (wasm, one thread): the ranking's PGD-20 on 1,000 images per ε is
 * the evaluate.ts setting; 1,000 images of R give the cost curve its largest point; 120 images
 * per stability setting keep the 7 settings × 2 radii × 9 models to about seven minutes.
 */
export const FULL_STUDY: StudyConfig = {
  models: 'all',
  cleanSamples: 0,
  attackSamples: 1000,
  metricSamples: 1000,
  invarianceSamples: 200,
  invarianceScales: [0.1, 10],
  stability: { samples: 120, steps: [5, 10, 20, 50], stepFactors: [0.5, 1, 2], restarts: [1, 5], smallestEps: true },
  cost: { counts: [25, 50, 100, 200, 500, 1000], stableRelHalfWidth: 0.1 },
  surfaces: { samples: 20, grid: 51, rangeFactor: 2 },
};

/** The reduced study the test runs (well under a minute on 2 cores): three MNIST models, few samples and settings. */
export const QUICK_STUDY: StudyConfig = {
  models: ['mnist-cnn-natural', 'mnist-cnn-pgd', 'mnist-mlp-pgd'],
  cleanSamples: 300,
  attackSamples: 40,
  metricSamples: 50,
  invarianceSamples: 16,
  invarianceScales: [0.1, 10],
  stability: { samples: 16, steps: [5, 20], stepFactors: [1, 2], restarts: [1], smallestEps: false },
  cost: { counts: [10, 25, 50], stableRelHalfWidth: 0.1 },
  surfaces: { samples: 3, grid: 21, rangeFactor: 2 },
};

export interface ValidationOptions {
  quick: boolean;
  /** Folder for validation.md and validation/ (the figures and CSVs). */
  outDir: string;
  /** Where the headline JSON goes. */
  summaryPath: string;
  /** The command line as the doc should quote it. */
  command: string;
  /** Progress lines (default: console.log). */
  log?: (line: string) => void;
  /** Override of the study size (tests). */
  config?: StudyConfig;
  /** Also write the raw measurements here as JSON (so the report can be re-rendered with --render). */
  saveResults?: string;
}

const since = (t0: number) => (performance.now() - t0) / 1000;

/** The one-factor-at-a-time attack settings around the default (20 steps, α × 1, 1 restart), without duplicates. */
export function attackSettings(c: StudyConfig['stability']): AttackSetting[] {
  const base = { steps: 20, factor: 1, restarts: 1 };
  const list: AttackSetting[] = [];
  const add = (s: Omit<AttackSetting, 'label'>) => {
    if (list.some((o) => o.steps === s.steps && o.factor === s.factor && o.restarts === s.restarts)) return;
    list.push({ ...s, label: `${s.steps} steps, α×${s.factor}, ${s.restarts} restart${s.restarts > 1 ? 's' : ''}` });
  };
  add(base);
  for (const steps of c.steps) add({ ...base, steps });
  for (const factor of c.stepFactors) add({ ...base, factor });
  for (const restarts of c.restarts) add({ ...base, restarts });
  return list;
}

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
  };
}

function modelInfo(m: ZooModel): ModelInfo {
  return { id: m.id, title: m.title, dataset: m.dataset, arch: m.arch, method: m.training.method, trainEps: m.training.eps, pair: m.pair, robust: m.robust };
}

async function loadLayersModel(id: string): Promise<tf.LayersModel> {
  return (await loadModelFromPath(join(MODELS_DIR, id))) as tf.LayersModel;
}

/**
 * Clean accuracy and mean cross-entropy (nats) of `c` on `x` (n × inputSize) with `labels`,
 * forward passes only, in chunks under the engine's activation budget.
 */
async function cleanStats(c: Classifier, x: Float32Array, labels: ArrayLike<number>): Promise<{ accuracy: number; meanCE: number }> {
  const n = x.length / c.inputSize;
  const chunk = chunkSizeFor(c, false);
  let correct = 0;
  let ceSum = 0;
  for (let first = 0; first < n; first += chunk) {
    const m = Math.min(chunk, n - first);
    const [hits, ce] = tf.tidy(() => {
      const xb = tf.tensor(x.subarray(first * c.inputSize, (first + m) * c.inputSize), [m, ...c.inputShape]);
      const y = tf.tensor1d(Int32Array.from({ length: m }, (_, k) => labels[first + k]), 'int32');
      const z = c.logits(xb);
      return [tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), y), 'float32')), tf.sum(crossEntropy(z, y))];
    });
    try {
      correct += (await hits.data())[0];
      ceSum += (await ce.data())[0];
    } finally {
      tf.dispose([hits, ce]);
    }
  }
  return { accuracy: correct / n, meanCE: ceSum / n };
}

/** Logits of the first `n` images, as a plain array (for the rescaling check). */
async function logitsOf(c: Classifier, x: Float32Array, n: number): Promise<Float32Array> {
  const z = tf.tidy(() => c.logits(tf.tensor(x.subarray(0, n * c.inputSize), [n, ...c.inputShape])));
  try {
    return (await z.data()) as Float32Array;
  } finally {
    z.dispose();
  }
}

/** Replaces the last layer's kernel and bias by `original` × k (a pure rescaling of the logits). */
function setLastLayerScaled(model: tf.LayersModel, original: { values: Float32Array; shape: number[] }[], k: number): void {
  const last = model.layers[model.layers.length - 1];
  const scaled = original.map((w) => tf.tensor(w.values.map((v) => v * k), w.shape));
  last.setWeights(scaled);
  tf.dispose(scaled);
}

interface LoadedData {
  ds: Dataset;
  info: DatasetInfo;
  /** The first `n` test images as floats and their labels. */
  x: Float32Array;
  y: number[];
}

function prefix(d: LoadedData, size: number, n: number): { x: Float32Array; y: number[] } {
  const m = Math.min(n, d.y.length);
  return { x: d.x.subarray(0, m * size), y: d.y.slice(0, m) };
}

/**
 * The surface figures of the example pair (natural and adversarial MNIST CNN on the same test
 * image), drawn by the lab's own SVG export: the margin heatmaps side by side on one colour
 * scale with the decision boundary and the ε-box, and the 1D slices of both. Returns their
 * paths relative to `outDir` for the report.
 */
export async function renderExamplePairSurfaceFigure(
  natural: { model: string; surface: SurfaceResult },
  adversarial: { model: string; surface: SurfaceResult },
  figDir: string,
  outDir: string,
  eps: number,
): Promise<string[]> {
  const panels = [
    { surface: natural.surface, label: `natural: ${natural.model}` },
    { surface: adversarial.surface, label: `adversarial: ${adversarial.model}` },
  ];
  const common = { panels, quantity: 'margin' as const, colorBy: 'value' as const, colormap: 'rdbu' as const, zRange: null, epsBox: eps, theme: 'light' as const, transparent: false, scale: 1 };
  const files: Array<[string, string]> = [
    ['example-pair-heatmap.svg', svgFigure({ ...common, kind: 'heatmap', title: `Logit margin around test image #${EXAMPLE_SAMPLE} (ε-box dashed, decision boundary black)` })],
    ['example-pair-slices.svg', svgFigure({ ...common, kind: 'slices', title: `Logit margin along d1 and d2 through test image #${EXAMPLE_SAMPLE}` })],
  ];
  const out: string[] = [];
  for (const [name, svg] of files) {
    const file = join(figDir, name);
    await writeFile(file, svg);
    out.push(relative(outDir, file).split('\\').join('/'));
  }
  return out;
}

/** The test image whose grids (and figures) section 5 publishes. */
const EXAMPLE_SAMPLE = 0;

/** A grid read back from a CSV written by surfaceCsv (for --render, which does not recompute). */
function surfaceFromCsv(text: string): SurfaceResult {
  const rows = text.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const a = [...new Set(rows.map((r) => r[0]))];
  const b = [...new Set(rows.map((r) => r[1]))];
  if (a.length * b.length !== rows.length) throw new Error(`a surface CSV of ${rows.length} rows is not a ${a.length} × ${b.length} grid`);
  return {
    a: Float32Array.from(a),
    b: Float32Array.from(b),
    loss: Float32Array.from(rows, (r) => r[2]),
    margin: Float32Array.from(rows, (r) => r[3]),
    pred: Int32Array.from(rows, (r) => r[4]),
    confidence: Float32Array.from(rows, (r) => r[5]),
    seconds: 0,
  };
}

/** Runs the whole study and writes the doc, figures, CSVs and summary. Returns the results. */
export async function runValidation(options: ValidationOptions): Promise<StudyResults> {
  const log = options.log ?? ((line: string) => console.log(line));
  const config = options.config ?? (options.quick ? QUICK_STUDY : FULL_STUDY);
  const tStart = performance.now();
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastConvGradients();
  const manifest = validateZooManifest(JSON.parse(await readFile(join(MODELS_DIR, 'index.json'), 'utf8')));
  const zoo = manifest.models.filter((m) => config.models === 'all' || config.models.includes(m.id));
  if (zoo.length === 0) throw new Error('no model of the study is in public/models/index.json');
  const models = zoo.map(modelInfo);
  const settings = attackSettings(config.stability);
  const figDir = join(options.outDir, 'validation');
  await mkdir(figDir, { recursive: true });

  // Datasets: float copies of as many leading test images as any section needs.
  const need = Math.max(config.attackSamples, config.metricSamples, config.invarianceSamples, config.stability.samples, config.surfaces.samples);
  const data = new Map<string, LoadedData>();
  for (const id of [...new Set(zoo.map((m) => m.dataset))]) {
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, id);
    const count = ds.labels.length;
    const n = config.cleanSamples > 0 ? Math.min(count, Math.max(config.cleanSamples, need)) : count;
    const x = datasetToFloat(ds, Array.from({ length: n }, (_, i) => i));
    const info: DatasetInfo = { id, name: ds.manifest.name, defaultEps: ds.manifest.defaultEps, epsGrid: [...ds.manifest.epsGrid], testCount: count };
    data.set(id, { ds, info, x, y: Array.from(ds.labels.subarray(0, n)) });
  }
  const dataOf = (m: { dataset: string }) => data.get(m.dataset) as LoadedData;
  const metricSettings = (eps: number): MetricSettings => ({ ...DEFAULT_METRIC_SETTINGS, eps });

  // 1. Ranking.
  let t0 = performance.now();
  const ranking: RankingRow[] = [];
  for (const m of models) {
    const d = dataOf(m);
    const model = await loadLayersModel(m.id);
    const c = createClassifier(model);
    try {
      const cleanSet = config.cleanSamples > 0 ? prefix(d, c.inputSize, config.cleanSamples) : { x: d.x, y: d.y };
      const clean = await cleanStats(c, cleanSet.x, cleanSet.y);
      const att = prefix(d, c.inputSize, config.attackSamples);
      const grid = d.info.epsGrid;
      const fgsm = await adversarialAccuracy(c, att.x, att.y, { method: 'fgsm', norm: 'linf', eps: grid, steps: 0, restarts: 1, seed: 0 });
      const pgd = await adversarialAccuracy(c, att.x, att.y, { method: 'pgd', norm: 'linf', eps: grid, steps: 20, restarts: 1, seed: 0 });
      const met = prefix(d, c.inputSize, config.metricSamples);
      const metric = await computeMetric(c, met.x, metricSettings(d.info.defaultEps));
      ranking.push({
        model: m,
        clean: clean.accuracy,
        cleanSamples: cleanSet.y.length,
        eps: grid,
        fgsm: fgsm.accuracy,
        pgd: pgd.accuracy,
        attackSamples: att.y.length,
        pgdSeconds: pgd.seconds,
        R: metric.R,
        std: metric.std,
        halfWidth: metric.halfWidth,
        metricSamples: metric.n,
        metricSeconds: metric.seconds,
        psi: Array.from(metric.psi),
      });
      log(`[ranking] ${m.id}: clean ${(100 * clean.accuracy).toFixed(1)} %, PGD-20 ${pgd.accuracy.map((v) => (100 * v).toFixed(1)).join('/')} %, R ${metric.R.toFixed(4)} (${since(t0).toFixed(0)} s)`);
    } finally {
      c.dispose();
      model.dispose();
    }
  }
  const correlations: RankCorrelation[] = [];
  for (const d of data.values()) {
    const rows = ranking.filter((r) => r.model.dataset === d.info.id);
    const di = d.info.epsGrid.indexOf(d.info.defaultEps);
    const defaultIndex = di >= 0 ? di : d.info.epsGrid.length - 1;
    const discordant: [string, string][] = [];
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        // Lower R should go with higher accuracy; a pair is discordant when both differ and agree in sign.
        const dr = rows[i].R - rows[j].R;
        const da = rows[i].pgd[defaultIndex] - rows[j].pgd[defaultIndex];
        if (dr !== 0 && da !== 0 && Math.sign(dr) === Math.sign(da)) discordant.push([rows[i].model.id, rows[j].model.id]);
      }
    }
    correlations.push({
      dataset: d.info.id,
      models: rows.length,
      rhoPgd: d.info.epsGrid.map((_, e) => spearman(rows.map((r) => r.R), rows.map((r) => r.pgd[e]))),
      rhoFgsm: spearman(rows.map((r) => r.R), rows.map((r) => r.fgsm[defaultIndex])),
      defaultIndex,
      discordant,
    });
  }
  const secRanking = since(t0);

  // 2. Invariance: the same model with its last layer × k, same samples and seed.
  t0 = performance.now();
  const invariance: InvarianceRow[] = [];
  for (const m of models) {
    const d = dataOf(m);
    const model = await loadLayersModel(m.id);
    const last = model.layers[model.layers.length - 1];
    const original = await Promise.all(last.getWeights().map(async (w) => ({ values: Float32Array.from(await w.data()), shape: w.shape.slice() })));
    try {
      let z1: Float32Array | undefined;
      for (const k of [1, ...config.invarianceScales]) {
        setLastLayerScaled(model, original, k);
        const c = createClassifier(model);
        try {
          const probe = Math.min(32, d.y.length);
          const z = await logitsOf(c, d.x, probe);
          z1 ??= z;
          let err = 0;
          let ref = 0;
          for (let i = 0; i < z.length; i++) {
            err = Math.max(err, Math.abs(z[i] - k * z1[i]));
            ref = Math.max(ref, Math.abs(k * z1[i]));
          }
          const cleanSet = config.cleanSamples > 0 ? prefix(d, c.inputSize, config.cleanSamples) : { x: d.x, y: d.y };
          const clean = await cleanStats(c, cleanSet.x, cleanSet.y);
          const inv = prefix(d, c.inputSize, config.invarianceSamples);
          const on = await computeMetric(c, inv.x, metricSettings(d.info.defaultEps));
          const off = await computeMetric(c, inv.x, { ...metricSettings(d.info.defaultEps), normalize: false });
          invariance.push({ model: m.id, k, logitRelError: err / ref, clean: clean.accuracy, cleanSamples: cleanSet.y.length, meanCE: clean.meanCE, rNorm: on.R, rRaw: off.R });
          log(`[invariance] ${m.id} ×${k}: R ${on.R.toFixed(4)} (normalised), ${off.R.toExponential(3)} (raw), CE ${clean.meanCE.toFixed(4)} (${since(t0).toFixed(0)} s)`);
        } finally {
          c.dispose();
        }
      }
    } finally {
      model.dispose();
    }
  }
  const secInvariance = since(t0);

  // 3. Stability: R and PGD accuracy over the attack settings, same samples, same seed.
  t0 = performance.now();
  const stability: StabilityRow[] = [];
  for (const m of models) {
    const d = dataOf(m);
    const radii = [d.info.defaultEps];
    if (config.stability.smallestEps && d.info.epsGrid[0] !== d.info.defaultEps) radii.push(d.info.epsGrid[0]);
    const model = await loadLayersModel(m.id);
    const c = createClassifier(model);
    try {
      const st = prefix(d, c.inputSize, config.stability.samples);
      for (const eps of radii) {
        const R: number[] = [];
        const acc: number[] = [];
        for (const s of settings) {
          const metric = await computeMetric(c, st.x, { ...metricSettings(eps), steps: s.steps, restarts: s.restarts, stepSize: s.factor * defaultStepSize(eps, s.steps) });
          const pgd = await adversarialAccuracy(c, st.x, st.y, { method: 'pgd', norm: 'linf', eps: [eps], steps: s.steps, stepFactor: 2.5 * s.factor, restarts: s.restarts, seed: 0 });
          R.push(metric.R);
          acc.push(pgd.accuracy[0]);
        }
        stability.push({ model: m.id, eps, R, acc, spreadR: relativeSpread(R), spreadAcc: relativeSpread(acc) });
        log(`[stability] ${m.id} ε ${eps}: R ${R.map((v) => v.toFixed(3)).join(' ')} | acc ${acc.map((v) => (100 * v).toFixed(1)).join(' ')} (${since(t0).toFixed(0)} s)`);
      }
    } finally {
      c.dispose();
      model.dispose();
    }
  }
  const secStability = since(t0);

  // 4. Cost: CI half-width of R over growing prefixes of the ranking's samples; time to a stable R.
  t0 = performance.now();
  const cost: CostRow[] = [];
  const threshold = config.cost.stableRelHalfWidth;
  for (const row of ranking) {
    const counts = config.cost.counts.filter((n) => n <= row.psi.length);
    const sums = counts.map((n) => summarize(row.psi.slice(0, n)));
    const rel = sums.map((s) => s.halfWidth / s.mean);
    let stableN: number | null = null;
    for (let i = counts.length - 1; i >= 0 && rel[i] <= threshold; i--) stableN = counts[i];
    const nAll = row.psi.length;
    const projectedN = Math.max(2, Math.ceil(((tQuantile975(nAll - 1) * row.std) / (threshold * row.R)) ** 2));
    const d = dataOf(row.model);
    let stableSeconds: number;
    let stableTimed: boolean;
    if (stableN !== null) {
      // Timed afresh on its own: a new classifier and exactly stableN images.
      const model = await loadLayersModel(row.model.id);
      const c = createClassifier(model);
      try {
        const tm = performance.now();
        await computeMetric(c, prefix(d, c.inputSize, stableN).x, metricSettings(d.info.defaultEps));
        stableSeconds = since(tm);
        stableTimed = true;
      } finally {
        c.dispose();
        model.dispose();
      }
    } else {
      stableSeconds = (row.metricSeconds * projectedN) / row.metricSamples;
      stableTimed = false;
    }
    cost.push({
      model: row.model.id,
      counts,
      R: sums.map((s) => s.mean),
      halfWidth: sums.map((s) => s.halfWidth),
      stableN,
      projectedN,
      stableSeconds,
      stableTimed,
      pgdFullSeconds: (row.pgdSeconds * d.info.testCount) / row.attackSamples,
    });
    log(`[cost] ${row.model.id}: stable at n = ${stableN ?? `>${counts[counts.length - 1]}`} (projected ${projectedN}), ${stableSeconds.toFixed(1)} s vs PGD-20 full split ${((row.pgdSeconds * d.info.testCount) / row.attackSamples).toFixed(0)} s`);
  }
  const secCost = since(t0);

  // 5. Surfaces: for every natural/adversarial pair, the same first test images of the dataset.
  t0 = performance.now();
  const pairs: SurfacePair[] = models
    .filter((m) => m.robust && models.some((n) => n.id === m.pair && !n.robust))
    .map((m) => ({ dataset: m.dataset, natural: m.pair, adversarial: m.id }));
  const surfaceModels = models.filter((m) => pairs.some((p) => p.natural === m.id || p.adversarial === m.id));
  const surfaces: SurfaceModel[] = [];
  const example = pairs.find((p) => p.dataset === 'mnist' && /-cnn-/.test(p.natural) && /-cnn-pgd$/.test(p.adversarial)) ?? pairs[0];
  const exampleSurfaces = new Map<string, SurfaceResult>();
  for (const m of surfaceModels) {
    const d = dataOf(m);
    const eps = d.info.defaultEps;
    const range = config.surfaces.rangeFactor * eps;
    const axis = gridAxis(range, config.surfaces.grid);
    const mid = (config.surfaces.grid - 1) / 2;
    const model = await loadLayersModel(m.id);
    const c = createClassifier(model);
    const out: SurfaceModel = { model: m.id, dataset: m.dataset, range, eps, samples: [] };
    try {
      for (let i = 0; i < Math.min(config.surfaces.samples, d.y.length); i++) {
        const x = d.x.slice(i * c.inputSize, (i + 1) * c.inputSize);
        const dirs = await computeDirections(c, x, d.y[i], DEFAULT_DIRECTION_SETTINGS);
        const s = await computeSurface(c, { x, label: d.y[i], d1: dirs.d1, d2: dirs.d2, a: axis, b: axis });
        const row = s.margin.subarray(mid * axis.length, (mid + 1) * axis.length);
        out.samples.push({ index: i, label: d.y[i], crossing: firstZeroCrossing(s.a, row), maxLoss: maxInBox(s.a, s.b, s.loss, eps) });
        if (example && i === EXAMPLE_SAMPLE && m.dataset === example.dataset && (m.id === example.natural || m.id === example.adversarial)) exampleSurfaces.set(m.id, s);
      }
    } finally {
      c.dispose();
      model.dispose();
    }
    surfaces.push(out);
    log(`[surfaces] ${m.id}: ${out.samples.length} samples (${since(t0).toFixed(0)} s)`);
  }
  const exampleCsv: StudyResults['exampleCsv'] = [];
  let exampleFigures: string[] = [];
  if (example) {
    const nat = exampleSurfaces.get(example.natural);
    const adv = exampleSurfaces.get(example.adversarial);
    for (const [id, s] of [[example.natural, nat], [example.adversarial, adv]] as const) {
      if (!s) continue;
      const file = join(figDir, `surface-${id}-sample${EXAMPLE_SAMPLE}.csv`);
      await writeFile(file, surfaceCsv(s));
      exampleCsv.push({ model: id, file: relative(options.outDir, file).split('\\').join('/'), sample: EXAMPLE_SAMPLE });
    }
    if (nat && adv) {
      exampleFigures = await renderExamplePairSurfaceFigure({ model: example.natural, surface: nat }, { model: example.adversarial, surface: adv }, figDir, options.outDir, data.get(example.dataset)!.info.defaultEps);
    }
  }
  const secSurfaces = since(t0);

  const results: StudyResults = {
    config,
    quick: options.quick,
    command: options.command,
    date: new Date().toISOString(),
    machine: machineInfo(),
    seconds: { total: since(tStart), ranking: secRanking, invariance: secInvariance, stability: secStability, cost: secCost, surfaces: secSurfaces },
    datasets: [...data.values()].map((d) => d.info),
    models,
    ranking,
    correlations,
    invariance,
    settings,
    stability,
    cost,
    surfaces,
    pairs,
    exampleCsv,
    exampleFigures,
  };
  if (options.saveResults) await writeFile(options.saveResults, JSON.stringify(results) + '\n');
  const written = await writeReport(results, options.outDir, options.summaryPath);
  log(`wrote ${written.map((p) => relative(process.cwd(), p) || p).join(', ')} (${results.seconds.total.toFixed(0)} s in all)`);
  return results;
}

/**
 * Command-line entry: --quick, --out <dir>; for development also --save-results <file.json>
 * (the raw measurements) and --render <file.json> (rewrite the doc, figures and summary from
 * saved measurements without measuring again; the doc keeps the measuring run's command,
 * date, machine and wall time).
 */
async function main(argv: string[]): Promise<void> {
  const valued = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' || a === '--save-results' || a === '--render') {
      if (!argv[i + 1] || argv[i + 1].startsWith('--')) throw new Error(`${a} needs a path`);
      valued.set(a, argv[++i]);
    } else if (a === '--quick') {
      flags.add(a);
    } else {
      throw new Error(`unknown argument ${a}; use --quick, --out <dir>, --save-results <file> or --render <file>`);
    }
  }
  const out = valued.get('--out');
  const outDir = out ? resolve(out) : DEFAULT_OUT_DIR;
  // Only a run into docs/ updates the numbers the app shows; other folders get their own copy.
  const summaryPath = outDir === DEFAULT_OUT_DIR ? UI_SUMMARY_PATH : join(outDir, 'validationSummary.json');
  const render = valued.get('--render');
  if (render) {
    const results = JSON.parse(await readFile(render, 'utf8')) as StudyResults;
    // The example pair's figures come from its published grids (the CSVs), not from a rerun.
    if (results.exampleCsv.length === 2) {
      const [nat, adv] = await Promise.all(results.exampleCsv.map(async (e) => ({ model: e.model, surface: surfaceFromCsv(await readFile(join(outDir, e.file), 'utf8')) })));
      const eps = results.datasets.find((d) => d.id === 'mnist')?.defaultEps ?? 0.3;
      results.exampleFigures = await renderExamplePairSurfaceFigure(nat, adv, join(outDir, 'validation'), outDir, eps);
    }
    const written = await writeReport(results, outDir, summaryPath);
    console.log(`re-rendered ${written.map((p) => relative(process.cwd(), p) || p).join(', ')} from ${render} (measured by ${results.command} on ${results.date})`);
    return;
  }
  const viaNpm = process.env.npm_lifecycle_event === 'validate';
  const shown = argv.filter((_, i) => argv[i - 1] !== '--save-results' && argv[i] !== '--save-results');
  const command = `${viaNpm ? 'npm run validate' : 'npx tsx --tsconfig tsconfig.node.json scripts/validate.ts'}${shown.length ? `${viaNpm ? ' --' : ''} ${shown.join(' ')}` : ''}`;
  const saveResults = valued.get('--save-results');
  await runValidation({ quick: flags.has('--quick'), outDir, summaryPath, command, saveResults: saveResults ? resolve(saveResults) : undefined });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exit(1);
  });
}
