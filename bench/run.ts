/**
 * Ravine's benchmarks (not tests): `npm run bench`.
 *
 * Jobs on the built-in MNIST CNN and MLP, each batched (Ravine's chunked engine) and naive
 * (one point or sample at a time, the way most loss-landscape scripts loop), on tfjs-wasm in
 * Node with the forward-convolution gradients: a 101 × 101 surface, and the metric on 100
 * samples with PGD-20. Plus the CLI's 101² surface as a user runs it. Medians of RUNS timed
 * runs after one warm-up, batched and naive interleaved so load drift hits both alike.
 * Prints the command and the machine with the figures and writes docs/benchmarks.md.
 *
 *   npm run bench              # full
 *   npm run bench -- --quick   # one timed run each, 31² grids, 20 samples (smoke)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { createClassifier, type Classifier } from '../src/engine/classifier';
import { registerFastConvGradients } from '../src/engine/convGrad';
import { computeDirections } from '../src/engine/directions';
import { computeMetric, DEFAULT_METRIC_SETTINGS } from '../src/engine/metric';
import { computeSurface, gridAxis } from '../src/engine/surface';
import { datasetToFloat } from '../src/io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR, REPO_ROOT } from '../src/io/datasetNode';
import { loadModelFromPath } from '../src/io/modelNode';

const quick = process.argv.includes('--quick');
/** Timed runs per job (medians); 3 keeps the full bench within a few minutes on 2 cores. */
const RUNS = quick ? 1 : 3;
const GRID = quick ? 31 : 101;
const METRIC_SAMPLES = quick ? 20 : 100;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

interface Row {
  job: string;
  model: string;
  batched: number;
  naive: number;
  units: number;
  unit: string;
}

async function main(): Promise<void> {
  const command = `npm run bench${quick ? ' -- --quick' : ''}`;
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  await tf.setBackend('wasm');
  registerFastConvGradients();
  const backend = `tfjs ${tf.version.tfjs} ${tf.getBackend()} (SIMD, 1 thread)`;
  console.log(`command: ${command}\nmachine: ${machine}\nbackend: ${backend}\n`);
  const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, 'mnist');
  const x0 = datasetToFloat(ds, [0]);
  const xs = datasetToFloat(ds, Array.from({ length: METRIC_SAMPLES }, (_, i) => i));
  const rows: Row[] = [];
  for (const id of ['mnist-cnn-natural', 'mnist-mlp-natural']) {
    const model = (await loadModelFromPath(join(REPO_ROOT, 'public', 'models', id))) as tf.LayersModel;
    const c: Classifier = createClassifier(model);
    const dirs = await computeDirections(c, x0, ds.labels[0], { adversarial: 'sign', random: 'rademacher', seed: 0, orthogonal: false });
    const spec = { x: x0, label: ds.labels[0], d1: dirs.d1, d2: dirs.d2, a: gridAxis(0.3, GRID), b: gridAxis(0.3, GRID) };
    const metric = { ...DEFAULT_METRIC_SETTINGS, eps: 0.3 };
    const jobs = [
      { job: `surface ${GRID}×${GRID}`, units: GRID * GRID, unit: 'points', batched: () => computeSurface(c, spec), naive: () => computeSurface(c, spec, { chunkSize: 1 }) },
      { job: `metric, ${METRIC_SAMPLES} samples × PGD-20`, units: METRIC_SAMPLES, unit: 'samples', batched: () => computeMetric(c, xs, metric), naive: () => computeMetric(c, xs, metric, { chunkSize: 1 }) },
    ];
    for (const j of jobs) {
      await j.batched();
      await j.naive();
      const b: number[] = [];
      const n: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        b.push(await time(j.batched));
        n.push(await time(j.naive));
      }
      const row = { job: j.job, model: id, batched: median(b), naive: median(n), units: j.units, unit: j.unit };
      rows.push(row);
      console.log(`${id.padEnd(18)} ${j.job.padEnd(32)} batched ${row.batched.toFixed(2)} s (${(row.units / row.batched).toFixed(0)} ${j.unit}/s)   naive ${row.naive.toFixed(2)} s   ×${(row.naive / row.batched).toFixed(1)}`);
    }
    c.dispose();
    model.dispose();
  }
  // The CLI as a user runs it: surface.json records the seconds spent on the grid.
  const out = mkdtempSync(join(os.tmpdir(), 'ravine-bench-'));
  const cliArgs = ['bin/ravine.js', 'surface', '--model', 'mnist-cnn-natural', '--dataset', 'mnist', '--index', '0', '--grid', '101', '--out-dir', out];
  const cli: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    wall.push(await time(async () => execFileSync('node', cliArgs, { cwd: REPO_ROOT, stdio: 'pipe' })));
    cli.push((JSON.parse(readFileSync(join(out, 'surface.json'), 'utf8')) as { seconds: number }).seconds);
  }
  console.log(`\nCLI: node ${cliArgs.join(' ').replace(out, '<dir>')}: grid ${median(cli).toFixed(2)} s, whole process ${median(wall).toFixed(2)} s (medians of ${RUNS})`);

  const md = [
    '# Benchmarks',
    '',
    `Generated by \`${command}\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `- machine: ${machine}`,
    `- backend: ${backend}, with Ravine's forward-convolution gradients (src/engine/convGrad.ts)`,
    `- figures: medians of ${RUNS} timed run(s) after one warm-up; batched and naive interleaved`,
    '',
    '## Batched engine versus a one-at-a-time loop',
    '',
    'Naive = the same engine call with a chunk of 1 (one grid point, or one sample, per forward/backward pass).',
    '',
    '| model | job | batched | naive | batched throughput | batched / naive speed-up |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| \`${r.model}\` | ${r.job} | ${r.batched.toFixed(2)} s | ${r.naive.toFixed(2)} s | ${(r.units / r.batched).toFixed(0)} ${r.unit}/s | ×${(r.naive / r.batched).toFixed(1)} |`),
    '',
    '## The command line',
    '',
    `\`node bin/ravine.js surface --model mnist-cnn-natural --dataset mnist --index 0 --grid 101 --out-dir <dir>\`: the 101 × 101 grid takes ${median(cli).toFixed(2)} s (surface.json's \`seconds\`), the whole process ${median(wall).toFixed(2)} s including start-up and writing files (medians of ${RUNS}).`,
    '',
    '## Convolution gradients on wasm',
    '',
    '`npx tsx bench/convGrad.ts` compares tfjs-wasm\'s own `Conv2DBackpropInput` with the forward-convolution replacement on MNIST-sized layers at batch 64; its figures are printed by that script (on the development machine: input gradient 2.6× and 5.7× faster on the two layers, one PGD step of a small CNN 3.8× faster; wasm has no native filter gradient at all).',
    '',
    'Not yet measured here: the PyTorch peer, the browser backends, and the lab\'s latency targets (see the speed issue).',
    '',
  ].join('\n');
  writeFileSync(join(REPO_ROOT, 'docs', 'benchmarks.md'), md);
  console.log('\nwrote docs/benchmarks.md');
}

await main();
