/**
 * Command-line flags in Packer's style (Go's flag package): `-name value`,
 * `-name=value`, `--name` alike; boolean flags take no value unless written
 * `-name=false`. Kiln also accepts flags after the template path.
 */

export interface FlagSpec {
  readonly name: string;
  readonly kind: 'bool' | 'string' | 'list';
  /** One line for `--help`. */
  readonly doc: string;
  /** Placeholder shown in help, e.g. `k=v`. */
  readonly arg?: string;
  readonly allowed?: readonly string[];
}

export interface ParsedFlags {
  readonly bools: Readonly<Record<string, boolean>>;
  readonly strings: Readonly<Record<string, string>>;
  /** Repeatable flags: every value, in order. Comma lists are split. */
  readonly lists: Readonly<Record<string, readonly string[]>>;
  /** `-var` and `-var-file` interleaved in command-line order. */
  readonly ordered: readonly { readonly name: string; readonly value: string }[];
  readonly positionals: readonly string[];
}

/** A usage mistake: printed with a hint to `--help`, exit code 1. */
export class UsageError extends Error {
  constructor(message: string, public readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const BOOL_VALUES: Record<string, boolean> = {
  1: true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  0: false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

/** Flags whose comma-separated values add up (`-only a,b -only c`). */
const COMMA_LISTS = new Set(['only', 'except']);

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedFlags {
  const bools: Record<string, boolean> = {};
  const strings: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const ordered: { name: string; value: string }[] = [];
  const positionals: string[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) {
      const known = specs.map((s) => `-${s.name}`).join(', ');
      throw new UsageError(`unknown flag -${name} in "kiln ${[command, ...argv].join(' ')}"` + (known ? ` (flags: ${known})` : ''), command);
    }
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.kind === 'bool') {
      if (value === undefined) {
        bools[name] = true;
      } else if (value in BOOL_VALUES) {
        bools[name] = BOOL_VALUES[value];
      } else {
        throw new UsageError(`-${name} takes true or false, got ${JSON.stringify(value)}`, command);
      }
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`-${name} needs a value${spec.arg ? ` (${spec.arg})` : ''}`, command);
      value = argv[++i];
    }
    if (spec.allowed && !spec.allowed.includes(value)) {
      throw new UsageError(`-${name} must be one of ${spec.allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`, command);
    }
    if (spec.kind === 'string') {
      strings[name] = value;
    } else {
      const values = COMMA_LISTS.has(name) ? value.split(',').map((v) => v.trim()).filter(Boolean) : [value];
      (lists[name] ??= []).push(...values);
      for (const v of values) ordered.push({ name, value: v });
    }
  }
  return { bools, strings, lists, ordered, positionals };
}

/** Help text for a command's flags, aligned. */
export function describeFlags(specs: readonly FlagSpec[]): string {
  const left = specs.map((s) => `-${s.name}${s.kind === 'bool' ? '' : `=${s.arg ?? 'value'}`}`);
  const width = Math.max(...left.map((l) => l.length), 0) + 2;
  return specs.map((s, i) => `  ${left[i].padEnd(width)}${s.doc}`).join('\n');
}
