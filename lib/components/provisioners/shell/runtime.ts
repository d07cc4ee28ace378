import { randomInt } from 'crypto';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { Readable } from 'stream';
import type { shellProvisioner } from './declaration';
import { abortError, goDuration, isUnrecoverable, sleep } from '../../../engine/build';
import type { BuildEnvironment, Communicator, GeneratedData, ProvisionerRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { sprintf } from '../../../template/interpolate/go-fmt';
import { parseDuration } from '../../../template/schema';
import { CMD_DISCONNECT } from '../../docker/communicator';

/**
 * The shell provisioner: uploads each script (or the `inline` commands written
 * to one) to the machine and runs it with `execute_command`, as Packer does,
 * with the same variables string, exit-code rules, retries and messages.
 */

type ShellConfig = ConfigOf<typeof shellProvisioner.fields>;

const HTTP_PLACEHOLDERS: Readonly<Record<string, string>> = {
  PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER',
};

const NO_COMMUNICATOR = 'No communicator found for provisioners! This is usually because the `communicator` config was set to "none". If you have any provisioners then a communicator is required. Please fix this to continue.';

/**
 * Packer's `{{.Vars}}`: the variables sorted by name, PACKER_BUILD_NAME and
 * PACKER_BUILDER_TYPE always present (and PACKER_HTTP_* when the builder
 * serves HTTP), each value's `'` written `'"'"'`, each pair formatted with
 * `format` (Go printf, key then value) and concatenated.
 */
export function flattenEnvVars(vars: readonly string[], format: string, buildName: string, builderType: string, data: GeneratedData = {}): string {
  const env = new Map<string, string>();
  env.set('PACKER_BUILD_NAME', buildName);
  env.set('PACKER_BUILDER_TYPE', builderType);
  for (const [key, envName] of [['PackerHTTPAddr', 'PACKER_HTTP_ADDR'], ['PackerHTTPIP', 'PACKER_HTTP_IP'], ['PackerHTTPPort', 'PACKER_HTTP_PORT']] as const) {
    const v = data[key];
    if (v !== undefined && v !== null && v !== HTTP_PLACEHOLDERS[key]) env.set(envName, String(v));
  }
  for (const kv of vars) {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    env.set(key, value.replace(/'/g, '\'"\'"\''));
  }
  const keys = [...env.keys()].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return keys.map((k) => sprintf(format, [k, env.get(k)])).join('');
}

/**
 * Packer's UnixReader: every line ends with `\n`, a `\r` before it is
 * dropped, and a last line without one gets one.
 */
export function toUnixLines(text: Buffer): Buffer {
  if (!text.length) return text;
  const s = text.toString('latin1');
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return Buffer.from(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l) + '\n').join(''), 'latin1');
}

/** Packer's message for an exit status that is not allowed (no space after the period, as there). */
export function invalidExitCode(code: number, allowed: readonly number[]): string {
  return `Script exited with non-zero exit status: ${code}.Allowed exit codes are: [${allowed.join(' ')}]`;
}

/**
 * Packer's retry loop for starting things on a machine that may be
 * rebooting: try, and on failure wait 2 s and try again, until `timeoutMs`
 * has passed since the first try; then give up with the last error.
 */
export async function retryStart<T>(timeoutMs: number, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      // The machine is gone for good (e.g. the Docker engine died): waiting will not bring it back.
      if (isUnrecoverable(e) || (timeoutMs > 0 && Date.now() >= deadline)) throw e;
      await sleep(2000, signal);
    }
  }
}

export const provisioner: ProvisionerRuntime = {
  async provision(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, comm: Communicator | undefined, data: GeneratedData) {
    const config = rawConfig as ShellConfig;
    const { ui, signal } = env;
    if (!comm) throw new Error(NO_COMMUNICATOR);
    const cwd = env.interpolation.cwd ?? process.cwd();
    const useVarFile = config.use_env_var_file ?? false;
    const envVarFormat = config.env_var_format || (useVarFile ? 'export %s=\'%s\'\n' : '%s=\'%s\' ');
    const executeCommand = config.execute_command
      || (useVarFile ? 'chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}' : 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}');
    const shebang = config.inline_shebang || '/bin/sh -e';
    const retryMs = config.start_retry_timeout ? parseDuration(config.start_retry_timeout) || 300_000 : 300_000;
    const remoteFolder = config.remote_folder || '/tmp';
    const remoteFile = config.remote_file || `script_${randomInt(9999)}.sh`;
    const remotePath = config.remote_path || `${remoteFolder}/${remoteFile}`;
    const validCodes = config.valid_exit_codes?.length ? config.valid_exit_codes : [0];
    const binary = config.binary ?? false;
    const ctx = { ...env.interpolation, stage: 'provisioner' as const, data };
    const io = {
      stdout: (l: string) => ui.message(l),
      stderr: (l: string) => ui.error(l),
      signal,
    };
    const run = async (command: string) => comm.exec(command, { signal });
    const payload = (raw: Buffer) => (binary ? raw : toUnixLines(raw));

    const scripts = config.script ? [config.script] : [...(config.scripts ?? [])];
    let inlineFile: string | undefined;
    try {
      if (config.inline?.length) {
        const lines: string[] = [];
        for (const command of config.inline) {
          try {
            lines.push(renderRepeatedly(command, ctx));
          } catch (e) {
            throw new Error(`Error interpolating Inline: ${(e as Error).message}`);
          }
        }
        inlineFile = path.join(await env.tempDir('shell'), `packer-shell${randomInt(1e9, 1e10)}`);
        await fsp.writeFile(inlineFile, `#!${shebang}\n${lines.map((l) => `${l}\n`).join('')}`, { mode: 0o600 });
        scripts.push(inlineFile);
      }

      let envVarFile = '';
      if (useVarFile) {
        const content = payload(Buffer.from(flattenEnvVars(config.environment_vars ?? [], envVarFormat, env.build.name, env.build.type, data)));
        await retryStart(retryMs, signal, async () => {
          const remote = `${remoteFolder}/varfile_${randomInt(9999)}.sh`;
          try {
            await comm.upload(remote, Readable.from([content]), { size: content.length, mode: 0o600 });
          } catch (e) {
            if (isUnrecoverable(e)) throw e;
            throw new Error(`Error uploading envVarFile: ${(e as Error).message}`);
          }
          // Packer chmods after uploading; the file already has that mode when the communicator wrote it so.
          if (!comm.uploadSetsMode) await run(`chmod 0600 ${remote}`);
          envVarFile = remote;
        });
      }

      const vars = flattenEnvVars(config.environment_vars ?? [], envVarFormat, env.build.name, env.build.type, data);
      for (const script of scripts) {
        ui.say(`Provisioning with shell script: ${script}`);
        let raw: Buffer;
        try {
          raw = await fsp.readFile(path.resolve(cwd, script));
        } catch (e) {
          throw new Error(`Error opening shell script: ${(e as Error).message}`);
        }
        let command: string;
        try {
          command = renderRepeatedly(executeCommand, { ...ctx, data: { ...data, Vars: vars, EnvVarFile: envVarFile, Path: remotePath } });
        } catch (e) {
          throw new Error(`Error processing command: ${(e as Error).message}`);
        }
        const content = payload(raw);
        const code = await retryStart(retryMs, signal, async () => {
          // Packer uploads, then chmods as the command user (which fails, and leaves the script
          // unreadable, when that user is not root and does not own it). When that chmod cannot
          // fail, uploading with the mode is the same, one round trip fewer.
          const modeOnUpload = Boolean(comm.uploadSetsMode && comm.commandsRunAsRoot);
          try {
            await comm.upload(remotePath, Readable.from([content]), { size: content.length, mode: modeOnUpload ? 0o755 : undefined });
          } catch (e) {
            if (isUnrecoverable(e)) throw e;
            throw new Error(`Error uploading script: ${(e as Error).message}`);
          }
          if (!modeOnUpload) await run(`chmod 0755 ${remotePath}`);
          return comm.exec(command, io);
        });
        if (code === CMD_DISCONNECT) {
          if (!config.expect_disconnect) {
            throw new Error('Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, '
              + 'you can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell provisioner parameters.');
          }
        } else if (!validCodes.includes(code)) {
          throw new Error(invalidExitCode(code, validCodes));
        }
        if (!config.skip_clean) await cleanupRemoteFile(remotePath, retryMs, signal, run);
      }
      // Packer also runs `rm -f ` when there is no variables file; that removes nothing, so it is saved.
      if (!config.skip_clean && envVarFile) await cleanupRemoteFile(envVarFile, retryMs, signal, run);
    } finally {
      if (inlineFile) await fsp.rm(inlineFile, { force: true });
    }

    if (config.pause_after) {
      const ms = parseDuration(config.pause_after);
      if (ms > 0) {
        ui.say(`Pausing ${goDuration(ms)} after this provisioner...`);
        await sleep(ms, signal);
      }
    }
  },
};

async function cleanupRemoteFile(remote: string, retryMs: number, signal: AbortSignal, run: (c: string) => Promise<number>): Promise<void> {
  await retryStart(retryMs, signal, async () => {
    const code = await run(`rm -f ${remote}`);
    if (code === CMD_DISCONNECT) throw new Error('Disconnect while removing temporary script.');
    if (code !== 0) throw new Error(`Error removing temporary script at ${remote}!`);
  });
}
