import { BuildOutcome, OnError, RuntimeLoader, runBuild } from './build';
import { CleanupStack } from './cleanup';
import { RunJournal } from './journal';
import { Printer, formatDuration } from './ui';
import type { Plan, PreparedBuild } from '../template/prepare';

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

/** Live view of the cleanups in progress, for the interrupt handler. */
export class RunState {
  public readonly stacks: CleanupStack[] = [];

  public pendingCleanups(): string[] {
    return this.stacks.flatMap((s) => s.pending());
  }
}

/** One template's plan in a multi-template run, with the templates it needs built first. */
export interface PlanGroup {
  readonly name: string;
  readonly plan: Plan;
  /** Names of groups whose builds must all succeed before this one starts. */
  readonly dependsOn: readonly string[];
  /** Prefix of this group's build names in the output (e.g. `base/`); none for a single template. */
  readonly prefix?: string;
}

/** A counting semaphore: at most `limit` holders at once (0 = no limit). */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  public async take(): Promise<void> {
    if (this.limit <= 0 || this.used < this.limit) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  public give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}

export async function runPlan(plan: Plan, opts: RunOptions, state = new RunState()): Promise<RunResult> {
  return runPlans([{ name: plan.template.file, plan, dependsOn: [] }], opts, state);
}

/**
 * Runs groups of builds in dependency order: a group starts when every group
 * it depends on has succeeded, independent groups run side by side, and a
 * group whose dependency failed is skipped with the reason.
 */
export async function runPlans(groups: readonly PlanGroup[], opts: RunOptions, state = new RunState()): Promise<RunResult> {
  const { printer } = opts;
  const started = Date.now();
  const slots = new Slots(opts.parallelBuilds);
  const finished = new Map<string, Promise<boolean>>();
  const outcomes: BuildOutcome[] = [];

  const runOne = async (group: PlanGroup, build: PreparedBuild): Promise<BuildOutcome> => {
    const label = `${group.prefix ?? ''}${build.name}`;
    await slots.take();
    try {
      if (opts.signal.aborted) {
        return { name: label, artifacts: [], cancelled: true, durationMs: 0, error: new Error('cancelled before it started') };
      }
      const outcome = await runBuild({
        build,
        label,
        runId: opts.runId,
        ui: printer.forBuild(label),
        signal: opts.signal,
        onError: opts.onError,
        force: opts.force,
        runtimes: opts.runtimes,
        journal: opts.journal,
        onCleanups: (s) => state.stacks.push(s),
        interpolation: {
          userVariables: group.plan.variables,
          templatePath: group.plan.template.absPath,
          buildName: build.name,
          buildType: build.type,
          cwd: opts.cwd,
        },
      });
      if (outcome.error) {
        printer.line(`Build '${label}' errored after ${formatDuration(outcome.durationMs)}: ${outcome.error.message}`, 'error');
      } else {
        printer.line(`Build '${label}' finished after ${formatDuration(outcome.durationMs)}.`, 'say');
      }
      return { ...outcome, name: label };
    } finally {
      slots.give();
    }
  };

  const byName = new Map(groups.map((g) => [g.name, g]));
  const runGroup = (group: PlanGroup): Promise<boolean> => {
    let p = finished.get(group.name);
    if (p) return p;
    p = (async () => {
      const deps = group.dependsOn.filter((d) => byName.has(d));
      const results = await Promise.all(deps.map((d) => runGroup(byName.get(d)!)));
      const failedDep = deps.find((_, i) => !results[i]);
      if (failedDep !== undefined) {
        for (const build of group.plan.builds) {
          const label = `${group.prefix ?? ''}${build.name}`;
          const error = new Error(`skipped: it starts from the image of template "${failedDep}", which did not build`);
          printer.forBuild(label).error(error.message);
          outcomes.push({ name: label, artifacts: [], cancelled: false, durationMs: 0, error });
        }
        return false;
      }
      const results2 = await Promise.all(group.plan.builds.map((b) => runOne(group, b)));
      outcomes.push(...results2);
      return results2.every((o) => !o.error);
    })();
    finished.set(group.name, p);
    return p;
  };
  await Promise.all(groups.map(runGroup));

  // The layout of Packer's closing summary, machine-readable records included:
  // each blank line belongs to the line after it, and each record comes just
  // before the human line it goes with.
  printer.line(`\n==> Wait completed after ${formatDuration(Date.now() - started)}`, 'say');

  const failed = outcomes.filter((o) => o.error);
  const cancelled = opts.signal.aborted;
  if (cancelled) {
    printer.line('Cleanly cancelled builds after being interrupted.', 'say');
    return { outcomes, exitCode: 1, cleanups: state.stacks };
  }
  if (failed.length) {
    printer.machine('', 'error-count', String(failed.length));
    printer.line('\n==> Some builds didn\'t complete successfully and had errors:', 'error');
    for (const o of failed) {
      printer.machine(o.name, 'error', o.error!.message);
      printer.line(`--> ${o.name}: ${o.error!.message}`, 'error');
    }
  }

  const withArtifacts = outcomes.filter((o) => !o.error && o.artifacts.length);
  if (!withArtifacts.length) {
    printer.line('\n==> Builds finished but no artifacts were created.', 'say');
  } else {
    printer.line('\n==> Builds finished. The artifacts of successful builds are:', 'say');
    for (const o of withArtifacts) {
      printer.machine(o.name, 'artifact-count', String(o.artifacts.length));
      o.artifacts.forEach((a, i) => {
        printer.machine(o.name, 'artifact', String(i), 'builder-id', a.builderId);
        printer.machine(o.name, 'artifact', String(i), 'id', a.id);
        printer.machine(o.name, 'artifact', String(i), 'string', a.describe());
        printer.machine(o.name, 'artifact', String(i), 'files-count', String(a.files.length));
        a.files.forEach((f, j) => printer.machine(o.name, 'artifact', String(i), 'file', String(j), f));
        printer.machine(o.name, 'artifact', String(i), 'end');
        printer.line(`--> ${o.name}: ${a.describe()}`, 'say');
      });
    }
  }
  return { outcomes, exitCode: failed.length ? 1 : 0, cleanups: state.stacks };
}
