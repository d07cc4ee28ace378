import { spawnSync } from 'child_process';
import { checkPath, checkPaths } from './paths';
import { declareComponent } from '../../../template/component';

/**
 * Runs `ansible-playbook` on the machine running Kiln against the machine
 * being built. The fields are Packer 1.6.6's, so its templates validate the
 * same way; the options that only configure Packer's SSH proxy are accepted
 * here and refused at run time (Kiln connects Ansible to the machine directly).
 */
export const ansibleProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'ansible',
  summary: 'Runs an Ansible playbook from the machine running Kiln against the machine being built.',
  fields: {
    playbook_file: {
      kind: 'string',
      required: true,
      localPath: true,
      doc: 'The playbook to run. It must exist when the template is validated.',
    },
    command: {
      kind: 'string',
      doc: 'The program that runs the playbook: a path or a name on the PATH, without arguments (it is not run through a shell).',
      default: '"ansible-playbook"',
    },
    extra_arguments: {
      kind: 'string-list',
      doc: 'More arguments for the command, each passed as it is (no shell, no quoting). Rendered again at run time, so `{{ build `Host` }}` works.',
      default: '- none',
    },
    ansible_env_vars: {
      kind: 'string-list',
      doc: 'Environment variables, `KEY=value`, added to Kiln\'s own environment for the command. Rendered again at run time.',
      default: '- none (ANSIBLE_HOST_KEY_CHECKING=False and ANSIBLE_SCP_IF_SSH=True are added, see ssh_host_key_file and use_sftp)',
    },
    ansible_ssh_extra_args: {
      kind: 'string-list',
      doc: 'Options for ssh, concatenated and passed with `--ssh-extra-args` when Ansible connects over SSH with a key.',
      default: '["-o IdentitiesOnly=yes"]',
    },
    user: {
      kind: 'string',
      doc: 'The `ansible_user`. Over SSH the communicator\'s user is used when this is not set; in a Docker container, the container\'s default user.',
      default: '- the communicator\'s user (SSH) or the container\'s user (Docker)',
    },
    groups: { kind: 'string-list', doc: 'Inventory groups the machine is put in.', default: '- none' },
    empty_groups: { kind: 'string-list', doc: 'Inventory groups that are listed but hold no host.', default: '- none' },
    host_alias: { kind: 'string', doc: 'The machine\'s name in the generated inventory.', default: '"default"' },
    inventory_file: {
      kind: 'string',
      doc: 'An inventory to use instead of the generated one; it must then describe how to reach the machine.',
      default: '- a generated inventory',
    },
    inventory_directory: {
      kind: 'string',
      doc: 'An existing directory the generated inventory is written to, so that its `group_vars` and `host_vars` apply.',
      default: '- a private temporary directory',
    },
    inventory_file_template: {
      kind: 'string',
      doc: 'The machine\'s line in the generated inventory. Rendered at run time with `{{ .HostAlias }}`, `{{ .Host }}`, `{{ .Port }}`, `{{ .User }}` and the build\'s data (`{{ .ID }}` is the container id in Docker builds).',
      default: '"{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\\n" over SSH; "{{ .HostAlias }} ansible_host={{ .ID }} ansible_connection=community.docker.docker\\n" in Docker builds',
      renderAtRuntime: true,
    },
    keep_inventory_file: {
      kind: 'boolean',
      doc: 'Leave the generated inventory file in place after the run (its path is printed), for debugging.',
      default: 'false',
    },
    galaxy_file: {
      kind: 'string',
      localPath: true,
      doc: 'A requirements file: roles and collections it lists are installed with `ansible-galaxy` on the machine running Kiln first.',
      default: '- none',
    },
    galaxy_command: { kind: 'string', doc: 'The ansible-galaxy program.', default: '"ansible-galaxy"' },
    galaxy_force_install: { kind: 'boolean', doc: 'Pass `-f` to ansible-galaxy, reinstalling what is there.', default: 'false' },
    roles_path: { kind: 'string', doc: 'Where ansible-galaxy installs roles (`-p`).', default: '- ansible-galaxy\'s default' },
    collections_path: { kind: 'string', doc: 'Where ansible-galaxy installs collections (`-p`).', default: '- ansible-galaxy\'s default' },
    skip_version_check: {
      kind: 'boolean',
      doc: 'Do not run `<command> --version` when the template is validated (for example when an earlier step installs Ansible).',
      default: 'false',
    },
    use_sftp: {
      kind: 'boolean',
      doc: 'Let Ansible copy files over SFTP; otherwise `ANSIBLE_SCP_IF_SSH=True` is set.',
      default: 'false',
    },
    use_proxy: {
      kind: 'boolean',
      doc: 'In Packer, puts an SSH proxy on the machine running Packer between Ansible and the machine. Kiln never does: it connects Ansible directly (the Docker connection for Docker builds, SSH to the communicator\'s host otherwise), so this is accepted and has no effect.',
      default: '- Kiln connects directly, as Packer does with false',
    },
    local_port: {
      kind: 'integer',
      doc: 'Port of Packer\'s SSH proxy. Kiln has no proxy: a build that sets it fails, unless use_proxy is false.',
      default: '- none',
    },
    ssh_host_key_file: {
      kind: 'string',
      localPath: true,
      doc: 'Host key of Packer\'s SSH proxy. Kiln has no proxy: a build that sets it fails, unless use_proxy is false (then it only keeps Ansible\'s host key checking on).',
      default: '- none; host key checking is turned off',
    },
    ssh_authorized_key_file: {
      kind: 'string',
      localPath: true,
      doc: 'Public key Packer\'s SSH proxy accepts from Ansible. Kiln has no proxy: a build that sets it fails, unless use_proxy is false.',
      default: '- none',
    },
    sftp_command: {
      kind: 'string',
      doc: 'SFTP server command that Packer\'s SSH proxy starts on the machine. Kiln has no proxy: a build that sets it fails, unless use_proxy is false.',
      default: '"/usr/lib/sftp-server -e"',
    },
  },
  check(config, ctx) {
    const errors: string[] = [];
    const single = (field: string, value: string | undefined, want: 'file' | 'dir') => {
      const problem = value ? checkPath(field, value, want, ctx.cwd) : undefined;
      if (problem) errors.push(problem);
    };
    single('playbook_file', config.playbook_file, 'file');
    single('galaxy_file', config.galaxy_file, 'file');
    single('ssh_authorized_key_file', config.ssh_authorized_key_file, 'file');
    single('ssh_host_key_file', config.ssh_host_key_file, 'file');
    errors.push(...checkPaths('inventory_directory', [config.inventory_directory], 'dir', ctx.cwd));
    if (config.local_port !== undefined && config.local_port > 65535) {
      errors.push(`"local_port" must be a valid port, got ${config.local_port}`);
    }
    if (!config.skip_version_check) {
      const problem = ansibleVersionProblem(config.command || 'ansible-playbook', ctx.cwd);
      if (problem) errors.push(problem);
    }
    return errors;
  },
});

const versions = new Map<string, string | undefined>();

/**
 * Packer runs `<command> --version` when it prepares the provisioner and
 * refuses the template when that fails, so that a missing Ansible is found
 * before any machine is made. The answer is kept for the process's life.
 */
function ansibleVersionProblem(command: string, cwd: string): string | undefined {
  const key = `${cwd}\0${command}`;
  if (versions.has(key)) return versions.get(key);
  const r = spawnSync(command, ['--version'], { cwd, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  let problem: string | undefined;
  if (r.error || r.status !== 0) {
    const why = r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : `exit status ${r.status ?? r.signal}`;
    problem = `"${command} --version" failed (${why}): install Ansible, or set "skip_version_check": true if an earlier step installs it`;
  } else if (!/\w (\d+\.\d+[.\d+]*)/.test(r.stdout)) {
    problem = `"${command} --version" printed no version number; is "command" really ansible-playbook?`;
  }
  versions.set(key, problem);
  return problem;
}
