/**
 * Measures every trained built-in model on its dataset's test split and writes the manifest
 * public/models/index.json. Nothing in the manifest is typed in: accuracies, R, parameter
 * counts, sizes and hashes all come from this run.
 *
 *   npx tsx scripts/evaluate.ts            # every model of scripts/zoo.ts found on disk
 *   npx tsx scripts/evaluate.ts --quick    # 200 attack / 100 metric samples (smoke run)
 *   npx tsx scripts/evaluate.ts --doc-only # only rewrite docs/models.md from index.json
 *
 * Clean accuracy uses the whole test split; FGSM and PGD-20 (L∞, random start, α = 2.5 ε/20)
 * use the first ATTACK_SAMPLES test images at the dataset's ε grid; R uses the first
 * METRIC_SAMPLES test images at the dataset's default ε with PAPER.md's defaults.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adversarialAccuracy } from '../src/engine/attacks';
import { createClassifier } from '../src/engine/classifier';
import { registerFastConvGradients } from '../src/engine/convGrad';
import { computeMetric, DEFAULT_METRIC_SETTINGS } from '../src/engine/metric';
import { datasetToFloat } from '../src/io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR, REPO_ROOT } from '../src/io/datasetNode';
import { loadModelFromPath, modelFilesIdentity, readModelFiles } from '../src/io/modelNode';
import { countParams } from './lib/architectures';
import { ZOO } from './zoo';

const MODELS_DIR = join(REPO_ROOT, 'public', 'models');
const quick = process.argv.includes('--quick');
/** Test images attacked per ε (1,000 keeps the whole zoo's evaluation near ten minutes on 2 cores). */
const ATTACK_SAMPLES = quick ? 200 : 1000;
/** Test images for R, as the model-zoo issue asks. */
const METRIC_SAMPLES = quick ? 100 : 500;

async function main(): Promise<void> {
  if (process.argv.includes('--doc-only')) {
    // Rebuild docs/models.md from the manifest already on disk (no measuring).
    await writeFile(join(REPO_ROOT, 'docs', 'models.md'), modelsDoc(JSON.parse(await readFile(join(MODELS_DIR, 'index.json'), 'utf8'))));
    console.log('wrote docs/models.md from public/models/index.json');
    return;
  }
  await tf.setBackend('wasm');
  registerFastConvGradients();
  const entries = [];
  for (const z of ZOO) {
    const dir = join(MODELS_DIR, z.id);
    const training = await readFile(join(dir, 'training.json'), 'utf8').then(
      (text) => JSON.parse(text) as { seconds: number; trainingSamples: number; command: string },
      () => undefined,
    );
    if (!training) {
      console.log(`[${z.id}] not trained yet, skipped`);
      continue;
    }
    const t0 = performance.now();
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, z.dataset);
    const model = (await loadModelFromPath(dir)) as tf.LayersModel;
    const c = createClassifier(model);
    const n = ds.labels.length;
    const all = Array.from({ length: n }, (_, i) => i);
    const x = datasetToFloat(ds, all);
    const labels = Array.from(ds.labels);
    const clean = await adversarialAccuracy(c, x, labels, { method: 'fgsm', norm: 'linf', eps: [0], steps: 0, restarts: 1, seed: 0 });
    const xa = x.subarray(0, ATTACK_SAMPLES * c.inputSize);
    const ya = labels.slice(0, ATTACK_SAMPLES);
    const grid = ds.manifest.epsGrid;
    const fgsm = await adversarialAccuracy(c, xa, ya, { method: 'fgsm', norm: 'linf', eps: grid, steps: 0, restarts: 1, seed: 0 });
    const pgd = await adversarialAccuracy(c, xa, ya, { method: 'pgd', norm: 'linf', eps: grid, steps: 20, restarts: 1, seed: 0 });
    const eps = ds.manifest.defaultEps;
    const metric = await computeMetric(c, x.subarray(0, METRIC_SAMPLES * c.inputSize), { ...DEFAULT_METRIC_SETTINGS, eps });
    const files = await modelFilesIdentity(join(dir, 'model.json'), (await readModelFiles(dir)).shardNames);
    const entry = {
      id: z.id,
      title: z.title,
      dataset: z.dataset,
      arch: z.spec.arch,
      training: { method: z.spec.method, eps: z.spec.eps, steps: z.spec.steps, epochs: z.spec.epochs, samples: training.trainingSamples, seconds: training.seconds, command: training.command },
      pair: z.pair,
      robust: z.spec.method !== 'natural',
      params: countParams(model),
      bytes: files.bytes,
      sha256: files.sha256,
      path: `models/${z.id}/model.json`,
      logitsSource: c.logitsSource,
      accuracy: {
        clean: clean.accuracy[0],
        cleanSamples: n,
        attackSamples: ATTACK_SAMPLES,
        eps: grid,
        fgsm: fgsm.accuracy,
        pgd20: pgd.accuracy,
      },
      metric: { R: metric.R, std: metric.std, ci95: metric.ci95, n: metric.n, eps, norm: 'linf', steps: metric.settings.steps, restarts: metric.settings.restarts, normalize: true, seed: 0 },
    };
    entries.push(entry);
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    console.log(
      `[${z.id}] clean ${pct(entry.accuracy.clean)}  FGSM ${fgsm.accuracy.map(pct).join('/')}  PGD-20 ${pgd.accuracy.map(pct).join('/')} @ ε ${grid.join('/')}  R ${metric.R.toFixed(4)} ± ${(metric.ci95[1] - metric.R).toFixed(4)}  ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    c.dispose();
    model.dispose();
  }
  const manifest = {
    generatedBy: `npx tsx scripts/evaluate.ts${quick ? ' --quick' : ''}`,
    generatedAt: new Date().toISOString(),
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    models: entries,
  };
  await writeFile(join(MODELS_DIR, 'index.json'), JSON.stringify(manifest, null, 1) + '\n');
  console.log(`wrote ${join(MODELS_DIR, 'index.json')} (${entries.length} models)`);
  await writeFile(join(REPO_ROOT, 'docs', 'models.md'), modelsDoc(manifest));
  console.log(`wrote docs/models.md`);
}

type Entry = import('../src/io/zoo').ZooModel;

/** docs/models.md, generated from the measured manifest (so no number in it is typed by hand). */
function modelsDoc(manifest: { generatedBy: string; generatedAt: string; tfjs: string; backend: string; models: Entry[] }): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const lines = [
    '# Built-in models',
    '',
    `Generated by \`${manifest.generatedBy}\` on ${manifest.generatedAt.slice(0, 10)} (tfjs ${manifest.tfjs}, ${manifest.backend} backend); do not edit by hand.`,
    '',
    'Every model is a TF.js LayersModel under `public/models/<id>/`, trained by `scripts/train.ts` with the settings in `scripts/zoo.ts`',
    '(seeds fixed for initialisation, data order and PGD starts) on the training split made by `scripts/prepare-data.ts`.',
    'Clean accuracy is measured on the whole test split; FGSM and PGD-20 (L∞, random start, α = 2.5 ε / 20, a sample counts as',
    'broken if any iterate is misclassified) on its first ' + (manifest.models[0]?.accuracy.attackSamples ?? 0) + ' images; R (PAPER.md §2: PGD-20 on the normalised KL, 1 restart, seed 0)',
    'on its first ' + (manifest.models[0]?.metric.n ?? 0) + ' images at the dataset\'s default ε.',
    '',
    '| model | data | arch | training | params | size | clean | FGSM | PGD-20 | R (95 % CI) | train time | reproduce |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | --- |',
  ];
  for (const m of manifest.models) {
    const eps = m.accuracy.eps.join(' / ');
    lines.push(
      `| \`${m.id}\` | ${m.dataset} | ${m.arch} | ${m.training.method}${m.training.eps ? ` ε ${m.training.eps}` : ''}${m.training.steps ? `, ${m.training.steps} steps` : ''}, ${m.training.epochs} epochs, ${m.training.samples} samples | ${m.params.toLocaleString('en-US')} | ${(m.bytes / 1024).toFixed(0)} KB | ${pct(m.accuracy.clean)} | ${m.accuracy.fgsm.map(pct).join(' / ')} @ ε ${eps} | ${m.accuracy.pgd20.map(pct).join(' / ')} | ${m.metric.R.toFixed(3)} ± ${(m.metric.ci95[1] - m.metric.R).toFixed(3)} | ${m.training.seconds} s | \`${m.training.command}\` |`,
    );
  }
  lines.push('', 'Each adversarially trained model against its natural twin:', '');
  for (const m of manifest.models.filter((x) => x.robust)) {
    const twin = manifest.models.find((x) => x.id === m.pair);
    if (twin) lines.push(`- \`${twin.id}\` R = ${twin.metric.R.toFixed(3)} → \`${m.id}\` R = ${m.metric.R.toFixed(3)} (${m.metric.R < twin.metric.R ? 'lower: more robust' : 'NOT lower'})`);
  }
  lines.push(
    '',
    'Training times are wall-clock seconds on the 2-core development machine, one thread of tfjs-wasm per model, with two models',
    'training at once. The whole zoo: `npx tsx scripts/prepare-data.ts && npx tsx scripts/train.ts --all && npx tsx scripts/evaluate.ts`.',
    '',
  );
  return lines.join('\n');
}

await main();
