import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Output } from '../../lib/cli/output';
import { CATALOG } from '../../lib/components/catalog';
import { RUNTIMES } from '../../lib/components/runtimes';
import { OnError, RuntimeLoader } from '../../lib/engine/build';
import { RunJournal } from '../../lib/engine/journal';
import { RunResult, RunState, runPlan } from '../../lib/engine/run';
import { Printer } from '../../lib/engine/ui';
import { loadSource } from '../../lib/template/parse';
import { Plan, prepare } from '../../lib/template/prepare';
import { readTemplate } from '../../lib/template/template';

export { RECORD_GROUP, groupGone, read, waitFor } from '../processes';

/**
 * Runs real templates through the real engine and the real component
 * runtimes, in a fresh directory, and captures what a user would see.
 */

/** Directories made by `workdir`, removed after all tests of the file. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory for one test; shell-local commands run in it. */
export function workdir(prefix = 'kiln-engine-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

export interface PlanOptions {
  readonly only?: string[];
  readonly except?: string[];
  readonly vars?: Record<string, string>;
}

/** Writes `template` as `template.json` in `dir` and prepares it as `kiln build` would. */
export function planOf(dir: string, template: object, opts: PlanOptions = {}): Plan {
  const file = path.join(dir, 'template.json');
  fs.writeFileSync(file, JSON.stringify(template, null, 2));
  return prepare(readTemplate(loadSource(file), dir), {
    catalog: { kinds: CATALOG },
    cwd: dir,
    only: opts.only,
    except: opts.except,
    overrides: opts.vars,
  });
}

export interface RunOptions extends PlanOptions {
  readonly onError?: OnError;
  readonly parallelBuilds?: number;
  readonly signal?: AbortSignal;
  readonly machineReadable?: boolean;
  readonly runtimes?: RuntimeLoader;
  readonly journal?: RunJournal;
  readonly state?: RunState;
}

export interface Captured {
  /** Everything printed, in order. */
  readonly output: string;
  readonly lines: string[];
  readonly result: RunResult;
}

/** Prepares and runs a template with colour off, masking the plan's secrets as the CLI does. */
export async function build(dir: string, template: object, opts: RunOptions = {}): Promise<Captured> {
  const plan = planOf(dir, template, opts);
  let output = '';
  const out = new Output(() => undefined, () => undefined);
  out.addSecrets(plan.secrets);
  const printer = new Printer({
    write: (t) => { output += t; },
    mask: (t) => out.mask(t),
    color: false,
    timestamps: false,
    machineReadable: opts.machineReadable ?? false,
  });
  const result = await runPlan(plan, {
    runId: '11111111-2222-4333-8444-555555555555',
    printer,
    runtimes: opts.runtimes ?? RUNTIMES,
    signal: opts.signal ?? new AbortController().signal,
    parallelBuilds: opts.parallelBuilds ?? 0,
    onError: opts.onError ?? 'cleanup',
    force: false,
    cwd: dir,
    journal: opts.journal,
  }, opts.state);
  return { output, lines: output.split('\n').filter((l) => l !== ''), result };
}

/** A null build (communicator none) named `name`. */
export function nullBuilder(name = 'null'): object {
  return { type: 'null', name, communicator: 'none' };
}

/** A shell-local provisioner or post-processor running `inline`, plus any other keys. */
export function sh(inline: string[], extra: object = {}): object {
  return { type: 'shell-local', inline, ...extra };
}
