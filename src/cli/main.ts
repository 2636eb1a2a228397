/**
 * `ravine`: the command line over the same engine and io code as the lab.
 *
 *   ravine zoo [--json]
 *   ravine surface --model … (--dataset … --index … | --input … --label …) --out-dir … [options]
 *   ravine metric  --model … (--dataset … | --data … [--labels …]) [--json] [--fail-above R] [options]
 *   ravine attack  --model … (--dataset … | --data … --labels …) [--eps …] [--method fgsm|pgd] [options]
 *
 * Results go to stdout, progress and errors to stderr. Exit status: 0 success, 1 a
 * `--fail-above` gate tripped, 2 bad input (arguments, files, models, datasets), 3 an internal
 * error, 130 interrupted.
 */
import { EngineError, isAbortError } from '../engine/errors';
import { DatasetError } from '../io/dataset';
import { ModelFileError } from '../io/modelFiles';
import { NpyError } from '../io/npy';
import { type CommandSpec, formatHelp, parseCommandArgs, type ParsedArgs, quote, UsageError } from './args';
import { attackSpec, runAttack } from './commands/attack';
import { metricSpec, runMetric } from './commands/metric';
import { runSurface, surfaceSpec } from './commands/surface';
import { runZoo, zooSpec } from './commands/zoo';
import { type CliIo, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE } from './io';
import { packageVersion } from './version';

export type { CliIo } from './io';

interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  zoo: { spec: zooSpec, run: runZoo },
  surface: { spec: surfaceSpec, run: runSurface },
  metric: { spec: metricSpec, run: runMetric },
  attack: { spec: attackSpec, run: runAttack },
};

function globalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'ravine: input-space loss surfaces and the robustness metric of Yu et al. (IJCAI 2019), headless',
    '',
    'Usage: ravine <command> [options]     (ravine <command> --help for its options)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.spec.summary}`),
    '',
    'Exit status: 0 success, 1 a --fail-above gate tripped, 2 bad input, 3 internal error.',
    '',
  ].join('\n');
}

/** Errors whose message is written for the user: bad input, exit status 2. */
function isInputError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof EngineError || e instanceof DatasetError || e instanceof NpyError || e instanceof ModelFileError;
}

/**
 * Runs one command line (`argv` without `node` and the script) and returns its exit status.
 * Never throws: every error is written to `io.stderr` as `ravine <command>: <message>`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(globalHelp());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    io.stdout.write(topic ? formatHelp(topic.spec) : globalHelp());
    return EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr.write(`ravine: unknown command ${quote(name)}; commands: ${Object.keys(COMMANDS).join(', ')} (ravine --help)\n`);
    return EXIT_USAGE;
  }
  try {
    const args = parseCommandArgs(command.spec, rest);
    if (args.help) {
      io.stdout.write(formatHelp(command.spec));
      return EXIT_OK;
    }
    return await command.run(args, io);
  } catch (e) {
    if (isInputError(e)) {
      io.stderr.write(`ravine ${name}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (isAbortError(e)) {
      io.stderr.write(`ravine ${name}: interrupted\n`);
      return EXIT_INTERRUPTED;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.stderr.write(`ravine ${name}: internal error: ${err.message}\n${err.stack ?? ''}\n`);
    return EXIT_INTERNAL;
  }
}
