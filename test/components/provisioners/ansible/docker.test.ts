import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { build, errorOf, fileInImage, runIn, said, workdir } from '../../docker/harness';
import { cmDockerBuilder, requireCmImage } from '../cm-image';

/*
 * The ansible provisioner in Docker builds: ansible-playbook runs on this
 * machine and reaches the build's container through Ansible's Docker
 * connection; the container is committed and the image is looked at.
 * Images are removed after the file's tests (the harness does it).
 */

jest.setTimeout(300_000);

beforeAll(() => requireCmImage());

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: configuration directory
      ansible.builtin.file:
        path: /etc/kiln-app
        state: directory
        mode: "0755"
    - name: configuration file
      ansible.builtin.copy:
        dest: /etc/kiln-app/app.conf
        mode: "0640"
        content: |
          build={{ packer_build_name }} type={{ packer_builder_type }}
          greeting={{ greeting }} color={{ color }} groups={{ group_names | join(',') }}
    - name: a user
      ansible.builtin.user:
        name: deploy
        shell: /bin/sh
        create_home: false
`;

function imageOf(run: { outcome: { artifacts: readonly { id: string }[] } }): string {
  expect(run.outcome.artifacts).toHaveLength(1);
  return run.outcome.artifacts[0].id;
}

test('a playbook run over the Docker connection configures the committed image', async () => {
  const dir = workdir({ 'site.yml': PLAYBOOK });
  const run = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml', groups: ['web', 'eu'], extra_arguments: ['--extra-vars', 'greeting=hello color=blue'] }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  const image = imageOf(run);
  expect(await fileInImage(image, '/etc/kiln-app/app.conf')).toBe('build=docker type=docker\ngreeting=hello color=blue groups=eu,web\n');
  expect(await runIn(image, ['/bin/sh', '-c', 'stat -c %a /etc/kiln-app/app.conf; getent passwd deploy | cut -d: -f1,7'])).toBe('640\ndeploy:/bin/sh\n');

  // Ansible's own output reaches the UI line by line, with the build's prefix.
  expect(run.lines).toEqual(expect.arrayContaining([
    '==> docker: Provisioning with Ansible...',
    '    docker: TASK [configuration file] ******************************************************',
  ]));
  expect(run.lines.some((l) => /^ {4}docker: default +: ok=\d+ +changed=3 +unreachable=0 +failed=0/.test(l))).toBe(true);
  const executing = said(run).find((l) => l.startsWith('Executing Ansible: '));
  expect(executing).toMatch(/^Executing Ansible: ansible-playbook -e packer_build_name="docker" -e packer_builder_type=docker --extra-vars greeting=hello color=blue -i \S+packer-provisioner-ansible\d+ \S+\/site\.yml$/);
});

test('a failing task fails the build with a one-line cause, and no image is made', async () => {
  const dir = workdir({
    'fail.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail:\n        msg: the disk is not ready\n',
  });
  const run = await build({ builders: [cmDockerBuilder()], provisioners: [{ type: 'ansible', playbook_file: 'fail.yml' }] }, { dir });
  expect(errorOf(run)).toBe('Error executing Ansible: Non-zero exit status: exit status 2');
  expect(run.lines.some((l) => l.startsWith('    docker: fatal: [default]: FAILED!') && l.includes('the disk is not ready'))).toBe(true);
  expect(run.outcome.artifacts).toEqual([]);
  expect(said(run).some((l) => l.startsWith('Image ID: '))).toBe(false);
});

test('inventory_file_template, host_alias, empty_groups and user shape the generated inventory', async () => {
  const dir = workdir({
    'site.yml': [
      '- hosts: builders',
      '  gather_facts: false',
      '  tasks:',
      '    - ansible.builtin.shell: "id -un > /tmp/who; echo {{ inventory_hostname }} {{ group_names | join(\',\') }} {{ groups.spare | length }} > /tmp/inventory"',
    ].join('\n'),
  });
  const run = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{
      type: 'ansible',
      playbook_file: 'site.yml',
      host_alias: 'box',
      groups: ['builders'],
      empty_groups: ['spare'],
      user: 'nobody',
      inventory_file_template: '{{ .HostAlias }} ansible_host={{ .ID }} ansible_connection=community.docker.docker ansible_user={{ .User }} ansible_remote_tmp=/tmp/ansible-remote\n',
    }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  const image = imageOf(run);
  expect(await fileInImage(image, '/tmp/who')).toBe('nobody\n');
  expect(await fileInImage(image, '/tmp/inventory')).toBe('box builders 0\n');
});

/**
 * A role packed as a tarball and a collection built by ansible-galaxy, both
 * installable from local files (no Galaxy server is reachable here).
 */
function galaxySources(dir: string): void {
  fs.mkdirSync(path.join(dir, 'src/hello/tasks'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'src/hello/meta'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src/hello/tasks/main.yml'),
    '- ansible.builtin.copy:\n    dest: /etc/from-role\n    content: "installed by ansible-galaxy from a role archive\\n"\n');
  fs.writeFileSync(path.join(dir, 'src/hello/meta/main.yml'), 'galaxy_info:\n  author: kiln\n  license: MIT\n  min_ansible_version: "2.9"\ndependencies: []\n');
  execFileSync('tar', ['-czf', path.join(dir, 'hello.tar.gz'), '-C', path.join(dir, 'src'), 'hello']);
  execFileSync('ansible-galaxy', ['collection', 'init', 'kiln.demo', '--init-path', path.join(dir, 'src')], { stdio: 'ignore' });
  const collection = path.join(dir, 'src/kiln/demo');
  fs.mkdirSync(path.join(collection, 'roles/greet/tasks'), { recursive: true });
  fs.writeFileSync(path.join(collection, 'roles/greet/tasks/main.yml'),
    '- ansible.builtin.copy:\n    dest: /etc/from-collection\n    content: "installed by ansible-galaxy from a collection archive\\n"\n');
  execFileSync('ansible-galaxy', ['collection', 'build', '--output-path', dir], { cwd: collection, stdio: 'ignore' });
}

test('galaxy_file installs roles and collections into roles_path and collections_path before the playbook runs', async () => {
  const dir = workdir({
    'site.yml': '- hosts: all\n  gather_facts: false\n  roles:\n    - hello\n    - kiln.demo.greet\n',
  });
  galaxySources(dir);
  fs.writeFileSync(path.join(dir, 'requirements.yml'), [
    'roles:',
    `  - src: file://${dir}/hello.tar.gz`,
    '    name: hello',
    'collections:',
    `  - name: ${dir}/kiln-demo-1.0.0.tar.gz`,
    '    type: file',
    '',
  ].join('\n'));
  const run = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{
      type: 'ansible',
      playbook_file: 'site.yml',
      galaxy_file: 'requirements.yml',
      roles_path: `${dir}/roles`,
      collections_path: `${dir}/collections`,
      ansible_env_vars: [`ANSIBLE_ROLES_PATH=${dir}/roles`, `ANSIBLE_COLLECTIONS_PATH=${dir}/collections`],
    }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  // Roles first, then collections, each announced as Packer does.
  expect(run.lines.filter((l) => l === '    docker: Executing Ansible Galaxy')).toHaveLength(2);
  expect(fs.existsSync(path.join(dir, 'roles/hello/tasks/main.yml'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'collections/ansible_collections/kiln/demo/roles/greet/tasks/main.yml'))).toBe(true);
  const image = imageOf(run);
  expect(await fileInImage(image, '/etc/from-role')).toBe('installed by ansible-galaxy from a role archive\n');
  expect(await fileInImage(image, '/etc/from-collection')).toBe('installed by ansible-galaxy from a collection archive\n');
});

test('a galaxy_file that cannot be installed fails the build before the playbook, naming Galaxy', async () => {
  const dir = workdir({
    'site.yml': '- hosts: all\n  gather_facts: false\n  tasks: []\n',
    'requirements.yml': '- src: file:///nonexistent/kiln/role.tar.gz\n  name: missing\n',
  });
  const run = await build({ builders: [cmDockerBuilder({ commit: false, discard: true })], provisioners: [{ type: 'ansible', playbook_file: 'site.yml', galaxy_file: 'requirements.yml' }] }, { dir });
  expect(errorOf(run)).toBe('Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit status: exit status 1');
  expect(said(run).some((l) => l.startsWith('Executing Ansible: '))).toBe(false);
});

test('options of Packer\'s SSH proxy are refused by name at run time', async () => {
  const dir = workdir({ 'site.yml': '- hosts: all\n  tasks: []\n' });
  const run = await build({
    builders: [cmDockerBuilder({ commit: false, discard: true })],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml', local_port: 2200, sftp_command: '/usr/lib/openssh/sftp-server' }],
  }, { dir });
  expect(errorOf(run)).toBe('"local_port", "sftp_command" configure Packer\'s SSH proxy, which Kiln does not have: Kiln connects Ansible to the machine directly; '
    + 'remove them, or set "use_proxy": false to have them ignored as Packer does');
});

