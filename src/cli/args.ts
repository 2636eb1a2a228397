/**
 * The command line's argument parser, shared by every command: strict (an unknown option, a
 * missing value, a stray word or a repeated option is an error), typed (each value is read
 * through a converter that checks its range), and the source of each command's `--help`.
 *
 * Built on `node:util` parseArgs in token mode: parseArgs splits `--name value`,
 * `--name=value` and `-h` the standard way, and the checks below turn every problem into a
 * {@link UsageError} whose message names the option, e.g.
 * "--grid must be an integer between 2 and 401; got 'abc'".
 */
import { parseArgs } from 'node:util';

/** A mistake in the command line or in a file it names: exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One option of a command. */
export interface OptionSpec {
  /** 'string' options take a value; 'boolean' ones are flags and take none. */
  type: 'string' | 'boolean';
  /** Placeholder of the value in the help text, e.g. '<n>'. */
  value?: string;
  /** One line (or a few) of help. */
  help: string;
  /** The default, as shown in the help text. */
  default?: string;
}

/** A command's options and help text. */
export interface CommandSpec {
  /** Name after `ravine`. */
  name: string;
  /** One line for the global help. */
  summary: string;
  /** Usage lines, without the leading `ravine <name>`. */
  usage: string[];
  /** Options by name (without the dashes), in help order. `help` is added automatically. */
  options: Record<string, OptionSpec>;
  /** Paragraphs after the options (rules about files, exit status). */
  notes?: string[];
  /** Example command lines. */
  examples?: string[];
}

/** Distance at which an unknown option gets a "did you mean" (one or two typos). */
const SUGGEST_MAX_DISTANCE = 2;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** Quotes a user's text for an error message. */
export function quote(text: string): string {
  return `'${text}'`;
}

/** The parsed options of one command, with typed, range-checked accessors. */
export class ParsedArgs {
  constructor(
    readonly command: string,
    private readonly values: ReadonlyMap<string, string | true>,
    /** `--help` or `-h` was given. */
    readonly help: boolean,
  ) {}

  /** Whether the option was given. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** A flag's state. */
  flag(name: string): boolean {
    return this.values.get(name) === true;
  }

  /** A string option's value, or undefined when absent. */
  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  /** A string option that must be present. */
  required(name: string, why = ''): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`--${name} is required${why ? ` ${why}` : ''}; see 'ravine ${this.command} --help'`);
    return v;
  }

  /** An integer in [min, max]; `fallback` when absent. */
  int(name: string, min: number, max: number, fallback: number): number;
  int(name: string, min: number, max: number): number | undefined;
  int(name: string, min: number, max: number, fallback?: number): number | undefined {
    const text = this.string(name);
    if (text === undefined) return fallback;
    return parseInteger(`--${name}`, text, min, max);
  }

  /**
   * A decimal number in [min, max] (or (min, max] with `minExclusive`); `fallback` when absent.
   */
  number(name: string, range: NumberRange, fallback: number): number;
  number(name: string, range: NumberRange): number | undefined;
  number(name: string, range: NumberRange, fallback?: number): number | undefined {
    const text = this.string(name);
    if (text === undefined) return fallback;
    return parseNumber(`--${name}`, text, range);
  }

  /** Comma-separated numbers, each in range. */
  numberList(name: string, range: NumberRange, maxCount: number): number[] | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const parts = text.split(',').map((s) => s.trim());
    if (parts.length > maxCount) throw new UsageError(`--${name} takes at most ${maxCount} values; got ${parts.length}`);
    return parts.map((p) => {
      if (p === '') throw new UsageError(`--${name} must be a comma-separated list of numbers, e.g. 0.1,0.2,0.3; got ${quote(text)}`);
      return parseNumber(`--${name}`, p, range, text);
    });
  }

  /** One of `choices`; `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const text = this.string(name);
    if (text === undefined) return fallback;
    if (!(choices as readonly string[]).includes(text)) {
      throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got ${quote(text)}`);
    }
    return text as T;
  }
}

export interface NumberRange {
  min: number;
  max: number;
  /** The minimum itself is not allowed (e.g. a range must be > 0). */
  minExclusive?: boolean;
}

const INTEGER_PATTERN = /^[+-]?\d+$/;
const DECIMAL_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads an integer option value, naming `flag` in the error. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const v = INTEGER_PATTERN.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`${flag} must be an integer between ${min} and ${max}; got ${quote(text)}`);
  }
  return v;
}

/** Reads a decimal option value, naming `flag` in the error (`whole` is the full text of a list). */
export function parseNumber(flag: string, text: string, range: NumberRange, whole = text): number {
  const v = DECIMAL_PATTERN.test(text.trim()) ? Number(text) : Number.NaN;
  const low = range.minExclusive ? v <= range.min : v < range.min;
  if (!Number.isFinite(v) || low || v > range.max) {
    const bound = range.minExclusive ? `greater than ${range.min} and at most ${range.max}` : `between ${range.min} and ${range.max}`;
    throw new UsageError(`${flag} must be a number ${bound}; got ${quote(whole)}`);
  }
  return v;
}

/**
 * Parses `argv` (the words after the command name) against `spec`.
 *
 * @throws UsageError for an unknown option (with a suggestion when one is close), an option
 *   without its value, a value given to a flag, an option given twice, or a positional word.
 *   `--help` anywhere wins over every other problem.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type };
  // Non-strict so that we, not parseArgs, word the errors (and name the option in each).
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return new ParsedArgs(spec.name, new Map(), true);
  const values = new Map<string, string | true>();
  const seeHelp = `see 'ravine ${spec.name} --help'`;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      throw new UsageError(`unexpected argument ${quote(t.value)}; every value belongs to an option such as --model <id>; ${seeHelp}`);
    }
    const known = options[t.name];
    if (!known || t.rawName.length === 2) {
      // A single-dash option other than -h is unknown: the commands only have long names.
      // Report the word as typed ('-grid', not parseArgs's '-g' of a short-option group).
      const word = (argv[t.index] ?? t.rawName).split('=')[0];
      const bare = word.replace(/^-+/, '');
      const close = Object.keys(options)
        .map((n) => ({ n, d: editDistance(n, bare) }))
        .filter((c) => c.d <= SUGGEST_MAX_DISTANCE)
        .sort((x, y) => x.d - y.d)[0];
      const hint = close ? `; did you mean --${close.n}?` : '';
      throw new UsageError(`unknown option ${quote(word)}${hint} (${seeHelp})`);
    }
    if (values.has(t.name)) throw new UsageError(`${t.rawName} was given more than once`);
    if (known.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} is a flag and takes no value; got ${quote(t.value)}`);
      values.set(t.name, true);
      continue;
    }
    const placeholder = spec.options[t.name].value ?? '<value>';
    if (t.value === undefined || t.value === '') throw new UsageError(`${t.rawName} needs a value: ${t.rawName} ${placeholder}`);
    if (!t.inlineValue && t.value.startsWith('--')) {
      throw new UsageError(`${t.rawName} needs a value: ${t.rawName} ${placeholder} (it was followed by ${quote(t.value)})`);
    }
    values.set(t.name, t.value);
  }
  return new ParsedArgs(spec.name, values, false);
}

/** Help text of a command, as `--help` prints it. */
export function formatHelp(spec: CommandSpec): string {
  const lines: string[] = [];
  lines.push(`ravine ${spec.name}: ${spec.summary}`, '', 'Usage:');
  for (const u of spec.usage) lines.push(`  ravine ${spec.name} ${u}`);
  lines.push('', 'Options:');
  const entries = Object.entries(spec.options).map(([name, o]) => ({ left: `--${name}${o.value ? ` ${o.value}` : ''}`, o }));
  entries.push({ left: '-h, --help', o: { type: 'boolean', help: 'show this help' } });
  const width = Math.max(...entries.map((e) => e.left.length)) + 2;
  for (const { left, o } of entries) {
    const help = o.help.split('\n');
    if (o.default !== undefined) help[help.length - 1] += ` (default: ${o.default})`;
    lines.push(`  ${left.padEnd(width)}${help[0]}`);
    for (const more of help.slice(1)) lines.push(`  ${' '.repeat(width)}${more}`);
  }
  for (const n of spec.notes ?? []) lines.push('', ...n.split('\n'));
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}
