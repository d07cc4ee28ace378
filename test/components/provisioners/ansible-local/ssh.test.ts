import { keyPair, KeyPair, Sshd, startSshd, tempDir } from '../../communicators/ssh/sshd';
import { build, errorOf, fileInImage, said, workdir } from '../../docker/harness';
import { CM_IMAGE, cmDockerBuilder, requireCmImage } from '../cm-image';

/*
 * The ansible-local provisioner: playbooks, roles and variables are uploaded
 * to the machine (an sshd container of kiln/cm reached by the null builder,
 * or a Docker build's container) and ansible-playbook runs there with -c local.
 */

jest.setTimeout(300_000);

let key: KeyPair;
let server: Sshd;

beforeAll(async () => {
  requireCmImage();
  key = keyPair(tempDir('ansible-local'));
  server = await startSshd({ authorized: [key.authorized], image: CM_IMAGE });
});

function nullBuilder() {
  return { type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_private_key_file: key.file };
}

const FILES = {
  'site.yml': '- hosts: web\n  connection: local\n  roles: [motd]\n',
  'roles/motd/tasks/main.yml': '- ansible.builtin.copy:\n    dest: /srv/motd\n    content: "{{ motd_text }} on {{ packer_build_name }}/{{ packer_builder_type }} in {{ group_names | join(\',\') }}\\n"\n',
  'group_vars/web.yml': 'motd_text: welcome\n',
};

test('uploads the playbook, roles and group_vars over SSH and runs them on the machine', async () => {
  await server.sh('rm -rf /srv/motd /tmp/kiln-al-staging');
  const dir = workdir(FILES);
  const run = await build({
    builders: [nullBuilder()],
    provisioners: [{
      type: 'ansible-local',
      playbook_file: 'site.yml',
      role_paths: ['roles/motd'],
      group_vars: 'group_vars',
      inventory_groups: ['web', 'all_machines'],
      staging_directory: '/tmp/kiln-al-staging',
    }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  expect(await server.sh('cat /srv/motd')).toBe('welcome on null/null in all_machines,web\n');
  const executing = said(run).find((l) => l.startsWith('Executing Ansible: '))!;
  expect(executing).toMatch(new RegExp('^Executing Ansible: cd /tmp/kiln-al-staging && ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook /tmp/kiln-al-staging/site.yml '
    + '--extra-vars "packer_build_name=null packer_builder_type=null packer_http_addr=ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER -o IdentitiesOnly=yes"  '
    + '-c local -i /tmp/kiln-al-staging/packer-provisioner-ansible-local\\d+$'));
  // Without clean_staging_directory the staging directory stays, as in Packer.
  expect((await server.sh('ls /tmp/kiln-al-staging')).split('\n').sort().filter(Boolean))
    .toEqual(expect.arrayContaining(['group_vars', 'roles', 'site.yml']));
});

test('playbook_files run in order from the default staging directory, which clean_staging_directory removes', async () => {
  await server.sh('rm -rf /srv/order /tmp/packer-provisioner-ansible-local');
  const dir = workdir({
    'one.yml': '- hosts: all\n  tasks:\n    - ansible.builtin.shell: echo one >> /srv/order\n',
    'two.yml': '- hosts: all\n  tasks:\n    - ansible.builtin.shell: echo two >> /srv/order\n',
  });
  const run = await build({
    builders: [nullBuilder()],
    provisioners: [{ type: 'ansible-local', playbook_files: ['two.yml', 'one.yml'], clean_staging_directory: true, extra_arguments: ['--skip-tags', 'never'] }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  expect(await server.sh('cat /srv/order')).toBe('two\none\n');
  expect(said(run).find((l) => l.startsWith('Executing Ansible: '))).toMatch(
    new RegExp(`^Executing Ansible: cd (/tmp/packer-provisioner-ansible-local/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) && .* \\1${dir}/two\\.yml .*" --skip-tags never -c local`));
  expect(await server.sh('ls -A /tmp/packer-provisioner-ansible-local')).toBe('');
});

test('a failing playbook fails the build with one line', async () => {
  const dir = workdir({ 'fail.yml': '- hosts: all\n  tasks:\n    - ansible.builtin.command: /bin/false\n' });
  const run = await build({ builders: [nullBuilder()], provisioners: [{ type: 'ansible-local', playbook_file: 'fail.yml' }] }, { dir });
  expect(errorOf(run)).toBe('Error executing Ansible: Non-zero exit status: 2');
});

test('a missing ansible-playbook on the machine is reported as such', async () => {
  const dir = workdir({ 'site.yml': '- hosts: all\n  tasks: []\n' });
  const run = await build({ builders: [nullBuilder()], provisioners: [{ type: 'ansible-local', playbook_file: 'site.yml', command: 'no-such-ansible-playbook' }] }, { dir });
  expect(errorOf(run)).toBe('Error executing Ansible: no-such-ansible-playbook could not be found; check that it is installed on the machine and on the PATH of its shell');
});

test('works the same in a Docker build, over the docker communicator', async () => {
  const dir = workdir(FILES);
  const run = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{ type: 'ansible-local', playbook_file: 'site.yml', role_paths: ['roles/motd'], group_vars: 'group_vars', inventory_groups: ['web'] }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  expect(await fileInImage(run.outcome.artifacts[0].id, '/srv/motd')).toBe('welcome on docker/docker in web\n');
});
