/**
 * Trains built-in models and writes them to public/models/<id>/ (model.json + one shard) with
 * a training record (training.json: settings, seconds, per-epoch log).
 *
 *   npx tsx scripts/train.ts mnist-cnn-natural mnist-cnn-pgd   # some
 *   npx tsx scripts/train.ts --all                              # every model in scripts/zoo.ts
 *
 * Needs the training splits in .cache/data (npx tsx scripts/prepare-data.ts). Runs on the
 * tfjs wasm backend (one thread) with the engine's forward-convolution gradients.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerFastConvGradients } from '../src/engine/convGrad';
import { datasetToFloat } from '../src/io/dataset';
import { loadTrainSplit, REPO_ROOT } from '../src/io/datasetNode';
import { saveModelToDir } from '../src/io/modelNode';
import { trainModel } from './lib/trainer';
import { ZOO, zooEntry } from './zoo';

export const MODELS_DIR = join(REPO_ROOT, 'public', 'models');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ids = args.includes('--all') ? ZOO.map((z) => z.id) : args;
  if (ids.length === 0) {
    console.error('usage: npx tsx scripts/train.ts (--all | <model id>...)');
    process.exit(2);
  }
  await tf.setBackend('wasm');
  registerFastConvGradients();
  for (const id of ids) {
    const entry = zooEntry(id);
    const ds = await loadTrainSplit(entry.dataset);
    const n = ds.labels.length;
    const x = datasetToFloat(ds, Array.from({ length: n }, (_, i) => i));
    const y = Int32Array.from(ds.labels);
    console.log(`[${id}] ${entry.title}: ${n} training samples, ${JSON.stringify(entry.spec)}`);
    const { model, history, seconds } = await trainModel(entry.spec, { x, y, inputShape: ds.manifest.shape, numClasses: ds.manifest.classes.length }, (line) =>
      console.log(`[${id}] ${line}`),
    );
    const dir = join(MODELS_DIR, id);
    await saveModelToDir(model, dir);
    const record = {
      id,
      title: entry.title,
      dataset: entry.dataset,
      spec: entry.spec,
      trainingSamples: entry.spec.maxSamples > 0 ? Math.min(entry.spec.maxSamples, n) : n,
      seconds: Math.round(seconds),
      backend: `tfjs ${tf.version.tfjs} ${tf.getBackend()} (Node ${process.version}, 1 thread)`,
      command: `npx tsx scripts/train.ts ${id}`,
      history,
    };
    await writeFile(join(dir, 'training.json'), JSON.stringify(record, null, 1));
    console.log(`[${id}] saved to ${dir} after ${seconds.toFixed(0)} s`);
    model.dispose();
  }
}

await main();
