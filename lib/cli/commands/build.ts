import { randomUUID } from 'crypto';
import * as readline from 'readline';
import type { OnError } from '../../engine/build';
import { RunJournal } from '../../engine/journal';
import { RunState, runPlan } from '../../engine/run';
import { Printer } from '../../engine/ui';
import { UsageError } from '../flags';
import { loadPlan, loadTemplate } from '../load';
import { CommandContext } from '../main';

function askOnTerminal(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) => rl.question(question, (a) => {
    rl.close();
    resolve(a);
  }));
}

export async function run({ flags, output, machineReadable }: CommandContext): Promise<number> {
  if (flags.positionals.length !== 1) {
    throw new UsageError(`expected one template path (or - for stdin), got ${flags.positionals.length}`, 'build');
  }
  const parallel = flags.strings['parallel-builds'] ?? '0';
  if (!/^\d+$/.test(parallel)) throw new UsageError(`-parallel-builds takes a whole number (0 = no limit), got ${JSON.stringify(parallel)}`, 'build');
  const onError = (flags.strings['on-error'] ?? 'cleanup') as OnError;
  const tty = Boolean(process.stdout.isTTY && process.stdin.isTTY);
  if (onError === 'ask' && !tty) output.err('kiln: -on-error=ask needs a terminal; failed builds will be cleaned up');

  const template = loadTemplate(flags.positionals[0]);
  const sensitive = new Set(template.sensitiveVariables);
  output.addSecrets(template.variables.filter((v) => sensitive.has(v.name) && v.default).map((v) => v.default!));
  const plan = loadPlan(template, flags);
  output.addSecrets(plan.secrets);

  const color = flags.bools.color !== false && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !process.env.PACKER_NO_COLOR;
  const printer = new Printer({
    write: (t) => process.stdout.write(t),
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
      printer.line(`${sig === 'SIGINT' ? 'Interrupt' : 'Termination'} received. Cancelling builds and cleaning up...`, 'error');
      controller.abort(new Error('build cancelled by user'));
      return;
    }
    // Cleanups are never abandoned: a later signal only says what is left.
    const pending = state.pendingCleanups();
    printer.line(pending.length
      ? `Still cleaning up, please wait: ${pending.join('; ')}`
      : 'Still finishing, please wait...', 'error');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runPlan(plan, {
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
    journal.close();
  }
}
