import { FlagSpec, ParsedFlags, UsageError, describeFlags, parseFlags } from './flags';
import { Output } from './output';

/** What a command gets: its parsed flags and where to write. Returns the exit code. */
export interface CommandContext {
  readonly flags: ParsedFlags;
  readonly output: Output;
  readonly machineReadable: boolean;
}

interface CommandDefinition {
  readonly summary: string;
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  /** Loaded on demand, so `kiln validate` never loads Docker or SSH code. */
  readonly load: () => { run(ctx: CommandContext): Promise<number> };
}

/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, CommandDefinition> = {
  synth: {
    summary: 'Run the app in kiln.json and write its templates to kiln.out/',
    usage: 'kiln synth [flags]',
    description: 'Runs the app command from kiln.json (e.g. {"app": "npx ts-node main.ts"}) with KILN_OUTDIR\n' +
      'set, and writes its Packer templates, assets and manifest.json. The previous output is replaced\n' +
      'only when the app succeeds.',
    flags: [
      { name: 'app', kind: 'string', arg: 'command', doc: 'Run this command instead of kiln.json\'s "app".' },
      { name: 'output', kind: 'string', arg: 'dir', doc: 'Write here instead of kiln.json\'s "output" (default kiln.out).' },
    ],
    load: () => require('./commands/synth'),
  },
  validate: {
    summary: 'Check that a template is valid',
    usage: 'kiln validate [flags] TEMPLATE',
    description: 'Reads a Packer JSON (or YAML) template, renders its variables and checks every\n' +
      'component of every selected build, as a build would, without running anything.\n' +
      'Prints every problem found, with file, JSON path and component. TEMPLATE may be - for stdin.',
    flags: [
      { name: 'syntax-only', kind: 'bool', doc: 'Only check the file\'s syntax and structure.' },
      ...require('./load').TEMPLATE_FLAGS,
    ],
    load: () => require('./commands/validate'),
  },
  build: {
    summary: 'Build the images a template describes',
    usage: 'kiln build [flags] [TEMPLATE | SYNTH-OUTPUT-DIR]',
    description: 'Runs every build of a template (one per builder), in parallel, with Kiln\'s own engine:\n' +
      'provisioners, then post-processor chains. Ctrl-C cancels and cleans up everything created.\n' +
      'With no argument (or a synth output directory) it builds every template of kiln.out/ in\n' +
      'dependency order; -only/-except then also take template names.',
    flags: [
      ...require('./load').TEMPLATE_FLAGS,
      { name: 'parallel-builds', kind: 'string', arg: 'N', doc: 'Run at most N builds at once (0 = no limit).' },
      { name: 'on-error', kind: 'string', arg: 'cleanup|abort|ask|run-cleanup-provisioner', allowed: ['cleanup', 'abort', 'ask', 'run-cleanup-provisioner'], doc: 'What to do when a build fails (ask only on a terminal).' },
      { name: 'force', kind: 'bool', doc: 'Replace existing artifacts (and start a fresh manifest).' },
      { name: 'color', kind: 'bool', doc: 'Colour the output (default true on a terminal).' },
      { name: 'timestamp-ui', kind: 'bool', doc: 'Prefix each line with the time.' },
    ],
    load: () => require('./commands/build'),
  },
  cleanup: {
    summary: 'Remove what killed builds left behind',
    usage: 'kiln cleanup',
    description: 'Removes containers labelled kiln.run, temporary directories and partly written files\n' +
      'of builds whose process is gone (killed, or the machine lost power). Running builds are left alone.',
    flags: [],
    load: () => require('./commands/cleanup'),
  },
  inspect: {
    summary: 'Show what a template contains',
    usage: 'kiln inspect [flags] TEMPLATE',
    description: 'Lists a template\'s description, variables (sensitive ones masked), builds,\n' +
      'provisioners and post-processors.',
    flags: [],
    load: () => require('./commands/inspect'),
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 3;
  return [
    'Usage: kiln [--version] [--help] <command> [flags] [args]',
    '',
    'Kiln bakes machine images from code: Packer JSON templates, or construct trees that synthesize them.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Global flags:',
    '  -machine-readable   Print Packer\'s comma-separated machine-readable lines.',
    '',
    'Run "kiln <command> --help" for a command\'s flags.',
  ].join('\n');
}

function commandHelp(c: CommandDefinition): string {
  return [`Usage: ${c.usage}`, '', c.description, '', 'Flags:', describeFlags(c.flags) || '  (none)'].join('\n');
}

/** Runs the CLI; resolves to the process exit code. */
export async function run(argv: readonly string[], output = new Output()): Promise<number> {
  // As in Packer, -machine-readable may stand anywhere on the command line.
  const machineReadable = argv.some((a) => a === '-machine-readable' || a === '--machine-readable');
  const args = argv.filter((a) => a !== '-machine-readable' && a !== '--machine-readable');
  const [first, ...rest] = args;

  if (first === undefined || first === '-h' || first === '--help' || first === '-help' || first === 'help') {
    output.out(usage());
    return first === undefined ? 1 : 0;
  }
  if (first === '--version' || first === '-version' || first === '-v' || first === 'version') {
    output.out(machineReadable ? `${Math.floor(Date.now() / 1000)},,version,${version()}` : `kiln ${version()}`);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) {
    const known = Object.keys(COMMANDS);
    output.err(`kiln: unknown command ${JSON.stringify(first)}; commands: ${known.join(', ')}. Run "kiln --help".`);
    return 1;
  }
  if (rest.some((a) => a === '-h' || a === '--help' || a === '-help')) {
    output.out(commandHelp(command));
    return 0;
  }
  try {
    const flags = parseFlags(rest, command.flags, first);
    return await command.load().run({ flags, output, machineReadable });
  } catch (e) {
    return reportError(e, output);
  }
}

/** One line that says what went wrong; a stack trace only with KILN_DEBUG=1. */
export function reportError(e: unknown, output: Output): number {
  if (e instanceof UsageError) {
    output.err(`kiln: ${e.message}`);
    output.err(`Run "kiln ${e.command ?? ''} --help" for usage.`.replace('  ', ' '));
    return 1;
  }
  const err = e as Error & { describe?: () => string };
  output.err(typeof err.describe === 'function' ? err.describe() : `kiln: ${err?.message ?? String(e)}`);
  if (process.env.KILN_DEBUG === '1' && err?.stack) output.err(err.stack);
  return 1;
}

/** Entry point of bin/kiln. */
export function main(argv: readonly string[]): void {
  run(argv).then(
    (code) => { process.exitCode = code; },
    (e) => { process.exitCode = reportError(e, new Output()); },
  );
}
