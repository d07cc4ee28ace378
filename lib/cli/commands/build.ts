import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import type { OnError } from '../../engine/build';
import { RunJournal } from '../../engine/journal';
import { PlanGroup, RunState, runPlans } from '../../engine/run';
import { Printer } from '../../engine/ui';
import { Problem, TemplateError } from '../../template/errors';
import { Template } from '../../template/template';
import { UsageError } from '../flags';
import { loadPlan, loadTemplate } from '../load';
import { CommandContext } from '../main';

/** Asks on the terminal; rejects if stdin closes or `signal` aborts first, so a cancelled build never waits on a question. */
function askOnTerminal(question: string, signal?: AbortSignal): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve, reject) => {
    let answered = false;
    rl.on('close', () => {
      if (!answered) reject(signal?.aborted ? new Error('question cancelled') : new Error('the terminal closed before an answer came'));
    });
    // While a question waits the terminal is in raw mode, so Ctrl-C arrives
    // here as a key, not as a signal: hand it to the build's interrupt handler,
    // whose cancellation then closes the question through `signal`.
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
    if (signal?.aborted) {
      rl.close();
      return;
    }
    rl.question(question, signal ? { signal } : {}, (a) => {
      answered = true;
      rl.close();
      resolve(a);
    });
    signal?.addEventListener('abort', () => rl.close(), { once: true });
  });
}

interface SynthManifestFile {
  readonly templates: readonly { readonly name: string; readonly file: string; readonly dependencies: readonly string[] }[];
}

/** What to build: one template file, or every template of a synth output directory. */
function loadGroups(target: string, flags: CommandContext['flags'], output: CommandContext['output']): PlanGroup[] {
  const addSecrets = (t: Template) => {
    const sensitive = new Set(t.sensitiveVariables);
    output.addSecrets(t.variables.filter((v) => sensitive.has(v.name) && v.default).map((v) => v.default!));
  };
  const isDir = target !== '-' && fs.existsSync(target) && fs.statSync(target).isDirectory();
  if (!isDir) {
    const template = loadTemplate(target);
    addSecrets(template);
    const plan = loadPlan(template, flags);
    output.addSecrets(plan.secrets);
    return [{ name: template.file, plan, dependsOn: [] }];
  }

  const manifestFile = path.join(target, 'manifest.json');
  let manifest: SynthManifestFile;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch (e) {
    throw new UsageError(`${manifestFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found; run "kiln synth" first, or name a template file' : (e as Error).message}`, 'build');
  }
  // -only/-except take template names as well as build names.
  const names = new Set(manifest.templates.map((t) => t.name));
  const only = flags.lists.only ?? [];
  const except = flags.lists.except ?? [];
  const onlyTemplates = only.filter((n) => names.has(n));
  const selected = manifest.templates
    .filter((t) => !onlyTemplates.length || onlyTemplates.includes(t.name))
    .filter((t) => !except.includes(t.name));
  const buildFlags = {
    ...flags,
    lists: { ...flags.lists, only: only.filter((n) => !names.has(n)), except: except.filter((n) => !names.has(n)) },
  };
  const problems: Problem[] = [];
  const groups: PlanGroup[] = [];
  for (const entry of selected) {
    try {
      const template = loadTemplate(path.join(target, entry.file));
      addSecrets(template);
      const plan = loadPlan(template, buildFlags);
      output.addSecrets(plan.secrets);
      groups.push({ name: entry.name, plan, dependsOn: entry.dependencies, prefix: selected.length > 1 ? `${entry.name}/` : undefined });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      problems.push(...e.problems);
    }
  }
  // Every template is checked before anything is built.
  if (problems.length) throw new TemplateError(problems);
  return groups;
}

function defaultTarget(): string {
  try {
    const config = JSON.parse(fs.readFileSync('kiln.json', 'utf8')) as { output?: string };
    if (typeof config.output === 'string') return config.output;
  } catch {
    // No kiln.json: the default output directory.
  }
  return 'kiln.out';
}

export async function run({ flags, output, machineReadable }: CommandContext): Promise<number> {
  if (flags.positionals.length > 1) {
    throw new UsageError(`expected at most one template path or synth output directory, got ${flags.positionals.length}`, 'build');
  }
  const parallel = flags.strings['parallel-builds'] ?? '0';
  if (!/^\d+$/.test(parallel)) throw new UsageError(`-parallel-builds takes a whole number (0 = no limit), got ${JSON.stringify(parallel)}`, 'build');
  const onError = (flags.strings['on-error'] ?? 'cleanup') as OnError;
  const tty = Boolean(process.stdout.isTTY && process.stdin.isTTY);
  if (onError === 'ask' && !tty) output.err('kiln: -on-error=ask needs a terminal; failed builds will be cleaned up');

  const groups = loadGroups(flags.positionals[0] ?? defaultTarget(), flags, output);

  const color = flags.bools.color !== false && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !process.env.PACKER_NO_COLOR;
  // Once nobody reads the output (`kiln build | head`, a closed terminal), nothing more is written to it.
  let outputGone = false;
  const printer = new Printer({
    write: (t) => {
      if (!outputGone) process.stdout.write(t);
    },
    mask: (t) => output.mask(t),
    color: color && !machineReadable,
    timestamps: flags.bools['timestamp-ui'] === true,
    machineReadable,
    ask: tty ? askOnTerminal : undefined,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RUNTIMES } = require('../../components/runtimes') as typeof import('../../components/runtimes');

  const runId = randomUUID();
  const journal = new RunJournal(runId);
  const controller = new AbortController();
  const state = new RunState();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      const what = sig === 'SIGINT' ? 'Interrupt' : sig === 'SIGHUP' ? 'Hangup' : 'Termination';
      printer.line(`${what} received. Cancelling builds and cleaning up...`, 'error');
      controller.abort(new Error('build cancelled by user'));
      return;
    }
    // Cleanups are never abandoned: a later signal only says what is left.
    const pending = state.pendingCleanups();
    printer.line(pending.length
      ? `Still cleaning up, please wait: ${pending.join('; ')}`
      : 'Still finishing, please wait...', 'error');
  };
  // A write to a closed pipe or terminal fails later, as an 'error' event: without a listener
  // the process would die on the spot and leave its containers. Cancel and clean up instead.
  const onOutputError = () => {
    if (outputGone) return;
    outputGone = true;
    controller.abort(new Error('build cancelled: its output was closed'));
  };
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const result = await runPlans(groups, {
      runId,
      printer,
      runtimes: RUNTIMES,
      signal: controller.signal,
      parallelBuilds: Number(parallel),
      onError,
      force: flags.bools.force === true,
      journal,
    }, state);
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    journal.close();
  }
}
