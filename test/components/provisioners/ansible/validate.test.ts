import * as path from 'path';
import { ansibleProvisioner } from '../../../../lib/components/provisioners/ansible/declaration';
import { ansibleLocalProvisioner } from '../../../../lib/components/provisioners/ansible-local/declaration';
import { puppetMasterlessProvisioner } from '../../../../lib/components/provisioners/puppet-masterless/declaration';
import { validate, workdir } from '../../helpers';

/*
 * What `kiln validate` says about the configuration-management provisioners,
 * before any machine exists: Packer 1.6.6's rules, with messages that name
 * the field and the file.
 */

const dir = workdir({ 'site.yml': '- hosts: all\n', 'roles/web/tasks/main.yml': '', 'site.pp': '', 'req.yml': 'roles: []\n' });

describe('ansible', () => {
  test('a playbook that exists is enough', () => {
    expect(validate(ansibleProvisioner, { playbook_file: 'site.yml' }, dir).errors).toEqual([]);
  });

  test('a missing playbook is named, with where it was looked for', () => {
    expect(validate(ansibleProvisioner, { playbook_file: 'play/missing.yml' }, dir).errors)
      .toEqual([`"playbook_file" "play/missing.yml" (resolved to ${path.join(dir, 'play/missing.yml')}) does not exist`]);
  });

  test('playbook_file is required, and must be a file', () => {
    expect(validate(ansibleProvisioner, {}, dir).errors).toEqual(['"playbook_file" is required: The playbook to run. It must exist when the template is validated.']);
    expect(validate(ansibleProvisioner, { playbook_file: 'roles' }, dir).errors)
      .toEqual([`"playbook_file" "roles" (resolved to ${path.join(dir, 'roles')}) is a directory; it must be a file`]);
  });

  test('every problem is reported at once: galaxy file, inventory directory, port, missing command', () => {
    const { errors } = validate(ansibleProvisioner, {
      playbook_file: 'site.yml', galaxy_file: 'nope.yml', inventory_directory: 'site.yml', local_port: 70000, command: '/nonexistent/ansible-playbook',
    }, dir);
    expect(errors).toEqual([
      `"galaxy_file" "nope.yml" (resolved to ${path.join(dir, 'nope.yml')}) does not exist`,
      `"inventory_directory" "site.yml" (resolved to ${path.join(dir, 'site.yml')}) is not a directory`,
      '"local_port" must be a valid port, got 70000',
      '"/nonexistent/ansible-playbook --version" failed (ENOENT): install Ansible, or set "skip_version_check": true if an earlier step installs it',
    ]);
  });

  test('skip_version_check skips running the command', () => {
    expect(validate(ansibleProvisioner, { playbook_file: 'site.yml', command: '/nonexistent/ansible-playbook', skip_version_check: 'true' }, dir).errors).toEqual([]);
  });
});

describe('ansible-local', () => {
  test('exactly one of playbook_file and playbook_files', () => {
    expect(validate(ansibleLocalProvisioner, {}, dir).errors).toEqual(['one of "playbook_file" or "playbook_files" must be set: the playbook to run']);
    expect(validate(ansibleLocalProvisioner, { playbook_file: 'site.yml', playbook_files: ['site.yml'] }, dir).errors)
      .toEqual(['only one of "playbook_file" and "playbook_files" may be set']);
  });

  test('files must be files and directories directories', () => {
    expect(validate(ansibleLocalProvisioner, {
      playbook_files: ['site.yml', 'gone.yml'], role_paths: ['roles/web', 'site.yml'], group_vars: 'missing', galaxy_file: 'req.yml',
    }, dir).errors).toEqual([
      `"playbook_files[1]" "gone.yml" (resolved to ${path.join(dir, 'gone.yml')}) does not exist`,
      `"group_vars" "missing" (resolved to ${path.join(dir, 'missing')}) does not exist`,
      `"role_paths[1]" "site.yml" (resolved to ${path.join(dir, 'site.yml')}) is not a directory`,
    ]);
  });
});

describe('puppet-masterless', () => {
  test('manifest_file is required and must exist; a directory will do', () => {
    expect(validate(puppetMasterlessProvisioner, {}, dir).errors).toEqual([expect.stringMatching(/^"manifest_file" is required: The manifest to apply/)]);
    expect(validate(puppetMasterlessProvisioner, { manifest_file: 'nope.pp' }, dir).errors)
      .toEqual([`"manifest_file" "nope.pp" (resolved to ${path.join(dir, 'nope.pp')}) does not exist`]);
    expect(validate(puppetMasterlessProvisioner, { manifest_file: 'roles' }, dir).errors).toEqual([]);
  });

  test('module paths, manifest_dir and hiera config are checked; facter takes a map', () => {
    expect(validate(puppetMasterlessProvisioner, {
      manifest_file: 'site.pp', module_paths: ['roles', 'site.pp'], manifest_dir: 'site.pp', hiera_config_path: 'roles', facter: { role: 'web' },
    }, dir).errors).toEqual([
      `"hiera_config_path" "roles" (resolved to ${path.join(dir, 'roles')}) is a directory; it must be a file`,
      `"manifest_dir" "site.pp" (resolved to ${path.join(dir, 'site.pp')}) is not a directory`,
      `"module_paths[1]" "site.pp" (resolved to ${path.join(dir, 'site.pp')}) is not a directory`,
    ]);
  });

  test('guest_os_type is unix or windows, in any case', () => {
    expect(validate(puppetMasterlessProvisioner, { manifest_file: 'site.pp', guest_os_type: 'Windows' }, dir).errors).toEqual([]);
    expect(validate(puppetMasterlessProvisioner, { manifest_file: 'site.pp', guest_os_type: 'beos' }, dir).errors)
      .toEqual(['"guest_os_type" must be "unix" or "windows", got "beos"']);
  });
});
