/**
 * Differential corpus for `validate`: every case under `cases/valid` and
 * `cases/invalid` is run through the real `packer validate` (Packer 1.6.6,
 * always on `template.json`) and through `kiln validate` (on the YAML twin
 * when the case has one, otherwise on `template.json`), with the same extra
 * flags and with the case directory as the working directory.
 *
 * Used by `test/template/validate-differential.test.ts`, and runnable by hand:
 *
 *   npx ts-node --project test/tsconfig.json test/template/differential/run-cases.ts [filter...] [-v]
 *
 * which prints one line per case: case / packer verdict / kiln verdict.
 *
 * Case layout (`cases/<valid|invalid>/<nnn-short-name>/`):
 * - `template.json`  the template Packer validates (and Kiln too, unless there is a twin);
 * - `case.json`      `{ "why": "...", "note"?: "...", "kilnDiffers"?: "<why Packer 1.6.6 is wrong>" }`;
 * - `args.json`      optional JSON array of extra flags placed before the template path;
 * - `template.yaml` / `template.yml`  optional YAML twin that Kiln validates instead;
 * - any fixture files the template refers to (scripts, var files, ...).
 *
 * The folder records Packer's verdict: `valid` = exit 0, `invalid` = exit 1.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Directory holding `valid/` and `invalid/`. */
export const CASES_DIR = path.join(__dirname, 'cases');
/** Repository root (this file lives in test/template/differential). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** The Kiln CLI entry point, run with the current node binary. */
export const KILN_BIN = path.join(REPO_ROOT, 'bin', 'kiln');
/** The Packer version the corpus was verified against. */
export const PACKER_VERSION = '1.6.6';
/** Per-process time limit. */
export const PROCESS_TIMEOUT_MS = 60_000;

export type CaseKind = 'valid' | 'invalid';

export interface CaseMeta {
  /** One sentence: what the case checks. */
  readonly why: string;
  /** A fact about Packer's behaviour that the case pins down. */
  readonly note?: string;
  /** Set only when Packer 1.6.6 is wrong: Kiln must then give the opposite verdict. */
  readonly kilnDiffers?: string;
}

export interface DiffCase {
  /** `valid/007-shell-inline` */
  readonly id: string;
  readonly kind: CaseKind;
  readonly dir: string;
  /** Extra flags placed before the template path. */
  readonly args: readonly string[];
  /** The file Kiln validates: `template.yaml`, `template.yml` or `template.json`. */
  readonly kilnTemplate: string;
  readonly meta: CaseMeta;
}

export interface ProcResult {
  /** Exit code; null when the process was killed or could not start. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Set when the process could not be started (e.g. ENOENT). */
  readonly spawnError?: string;
}

export interface CaseResult {
  readonly case: DiffCase;
  readonly packer: ProcResult;
  readonly kiln: ProcResult;
}

export interface RunOptions {
  /** How many processes run at the same time (default 4, or $KILN_DIFF_CONCURRENCY). */
  readonly concurrency?: number;
  /** Packer executable (default: `packer` from PATH). */
  readonly packer?: string;
  /** Called as each case completes. */
  readonly onResult?: (result: CaseResult) => void;
}

/** The Packer template every case has. */
export const PACKER_TEMPLATE = 'template.json';
const YAML_TWINS = ['template.yaml', 'template.yml'];

function numericPrefix(name: string): number {
  const m = /^(\d+)-/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** Reads every case directory. Throws on a malformed case so a broken corpus is loud. */
export function discoverCases(root: string = CASES_DIR): DiffCase[] {
  const cases: DiffCase[] = [];
  for (const kind of ['valid', 'invalid'] as const) {
    const kindDir = path.join(root, kind);
    if (!fs.existsSync(kindDir)) continue;
    const names = fs.readdirSync(kindDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort((a, b) => numericPrefix(a) - numericPrefix(b) || a.localeCompare(b));
    for (const name of names) {
      const dir = path.join(kindDir, name);
      const id = `${kind}/${name}`;
      if (!/^\d{2,}-[a-z0-9][a-z0-9-]*$/.test(name)) {
        throw new Error(`${id}: case directories are named <nn>-<short-name> (lower case, digits and dashes)`);
      }
      if (!fs.existsSync(path.join(dir, PACKER_TEMPLATE))) {
        throw new Error(`${id}: missing ${PACKER_TEMPLATE}`);
      }
      const meta = readJson(path.join(dir, 'case.json'), id) as CaseMeta;
      if (typeof meta !== 'object' || meta === null || typeof meta.why !== 'string' || meta.why.trim() === '') {
        throw new Error(`${id}: case.json must be an object with a non-empty "why" string`);
      }
      let args: string[] = [];
      const argsPath = path.join(dir, 'args.json');
      if (fs.existsSync(argsPath)) {
        const raw = readJson(argsPath, id);
        if (!Array.isArray(raw) || raw.some((a) => typeof a !== 'string')) {
          throw new Error(`${id}: args.json must be a JSON array of strings`);
        }
        args = raw as string[];
      }
      const twins = YAML_TWINS.filter((t) => fs.existsSync(path.join(dir, t)));
      if (twins.length > 1) {
        throw new Error(`${id}: at most one YAML twin (found ${twins.join(', ')})`);
      }
      cases.push({ id, kind, dir, args, kilnTemplate: twins[0] ?? PACKER_TEMPLATE, meta });
    }
  }
  return cases;
}

function readJson(file: string, id: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${id}: cannot read ${path.basename(file)}: ${(e as Error).message}`);
  }
}

/**
 * The environment both tools run with. CHECKPOINT_DISABLE stops Packer phoning
 * home; KILN_DIFF_TRUE / KILN_DIFF_UNSET are read by cases that test `env`.
 */
export function caseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KILN_DIFF_UNSET;
  delete env.PACKER_LOG;
  delete env.PACKER_LOG_PATH;
  env.CHECKPOINT_DISABLE = '1';
  env.KILN_DIFF_TRUE = 'true';
  return env;
}

/** Runs one process to completion, collecting its output. Never rejects. */
export function runProcess(command: string, args: readonly string[], cwd: string,
  env: NodeJS.ProcessEnv = caseEnv(), timeoutMs: number = PROCESS_TIMEOUT_MS): Promise<ProcResult> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let spawnError: string | undefined;
    let settled = false;
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
        spawnError,
      });
    };
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', (e) => {
      spawnError = e.message;
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** Finds an executable on PATH, or returns undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Returns the path of Packer 1.6.6, or throws an error that says how to get it.
 * The differential suite must fail (not skip) without it.
 */
export function requirePacker(): string {
  const packer = findOnPath('packer');
  if (!packer) {
    throw new Error(
      `The differential validate suite needs HashiCorp Packer ${PACKER_VERSION} as \`packer\` on PATH, and it was not found. `
      + '.ci/run installs it (Debian package); install it the same way to run these tests locally.');
  }
  const v = spawnSync(packer, ['version'], { env: caseEnv(), encoding: 'utf8', timeout: 30_000 });
  const out = `${v.stdout ?? ''}${v.stderr ?? ''}`;
  if (!out.includes(`Packer v${PACKER_VERSION}`)) {
    throw new Error(
      `The differential validate suite was verified against Packer ${PACKER_VERSION}, but \`${packer} version\` printed: `
      + `${JSON.stringify(out.trim())}. .ci/run installs the right version.`);
  }
  return packer;
}

/** Runs async jobs with at most `limit` in flight, preserving order in the result. */
export async function pool<T, R>(items: readonly T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Runs Packer and Kiln on every case. Process-level pool: at most `concurrency` processes at once. */
export async function runCorpus(cases: readonly DiffCase[], options: RunOptions = {}): Promise<CaseResult[]> {
  const concurrency = options.concurrency ?? (Number(process.env.KILN_DIFF_CONCURRENCY) || 4);
  const packer = options.packer ?? 'packer';
  const env = caseEnv();
  type Task = { readonly c: DiffCase; readonly tool: 'packer' | 'kiln' };
  const tasks: Task[] = cases.flatMap((c) => [{ c, tool: 'packer' as const }, { c, tool: 'kiln' as const }]);
  const partial = new Map<string, { packer?: ProcResult; kiln?: ProcResult }>();
  const done: CaseResult[] = [];
  await pool(tasks, concurrency, async ({ c, tool }) => {
    const r = tool === 'packer'
      ? await runProcess(packer, ['validate', ...c.args, PACKER_TEMPLATE], c.dir, env)
      : await runProcess(process.execPath, [KILN_BIN, 'validate', ...c.args, c.kilnTemplate], c.dir, env);
    const entry = partial.get(c.id) ?? {};
    entry[tool] = r;
    partial.set(c.id, entry);
    if (entry.packer && entry.kiln) {
      const result: CaseResult = { case: c, packer: entry.packer, kiln: entry.kiln };
      done.push(result);
      options.onResult?.(result);
    }
  });
  const order = new Map(cases.map((c, i) => [c.id, i]));
  return done.sort((a, b) => order.get(a.case.id)! - order.get(b.case.id)!);
}

/** The verdict a tool expresses: exit 0 accepts, exit 1 rejects, anything else is an error. */
export function verdictOf(r: ProcResult): 'accept' | 'reject' | string {
  if (r.spawnError) return `spawn error (${r.spawnError})`;
  if (r.timedOut) return 'timeout';
  if (r.code === 0) return 'accept';
  if (r.code === 1) return 'reject';
  return r.code === null ? `killed (${r.signal})` : `exit ${r.code}`;
}

/** The verdict Packer gives for the case's folder. */
export function expectedPackerVerdict(c: DiffCase): 'accept' | 'reject' {
  return c.kind === 'valid' ? 'accept' : 'reject';
}

/** The verdict Kiln must give: Packer's, or the opposite for a documented Packer bug. */
export function expectedKilnVerdict(c: DiffCase): 'accept' | 'reject' {
  const packer = expectedPackerVerdict(c);
  if (!c.meta.kilnDiffers) return packer;
  return packer === 'accept' ? 'reject' : 'accept';
}

/** A line that looks like a JavaScript stack frame (`    at fn (file.js:1:2)`). */
const STACK_FRAME = /^\s+at (?:.+ \()?(?:[^\s()]+):\d+:\d+\)?\s*$/m;

/** Everything wrong with one result, as human-readable lines (empty = the case passes). */
export function problemsOf(result: CaseResult): string[] {
  const { case: c, packer, kiln } = result;
  const problems: string[] = [];
  const packerVerdict = verdictOf(packer);
  if (packerVerdict !== expectedPackerVerdict(c)) {
    problems.push(`packer: expected ${expectedPackerVerdict(c)} (this case is in ${c.kind}/), got ${packerVerdict}; `
      + `is the packer on PATH version ${PACKER_VERSION}?`);
  }
  const kilnVerdict = verdictOf(kiln);
  const wanted = expectedKilnVerdict(c);
  if (kilnVerdict !== wanted) {
    problems.push(`kiln: expected ${wanted} (exit ${wanted === 'accept' ? 0 : 1}), got ${kilnVerdict}`);
  }
  if (kilnVerdict === 'reject') {
    const output = `${kiln.stdout}${kiln.stderr}`;
    if (output.trim() === '') {
      problems.push('kiln: rejected the template without printing anything');
    } else if (!output.includes(c.kilnTemplate)) {
      problems.push(`kiln: rejection output does not name the template file ${c.kilnTemplate}`);
    }
    if (STACK_FRAME.test(output)) {
      problems.push('kiln: rejection output contains a JavaScript stack trace');
    }
  }
  return problems;
}

/** A full report for a failing case. */
export function describeResult(result: CaseResult): string {
  const { case: c, packer, kiln } = result;
  const show = (label: string, cmd: string, r: ProcResult) => [
    `--- ${label}: ${cmd}  => ${verdictOf(r)}`,
    indent(`${r.stdout}${r.stderr}`.trimEnd() || '(no output)'),
  ].join('\n');
  const cmd = (tool: string, template: string) =>
    [tool, 'validate', ...c.args.map((a) => (/^[\w.,=\/-]+$/.test(a) ? a : `'${a}'`)), template].join(' ');
  return [
    `case ${c.id}: ${c.meta.why}`,
    ...(c.meta.note ? [`note: ${c.meta.note}`] : []),
    ...(c.meta.kilnDiffers ? [`kilnDiffers: ${c.meta.kilnDiffers}`] : []),
    `cwd: ${c.dir}`,
    show('packer', cmd('packer', PACKER_TEMPLATE), packer),
    show('kiln', cmd('kiln', c.kilnTemplate), kiln),
  ].join('\n');
}

function indent(s: string): string {
  return s.split('\n').map((l) => `    ${l}`).join('\n');
}

async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  const filters = argv.filter((a) => !a.startsWith('-'));
  let packer: string;
  try {
    packer = requirePacker();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const cases = discoverCases().filter((c) => filters.length === 0 || filters.some((f) => c.id.includes(f)));
  const started = Date.now();
  const results = await runCorpus(cases, { packer });
  const width = Math.max(4, ...results.map((r) => r.case.id.length + (r.case.kilnTemplate === PACKER_TEMPLATE ? 0 : 7)));
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(width)}  ${b.padEnd(8)}  ${c.padEnd(8)}  ${d}`;
  process.stdout.write(`${line('case', 'packer', 'kiln', '')}\n`);
  let bad = 0;
  for (const r of results) {
    const problems = problemsOf(r);
    if (problems.length) bad++;
    const label = r.case.kilnTemplate === PACKER_TEMPLATE ? r.case.id : `${r.case.id} (yaml)`;
    process.stdout.write(`${line(label, verdictOf(r.packer), verdictOf(r.kiln), problems.length ? 'MISMATCH' : 'ok')}\n`);
    if (problems.length && verbose) {
      process.stdout.write(`${indent([...problems, describeResult(r)].join('\n'))}\n`);
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\n${results.length} cases, ${results.length - bad} ok, ${bad} mismatched (${secs}s)\n`);
  return bad ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  });
}
