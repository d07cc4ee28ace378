import { declareComponent } from '../../../template/component';
import { checkPath, checkPaths } from '../ansible/paths';

/**
 * Uploads playbooks to the machine being built and runs `ansible-playbook`
 * there against itself (`-c local`). Ansible must already be installed on
 * the machine. Fields and validation are Packer 1.6.6's.
 */
export const ansibleLocalProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'ansible-local',
  summary: 'Uploads Ansible playbooks to the machine being built and runs them there, against the machine itself.',
  fields: {
    playbook_file: {
      kind: 'string',
      localPath: true,
      doc: 'The playbook to upload and run. Exactly one of `playbook_file` and `playbook_files` must be set.',
      default: '- none',
    },
    playbook_files: {
      kind: 'string-list',
      localPath: true,
      doc: 'Playbooks to upload and run one after the other. Each is uploaded under the staging directory at its full local path, unless it lies inside `playbook_dir`.',
      default: '- none',
    },
    playbook_dir: {
      kind: 'string',
      localPath: true,
      doc: 'A directory whose contents are uploaded to the staging directory first, for playbooks that include files around them.',
      default: '- none',
    },
    playbook_paths: {
      kind: 'string-list',
      localPath: true,
      doc: 'Directories uploaded to `<staging_directory>/playbooks/`, for playbooks that the main one includes.',
      default: '- none',
    },
    role_paths: {
      kind: 'string-list',
      localPath: true,
      doc: 'Role directories uploaded to `<staging_directory>/roles/`.',
      default: '- none',
    },
    group_vars: { kind: 'string', localPath: true, doc: 'A directory uploaded as `<staging_directory>/group_vars`.', default: '- none' },
    host_vars: { kind: 'string', localPath: true, doc: 'A directory uploaded as `<staging_directory>/host_vars`.', default: '- none' },
    command: {
      kind: 'string',
      doc: 'What runs the playbook on the machine, through its shell (so variables may come first).',
      default: '"ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook"',
    },
    extra_arguments: {
      kind: 'string-list',
      doc: 'More arguments, joined with spaces and added to the command line as they are (the machine\'s shell reads them).',
      default: '- none',
    },
    inventory_groups: {
      kind: 'string-list',
      doc: 'Groups that `127.0.0.1` is put in, in the generated inventory.',
      default: '- no group',
    },
    inventory_file: {
      kind: 'string',
      localPath: true,
      doc: 'An inventory to upload and use instead of the generated one.',
      default: '- a generated inventory holding 127.0.0.1',
    },
    galaxy_file: {
      kind: 'string',
      localPath: true,
      doc: 'A requirements file, uploaded; the roles it lists are installed with `galaxy_command` on the machine into `<staging_directory>/roles`.',
      default: '- none',
    },
    galaxy_command: { kind: 'string', doc: 'The ansible-galaxy program on the machine.', default: '"ansible-galaxy"' },
    staging_directory: {
      kind: 'string',
      doc: 'Where on the machine everything is uploaded; the playbook runs from there.',
      default: '"/tmp/packer-provisioner-ansible-local/<time-ordered uuid>"',
    },
    clean_staging_directory: {
      kind: 'boolean',
      doc: 'Remove the staging directory from the machine after a successful run.',
      default: 'false',
    },
  },
  check(config, ctx) {
    const errors: string[] = [];
    const files = config.playbook_files ?? [];
    if (files.length && config.playbook_file) errors.push('only one of "playbook_file" and "playbook_files" may be set');
    if (!files.length && !config.playbook_file) errors.push('one of "playbook_file" or "playbook_files" must be set: the playbook to run');
    const push = (p: string | undefined) => { if (p) errors.push(p); };
    if (config.playbook_file) push(checkPath('playbook_file', config.playbook_file, 'file', ctx.cwd));
    files.forEach((f, i) => push(checkPath(`playbook_files[${i}]`, f, 'file', ctx.cwd)));
    errors.push(...checkPaths('inventory_file', [config.inventory_file], 'file', ctx.cwd));
    errors.push(...checkPaths('galaxy_file', [config.galaxy_file], 'file', ctx.cwd));
    errors.push(...checkPaths('playbook_dir', [config.playbook_dir], 'dir', ctx.cwd));
    errors.push(...checkPaths('group_vars', [config.group_vars], 'dir', ctx.cwd));
    errors.push(...checkPaths('host_vars', [config.host_vars], 'dir', ctx.cwd));
    (config.playbook_paths ?? []).forEach((d, i) => push(checkPath(`playbook_paths[${i}]`, d, 'dir', ctx.cwd)));
    (config.role_paths ?? []).forEach((d, i) => push(checkPath(`role_paths[${i}]`, d, 'dir', ctx.cwd)));
    return errors;
  },
});
