/**
 * The command line, run in-process through runCli (plus one real child process): outputs equal
 * what the engine computes for the same model, sample and settings, files read back, runs are
 * reproducible, the --fail-above gate sets the exit status, and bad input exits 2 naming the
 * argument at fault. Small settings throughout (grid 11, a few samples, few steps).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from '../engine/classifier';
import { computeDirections } from '../engine/directions';
import { computeMetric, DEFAULT_METRIC_SETTINGS } from '../engine/metric';
import { crossEntropy } from '../engine/ops';
import { computeSurface, gridAxis } from '../engine/surface';
import { datasetToFloat, imageBytes } from '../io/dataset';
import { loadDatasetFromDir, PUBLIC_DATA_DIR, REPO_ROOT } from '../io/datasetNode';
import { loadModelFromPath } from '../io/modelNode';
import { parseNpy, writeNpy } from '../io/npy';
import { runCli } from './main';

const MODEL = 'mnist-mlp-natural';
const MODEL_DIR = join(REPO_ROOT, 'public', 'models', MODEL);

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    isTTY: false,
  });
  return { code, out, err };
}

async function npy(path: string) {
  return parseNpy(new Uint8Array(await readFile(path)), path);
}

/** A .npy file of any dtype string, for dtypes writeNpy does not write (e.g. float64). */
function rawNpy(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict += ' '.repeat(64 - ((10 + dict.length + 1) % 64)) + '\n';
  const out = new Uint8Array(10 + dict.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out.set(data, 10 + dict.length);
  return out;
}

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ravine-cli-'));
  // numTensors is read before the first command starts a backend.
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('ravine zoo', () => {
  it('--json lists the manifest entries, and every listed model is on disk', async () => {
    const r = await run('zoo', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { id: string; sha256: string }[];
    const index = JSON.parse(await readFile(join(REPO_ROOT, 'public', 'models', 'index.json'), 'utf8')) as { models: { id: string }[] };
    expect(list.map((m) => m.id)).toEqual(index.models.map((m) => m.id));
    expect(list.map((m) => m.id)).toContain(MODEL);
    for (const m of list) expect(existsSync(join(REPO_ROOT, 'public', 'models', m.id, 'model.json'))).toBe(true);
  });

  it('prints a table naming each model', async () => {
    const r = await run('zoo');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^${MODEL}\\s+mnist\\s+mlp\\s+natural`, 'm'));
  });

  it('runs as a real child process: node bin/ravine.js zoo --json', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      execFile(process.execPath, [join(REPO_ROOT, 'bin', 'ravine.js'), 'zoo', '--json'], { cwd: tmpdir(), timeout: 60_000 }, (error, out) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout: out });
      });
    });
    expect(code).toBe(0);
    expect(Array.isArray(JSON.parse(stdout))).toBe(true);
  });
});

describe('ravine surface', () => {
  const G = 11;
  const settings = ['--grid', String(G), '--range', '0.25', '--range-b', '0.1', '--seed', '7'];

  it('writes the surface the engine computes in-process, bit for bit', async () => {
    const dir = join(tmp, 'surface-a');
    const before = tf.memory().numTensors;
    const r = await run('surface', '--model', MODEL, '--dataset', 'mnist', '--index', '3', ...settings, '--out-dir', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);

    // The same computation through the engine, on the backend the CLI set (wasm).
    expect(tf.getBackend()).toBe('wasm');
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, 'mnist');
    const model = await loadModelFromPath(MODEL_DIR);
    const c = createClassifier(model);
    const x = datasetToFloat(ds, [3]);
    const label = ds.labels[3];
    const dirs = await computeDirections(c, x, label, { adversarial: 'sign', random: 'rademacher', seed: 7, orthogonal: false });
    const a = gridAxis(0.25, G);
    const b = gridAxis(0.1, G);
    const want = await computeSurface(c, { x, label, d1: dirs.d1, d2: dirs.d2, a, b });

    const loss = await npy(join(dir, 'loss.npy'));
    const margin = await npy(join(dir, 'margin.npy'));
    const pred = await npy(join(dir, 'pred.npy'));
    const conf = await npy(join(dir, 'confidence.npy'));
    for (const arr of [loss, margin, conf]) expect([arr.dtype, arr.shape]).toEqual(['float32', [G, G]]);
    expect([pred.dtype, pred.shape]).toEqual(['int32', [G, G]]);
    expect(loss.data).toEqual(want.loss);
    expect(margin.data).toEqual(want.margin);
    expect(conf.data).toEqual(want.confidence);
    expect(pred.data).toEqual(want.pred);
    for (const [name, v] of [['x', x], ['d1', dirs.d1], ['d2', dirs.d2]] as const) {
      const f = await npy(join(dir, `${name}.npy`));
      expect([f.dtype, f.shape]).toEqual(['float32', [28, 28, 1]]);
      expect(f.data).toEqual(v);
    }

    const json = JSON.parse(await readFile(join(dir, 'surface.json'), 'utf8'));
    const index = JSON.parse(await readFile(join(REPO_ROOT, 'public', 'models', 'index.json'), 'utf8')) as { models: { id: string; sha256: string }[] };
    expect(json.model.id).toBe(MODEL);
    expect(json.model.sha256).toBe(index.models.find((m) => m.id === MODEL)?.sha256);
    expect(json.backend).toBe('wasm');
    expect(json.seconds).toBeGreaterThan(0);
    expect(json.settings).toMatchObject({ grid: G, range: 0.25, rangeB: 0.1, seed: 7, direction: 'sign', random: 'rademacher', orthogonal: false });
    expect(json.sample).toMatchObject({ dataset: 'mnist', index: 3, label });
    expect(Float32Array.from(json.a)).toEqual(a);
    expect(Float32Array.from(json.b)).toEqual(b);
    expect(json.loss).toHaveLength(G);
    for (let j = 0; j < G; j++) {
      for (let i = 0; i < G; i++) {
        expect(Math.fround(json.loss[j][i])).toBe(want.loss[j * G + i]);
        expect(Math.fround(json.margin[j][i])).toBe(want.margin[j * G + i]);
        expect(json.pred[j][i]).toBe(want.pred[j * G + i]);
      }
    }
    // Orientation, independently of the engine's grid code: row j is b[j], column i is a[i].
    const [i, j] = [9, 2];
    const point = x.map((v, k) => Math.min(1, Math.max(0, v + a[i] * dirs.d1[k] + b[j] * dirs.d2[k])));
    const ce = tf.tidy(() => crossEntropy(c.logits(tf.tensor(point, [1, 28, 28, 1])), tf.tensor1d([label], 'int32')).dataSync()[0]);
    expect(json.loss[j][i]).toBeCloseTo(ce, 4);
    expect(Math.abs(json.loss[i][j] - ce)).toBeGreaterThan(1e-3);
    c.dispose();
    model.dispose();
  });

  it('gives byte-identical files for the same seed, and reads an --input .npy like the dataset image', async () => {
    const dirA = join(tmp, 'surface-repeat-1');
    const dirB = join(tmp, 'surface-repeat-2');
    for (const dir of [dirA, dirB]) {
      expect((await run('surface', '--model', MODEL, '--dataset', 'mnist', '--index', '3', ...settings, '--out-dir', dir)).code).toBe(0);
    }
    for (const f of ['loss', 'margin', 'pred', 'confidence', 'x', 'd1', 'd2']) {
      expect(await readFile(join(dirB, `${f}.npy`))).toEqual(await readFile(join(dirA, `${f}.npy`)));
    }
    const strip = (text: string) => ({ ...JSON.parse(text), seconds: 0 });
    expect(strip(await readFile(join(dirB, 'surface.json'), 'utf8'))).toEqual(strip(await readFile(join(dirA, 'surface.json'), 'utf8')));

    // The same image as a uint8 [28, 28] file with its label: the same surface.
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, 'mnist');
    const input = join(tmp, 'digit.npy');
    await writeFile(input, writeNpy({ dtype: 'uint8', shape: [28, 28], data: Uint8Array.from(imageBytes(ds, 3)) }));
    const dirC = join(tmp, 'surface-c');
    const r = await run('surface', '--model', MODEL, '--input', input, '--label', String(ds.labels[3]), ...settings, '--out-dir', dirC);
    expect(r.code).toBe(0);
    expect(await readFile(join(dirC, 'loss.npy'))).toEqual(await readFile(join(dirA, 'loss.npy')));
    expect(await readFile(join(dirC, 'x.npy'))).toEqual(await readFile(join(dirA, 'x.npy')));
    // Directions supplied as files replace the computed ones.
    const dirD = join(tmp, 'surface-d');
    const r2 = await run('surface', '--model', MODEL, '--input', input, '--label', String(ds.labels[3]), ...settings, '--d1', join(dirA, 'd2.npy'), '--d2', join(dirA, 'd1.npy'), '--out-dir', dirD);
    expect(r2.code).toBe(0);
    expect(await readFile(join(dirD, 'd1.npy'))).toEqual(await readFile(join(dirA, 'd2.npy')));
    expect(JSON.parse(await readFile(join(dirD, 'surface.json'), 'utf8')).directions).toEqual({ d1Source: 'supplied', d2Supplied: true });
  });
});

describe('ravine metric and attack', () => {
  const base = ['--model', MODEL, '--dataset', 'mnist', '--samples', '4', '--steps', '3'];

  it('--json reports R, its spread and psi; --fail-above exits 1 above and 0 below', async () => {
    const r = await run('metric', ...base, '--json');
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out);
    expect(m.n).toBe(4);
    expect(m.psi).toHaveLength(4);
    expect(m.R).toBeCloseTo(m.psi.reduce((s: number, v: number) => s + v, 0) / 4, 5);
    expect(m.R).toBeGreaterThan(0);
    expect(m.ci95[0]).toBeLessThan(m.R);
    expect(m.settings).toMatchObject({ eps: 0.3, norm: 'linf', steps: 3, restarts: 1, normalize: true, seed: 0, samples: 4 });

    const above = await run('metric', ...base, '--fail-above', String(m.R / 2));
    expect(above.code).toBe(1);
    expect(above.out).toMatch(/^R = /);
    expect(above.err).toMatch(/is above --fail-above/);
    const below = await run('metric', ...base, '--fail-above', String(m.R * 2));
    expect(below.code).toBe(0);

    // psi is what the engine computes in-process for the same samples and settings.
    const ds = await loadDatasetFromDir(PUBLIC_DATA_DIR, 'mnist');
    const model = await loadModelFromPath(MODEL_DIR);
    const c = createClassifier(model);
    const want = await computeMetric(c, datasetToFloat(ds, [0, 1, 2, 3]), { ...DEFAULT_METRIC_SETTINGS, eps: 0.3, steps: 3 });
    c.dispose();
    model.dispose();
    expect(Float32Array.from(m.psi)).toEqual(want.psi);
    expect(m.R).toBe(want.R);

    // The same four images as a uint8 --data file with int64 --labels give the same R.
    const x = join(tmp, 'four.npy');
    const y = join(tmp, 'four-labels.npy');
    await writeFile(x, writeNpy({ dtype: 'uint8', shape: [4, 28, 28], data: Uint8Array.from(ds.images.subarray(0, 4 * 784)) }));
    const labels = new BigInt64Array(Array.from(ds.labels.subarray(0, 4), BigInt));
    await writeFile(y, rawNpy('<i8', [4], new Uint8Array(labels.buffer)));
    const fromFile = await run('metric', '--model', MODEL, '--data', x, '--labels', y, '--steps', '3', '--json');
    expect(fromFile.err).toBe('');
    expect(JSON.parse(fromFile.out).R).toBe(m.R);
    expect(JSON.parse(fromFile.out).cleanAccuracy).toBe(m.cleanAccuracy);
  });

  it('attack prints accuracy per ε', async () => {
    const r = await run('attack', '--model', MODEL, '--dataset', 'mnist', '--samples', '5', '--steps', '2', '--eps', '0.1,0.3', '--json');
    expect(r.code).toBe(0);
    const a = JSON.parse(r.out);
    expect(a.results.map((x: { eps: number }) => x.eps)).toEqual([0.1, 0.3]);
    for (const x of a.results) expect(x.accuracy).toBe(x.correct / 5);
    const text = await run('attack', '--model', MODEL, '--dataset', 'mnist', '--samples', '5', '--method', 'fgsm', '--eps', '0.2');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^clean\s+[\d.]+ %\s+\d\/5$/m);
    expect(text.out).toMatch(/^0\.2\s+[\d.]+ %\s+\d\/5$/m);
  });
});

describe('ravine --threads', () => {
  it('a child process on every core gives the one-thread psi bit for bit, exits, and leaves no temporary files', async () => {
    const cnn = 'mnist-cnn-natural';
    const bridgeFiles = () => readdirSync(tmpdir()).filter((f) => f.startsWith('ravine-wasm-threads-'));
    const filesBefore = bridgeFiles();
    const args = ['metric', '--model', cnn, '--dataset', 'mnist', '--samples', '8', '--steps', '3', '--json'];
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(REPO_ROOT, 'bin', 'ravine.js'), ...args, '--threads', 'auto'], { cwd: tmpdir(), timeout: 120_000 }, (error, stdout) => {
        if (error) reject(error);
        else resolve(stdout);
      });
    });
    const m = JSON.parse(out);
    expect(m.backend).toBe('wasm');
    expect(m.threads).toBe(availableParallelism());
    expect(bridgeFiles()).toEqual(filesBefore);

    const one = await run(...args, '--threads', '1');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out).threads).toBe(1);
    expect(m.psi).toEqual(JSON.parse(one.out).psi);
    expect(m.R).toBeGreaterThan(0);
  });
});

describe('bad input exits 2 and names the argument', () => {
  const surface = ['surface', '--model', MODEL, '--dataset', 'mnist', '--index', '0'];
  const cases: [string, () => Promise<string[]>, RegExp][] = [
    ['unknown flag', async () => [...surface, '--out-dir', tmp, '--grdi', '5'], /^ravine surface: unknown option '--grdi'; did you mean --grid\?/],
    ['non-numeric number', async () => [...surface, '--out-dir', tmp, '--grid', 'abc'], /^ravine surface: --grid must be an integer between 2 and 401; got 'abc'/],
    ['out-of-range number', async () => [...surface, '--out-dir', tmp, '--grid', '1'], /--grid must be an integer between 2 and 401; got '1'/],
    ['missing value', async () => [...surface, '--out-dir', tmp, '--range'], /--range needs a value/],
    ['missing --out-dir', async () => surface, /^ravine surface: --out-dir is required/],
    ['unknown model id', async () => ['surface', '--model', 'no-such-model', '--dataset', 'mnist', '--index', '0', '--out-dir', tmp], /--model 'no-such-model' is neither a built-in model/],
    ['index out of range', async () => ['surface', '--model', MODEL, '--dataset', 'mnist', '--index', '2000', '--out-dir', tmp], /--index must be an integer between 0 and 1999; got '2000'/],
    ['stray word', async () => [...surface, 'extra', '--out-dir', tmp], /unexpected argument 'extra'/],
    ['unknown dataset', async () => ['metric', '--model', MODEL, '--dataset', 'cifar'], /^ravine metric: dataset 'cifar'/],
    ['samples beyond the dataset', async () => ['metric', '--model', MODEL, '--dataset', 'mnist', '--samples', '5000'], /--samples must be an integer between 1 and 2000; got '5000'/],
    ['negative eps', async () => ['attack', '--model', MODEL, '--dataset', 'mnist', '--eps', '0.1,-0.2'], /^ravine attack: --eps must be a number between 0 and 1; got '0.1,-0.2'/],
    ['flag with a value', async () => ['metric', '--model', MODEL, '--dataset', 'mnist', '--json=yes'], /--json is a flag and takes no value/],
    ['zero threads', async () => ['metric', '--model', MODEL, '--dataset', 'mnist', '--threads', '0'], /^ravine metric: --threads must be auto or an integer between 1 and \d+ \(the logical cores of this machine\); got '0'/],
    ['threads on cpu', async () => ['attack', '--model', MODEL, '--dataset', 'mnist', '--backend', 'cpu', '--threads', '2'], /^ravine attack: --threads applies to the wasm backend/],
    [
      'label out of range',
      async () => {
        const f = join(tmp, 'ok.npy');
        await writeFile(f, writeNpy({ dtype: 'float32', shape: [784], data: new Float32Array(784) }));
        return ['surface', '--model', MODEL, '--input', f, '--label', '10', '--out-dir', tmp];
      },
      /^ravine surface: --label must be an integer between 0 and 9; got '10'/,
    ],
    [
      'float64 input',
      async () => {
        const f = join(tmp, 'f8.npy');
        await writeFile(f, rawNpy('<f8', [28, 28], new Uint8Array(784 * 8)));
        return ['surface', '--model', MODEL, '--input', f, '--label', '1', '--out-dir', tmp];
      },
      /^ravine surface: --input \S*f8\.npy: the array is float64 \('<f8'\); ravine reads images as uint8 .* or float32/,
    ],
    [
      'int32 input',
      async () => {
        const f = join(tmp, 'i4.npy');
        await writeFile(f, writeNpy({ dtype: 'int32', shape: [28, 28, 1], data: new Int32Array(784) }));
        return ['surface', '--model', MODEL, '--input', f, '--label', '1', '--out-dir', tmp];
      },
      /--input \S*i4\.npy: the array is int32 \('<i4'\)/,
    ],
    [
      'float32 pixels on 0..255',
      async () => {
        const f = join(tmp, 'f255.npy');
        await writeFile(f, writeNpy({ dtype: 'float32', shape: [28, 28], data: new Float32Array(784).fill(255) }));
        return ['surface', '--model', MODEL, '--input', f, '--label', '1', '--out-dir', tmp];
      },
      /--input \S*f255\.npy: value 255 at index 0 is outside the input range \[0, 1\]/,
    ],
    [
      'wrong input shape',
      async () => {
        const f = join(tmp, 'small.npy');
        await writeFile(f, writeNpy({ dtype: 'uint8', shape: [27, 27], data: new Uint8Array(729) }));
        return ['surface', '--model', MODEL, '--input', f, '--label', '1', '--out-dir', tmp];
      },
      /--input \S*small\.npy: shape \[27, 27\] holds 729 values, but the model's input \[28, 28, 1\] has 784/,
    ],
  ];

  it.each(cases)('%s', async (_name, argv, message) => {
    const before = tf.memory().numTensors;
    const r = await run(...(await argv()));
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('unknown commands exit 2; --help exits 0 with the usage on stdout', async () => {
    expect((await run('surfac')).code).toBe(2);
    const help = await run('metric', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--fail-above <R>/);
  });
});
