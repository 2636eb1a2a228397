/**
 * `ravine attack`: the conventional baseline of PAPER.md §3, accuracy under FGSM or PGD at a
 * list of ε.
 */
import { adversarialAccuracy, type AttackMethod, type AttackResult, MAX_EPS_VALUES } from '../../engine/attacks';
import { MAX_RESTARTS, MAX_STEPS, type Norm } from '../../engine/pgd';
import { type CommandSpec, type ParsedArgs, UsageError } from '../args';
import { BACKEND_OPTIONS, provenance, readBackendArgs, startBackend } from '../backend';
import { EXIT_OK, type CliIo } from '../io';
import { formatJson } from '../json';
import { describeModel, withClassifier } from '../models';
import { createProgress } from '../progress';
import { buildSamples, prepareSampleRun, SAMPLE_OPTIONS } from './samples';

/** Samples when --samples is not given: scripts/evaluate.ts's attack set (minutes for a CNN on 2 cores). */
const DEFAULT_SAMPLES = 1000;
const MAX_SEED = 2 ** 32 - 1;

export const attackSpec: CommandSpec = {
  name: 'attack',
  summary: 'accuracy under FGSM or PGD attack at a list of ε',
  usage: ['--model <id|path> --dataset <id> [options]', '--model <id|path> --data <x.npy> --labels <y.npy> [options]'],
  options: {
    model: { type: 'string', value: '<id|path>', help: "a built-in model id (see 'ravine zoo'), a model.json file, or a folder holding one" },
    ...SAMPLE_OPTIONS,
    eps: { type: 'string', value: '<ε,ε,...>', help: 'comma-separated radii in input units (on [0, 1])', default: "the dataset's grid: mnist 0.1,0.2,0.3, fashion-mnist 0.05,0.1,0.15" },
    method: { type: 'string', value: 'fgsm|pgd', help: 'attack; PGD uses a random start and α = 2.5·ε/steps', default: 'pgd' },
    norm: { type: 'string', value: 'linf|l2', help: 'norm of the ball (l2 needs an explicit --eps)', default: 'linf' },
    steps: { type: 'string', value: '<n>', help: `PGD steps, 0..${MAX_STEPS} (FGSM ignores it)`, default: '20' },
    restarts: { type: 'string', value: '<n>', help: `PGD random restarts, 1..${MAX_RESTARTS}`, default: '1' },
    seed: { type: 'string', value: '<n>', help: "seed of PGD's random starts", default: '0' },
    samples: { type: 'string', value: '<n>', help: 'attack the first n samples (1..available)', default: `${DEFAULT_SAMPLES}, or all when fewer` },
    json: { type: 'boolean', help: 'print one JSON object (accuracy per ε, counts, settings)' },
    ...BACKEND_OPTIONS,
  },
  notes: [
    'A sample counts as robust at ε only if it is classified correctly when clean and at every\n' +
      'point the attack visits. Samples are the first --samples of the split (or of --data).',
    'Exit status: 0 done, 2 bad arguments or input files, 3 internal error.',
  ],
  examples: ['ravine attack --model mnist-cnn-pgd --dataset mnist --eps 0.1,0.2,0.3 --samples 500', 'ravine attack --model mnist-mlp-natural --dataset mnist --method fgsm --json'],
};

export async function runAttack(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelArg = args.required('model');
  const method = args.choice<AttackMethod>('method', ['fgsm', 'pgd'], 'pgd');
  const norm = args.choice<Norm>('norm', ['linf', 'l2'], 'linf');
  const steps = args.int('steps', 0, MAX_STEPS, 20);
  const restarts = args.int('restarts', 1, MAX_RESTARTS, 1);
  const seed = args.int('seed', 0, MAX_SEED, 0);
  const json = args.flag('json');
  const backendRequest = readBackendArgs(args);

  const { ref, source, n, range, epsMax, defaults } = await prepareSampleRun(args, modelArg, norm, true, DEFAULT_SAMPLES);
  const eps = args.numberList('eps', { min: 0, max: epsMax }, MAX_EPS_VALUES) ?? defaults?.epsGrid;
  if (eps === undefined) throw new UsageError('--eps is required here: the samples come from a file and the model has no known dataset to take a default from');

  const backend = await startBackend(backendRequest, io);
  return withClassifier(ref, range, async (classifier, loaded) => {
    const samples = buildSamples(source, n, classifier);
    const labels = samples.labels as Int32Array;
    const progress = createProgress(io, `${method}`, 'sample·ε');
    let result: AttackResult;
    try {
      result = await adversarialAccuracy(classifier, samples.x, labels, { method, norm, eps, steps, restarts, seed }, { signal: io.signal, onProgress: (p) => progress.update(p.done, p.total) });
    } finally {
      progress.stop();
    }
    const settings = { method, norm, eps, steps: method === 'pgd' ? steps : undefined, stepSize: method === 'pgd' ? '2.5*eps/steps' : undefined, restarts: method === 'pgd' ? restarts : undefined, seed: method === 'pgd' ? seed : undefined, samples: n };
    if (json) {
      const record = {
        command: 'attack',
        ...provenance(backend),
        n: result.n,
        cleanAccuracy: result.cleanAccuracy,
        results: result.eps.map((e, i) => ({ eps: e, accuracy: result.accuracy[i], correct: result.correct[i] })),
        seconds: result.seconds,
        model: { ...describeModel(loaded), logitsSource: classifier.logitsSource },
        samples: samples.describe,
        settings,
      };
      io.stdout.write(`${formatJson(record)}\n`);
    } else {
      const normText = norm === 'linf' ? 'L∞' : 'L2';
      const title = method === 'fgsm' ? `FGSM (${normText})` : `PGD-${steps} (${normText}, random start, α = 2.5·ε/${steps}, ${restarts} restart${restarts === 1 ? '' : 's'}, seed ${seed})`;
      const pct = (v: number) => `${(100 * v).toFixed(1)} %`.padStart(8);
      const cleanCorrect = Math.round(result.cleanAccuracy * result.n);
      const rows = [
        ['clean', pct(result.cleanAccuracy), `${cleanCorrect}/${result.n}`],
        ...result.eps.map((e, i) => [String(e), pct(result.accuracy[i]), `${result.correct[i]}/${result.n}`]),
      ];
      const lines = [
        `${title} on ${ref.id}, ${samples.text}`,
        `${'ε'.padEnd(8)}${'accuracy'.padStart(8)}  correct`,
        ...rows.map(([e, a, c]) => `${e.padEnd(8)}${a}  ${c}`),
        `${backend.text}, ${result.seconds.toFixed(1)} s`,
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return EXIT_OK;
  });
}
