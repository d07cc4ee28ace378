import { randomBytes } from 'crypto';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { ansibleLocalProvisioner } from './declaration';
import type { BuildEnvironment, Communicator, GeneratedData, ProvisionerRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { Guest, step } from '../guest';

/**
 * The ansible-local provisioner: everything Ansible needs is uploaded to a
 * staging directory on the machine, then `ansible-playbook` runs there with
 * `-c local` against an inventory holding only 127.0.0.1. The command lines
 * and the staging layout are Packer 1.6.6's, so playbooks that find their
 * files relative to the staging directory keep working.
 */

type AnsibleLocalConfig = ConfigOf<typeof ansibleLocalProvisioner.fields>;

const STAGING_ROOT = '/tmp/packer-provisioner-ansible-local';
const DEFAULT_COMMAND = 'ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook';

const NO_COMMUNICATOR = 'the ansible-local provisioner runs Ansible on the machine being built and needs a communicator; the build has none ("communicator": "none")';

/** A time-ordered uuid as Packer makes them: the current time in seconds, then random bits. */
export function timeOrderedUuid(now: number = Date.now()): string {
  const r = randomBytes(16);
  r.writeUInt32BE(Math.floor(now / 1000) >>> 0, 0);
  const h = r.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The playbook command line Packer 1.6.6 runs, stray ssh option inside `--extra-vars` and double space included. */
export function playbookCommand(o: {
  staging: string;
  command: string;
  playbook: string;
  buildName: string;
  builderType: string;
  httpAddr: string;
  extraArguments: readonly string[];
  inventory: string;
}): string {
  const extra = ` --extra-vars "packer_build_name=${o.buildName} packer_builder_type=${o.builderType} packer_http_addr=${o.httpAddr} -o IdentitiesOnly=yes" `
    + o.extraArguments.join(' ');
  return `cd ${o.staging} && ${o.command} ${o.playbook}${extra} -c local -i ${o.inventory}`;
}

/** The generated inventory: 127.0.0.1, in each of `groups` when there are any. */
export function localInventory(groups: readonly string[]): string {
  return groups.length ? groups.map((g) => `[${g}]\n127.0.0.1\n`).join('') : '127.0.0.1';
}

export const provisioner: ProvisionerRuntime = {
  async provision(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, comm: Communicator | undefined, data: GeneratedData) {
    const config = rawConfig as AnsibleLocalConfig;
    const { ui, signal } = env;
    if (!comm) throw new Error(NO_COMMUNICATOR);
    const cwd = env.interpolation.cwd ?? process.cwd();
    const local = (p: string) => path.resolve(cwd, p);
    const staging = config.staging_directory || path.posix.join(STAGING_ROOT, timeOrderedUuid());
    const remote = new Guest(comm, ui, signal);
    const inStaging = (...parts: string[]) => path.posix.join(staging, ...parts);

    ui.say('Provisioning with Ansible...');
    if (config.playbook_dir) {
      ui.message('Uploading Playbook directory to Ansible staging directory...');
      await step('Error uploading playbook_dir directory', () => remote.uploadDir(staging, local(config.playbook_dir!)));
    } else {
      ui.message('Creating Ansible staging directory...');
      await step('Error creating staging directory', () => remote.mkdir(staging));
    }

    // Remote paths of the playbooks, in the order they run.
    const playbooks: string[] = [];
    if (config.playbook_file) {
      ui.message('Uploading main Playbook file...');
      const dst = inStaging(path.basename(config.playbook_file));
      await step('Error uploading main playbook', () => remote.uploadFile(dst, local(config.playbook_file!)));
      playbooks.push(dst);
    } else {
      const dir = config.playbook_dir ? local(config.playbook_dir) : '';
      for (const file of (config.playbook_files ?? []).map(local)) {
        // A playbook inside playbook_dir is already there; any other goes under its full local path.
        if (dir && file.startsWith(dir)) {
          playbooks.push(inStaging(file.slice(dir.length)));
          continue;
        }
        ui.message(`Uploading playbook file: ${file}`);
        const dst = inStaging(file);
        await step(`Error uploading playbook file: ${file}`, () => remote.mkdir(path.posix.dirname(dst)));
        await step(`Error uploading playbook: ${file}`, () => remote.uploadFile(dst, file));
        playbooks.push(dst);
      }
    }

    let inventoryFile = config.inventory_file ? local(config.inventory_file) : '';
    if (!inventoryFile) {
      inventoryFile = path.join(await env.tempDir('ansible-local'), `packer-provisioner-ansible-local${randomBytes(5).readUInt32BE(0)}`);
      await fsp.writeFile(inventoryFile, localInventory(config.inventory_groups ?? []), { mode: 0o600 });
    }

    if (config.galaxy_file) {
      ui.message('Uploading galaxy file...');
      await step('Error uploading galaxy file', () => remote.uploadFile(inStaging(path.basename(config.galaxy_file!)), local(config.galaxy_file!)));
    }

    ui.message('Uploading inventory file...');
    const inventory = inStaging(path.basename(inventoryFile));
    await step('Error uploading inventory file', () => remote.uploadFile(inventory, inventoryFile));

    if (config.group_vars) {
      ui.message('Uploading group_vars directory...');
      await step('Error uploading group_vars directory', () => remote.uploadDir(inStaging('group_vars'), local(config.group_vars!)));
    }
    if (config.host_vars) {
      ui.message('Uploading host_vars directory...');
      await step('Error uploading host_vars directory', () => remote.uploadDir(inStaging('host_vars'), local(config.host_vars!)));
    }
    if (config.role_paths?.length) {
      ui.message('Uploading role directories...');
      for (const src of config.role_paths) {
        await step('Error uploading roles', () => remote.uploadDir(inStaging('roles', path.basename(src)), local(src)));
      }
    }
    if (config.playbook_paths?.length) {
      ui.message('Uploading additional Playbooks...');
      await step('Error creating playbooks directory', () => remote.mkdir(inStaging('playbooks')));
      for (const src of config.playbook_paths) {
        await step('Error uploading playbooks', () => remote.uploadDir(inStaging('playbooks', path.basename(src)), local(src)));
      }
    }

    const command = config.command || DEFAULT_COMMAND;
    if (config.galaxy_file) {
      const galaxy = `cd ${staging} && ${config.galaxy_command || 'ansible-galaxy'} install -r ${inStaging(path.basename(config.galaxy_file))} -p ${inStaging('roles')}`;
      ui.message(`Executing Ansible Galaxy: ${galaxy}`);
      const code = await remote.run(galaxy);
      if (code !== 0) throw new Error(`Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit status: ${code}`);
    }
    for (const playbook of playbooks) {
      const line = playbookCommand({
        staging,
        command,
        playbook,
        buildName: env.build.name,
        builderType: env.build.type,
        httpAddr: String(data.PackerHTTPAddr ?? ''),
        extraArguments: config.extra_arguments ?? [],
        inventory,
      });
      ui.message(`Executing Ansible: ${line}`);
      const code = await remote.run(line);
      if (code === 127) {
        throw new Error(`Error executing Ansible: ${command} could not be found; check that it is installed on the machine and on the PATH of its shell`);
      }
      if (code !== 0) throw new Error(`Error executing Ansible: Non-zero exit status: ${code}`);
    }

    if (config.clean_staging_directory) {
      ui.message('Removing staging directory...');
      ui.message(`Removing directory: ${staging}`);
      if (await remote.run(`rm -rf '${staging}'`) !== 0) {
        throw new Error('Error removing staging directory: Non-zero exit status. See output above for more information.');
      }
    }
  },
};
