import * as fs from 'fs';
import * as path from 'path';
import { CheckContext, ConfigOf, Fields } from '../../../template/component';

/**
 * What the `shell-local` provisioner and the `shell-local` post-processor share:
 * Packer 1.6.6 decodes both with the same config and the same rules. The
 * post-processor only reads a one-element `execute_command` differently (at
 * run time), so it reuses these fields as they are.
 */
export const shellLocalFields = {
  command: {
    kind: 'string',
    doc: 'One command to run; the old form of a one-line `inline`.',
    default: '- none',
    deprecated: 'use inline',
  },
  inline: {
    kind: 'string-list',
    doc: 'Commands written to a temporary script (after the `inline_shebang` line) and run on the machine running Kiln. Each line is rendered again at run time.',
    default: '- none',
  },
  script: {
    kind: 'string',
    localPath: true,
    doc: 'Path of a local script to run. It is run directly, so it must be executable.',
    default: '- none',
  },
  scripts: {
    kind: 'string-list',
    localPath: true,
    doc: 'Paths of local scripts to run in order; each must be executable.',
    default: '- none',
  },
  environment_vars: {
    kind: 'string-list',
    doc: 'Extra variables, `KEY=value`, for the scripts. The environment of Kiln is passed on as well.',
    default: '- none',
  },
  env_var_format: {
    kind: 'string',
    doc: 'printf format applied to each variable (key, then value) to build `{{.Vars}}`.',
    default: '"%s=\'%s\' " (Windows: "set %s=%s && ")',
  },
  execute_command: {
    kind: 'string-list',
    doc: 'Program and arguments that run each script, without a shell in between. `{{.Vars}}` is the variables, `{{.Script}}` the script\'s path.',
    default: '["/bin/sh", "-c", "{{.Vars}} {{.Script}}"] (Windows: ["cmd", "/V", "/C", "{{.Vars}}", "call", "{{.Script}}"])',
    renderAtRuntime: true,
  },
  inline_shebang: {
    kind: 'string',
    doc: 'Interpreter line written at the top of the `inline` script, without `#!`.',
    default: '"/bin/sh -e"',
  },
  only_on: {
    kind: 'string-list',
    doc: 'Run only when Kiln runs on one of these systems: `darwin`, `freebsd`, `linux`, `openbsd`, `solaris`, `windows`.',
    default: '- every system',
  },
  valid_exit_codes: {
    kind: 'integer-list',
    doc: 'Exit codes that count as success.',
    default: '[0]',
  },
  tempfile_extension: {
    kind: 'string',
    doc: 'File name extension of the temporary `inline` script.',
    default: '- none (Windows: ".cmd")',
  },
  use_linux_pathing: {
    kind: 'boolean',
    doc: 'On Windows, turn script paths into Windows Subsystem for Linux paths (`C:/x` becomes `/mnt/c/x`). Cannot be used with `inline` or `command`.',
    default: 'false',
  },
} as const satisfies Fields;

export type ShellLocalConfig = ConfigOf<typeof shellLocalFields>;

/** The operating systems `only_on` may name (Go's names for them). */
export const SHELL_LOCAL_SYSTEMS = ['darwin', 'freebsd', 'linux', 'openbsd', 'solaris', 'windows'] as const;

/** Packer's prepare-time rules for both shell-local components. */
export function checkShellLocal(config: ShellLocalConfig, ctx: CheckContext): string[] {
  const errors: string[] = [];
  const hasInline = (config.inline?.length ?? 0) > 0;
  const hasScripts = (config.scripts?.length ?? 0) > 0;
  const given = [Boolean(config.command), hasInline, Boolean(config.script), hasScripts].filter(Boolean).length;
  if (given === 0) errors.push('one of "command", "inline", "script" or "scripts" must be set');
  if (given > 1) errors.push('only one of "command", "inline", "script" and "scripts" may be set');
  // Packer tells "inline" left out from "inline" given as an empty list, and
  // rejects the empty list next to scripts.
  if (given === 1 && (config.script || hasScripts) && config.inline !== undefined) {
    errors.push('"inline" must be left out when "script" or "scripts" is set, even when it is empty, got []');
  }

  const scripts = [...(config.script ? [config.script] : []), ...(config.scripts ?? [])];
  errors.push(...checkScriptsExist(scripts, ctx));

  for (const os of config.only_on ?? []) {
    if (!(SHELL_LOCAL_SYSTEMS as readonly string[]).includes(os)) {
      errors.push(`"only_on" entries must be one of ${SHELL_LOCAL_SYSTEMS.map((s) => JSON.stringify(s)).join(', ')}, got ${JSON.stringify(os)}`);
    }
  }

  if (config.use_linux_pathing) {
    if (hasInline || config.command) errors.push('"use_linux_pathing" works only with "script" or "scripts", not with "inline" or "command"');
    for (const script of scripts) {
      // Packer turns the absolute path into /mnt/<drive>/..., which needs a drive letter.
      const abs = path.resolve(ctx.cwd, script).replace(/\\/g, '/');
      if (!abs.includes(':/')) {
        errors.push(`"use_linux_pathing" needs Windows script paths with a drive letter (C:/...), got ${JSON.stringify(script)} (resolved to ${abs})`);
      }
    }
  }

  errors.push(...checkEnvironmentVars(config.environment_vars));
  return errors;
}

/**
 * Each entry of `environment_vars` must be `KEY=value` with a non-empty key
 * (the value may be empty or hold more `=`), as Packer's shell components require.
 */
export function checkEnvironmentVars(vars: readonly string[] | undefined): string[] {
  const errors: string[] = [];
  for (const entry of vars ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) errors.push(`"environment_vars" entries must be KEY=value with a non-empty KEY, got ${JSON.stringify(entry)}`);
  }
  return errors;
}

/** Local scripts must exist when the config is checked; relative paths are resolved against `ctx.cwd`. */
export function checkScriptsExist(scripts: readonly string[], ctx: CheckContext): string[] {
  const errors: string[] = [];
  for (const script of scripts) {
    const abs = path.resolve(ctx.cwd, script);
    try {
      fs.statSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push(code === 'ENOENT' || code === 'ENOTDIR'
        ? `script ${JSON.stringify(script)} does not exist (resolved to ${abs})`
        : `script ${JSON.stringify(script)} cannot be read (resolved to ${abs}): ${code ?? String(e)}`);
    }
  }
  return errors;
}
