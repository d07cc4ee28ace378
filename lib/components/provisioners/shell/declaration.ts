import { declareComponent } from '../../../template/component';
import { checkEnvironmentVars, checkScriptsExist } from '../shell-local/fields';

/** Uploads shell scripts (or inline commands) to the machine being built and runs them there. */
export const shellProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'shell',
  summary: 'Uploads shell scripts or inline commands to the machine being built and runs them there.',
  fields: {
    inline: {
      kind: 'string-list',
      doc: 'Commands written to one script (after the `inline_shebang` line), uploaded and run. Each line is rendered again at run time.',
      default: '- none',
    },
    script: { kind: 'string', localPath: true, doc: 'Path of a local script to upload and run.', default: '- none' },
    scripts: { kind: 'string-list', localPath: true, doc: 'Paths of local scripts to upload and run in order, each to the same `remote_path`.', default: '- none' },
    environment_vars: {
      kind: 'string-list',
      doc: 'Variables, `KEY=value`, set for the scripts (through `{{.Vars}}`). `PACKER_BUILD_NAME` and `PACKER_BUILDER_TYPE` are always added.',
      default: '- none',
    },
    env_var_format: {
      kind: 'string',
      doc: 'printf format applied to each variable (key, then value) to build `{{.Vars}}` or the variables file.',
      default: '"%s=\'%s\' " ("export %s=\'%s\'\\n" with use_env_var_file)',
    },
    use_env_var_file: {
      kind: 'boolean',
      doc: 'Write the variables to a file on the machine and source it (`{{.EnvVarFile}}`) instead of putting them on the command line.',
      default: 'false',
    },
    execute_command: {
      kind: 'string',
      doc: 'Command that runs each uploaded script. `{{.Path}}` is the script\'s remote path, `{{.Vars}}` the variables and `{{.EnvVarFile}}` the variables file.',
      default: '"chmod +x {{.Path}}; {{.Vars}} {{.Path}}" ("chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}" with use_env_var_file)',
      renderAtRuntime: true,
    },
    inline_shebang: {
      kind: 'string',
      doc: 'Interpreter line written at the top of the `inline` script, without `#!`; used only when the script is run directly.',
      default: '"/bin/sh -e"',
    },
    remote_folder: { kind: 'string', doc: 'Existing directory on the machine that scripts are uploaded to.', default: '"/tmp"' },
    remote_file: { kind: 'string', doc: 'File name that scripts are uploaded as.', default: '"script_<random number below 9999>.sh"' },
    remote_path: { kind: 'string', doc: 'Full path that scripts are uploaded to; overrides `remote_folder` and `remote_file`.', default: '"<remote_folder>/<remote_file>"' },
    skip_clean: { kind: 'boolean', doc: 'Leave the uploaded scripts (and variables file) on the machine.', default: 'false' },
    binary: { kind: 'boolean', doc: 'Upload scripts byte for byte; otherwise Windows line endings (CRLF) become LF.', default: 'false' },
    valid_exit_codes: { kind: 'integer-list', doc: 'Exit codes that count as success.', default: '[0]' },
    expect_disconnect: {
      kind: 'boolean',
      doc: 'Accept a script that drops the connection (for example by rebooting) instead of failing.',
      default: 'false',
    },
    start_retry_timeout: {
      kind: 'duration',
      doc: 'How long to keep retrying the upload and start of a script while the machine is unreachable (for example rebooting).',
      default: '"5m"',
    },
    pause_after: { kind: 'duration', doc: 'Wait this long after the last script has run.', default: '- no pause' },
  },
  check(config, ctx) {
    const errors: string[] = [];
    // Empty lists count as not set, as in Packer.
    const given = [(config.inline?.length ?? 0) > 0, Boolean(config.script), (config.scripts?.length ?? 0) > 0].filter(Boolean).length;
    if (given === 0) errors.push('one of "inline", "script" or "scripts" must be set');
    if (given > 1) errors.push('only one of "inline", "script" and "scripts" may be set');
    errors.push(...checkScriptsExist([...(config.script ? [config.script] : []), ...(config.scripts ?? [])], ctx));
    errors.push(...checkEnvironmentVars(config.environment_vars));
    return errors;
  },
});
