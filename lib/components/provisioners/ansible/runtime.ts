import { randomBytes } from 'crypto';
import * as fsp from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import type { ansibleProvisioner } from './declaration';
import { abortError } from '../../../engine/build';
import type { BuildEnvironment, ProvisionerRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { quote } from '../../../template/interpolate/go-fmt';
import { runLocalProcess } from '../shell-local/run-local';

/**
 * The ansible provisioner: `ansible-playbook` runs on the machine running
 * Kiln, against the machine being built, through a generated inventory.
 *
 * Packer 1.6.6 puts an SSH server of its own (the "proxy adapter") between
 * Ansible and the machine by default, and relays Ansible's commands and file
 * copies through its communicator. Kiln has no such proxy: it connects
 * Ansible directly, as Packer does with `"use_proxy": false`, using
 * connections Ansible already has: the Docker connection (`docker exec` into
 * the build's container) for Docker builds, and plain SSH to the
 * communicator's host, port, user and key otherwise. Ansible then sees the
 * real machine (its facts, its file transfers), and no second SSH
 * implementation stands between them. The options that only configure the
 * proxy are refused with a message naming them.
 */

type AnsibleConfig = ConfigOf<typeof ansibleProvisioner.fields>;

/** Packer's value of PackerHTTPAddr when the builder serves no HTTP. */
const HTTP_ADDR_NOT_IMPLEMENTED = 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER';

/** How long a cancelled ansible-playbook gets to exit after SIGTERM before its process group is killed. */

/** Options that configure only Packer's SSH proxy, which Kiln does not have. */
const PROXY_ONLY = ['local_port', 'ssh_host_key_file', 'ssh_authorized_key_file', 'sftp_command'] as const;

/** The inventory lines Packer writes for SSH (Ansible 2 and later; before 2, or when the version is unknown). */
const SSH_HOST_LINE = '{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\n';
const SSH_HOST_LINE_V1 = '{{ .HostAlias }} ansible_ssh_host={{ .Host }} ansible_ssh_user={{ .User }} ansible_ssh_port={{ .Port }}\n';

/** Kiln's inventory line for Docker builds: Ansible's Docker connection into the build's container. */
export function dockerHostLine(withUser: boolean): string {
  return `{{ .HostAlias }} ansible_host={{ .ID }} ansible_connection=community.docker.docker${withUser ? ' ansible_user={{ .User }}' : ''}\n`;
}

/** The inventory: the machine's line, then one section per group holding it, then the empty groups. */
export function inventoryText(hostLine: string, groups: readonly string[], emptyGroups: readonly string[]): string {
  return hostLine + groups.map((g) => `[${g}]\n${hostLine}`).join('') + emptyGroups.map((g) => `[${g}]\n`).join('');
}

/** Packer's test for an option among arguments or variables: one of the `=`-separated parts equals it. */
export function hasArg(name: string, args: readonly string[]): boolean {
  return args.some((a) => a.split('=').includes(name));
}

/** The command line as shown: passwords given to Ansible are replaced by `*****`. */
export function shownCommand(command: string, args: readonly string[], secrets: readonly string[]): string {
  let text = [command, ...args].join(' ');
  for (const s of secrets) if (s) text = text.split(s).join('*****');
  return text.replace(/(ansible_(?:ssh_|become_)?pass(?:word)?=)("[^"]*"|'[^']*'|\S+)/g, '$1*****');
}

export interface AnsibleArgs {
  readonly buildName: string;
  readonly builderType: string;
  readonly httpAddr: string;
  readonly connType: string;
  readonly privateKeyFile: string;
  readonly sshExtraArgs: readonly string[];
  readonly extraArguments: readonly string[];
  readonly inventory: string;
  readonly playbook: string;
}

/** ansible-playbook's arguments, in Packer 1.6.6's order. */
export function ansibleArgs(o: AnsibleArgs): string[] {
  const args: string[] = [];
  if (o.buildName) args.push('-e', `packer_build_name=${quote(o.buildName)}`);
  args.push('-e', `packer_builder_type=${o.builderType}`);
  if (o.httpAddr && o.httpAddr !== HTTP_ADDR_NOT_IMPLEMENTED) args.push('-e', `packer_http_addr=${o.httpAddr}`);
  if (o.connType === 'ssh' && o.privateKeyFile) {
    // ansible-playbook splits this value with shlex, so the quotes are read, not kept.
    args.push('--ssh-extra-args', `'${o.sshExtraArgs.length ? o.sshExtraArgs.join('') : '-o IdentitiesOnly=yes'}'`);
  }
  args.push(...o.extraArguments);
  const password = hasArg('ansible_password', args);
  if (!password && o.privateKeyFile) args.push('-e', `ansible_ssh_private_key_file=${o.privateKeyFile}`);
  if (password && o.connType === 'ssh' && !hasArg('ansible_host_key_checking', args)) {
    args.push('-e', 'ansible_host_key_checking=False');
  }
  args.push('-i', o.inventory, o.playbook);
  return args;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

export const provisioner: ProvisionerRuntime = {
  async provision(env, rawConfig, comm, data) {
    const config = rawConfig as AnsibleConfig;
    const { ui } = env;
    const cwd = env.interpolation.cwd ?? process.cwd();
    const local = (p: string) => path.resolve(cwd, p);
    const builder = env.build.builder.config;

    ui.say('Provisioning with Ansible...');
    const connType = str(data.ConnType);
    if (!comm || (connType !== 'docker' && connType !== 'ssh')) {
      throw new Error(connType
        ? `the ansible provisioner cannot reach a machine over the ${connType} communicator; Kiln connects Ansible over ssh or into a Docker container`
        : 'the ansible provisioner needs a machine to connect to, and this build has no communicator ("communicator": "none")');
    }
    if (config.use_proxy !== false) {
      const set = PROXY_ONLY.filter((k) => config[k] !== undefined && config[k] !== '');
      if (set.length) {
        throw new Error(`${set.map((k) => `"${k}"`).join(', ')} ${set.length > 1 ? 'configure' : 'configures'} Packer's SSH proxy, which Kiln does not have: `
          + `Kiln connects Ansible to the machine directly; remove ${set.length > 1 ? 'them' : 'it'}, or set "use_proxy": false to have ${set.length > 1 ? 'them' : 'it'} ignored as Packer does`);
      }
      if (config.use_proxy === true) ui.message('Kiln has no SSH proxy ("use_proxy" is ignored): Ansible connects to the machine directly');
    }
    if (connType === 'ssh' && builder.ssh_bastion_host) {
      throw new Error('"ssh_bastion_host" is set on the builder, but the ansible provisioner connects Ansible to the machine directly; '
        + 'give ssh a ProxyJump through "ansible_ssh_extra_args" instead');
    }

    const render = (text: string, extra: Record<string, unknown> = {}) =>
      renderRepeatedly(text, { ...env.interpolation, stage: 'provisioner', data: { ...data, ...extra } });
    let envVars: string[];
    let extraArguments: string[];
    try {
      envVars = (config.ansible_env_vars ?? []).map((v) => render(v));
      extraArguments = (config.extra_arguments ?? []).map((a) => render(a));
    } catch (e) {
      throw new Error(`Could not interpolate ansible env vars: ${(e as Error).message}`);
    }

    const userWasEmpty = !config.user;
    let user = config.user || os.userInfo().username;
    let host = str(data.Host);
    const port = str(data.Port);
    let privateKeyFile = '';
    let scratch: string | undefined;
    const scratchDir = async () => (scratch ??= await env.tempDir('ansible'));
    const removeLater: string[] = [];

    try {
      if (connType === 'ssh') {
        if (!host) throw new Error('the ssh communicator has no host to give Ansible ("ssh_host" is empty)');
        if (userWasEmpty) user = str(data.User);
        const keyFile = str(data.SSHPrivateKeyFile) || str(builder.ssh_private_key_file);
        const inlineKey = str(data.SSHPrivateKey);
        if (keyFile) {
          privateKeyFile = local(keyFile);
        } else if (inlineKey) {
          // Ansible takes keys only as files: this one lives, owner-only, until the run ends.
          privateKeyFile = path.join(await scratchDir(), `ansible-key${randomBytes(4).toString('hex')}`);
          await fsp.writeFile(privateKeyFile, inlineKey.endsWith('\n') ? inlineKey : `${inlineKey}\n`, { mode: 0o600 });
          removeLater.push(privateKeyFile);
        } else if (!data.SSHAgentAuth && !hasArg('ansible_password', extraArguments)) {
          throw new Error('the ssh communicator logs in without a key file, and Kiln gives Ansible only keys: set "ssh_private_key_file" on the builder, '
            + 'or pass the password yourself with "extra_arguments": ["-e", "ansible_password=..."] (Ansible then needs sshpass)');
        }
        ui.message(`Connecting Ansible over SSH to ${host}:${port} as ${user}${privateKeyFile ? ' with the communicator\'s key' : ''}`);
      } else {
        host = str(data.ID);
        ui.message(`Connecting Ansible to the container ${host.slice(0, 12)} with Ansible's Docker connection`);
      }

      // The inventory.
      let inventory = config.inventory_file ? local(config.inventory_file) : '';
      if (!inventory) {
        const dir = config.inventory_directory ? local(config.inventory_directory)
          : config.keep_inventory_file ? os.tmpdir() : await scratchDir();
        inventory = path.join(dir, `packer-provisioner-ansible${randomBytes(5).readUInt32BE(0)}`);
        const template = config.inventory_file_template
          || (connType === 'docker' ? dockerHostLine(!userWasEmpty) : config.skip_version_check ? SSH_HOST_LINE_V1 : SSH_HOST_LINE);
        let hostLine: string;
        try {
          hostLine = render(template, { HostAlias: config.host_alias || 'default', User: user, Host: host, Port: port });
        } catch (e) {
          throw new Error(`Error generating inventory file from template: ${(e as Error).message}`);
        }
        await fsp.writeFile(inventory, inventoryText(hostLine, config.groups ?? [], config.empty_groups ?? []), { mode: 0o600 });
        if (config.keep_inventory_file) ui.message(`Keeping the inventory file: ${inventory}`);
        else removeLater.push(inventory);
      }

      const vars: Record<string, string> = {};
      for (const kv of envVars) {
        const eq = kv.indexOf('=');
        if (eq > 0) vars[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      if (!config.ssh_host_key_file) vars.ANSIBLE_HOST_KEY_CHECKING = 'False';
      if (!config.use_sftp) vars.ANSIBLE_SCP_IF_SSH = 'True';
      const childEnv = { ...process.env, ...vars };

      if (config.galaxy_file) await runGalaxy(env, config, local(config.galaxy_file), childEnv, cwd);

      const command = config.command || 'ansible-playbook';
      const args = ansibleArgs({
        buildName: env.build.name,
        builderType: env.build.type,
        httpAddr: str(data.PackerHTTPAddr),
        connType,
        privateKeyFile,
        sshExtraArgs: config.ansible_ssh_extra_args ?? [],
        extraArguments,
        inventory,
        playbook: local(config.playbook_file),
      });
      ui.say(`Executing Ansible: ${shownCommand(command, args, [str(data.Password), str(data.WinRMPassword)])}`);
      const code = await runLocal(env, command, args, childEnv, cwd);
      if (code !== 0) throw new Error(`Error executing Ansible: Non-zero exit status: exit status ${code}`);
    } finally {
      await Promise.all(removeLater.map((f) => fsp.rm(f, { force: true })));
    }
  },
};

/** Installs the roles and collections of `galaxy_file` as Packer does: roles unless only collections are listed, collections when listed. */
async function runGalaxy(env: BuildEnvironment, config: AnsibleConfig, file: string, childEnv: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const text = await fsp.readFile(file, 'utf8');
  const hasRoles = /^roles:/m.test(text);
  const hasCollections = /^collections:/m.test(text);
  const force = config.galaxy_force_install ? ['-f'] : [];
  const runs: string[][] = [];
  if (hasRoles || !hasCollections) runs.push(['install', '-r', file, ...force, ...(config.roles_path ? ['-p', config.roles_path] : [])]);
  if (hasCollections) runs.push(['collection', 'install', '-r', file, ...force, ...(config.collections_path ? ['-p', config.collections_path] : [])]);
  for (const args of runs) {
    env.ui.message('Executing Ansible Galaxy');
    const code = await runLocal(env, config.galaxy_command || 'ansible-galaxy', args, childEnv, cwd);
    if (code !== 0) throw new Error(`Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit status: exit status ${code}`);
  }
}

/**
 * Runs a program on this machine without a shell, each output line shown as
 * a message (both streams, as Packer does), in its own process group so that
 * cancelling the build stops Ansible and the ssh processes it started.
 */
function runLocal(env: BuildEnvironment, command: string, args: readonly string[], childEnv: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return runLocalProcess({
    command: [command, ...args],
    cwd,
    env: childEnv,
    ui: env.ui,
    stderr: 'message',
    signal: env.signal,
    failure: (why, cause) => (why === 'cancelled' ? abortError(env.signal)
      : new Error(`Error executing Ansible: cannot start ${JSON.stringify(command)}: ${(cause as NodeJS.ErrnoException | undefined)?.code ?? cause?.message}`)),
  });
}
