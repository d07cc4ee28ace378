import type { Plan } from '../template/prepare';
import { BuildOutcome, OnError, RuntimeLoader, runBuild } from './build';
import { CleanupStack } from './cleanup';
import { RunJournal } from './journal';
import { Printer, formatDuration } from './ui';

/**
 * Runs every build of a plan, in parallel up to a limit, and prints Packer's
 * closing summary. Cancelling the signal cancels every running build; each
 * runs its cleanups before `runPlan` resolves.
 */

export interface RunOptions {
  readonly runId: string;
  readonly printer: Printer;
  readonly runtimes: RuntimeLoader;
  readonly signal: AbortSignal;
  /** 0 = no limit. */
  readonly parallelBuilds: number;
  readonly onError: OnError;
  readonly force: boolean;
  readonly cwd?: string;
  readonly journal?: RunJournal;
}

export interface RunResult {
  readonly outcomes: readonly BuildOutcome[];
  readonly exitCode: number;
  /** Cleanup stacks of the builds, for a second Ctrl-C to report on. */
  readonly cleanups: readonly CleanupStack[];
}

/** Runs `task` over `items` with at most `limit` at once (0 = all at once), keeping input order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const width = limit > 0 ? Math.min(limit, items.length) : items.length;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  }));
  return results;
}

/** Live view of the cleanups in progress, for the interrupt handler. */
export class RunState {
  public readonly stacks: CleanupStack[] = [];

  public pendingCleanups(): string[] {
    return this.stacks.flatMap((s) => s.pending());
  }
}

export async function runPlan(plan: Plan, opts: RunOptions, state = new RunState()): Promise<RunResult> {
  const { printer } = opts;
  const started = Date.now();
  const outcomes = await mapLimit(plan.builds, opts.parallelBuilds, async (build) => {
    const ui = printer.forBuild(build.name);
    if (opts.signal.aborted) {
      return { name: build.name, artifacts: [], cancelled: true, durationMs: 0, error: new Error('cancelled before it started') } as BuildOutcome;
    }
    const outcome = await runBuild({
      build,
      runId: opts.runId,
      ui,
      signal: opts.signal,
      onError: opts.onError,
      force: opts.force,
      runtimes: opts.runtimes,
      journal: opts.journal,
      onCleanups: (s) => state.stacks.push(s),
      interpolation: {
        userVariables: plan.variables,
        templatePath: plan.template.absPath,
        buildName: build.name,
        buildType: build.type,
        cwd: opts.cwd,
      },
    });
    if (outcome.error) {
      printer.line(`Build '${build.name}' errored after ${formatDuration(outcome.durationMs)}: ${outcome.error.message}`);
    } else {
      printer.line(`Build '${build.name}' finished after ${formatDuration(outcome.durationMs)}.`);
    }
    return outcome;
  });

  printer.line('');
  printer.line(`==> Wait completed after ${formatDuration(Date.now() - started)}`);

  const failed = outcomes.filter((o) => o.error);
  const cancelled = opts.signal.aborted;
  if (cancelled) {
    printer.line('');
    printer.line('Cleanly cancelled builds after being interrupted.', 'error');
  }
  if (failed.length && !cancelled) {
    printer.line('');
    printer.line('==> Some builds didn\'t complete successfully and had errors:', 'error');
    for (const o of failed) printer.line(`--> ${o.name}: ${o.error!.message}`, 'error');
  }
  printer.machine('', 'error-count', String(failed.length));
  for (const o of failed) printer.machine(o.name, 'error', o.error!.message);

  const withArtifacts = outcomes.filter((o) => !o.error && o.artifacts.length);
  if (!cancelled) {
    printer.line('');
    if (withArtifacts.length) {
      printer.line('==> Builds finished. The artifacts of successful builds are:', 'say');
      for (const o of withArtifacts) for (const a of o.artifacts) printer.line(`--> ${o.name}: ${a.describe()}`, 'say');
    } else {
      printer.line('==> Builds finished but no artifacts were created.', 'say');
    }
  }
  for (const o of outcomes.filter((x) => !x.error)) {
    printer.machine(o.name, 'artifact-count', String(o.artifacts.length));
    o.artifacts.forEach((a, i) => {
      printer.machine(o.name, 'artifact', String(i), 'builder-id', a.builderId);
      printer.machine(o.name, 'artifact', String(i), 'id', a.id);
      printer.machine(o.name, 'artifact', String(i), 'string', a.describe());
      printer.machine(o.name, 'artifact', String(i), 'files-count', String(a.files.length));
      a.files.forEach((f, j) => printer.machine(o.name, 'artifact', String(i), 'file', String(j), f));
      printer.machine(o.name, 'artifact', String(i), 'end');
    });
  }
  return { outcomes, exitCode: failed.length || cancelled ? 1 : 0, cleanups: state.stacks };
}
