import * as fsp from 'fs/promises';
import * as path from 'path';
import { PUPPET_EXECUTE_COMMAND } from './declaration';
import type { puppetMasterlessProvisioner } from './declaration';
import type { BuildEnvironment, Communicator, ProvisionerRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { Guest, step } from '../guest';

/**
 * The puppet-masterless provisioner: manifests, modules and the hiera config
 * are uploaded to a staging directory on the machine, then `execute_command`
 * runs `puppet apply --detailed-exitcodes` there. Exit 0 (nothing changed)
 * and 2 (changes applied) are success, as in Packer 1.6.6, whose command
 * forms, staging layout and messages this follows for unix guests.
 */

type PuppetConfig = ConfigOf<typeof puppetMasterlessProvisioner.fields>;

const STAGING_DIR = '/tmp/packer-puppet-masterless';

const NO_COMMUNICATOR = 'the puppet-masterless provisioner runs Puppet on the machine being built and needs a communicator; the build has none ("communicator": "none")';

/** `FACTER_<name>='<value>'` for each fact, sorted by name, Packer's two always included. */
export function facterVars(facter: Readonly<Record<string, string>>, buildName: string, builderType: string): string {
  const facts: Record<string, string> = { ...facter, packer_build_name: buildName, packer_builder_type: builderType };
  return Object.keys(facts).sort().map((k) => `FACTER_${k}='${facts[k]}'`).join(' ');
}

export const provisioner: ProvisionerRuntime = {
  async provision(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, comm: Communicator | undefined) {
    const config = rawConfig as PuppetConfig;
    const { ui, signal } = env;
    if (!comm) throw new Error(NO_COMMUNICATOR);
    const osType = (config.guest_os_type || 'unix').toLowerCase();
    if (osType !== 'unix') {
      throw new Error(`"guest_os_type": ${JSON.stringify(config.guest_os_type)} is not supported by Kiln, which provisions only unix machines with puppet-masterless`);
    }
    if (config.elevated_user) {
      throw new Error('"elevated_user" is not supported by Kiln: it runs Puppet through a Windows scheduled task, and Kiln provisions only unix machines with puppet-masterless');
    }
    const cwd = env.interpolation.cwd ?? process.cwd();
    const local = (p: string) => path.resolve(cwd, p);
    const sudo = !config.prevent_sudo;
    const staging = config.staging_directory || STAGING_DIR;
    const remote = new Guest(comm, ui, signal, { sudo, openDirectories: true });

    ui.say('Provisioning with Puppet...');
    ui.message('Creating Puppet staging directory...');
    await step('Error creating staging directory', () => remote.mkdir(staging));

    let hieraConfigPath = '';
    if (config.hiera_config_path) {
      ui.message('Uploading hiera configuration...');
      hieraConfigPath = `${staging}/hiera.yaml`;
      await step('Error uploading hiera config', () => remote.uploadFile(hieraConfigPath, local(config.hiera_config_path!)));
    }

    let manifestDir = '';
    if (config.manifest_dir) {
      ui.message(`Uploading manifest directory from: ${config.manifest_dir}`);
      manifestDir = `${staging}/manifests`;
      await step('Error uploading manifest dir', () => remote.uploadDir(manifestDir, local(config.manifest_dir!)));
    }

    const modulePaths: string[] = [];
    for (const [i, src] of (config.module_paths ?? []).entries()) {
      ui.message(`Uploading local modules from: ${src}`);
      const dst = `${staging}/module-${i}`;
      await step('Error uploading modules', () => remote.uploadDir(dst, local(src)));
      modulePaths.push(dst);
    }

    const manifestFile = await step('Error uploading manifests', async () => {
      ui.message('Uploading manifests...');
      const dir = `${staging}/manifests`;
      await remote.mkdir(dir);
      const src = local(config.manifest_file);
      if ((await fsp.stat(src)).isDirectory()) {
        ui.message(`Uploading manifest directory from: ${config.manifest_file}`);
        await remote.uploadDir(dir, src);
        return dir;
      }
      ui.message(`Uploading manifest file from: ${config.manifest_file}`);
      const dst = `${dir}/${path.basename(src)}`;
      await remote.uploadFile(dst, src);
      return dst;
    });

    const values: Record<string, unknown> = {
      Debug: false,
      ExtraArguments: '',
      FacterVars: facterVars(config.facter ?? {}, env.build.name, env.build.type),
      HieraConfigPath: hieraConfigPath,
      ManifestDir: manifestDir,
      ManifestFile: manifestFile,
      ModulePath: modulePaths.join(':'),
      ModulePathJoiner: ':',
      PuppetBinDir: config.puppet_bin_dir ?? '',
      Sudo: sudo,
      WorkingDir: config.working_directory || staging,
    };
    // As in Packer, these see only the values above, not the build's data.
    const render = (text: string) => renderRepeatedly(text, { ...env.interpolation, stage: 'provisioner', data: values });
    values.ExtraArguments = render((config.extra_arguments ?? []).join(' '));
    const command = render(config.execute_command || PUPPET_EXECUTE_COMMAND);

    ui.message(`Running Puppet: ${command}`);
    const code = await remote.run(command);
    if (code !== 0 && code !== 2 && !config.ignore_exit_codes) {
      throw new Error(`Puppet exited with a non-zero exit status: ${code}`);
    }

    if (config.clean_staging_directory) {
      if (await remote.run(`${sudo ? 'sudo ' : ''}rm -rf '${staging}'`) !== 0) {
        throw new Error('Error removing staging directory: Non-zero exit status.');
      }
    }
  },
};
