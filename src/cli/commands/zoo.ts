/**
 * `ravine zoo`: the built-in models, as public/models/index.json (written by
 * scripts/evaluate.ts) describes them.
 */
import { type CommandSpec, type ParsedArgs } from '../args';
import { EXIT_OK, type CliIo } from '../io';
import { formatJson } from '../json';
import { builtinModelIds, type ModelIndexEntry, readModelIndex } from '../models';

export const zooSpec: CommandSpec = {
  name: 'zoo',
  summary: 'list the built-in models with their training and measured accuracies',
  usage: ['[--json]'],
  options: {
    json: { type: 'boolean', help: 'print the manifest entries of public/models/index.json as a JSON array' },
  },
  notes: [
    'Accuracies and R are measured by scripts/evaluate.ts (clean: the whole test split; FGSM and\n' +
      "PGD-20: the first attack samples at the dataset's ε grid; R: the dataset's default ε).",
    'Exit status: 0 done, 2 the manifest is missing or malformed.',
  ],
  examples: ['ravine zoo', "ravine zoo --json | jq '.[].id'"],
};

function pct(v: number | undefined): string {
  return typeof v === 'number' ? (100 * v).toFixed(1) : '–';
}

function trainingText(e: ModelIndexEntry): string {
  const t = e.training;
  if (!t?.method) return '–';
  return t.method === 'natural' ? 'natural' : `${t.method} ε=${t.eps ?? '?'}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd());
}

export async function runZoo(args: ParsedArgs, io: CliIo): Promise<number> {
  const index = await readModelIndex();
  if (args.flag('json')) {
    io.stdout.write(`${formatJson(index.models)}\n`);
    return EXIT_OK;
  }
  const onDisk = await builtinModelIds();
  const rows = [['id', 'dataset', 'arch', 'training', 'pair', 'clean %', 'FGSM %', 'PGD-20 %', 'at ε', 'R', 'files']];
  for (const e of index.models) {
    const acc = e.accuracy;
    rows.push([
      e.id,
      e.dataset ?? '–',
      e.arch ?? '–',
      trainingText(e),
      e.pair ?? '–',
      pct(acc?.clean),
      acc?.fgsm?.map(pct).join('/') ?? '–',
      acc?.pgd20?.map(pct).join('/') ?? '–',
      acc?.eps?.join('/') ?? '–',
      typeof e.metric?.R === 'number' ? `${e.metric.R.toFixed(3)} (ε=${e.metric.eps})` : '–',
      onDisk.includes(e.id) ? 'ok' : 'missing',
    ]);
  }
  const lines = table(rows);
  const first = index.models[0];
  if (first?.accuracy) {
    lines.push(
      '',
      `Measured by '${index.generatedBy ?? 'scripts/evaluate.ts'}'${index.generatedAt ? ` on ${index.generatedAt.slice(0, 10)}` : ''}: ` +
        `clean on ${first.accuracy.cleanSamples ?? '?'} test images, attacks on the first ${first.accuracy.attackSamples ?? '?'}, R on the first ${first.metric?.n ?? '?'}.`,
    );
  }
  const pending = onDisk.filter((id) => !index.models.some((m) => m.id === id));
  if (pending.length) lines.push(`On disk but not in public/models/index.json yet (not evaluated): ${pending.join(', ')}.`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
