import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync } from 'fs';
import * as fs from 'fs/promises';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import type { ShellLocalConfig } from './fields';
import type { BuildEnvironment, BuildUi, GeneratedData } from '../../../engine/types';
import { renderRepeatedly } from '../../../template/interpolate';
import { sprintf } from '../../../template/interpolate/go-fmt';

/**
 * What the `shell-local` provisioner and post-processor both do (Packer keeps
 * this in its SDK's shell-local package): pick the scripts, write `inline` to
 * a temporary script, build the `{{.Vars}}` string, render `execute_command`
 * and run each script on this machine with its output streamed to the UI.
 *
 * Kiln differs from Packer only where Packer leaves a mess: a cancelled or
 * timed-out script is stopped with its whole process group (Packer kills the
 * shell and leaves its children running), and the temporary script is removed
 * even when the build is interrupted.
 */

/** Where Packer 1.6.6's StepProvision puts these when the builder serves no HTTP. */
const HTTP_NOT_IMPLEMENTED: Readonly<Record<string, string>> = {
  PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER',
};

const HTTP_VARIABLES: readonly [string, string][] = [
  ['PackerHTTPAddr', 'PACKER_HTTP_ADDR'],
  ['PackerHTTPIP', 'PACKER_HTTP_IP'],
  ['PackerHTTPPort', 'PACKER_HTTP_PORT'],
];

/** Node's platform names as Go's GOOS, which `only_on` uses. */
const GOOS: Readonly<Record<string, string>> = { linux: 'linux', darwin: 'darwin', freebsd: 'freebsd', openbsd: 'openbsd', sunos: 'solaris', win32: 'windows' };

/** How long a cancelled script gets to exit after SIGTERM before its process group is killed. */
export const KILL_GRACE_MS = 2000;

export interface ShellLocalRun {
  readonly env: BuildEnvironment;
  readonly config: ShellLocalConfig;
  /** The builder's generated data; `{}` when the builder has none. */
  readonly data: GeneratedData;
  readonly stage: 'provisioner' | 'post-processor';
}

/** The settings Packer fills in when the template leaves them out, for this platform. */
export function withDefaults(config: ShellLocalConfig, stage: 'provisioner' | 'post-processor', platform: string = process.platform): ShellLocalConfig {
  const windows = platform === 'win32';
  let executeCommand = config.execute_command ?? [];
  // Before the two were merged, the post-processor took one command string
  // and ran it with `sh -c`; a one-element list is still read that way.
  if (stage === 'post-processor' && executeCommand.length === 1) executeCommand = ['sh', '-c', ...executeCommand];
  if (executeCommand.length === 0) {
    executeCommand = windows ? ['cmd', '/V', '/C', '{{.Vars}}', 'call', '{{.Script}}'] : ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'];
  }
  let extension = config.tempfile_extension ?? '';
  if (windows && !extension) extension = '.cmd';
  if (extension.startsWith('.')) extension = extension.slice(1);
  return {
    ...config,
    execute_command: executeCommand,
    inline_shebang: config.inline_shebang || (windows ? '' : '/bin/sh -e'),
    env_var_format: config.env_var_format || (windows && !config.use_linux_pathing ? 'set %s=%s && ' : '%s=\'%s\' '),
    tempfile_extension: extension,
    inline: config.command ? [config.command] : config.inline,
    scripts: config.script ? [config.script] : config.scripts ?? [],
  };
}

/**
 * The `{{.Vars}}` string: the rendered `environment_vars` plus
 * PACKER_BUILD_NAME, PACKER_BUILDER_TYPE (and the PACKER_HTTP_* values when the
 * builder serves HTTP), sorted by name, each value with `'` written as
 * `'"'"'`, each formatted with `env_var_format`.
 */
export function flattenEnvironment(
  vars: readonly string[],
  format: string,
  build: { name: string; type: string },
  data: GeneratedData,
  render: (s: string) => string,
): string {
  const values = new Map<string, string>([['PACKER_BUILD_NAME', build.name], ['PACKER_BUILDER_TYPE', build.type]]);
  for (const [key, name] of HTTP_VARIABLES) {
    const v = data[key];
    if (typeof v === 'string' && v !== HTTP_NOT_IMPLEMENTED[key]) values.set(name, v);
  }
  for (const entry of vars) {
    const rendered = render(entry);
    const eq = rendered.indexOf('=');
    // Checked at validate; a value rendered at run time may still lack "=".
    const [key, value] = eq < 0 ? [rendered, ''] : [rendered.slice(0, eq), rendered.slice(eq + 1)];
    values.set(key, value.split('\'').join('\'"\'"\''));
  }
  const keys = [...values.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => sprintf(format, [k, values.get(k)!])).join('');
}

/** Packer's clean-up of one output line: trailing blanks go, and only the text after the last carriage return is kept. */
export function cleanOutputLine(line: string): string {
  const trimmed = line.replace(/\s+$/u, '');
  const cr = trimmed.lastIndexOf('\r');
  return cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
}

/** Splits a byte stream into lines as they complete; the last, unterminated one comes out at the end. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly emit: (line: string) => void) {}

  public write(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      this.emit(cleanOutputLine(this.pending.slice(0, nl)));
      this.pending = this.pending.slice(nl + 1);
      nl = this.pending.indexOf('\n');
    }
  }

  public end(): void {
    this.pending += this.decoder.end();
    if (this.pending) this.emit(cleanOutputLine(this.pending));
    this.pending = '';
  }
}

/** The error Packer gives for a script that could not run to the end (not started, cancelled, timed out). */
function executionError(absScript: string): Error {
  return new Error(`Error executing script: ${absScript}\n\nPlease see output above for more information.`);
}

/** Runs shell-local's scripts; resolves when every script has exited with an allowed code. */
export async function runShellLocal(run: ShellLocalRun): Promise<void> {
  const { env, stage } = run;
  const { ui } = env;
  const config = withDefaults(run.config, stage);
  const data = run.data;

  const onlyOn = config.only_on ?? [];
  if (onlyOn.length && !onlyOn.includes(GOOS[process.platform] ?? process.platform)) {
    ui.say('Skipping shell-local due to runtime OS');
    return;
  }

  const cwd = env.interpolation.cwd ?? process.cwd();
  const render = (text: string, extra: Record<string, unknown> = {}) =>
    renderRepeatedly(text, { ...env.interpolation, stage, data: { ...data, ...extra } });

  let inlineScript: string | undefined;
  try {
    const scripts = [...config.scripts ?? []];
    if (!scripts.length && config.inline) {
      inlineScript = await writeInlineScript(await scratchDir(env), config, (s) => render(s));
      scripts.push(inlineScript);
    }

    const vars = flattenEnvironment(config.environment_vars ?? [], config.env_var_format!, env.build, data, (s) => render(s));
    const validCodes = config.valid_exit_codes?.length ? config.valid_exit_codes : [0];

    for (const script of scripts) {
      const absScript = path.resolve(cwd, script);
      let command: string[];
      try {
        command = config.execute_command!.map((c) => render(c, { Vars: vars, Script: absScript, Command: absScript }));
      } catch (e) {
        throw new Error(`Error processing command: ${(e as Error).message}`);
      }
      ui.say(`Running local shell script: ${script}`);
      const code = await execute(command, cwd, env, absScript);
      if (!validCodes.includes(code)) {
        throw new Error(`Script exited with non-zero exit status: ${code}.Allowed exit codes are: [${validCodes.join(' ')}]`);
      }
    }
  } finally {
    // Packer removes the inline script once it has run; its directory goes
    // with the build's other cleanups.
    if (inlineScript) await fs.rm(inlineScript, { force: true });
  }
}

/** Each build's directory for inline scripts, by its cleanup stack. */
const scratchDirs = new WeakMap<object, Promise<string>>();

/**
 * The build's directory for inline scripts, made on first use and removed by
 * the build's cleanups (it is made again for post-processors, which run after
 * the builder's cleanups).
 */
async function scratchDir(env: BuildEnvironment): Promise<string> {
  const known = await scratchDirs.get(env.cleanups)?.catch(() => undefined);
  if (known && existsSync(known)) return known;
  const made = env.tempDir('shell-local');
  scratchDirs.set(env.cleanups, made);
  return made;
}

/** Writes the `inline` commands, each rendered, after the shebang line, to an owner-only executable file. */
async function writeInlineScript(dir: string, config: ShellLocalConfig, render: (s: string) => string): Promise<string> {
  const lines = (config.inline ?? []).map((l) => `${render(l)}\n`);
  const shebang = config.inline_shebang ? `#!${config.inline_shebang}\n` : '';
  const name = `inline-${randomBytes(4).toString('hex')}`;
  const file = path.join(dir, config.tempfile_extension ? `${name}.${config.tempfile_extension}` : name);
  try {
    await fs.writeFile(file, shebang + lines.join(''), { mode: 0o700 });
    await fs.chmod(file, 0o700);
  } catch (e) {
    throw new Error(`Error preparing shell script: ${(e as Error).message}`);
  }
  return file;
}

/** A command run on this machine by a provisioner or post-processor. */
export interface LocalProcess {
  /** The program and its arguments; no shell in between. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Where its output goes, by line: stdout as messages, stderr as `stderr` says. */
  readonly ui: BuildUi;
  readonly stderr: 'message' | 'error';
  readonly signal: AbortSignal;
  /** The error to fail with when the command cannot start (`cause` says why) or was cancelled. */
  readonly failure: (why: 'start' | 'cancelled', cause?: Error) => Error;
}

/**
 * Runs one command in its own process group, so that cancelling stops
 * everything it started (SIGTERM, then SIGKILL after a grace period).
 * Resolves to the exit code (-1 when a signal ended it, as Go reports) once
 * all its output has been shown.
 */
export function runLocalProcess(p: LocalProcess): Promise<number> {
  const { ui, signal, command } = p;
  if (signal.aborted) return Promise.reject(p.failure('cancelled'));

  return new Promise<number>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command[0], command.slice(1), { cwd: p.cwd, env: p.env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    } catch (e) {
      reject(p.failure('start', e as Error));
      return;
    }

    const out = new LineSplitter((l) => ui.message(l));
    const err = new LineSplitter((l) => (p.stderr === 'error' ? ui.error(l) : ui.message(l)));
    child.stdout!.on('data', (c: Buffer) => out.write(c));
    child.stderr!.on('data', (c: Buffer) => err.write(c));

    let settled = false;
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stopGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        if (process.platform === 'win32') child.kill(sig);
        else process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const settle = (outcome: { code: number } | { error: Error }) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if ('code' in outcome) resolve(outcome.code);
      else reject(outcome.error);
    };
    // Cancelled: stop the whole group, politely first. The build carries on
    // with its cleanup once the command itself has gone.
    const onAbort = () => {
      stopGroup('SIGTERM');
      if (exited) {
        stopGroup('SIGKILL');
        abandonOutput();
        settle({ error: p.failure('cancelled') });
        return;
      }
      killTimer = setTimeout(() => stopGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const abandonOutput = () => {
      child.stdout!.destroy();
      child.stderr!.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (e) => settle({ error: p.failure('start', e) }));
    child.on('exit', () => {
      exited = true;
      if (signal.aborted) {
        // Whatever is left of the group goes too; its output no longer matters.
        stopGroup('SIGKILL');
        abandonOutput();
        settle({ error: p.failure('cancelled') });
      }
    });
    // 'close' comes once the output pipes are drained, so every line is shown first.
    child.on('close', (code) => {
      if (settled) return;
      out.end();
      err.end();
      if (signal.aborted) settle({ error: p.failure('cancelled') });
      else settle({ code: code ?? -1 });
    });
  });
}

/** Runs a shell-local command with Packer's messages for a command that cannot start or is cancelled. */
function execute(command: readonly string[], cwd: string, env: BuildEnvironment, absScript: string): Promise<number> {
  if (!command.length && !env.signal.aborted) {
    return Promise.reject(new Error('Error launching command via shell-local communicator: No ExecuteCommand provided'));
  }
  return runLocalProcess({
    command,
    cwd,
    env: { ...process.env, PACKER_RUN_UUID: env.runId },
    ui: env.ui,
    stderr: 'error',
    signal: env.signal,
    failure: (why, cause) => {
      if (why === 'start') env.ui.error(`Cannot start ${JSON.stringify(command[0])}: ${cause?.message}`);
      return executionError(absScript);
    },
  });
}
