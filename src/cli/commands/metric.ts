/**
 * `ravine metric`: the robustness metric R of PAPER.md §2 over a sample set, with its spread,
 * and an optional CI gate (`--fail-above`).
 */
import { adversarialAccuracy } from '../../engine/attacks';
import { computeMetric, DEFAULT_METRIC_SETTINGS, type MetricResult } from '../../engine/metric';
import { MAX_RESTARTS, MAX_STEPS, type Norm } from '../../engine/pgd';
import { type CommandSpec, type ParsedArgs, UsageError } from '../args';
import { BACKEND_OPTIONS, provenance, readBackendArgs, startBackend } from '../backend';
import { EXIT_GATE, EXIT_OK, type CliIo } from '../io';
import { float32List, formatJson } from '../json';
import { describeModel, withClassifier } from '../models';
import { createProgress } from '../progress';
import { buildSamples, prepareSampleRun, SAMPLE_OPTIONS } from './samples';

/** Samples when --samples is not given (the metric's usual few hundred, PAPER.md §2). */
const DEFAULT_SAMPLES = 200;
/** Seeds are unsigned 32-bit integers. */
const MAX_SEED = 2 ** 32 - 1;
/** Largest --fail-above: any finite threshold a script could mean. */
const MAX_THRESHOLD = 1e12;

export const metricSpec: CommandSpec = {
  name: 'metric',
  summary: 'estimate the robustness metric R (mean worst-case KL divergence; lower = more robust)',
  usage: ['--model <id|path> --dataset <id> [options]', '--model <id|path> --data <x.npy> [--labels <y.npy>] [options]'],
  options: {
    model: { type: 'string', value: '<id|path>', help: "a built-in model id (see 'ravine zoo'), a model.json file, or a folder holding one" },
    ...SAMPLE_OPTIONS,
    samples: { type: 'string', value: '<n>', help: `use the first n samples (1..available)`, default: `${DEFAULT_SAMPLES}, or all when fewer` },
    eps: { type: 'string', value: '<ε>', help: 'radius of the perturbation ball in input units (on [0, 1])', default: "the dataset's: mnist 0.3, fashion-mnist 0.1" },
    norm: { type: 'string', value: 'linf|l2', help: 'norm of the ball (l2 needs an explicit --eps)', default: 'linf' },
    steps: { type: 'string', value: '<n>', help: `PGD steps per restart, 0..${MAX_STEPS}`, default: '20' },
    'step-size': { type: 'string', value: '<α>', help: 'PGD step size in input units', default: '2.5·ε/steps' },
    restarts: { type: 'string', value: '<n>', help: `random restarts, 1..${MAX_RESTARTS}; the largest KL is kept`, default: '1' },
    'no-normalize': { type: 'boolean', help: 'use raw logits (s = 1) instead of dividing them by their clean std' },
    seed: { type: 'string', value: '<n>', help: 'seed of the random starts', default: '0' },
    json: { type: 'boolean', help: 'print one JSON object (R, std, ci95, n, psi per sample, settings)' },
    'fail-above': { type: 'string', value: '<R>', help: 'exit with status 1 when R is above this threshold (a CI gate)' },
    ...BACKEND_OPTIONS,
  },
  notes: [
    'Samples are the first --samples images of the dataset split (or rows of --data), in order;\n' +
      'the same seed gives the same R. Labels are not needed for R; when known, the clean\n' +
      'accuracy of the samples is reported too.',
    'Exit status: 0 done (and R within --fail-above), 1 R above --fail-above, 2 bad arguments or\ninput files, 3 internal error.',
  ],
  examples: ['ravine metric --model mnist-cnn-pgd --dataset mnist --samples 500', 'ravine metric --model ./model/ --dataset mnist --json --fail-above 0.5'],
};

function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

export async function runMetric(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelArg = args.required('model');
  const norm = args.choice<Norm>('norm', ['linf', 'l2'], 'linf');
  const steps = args.int('steps', 0, MAX_STEPS, DEFAULT_METRIC_SETTINGS.steps);
  const restarts = args.int('restarts', 1, MAX_RESTARTS, DEFAULT_METRIC_SETTINGS.restarts);
  const seed = args.int('seed', 0, MAX_SEED, 0);
  const normalize = !args.flag('no-normalize');
  const json = args.flag('json');
  const failAbove = args.number('fail-above', { min: 0, max: MAX_THRESHOLD });
  const backendRequest = readBackendArgs(args);

  const { ref, source, n, range, epsMax, defaults } = await prepareSampleRun(args, modelArg, norm, false, DEFAULT_SAMPLES);
  const eps = args.number('eps', { min: 0, max: epsMax }) ?? defaults?.defaultEps;
  if (eps === undefined) throw new UsageError('--eps is required here: the samples come from a file and the model has no known dataset to take a default from');
  const stepSize = args.number('step-size', { min: 0, max: epsMax * 10 + 1 });

  const backend = await startBackend(backendRequest, io);
  return withClassifier(ref, range, async (classifier, loaded) => {
    const samples = buildSamples(source, n, classifier);
    const progress = createProgress(io, 'metric', 'samples');
    let result: MetricResult;
    try {
      result = await computeMetric(
        classifier,
        samples.x,
        { eps, norm, steps, stepSize, restarts, normalize, seed },
        {
          signal: io.signal,
          onProgress: (p) => progress.update(p.done, p.total),
          onPartial: (psi, s) => progress.update(psi.length, n, `R ≈ ${fmt(s.R)}`),
        },
      );
    } finally {
      progress.stop();
    }
    let cleanAccuracy: number | undefined;
    if (samples.labels) {
      // FGSM at ε = 0 is the clean forward pass (as scripts/evaluate.ts measures clean accuracy).
      cleanAccuracy = (await adversarialAccuracy(classifier, samples.x, samples.labels, { method: 'fgsm', norm: 'linf', eps: [0], steps: 0, restarts: 1, seed: 0 }, { signal: io.signal })).accuracy[0];
    }
    // A NaN R (a broken model) fails the gate: nothing was shown to be within the bound.
    const passed = failAbove === undefined ? undefined : result.R <= failAbove;
    const s = result.settings;
    if (json) {
      const record = {
        command: 'metric',
        ...provenance(backend),
        R: result.R,
        std: result.std,
        ci95: result.ci95,
        n: result.n,
        cleanAccuracy,
        failAbove,
        passed,
        seconds: result.seconds,
        model: { ...describeModel(loaded), logitsSource: classifier.logitsSource },
        samples: samples.describe,
        settings: { eps: s.eps, norm: s.norm, steps: s.steps, stepSize: s.stepSize, restarts: s.restarts, normalize: s.normalize, seed: s.seed, samples: n, epsDefaultFrom: args.has('eps') ? undefined : defaults?.id },
        psi: float32List(result.psi),
      };
      io.stdout.write(`${formatJson(record)}\n`);
    } else {
      const normText = s.norm === 'linf' ? 'L∞' : 'L2';
      const lines = [
        `R = ${fmt(result.R)}  (std ${fmt(result.std)}, 95 % CI [${fmt(result.ci95[0])}, ${fmt(result.ci95[1])}], n = ${result.n})`,
        `  model ${ref.id} (sha256 ${loaded.sha256.slice(0, 12)}…), ${samples.text}${cleanAccuracy === undefined ? '' : `, clean accuracy ${(100 * cleanAccuracy).toFixed(1)} %`}`,
        `  ${normText} ε = ${s.eps}, ${s.steps} PGD steps of α = ${Number(s.stepSize.toPrecision(6))}, ${s.restarts} restart${s.restarts === 1 ? '' : 's'}, ${s.normalize ? 'logits / std(clean logits)' : 'raw logits'}, seed ${s.seed}`,
        `  ${backend.text}, ${result.seconds.toFixed(1)} s`,
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    if (failAbove !== undefined) {
      io.stderr.write(
        passed
          ? `ravine metric: R = ${fmt(result.R)} is not above --fail-above ${failAbove}: pass\n`
          : `ravine metric: R = ${fmt(result.R)} is above --fail-above ${failAbove}: fail\n`,
      );
    }
    return passed === false ? EXIT_GATE : EXIT_OK;
  });
}
