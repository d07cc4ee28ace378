import * as fs from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { CleanupStack } from './cleanup';
import { RunJournal } from './journal';
import {
  Artifact, BuildEnvironment, BuildUi, Communicator, GeneratedData, PostProcessorRuntime,
  ProvisionHook, ProvisionerRuntime, BuilderRuntime,
} from './types';
import type { PreparedBuild, PreparedProvisioner } from '../template/prepare';

/**
 * Runs one prepared build: the builder (which calls back to provision), the
 * builder's cleanups, then the post-processor chains with Packer's rules for
 * which artifacts are kept.
 */

export type OnError = 'cleanup' | 'abort' | 'ask' | 'run-cleanup-provisioner';

/** Finds the runtime of a component type; supplied by the caller so the engine imports no component. */
export interface RuntimeLoader {
  builder(type: string): BuilderRuntime;
  provisioner(type: string): ProvisionerRuntime;
  postProcessor(type: string): PostProcessorRuntime;
}

export interface BuildOptions {
  readonly build: PreparedBuild;
  /** How the build is named in the output (`base/docker` when several templates run). Defaults to the build name. */
  readonly label?: string;
  readonly runId: string;
  readonly ui: BuildUi;
  readonly signal: AbortSignal;
  readonly onError: OnError;
  readonly force: boolean;
  readonly runtimes: RuntimeLoader;
  readonly interpolation: BuildEnvironment['interpolation'];
  readonly journal?: RunJournal;
  /** Receives this build's cleanup stack, so an interrupted run can say what is still being cleaned. */
  readonly onCleanups?: (stack: CleanupStack) => void;
}

export interface BuildOutcome {
  readonly name: string;
  readonly artifacts: readonly Artifact[];
  readonly error?: Error;
  readonly cancelled: boolean;
  readonly durationMs: number;
}

/** Go's Duration.String for whole milliseconds and above: `5s`, `1m30s`, `250ms`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

/** Sleeps, waking early (and rejecting) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * True for an error that no retry can help with, such as the Docker engine
 * having gone away: an error object with `unrecoverable: true`. Retry loops
 * (`max_retries`, `start_retry_timeout`) give up at once on it.
 */
export function isUnrecoverable(e: unknown): boolean {
  return Boolean(e) && (e as { unrecoverable?: unknown }).unrecoverable === true;
}

/** The error a cancelled operation rejects with. */
export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error(typeof reason === 'string' ? reason : 'build cancelled');
  e.name = 'AbortError';
  return e;
}

export async function runBuild(opts: BuildOptions): Promise<BuildOutcome> {
  const started = Date.now();
  const { build, ui, signal } = opts;
  const cleanups = new CleanupStack();
  opts.onCleanups?.(cleanups);
  let onError = opts.onError;

  const env: BuildEnvironment = {
    build,
    runId: opts.runId,
    ui,
    signal,
    cleanups,
    interpolation: opts.interpolation,
    force: opts.force,
    journal: opts.journal,
    tempDir: async (purpose) => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), `kiln-${purpose}-`));
      opts.journal?.add('dir', dir);
      cleanups.defer(`temporary directory ${dir}`, async () => {
        await fs.rm(dir, { recursive: true, force: true });
        opts.journal?.remove('dir', dir);
      });
      return dir;
    },
  };

  const runProvisioner = async (p: PreparedProvisioner, comm: Communicator | undefined, data: GeneratedData) => {
    const runtime = opts.runtimes.provisioner(p.type);
    let pEnv = env;
    let timer: NodeJS.Timeout | undefined;
    // As in Packer, a pause replaces the timeout rather than adding to it.
    if (p.pauseBeforeMs > 0) {
      ui.say(`Pausing ${goDuration(p.pauseBeforeMs)} before the next provisioner...`);
      await sleep(p.pauseBeforeMs, signal);
    } else if (p.timeoutMs > 0) {
      ui.say(`Setting a ${goDuration(p.timeoutMs)} timeout for the next provisioner...`);
      const timeout = new AbortController();
      timer = setTimeout(() => {
        ui.say('Cancelling provisioner after a timeout...');
        timeout.abort(new Error(`provisioner timed out after ${goDuration(p.timeoutMs)}`));
      }, p.timeoutMs);
      pEnv = { ...env, signal: AbortSignal.any([signal, timeout.signal]) };
    }
    try {
      let first: Error | undefined;
      for (let attempt = 0; ; attempt++) {
        try {
          await runtime.provision(pEnv, p.config, comm, data);
          return;
        } catch (e) {
          if (signal.aborted || pEnv.signal.aborted || isUnrecoverable(e)) throw e;
          first ??= e as Error;
          if (attempt < p.maxRetries) {
            ui.say(`Provisioner failed with "${(e as Error).message}", retrying with ${p.maxRetries - attempt} trie(s) left`);
            continue;
          }
          if (p.maxRetries > 0) ui.say('retry limit reached.');
          throw first;
        }
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  };

  let builderArtifact: Artifact | undefined;
  let error: Error | undefined;
  /**
   * Set once provisioning has succeeded, until it has run: when a later step of
   * the builder fails (commit, export), the error-cleanup provisioner still runs,
   * with the machine still there, before the builder's own clean-up, as
   * Packer's StepProvision clean-up does when the build has an error.
   */
  let afterProvisioning: (() => Promise<void>) | undefined;
  const cleanupProvisionerStep = build.errorCleanupProvisioner ? `error-cleanup provisioner (${build.errorCleanupProvisioner.type})` : 'error-cleanup provisioner';

  const provision: ProvisionHook = async (comm, data) => {
    for (;;) {
      try {
        for (const p of build.provisioners) {
          if (signal.aborted) throw abortError(signal);
          await runProvisioner(p, comm, data);
        }
        afterProvisioning = async () => {
          afterProvisioning = undefined;
          if (!error || signal.aborted) return;
          ui.say('Provisioning step had errors: Running the cleanup provisioner, if present...');
          if (!build.errorCleanupProvisioner) return;
          try {
            await runProvisioner(build.errorCleanupProvisioner, comm, data);
          } catch (cleanupError) {
            error = new Error(`Cleanup failed: ${(cleanupError as Error).message}. Original Provisioning error: ${error.message}`);
          }
        };
        cleanups.defer(cleanupProvisionerStep, () => afterProvisioning?.());
        return;
      } catch (e) {
        if (signal.aborted) throw e;
        if (onError === 'ask') {
          const answer = await askOnError(ui, e as Error, signal);
          if (answer === 'retry') continue;
          onError = answer === 'abort' ? 'abort' : 'cleanup';
        }
        if (onError === 'abort') throw e;
        ui.say('Provisioning step had errors: Running the cleanup provisioner, if present...');
        if (build.errorCleanupProvisioner) {
          try {
            await runProvisioner(build.errorCleanupProvisioner, comm, data);
          } catch (cleanupError) {
            throw new Error(`Cleanup failed: ${(cleanupError as Error).message}. Original Provisioning error: ${(e as Error).message}`);
          }
        }
        if (onError === 'run-cleanup-provisioner') onError = 'abort';
        throw e;
      }
    }
  };

  // The builder soon waits for its machine to start: the code of the other components
  // loads in that wait rather than later, on the build's path. A failure to load is
  // left to be reported when the component runs.
  const preload = setImmediate(() => {
    const types = [
      ...build.provisioners.map((p) => () => opts.runtimes.provisioner(p.type)),
      ...build.postProcessors.flat().map((p) => () => opts.runtimes.postProcessor(p.type)),
    ];
    for (const load of types) {
      try {
        load();
      } catch {
        // Reported when it runs.
      }
    }
  });
  try {
    const builder = opts.runtimes.builder(build.type);
    builderArtifact = await builder.run(env, build.builder.config, provision);
  } catch (e) {
    error = e as Error;
  } finally {
    clearImmediate(preload);
  }

  if (error && !signal.aborted && onError === 'run-cleanup-provisioner' && afterProvisioning) {
    // A step after provisioning failed: the cleanup provisioner runs, then the rest is left as with abort.
    await afterProvisioning();
    onError = 'abort';
  }
  if (error && !signal.aborted && onError === 'abort') {
    for (const what of cleanups.abandon()) {
      // Nothing is skipped there when no cleanup provisioner is defined, or when it has run.
      if (what === cleanupProvisionerStep && (!build.errorCleanupProvisioner || !afterProvisioning)) continue;
      ui.error(`aborted: skipping cleanup of ${what}`);
    }
  } else {
    await cleanups.unwind((what, e) => ui.error(`cleaning up ${what} failed: ${e.message}`));
  }

  const done = (artifacts: readonly Artifact[], err?: Error): BuildOutcome => ({
    name: build.name,
    artifacts,
    error: err,
    cancelled: signal.aborted,
    durationMs: Date.now() - started,
  });

  if (error || signal.aborted) return done([], error ?? abortError(signal));
  if (!builderArtifact) return done([]);

  const { artifacts, errors } = await runPostProcessors(opts, env, builderArtifact);
  // Post-processors register cleanups too (temporary directories, partial
  // files); the builder's were unwound above, so theirs are unwound here.
  await cleanups.unwind((what, e) => ui.error(`cleaning up ${what} failed: ${e.message}`));
  if (signal.aborted) return done([], abortError(signal));
  if (errors.length) {
    // Packer's MultiError layout, even for one error.
    const err = new Error(`${errors.length} error(s) occurred:\n\n${errors.map((e) => `* ${e.message}`).join('\n')}`);
    return done([], err);
  }
  return done(artifacts);
}

async function askOnError(ui: BuildUi, e: Error, signal: AbortSignal): Promise<'cleanup' | 'abort' | 'retry'> {
  ui.error(e.message);
  for (;;) {
    let answer: string;
    try {
      answer = (await ui.ask('[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)? ', signal)).trim().toLowerCase();
    } catch {
      return 'cleanup'; // no terminal: clean up, as Packer does
    }
    if (answer === 'c') return 'cleanup';
    if (answer === 'a') return 'abort';
    if (answer === 'r') return 'retry';
  }
}

/** Packer's artifact pipeline (see the reference, "Artifact pipeline"). */
async function runPostProcessors(
  opts: BuildOptions,
  env: BuildEnvironment,
  builderArtifact: Artifact,
): Promise<{ artifacts: Artifact[]; errors: Error[] }> {
  const { build, ui, signal } = opts;
  const artifacts: Artifact[] = [];
  const errors: Error[] = [];
  let keepOriginal = build.postProcessors.length === 0;

  chains: for (const chain of build.postProcessors) {
    let prior = builderArtifact;
    for (let i = 0; i < chain.length; i++) {
      if (signal.aborted) break chains;
      const pp = chain[i];
      ui.say(`Running post-processor: ${pp.name === pp.type ? pp.type : `${pp.name} (type ${pp.type})`}`);
      const ppUi = ui.withPrefix(`${opts.label ?? build.name} (${pp.type})`);
      let result;
      try {
        result = await opts.runtimes.postProcessor(pp.type).postProcess({ ...env, ui: ppUi }, pp.config, prior);
      } catch (e) {
        if (signal.aborted) break chains;
        // Reported with the build's result ("Build ... errored"), not on its lines, as Packer does.
        errors.push(new Error(`Post-processor failed: ${(e as Error).message}`));
        continue chains;
      }
      if (!result.artifact) continue chains;
      let keep = result.keep;
      if (pp.keepInputArtifact !== undefined) {
        if (result.keep && !pp.keepInputArtifact && result.forceKeep) {
          ppUi.say(`The ${pp.type} post-processor needs its input artifact, so keep_input_artifact: false is ignored`);
        } else {
          keep = pp.keepInputArtifact;
        }
      }
      if (i === 0) {
        keepOriginal ||= keep;
      } else if (keep) {
        artifacts.push(prior);
      } else {
        await destroy(prior, ui);
      }
      prior = result.artifact;
    }
    artifacts.push(prior);
  }

  if (keepOriginal) artifacts.unshift(builderArtifact);
  else await destroy(builderArtifact, ui);
  return { artifacts, errors };
}

async function destroy(a: Artifact, ui: BuildUi): Promise<void> {
  try {
    await a.destroy();
  } catch (e) {
    ui.error(`removing the intermediate artifact ${a.id || a.describe()} failed: ${(e as Error).message}`);
  }
}
