import { declareComponent } from '../../../template/component';
import { checkPath } from '../ansible/paths';

/** The guest systems Packer 1.6.6 knows command forms for. */
export const PUPPET_GUEST_OS_TYPES = ['unix', 'windows'] as const;

/**
 * Packer's command for unix guests: optional parts appear only when their
 * value is set. `{{.Debug}}` is never true in Packer 1.6.6.
 */
export const PUPPET_EXECUTE_COMMAND = 'cd {{.WorkingDir}} && '
  + '{{if ne .FacterVars ""}}{{.FacterVars}} {{end}}'
  + '{{if .Sudo}}sudo -E {{end}}'
  + '{{if ne .PuppetBinDir ""}}{{.PuppetBinDir}}/{{end}}'
  + 'puppet apply --detailed-exitcodes '
  + '{{if .Debug}}--debug {{end}}'
  + '{{if ne .ModulePath ""}}--modulepath=\'{{.ModulePath}}\' {{end}}'
  + '{{if ne .HieraConfigPath ""}}--hiera_config=\'{{.HieraConfigPath}}\' {{end}}'
  + '{{if ne .ManifestDir ""}}--manifestdir=\'{{.ManifestDir}}\' {{end}}'
  + '{{if ne .ExtraArguments ""}}{{.ExtraArguments}} {{end}}'
  + '{{.ManifestFile}}';

/**
 * Uploads Puppet manifests (and modules, hiera config) to the machine being
 * built and runs `puppet apply` there. Puppet must already be installed on
 * the machine. Fields and validation are Packer 1.6.6's.
 */
export const puppetMasterlessProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'puppet-masterless',
  summary: 'Uploads Puppet manifests to the machine being built and applies them there with `puppet apply`.',
  fields: {
    manifest_file: {
      kind: 'string',
      required: true,
      localPath: true,
      doc: 'The manifest to apply: a file, or a directory of manifests (uploaded whole and applied as one).',
    },
    manifest_dir: {
      kind: 'string',
      localPath: true,
      doc: 'A directory of manifests uploaded to `<staging_directory>/manifests` and passed as `--manifestdir` (an option Puppet 4 and later no longer have).',
      default: '- none',
    },
    module_paths: {
      kind: 'string-list',
      localPath: true,
      doc: 'Local module directories, each uploaded to `<staging_directory>/module-<n>` and all passed as `--modulepath`.',
      default: '- none',
    },
    hiera_config_path: {
      kind: 'string',
      localPath: true,
      doc: 'A hiera configuration file, uploaded as `<staging_directory>/hiera.yaml` and passed as `--hiera_config`.',
      default: '- none',
    },
    facter: {
      kind: 'string-map',
      doc: 'Facts set for the run as `FACTER_<name>` variables. `packer_build_name` and `packer_builder_type` are always added.',
      default: '- none',
    },
    extra_arguments: {
      kind: 'string-list',
      doc: 'More arguments for `puppet apply`, joined with spaces. Rendered at run time with the same values as `execute_command`.',
      default: '- none',
      renderAtRuntime: true,
    },
    execute_command: {
      kind: 'string',
      doc: 'The command that runs Puppet on the machine. Rendered at run time with `{{.WorkingDir}}`, `{{.FacterVars}}`, `{{.Sudo}}`, `{{.PuppetBinDir}}`, `{{.ModulePath}}`, `{{.HieraConfigPath}}`, `{{.ManifestDir}}`, `{{.ManifestFile}}`, `{{.ExtraArguments}}` and `{{.Debug}}`.',
      default: JSON.stringify(PUPPET_EXECUTE_COMMAND),
      renderAtRuntime: true,
    },
    guest_os_type: {
      kind: 'string',
      doc: 'The machine\'s kind of system, which decides the command forms: `unix` or `windows` (any case). Kiln runs only `unix`.',
      default: '"unix"',
    },
    ignore_exit_codes: {
      kind: 'boolean',
      doc: 'Let the build go on whatever Puppet exits with. Otherwise only 0 (no changes) and 2 (changes made) count as success.',
      default: 'false',
    },
    prevent_sudo: { kind: 'boolean', doc: 'Run Puppet, and create the staging directory, without `sudo`.', default: 'false' },
    puppet_bin_dir: { kind: 'string', doc: 'The directory holding `puppet` on the machine.', default: '- found on the PATH' },
    staging_directory: {
      kind: 'string',
      doc: 'Where on the machine manifests, modules and hiera config are uploaded.',
      default: '"/tmp/packer-puppet-masterless"',
    },
    clean_staging_directory: { kind: 'boolean', doc: 'Remove the staging directory after a successful run.', default: 'false' },
    working_directory: { kind: 'string', doc: 'The directory Puppet runs in.', default: '- the staging directory' },
    elevated_user: {
      kind: 'string',
      doc: 'Windows only: the user a scheduled task runs Puppet as. Kiln does not run Windows guests.',
      default: '- none',
    },
    elevated_password: { kind: 'string', doc: 'Windows only: the password of `elevated_user`.', default: '- none', secret: true },
  },
  check(config, ctx) {
    const errors: string[] = [];
    const os = (config.guest_os_type || 'unix').toLowerCase();
    if (!(PUPPET_GUEST_OS_TYPES as readonly string[]).includes(os)) {
      // Packer stops at this one, before looking at anything else.
      return [`"guest_os_type" must be "unix" or "windows", got ${JSON.stringify(config.guest_os_type)}`];
    }
    const push = (p: string | undefined) => { if (p) errors.push(p); };
    if (config.hiera_config_path) push(checkPath('hiera_config_path', config.hiera_config_path, 'file', ctx.cwd));
    if (config.manifest_dir) push(checkPath('manifest_dir', config.manifest_dir, 'dir', ctx.cwd));
    push(checkPath('manifest_file', config.manifest_file, 'any', ctx.cwd));
    (config.module_paths ?? []).forEach((d, i) => push(checkPath(`module_paths[${i}]`, d, 'dir', ctx.cwd)));
    return errors;
  },
});
