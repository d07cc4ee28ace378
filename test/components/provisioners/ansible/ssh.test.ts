import * as fs from 'fs';
import * as path from 'path';
import { kiln, sandbox } from '../../../cli/kiln';
import { keyPair, KeyPair, Sshd, startSshd, tempDir } from '../../communicators/ssh/sshd';
import { build, errorOf, said, workdir } from '../../docker/harness';
import { CM_IMAGE, requireCmImage } from '../cm-image';

/*
 * The ansible provisioner over SSH: the null builder connects to an sshd in a
 * container of kiln/cm (host network, free loopback port, throwaway key), and
 * ansible-playbook on this machine connects to the same host, port, user and
 * key. What the playbook did is read back from the container.
 */

jest.setTimeout(300_000);

const PASSWORD = 'Ansible-ssh-pw-5c1e';
let key: KeyPair;
let server: Sshd;

beforeAll(async () => {
  requireCmImage();
  key = keyPair(tempDir('ansible'));
  server = await startSshd({ authorized: [key.authorized], password: PASSWORD, image: CM_IMAGE });
});

function nullBuilder(extra: Record<string, unknown> = {}) {
  return { type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_private_key_file: key.file, ...extra };
}

const PLAYBOOK = `
- hosts: all
  tasks:
    - ansible.builtin.copy:
        dest: /srv/ansible-ssh.txt
        content: "{{ packer_builder_type }} {{ ansible_user }}@{{ ansible_host }}:{{ ansible_port }} {{ group_names | join(',') }} {{ ansible_facts.distribution }}\\n"
`;

test('a playbook reaches the communicator\'s host over SSH with its key, and changes the machine', async () => {
  await server.sh('rm -f /srv/ansible-ssh.txt');
  const dir = workdir({ 'site.yml': PLAYBOOK });
  const run = await build({
    builders: [nullBuilder()],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml', groups: ['db'] }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  expect(await server.sh('cat /srv/ansible-ssh.txt')).toBe(`null root@127.0.0.1:${server.port} db Debian\n`);
  const executing = said(run).find((l) => l.startsWith('Executing Ansible: '))!;
  expect(executing).toBe('Executing Ansible: ansible-playbook -e packer_build_name="null" -e packer_builder_type=null --ssh-extra-args \'-o IdentitiesOnly=yes\' '
    + `-e ansible_ssh_private_key_file=${key.file} -i ${executing.split(' -i ')[1].split(' ')[0]} ${path.join(dir, 'site.yml')}`);
  expect(run.lines.some((l) => /^ {4}null: default +: ok=2 +changed=1 +unreachable=0 +failed=0/.test(l))).toBe(true);
  // The generated inventory is gone once the provisioner is done.
  expect(fs.existsSync(executing.split(' -i ')[1].split(' ')[0])).toBe(false);
});

test('keep_inventory_file with inventory_directory leaves the inventory for debugging', async () => {
  const dir = workdir({ 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks: []\n', 'inventory/group_vars/.keep': '' });
  const run = await build({
    builders: [nullBuilder()],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml', inventory_directory: 'inventory', keep_inventory_file: true, host_alias: 'target' }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  const kept = fs.readdirSync(path.join(dir, 'inventory')).filter((f) => f.startsWith('packer-provisioner-ansible'));
  expect(kept).toHaveLength(1);
  expect(fs.readFileSync(path.join(dir, 'inventory', kept[0]), 'utf8'))
    .toBe(`target ansible_host=127.0.0.1 ansible_user=root ansible_port=${server.port}\n`);
});

test('a host Ansible cannot reach fails the build with one line', async () => {
  const dir = workdir({ 'site.yml': '- hosts: all\n  tasks: []\n' });
  // The builder's key works for Kiln; the playbook's own variable points Ansible at a port where nothing listens.
  const run = await build({
    builders: [nullBuilder()],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml', extra_arguments: ['-e', 'ansible_port=1'] }],
  }, { dir });
  expect(errorOf(run)).toBe('Error executing Ansible: Non-zero exit status: exit status 4');
  expect(said(run).some((l) => l.startsWith('fatal: [default]: UNREACHABLE!'))).toBe(true);
});

test('secrets never reach the output of kiln build: sensitive variables, passwords given to Ansible, the key', async () => {
  const DB_SECRET = 'db-Secret-77f0a2';
  const BECOME = 'Become-pw-31d9';
  const box = sandbox({
    'variables': { db_password: DB_SECRET },
    'sensitive-variables': ['db_password'],
    'builders': [{ type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_private_key_file: key.file }],
    'provisioners': [{
      type: 'ansible',
      playbook_file: 'site.yml',
      extra_arguments: ['-e', 'db_password={{user `db_password`}}', '-e', `ansible_become_password=${BECOME}`, '-v'],
    }],
  });
  fs.writeFileSync(path.join(box.dir, 'site.yml'), [
    '- hosts: all',
    '  gather_facts: false',
    '  tasks:',
    '    - ansible.builtin.copy: { dest: /srv/db.conf, content: "{{ db_password }}\\n" }',
    '      no_log: true',
  ].join('\n'));
  const r = await kiln(box, ['build', '-color=false', 'template.json']);
  const all = r.stdout + r.stderr;
  expect(r.code).toBe(0);
  expect(await server.sh('cat /srv/db.conf')).toBe(`${DB_SECRET}\n`);
  expect(all).toContain('-e db_password=<sensitive> -e ansible_become_password=***** -v');
  expect(all).not.toContain(DB_SECRET);
  expect(all).not.toContain(BECOME);
  expect(all).not.toContain(fs.readFileSync(key.file, 'utf8').split('\n')[1]);
  // Nothing of the run is left in its temporary directory.
  expect(fs.readdirSync(box.tmp).filter((f) => f.startsWith('kiln-'))).toEqual([]);
});

test('the communicator\'s password, handed to Ansible, is masked even when Ansible fails', async () => {
  const box = sandbox({
    builders: [{ type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_password: PASSWORD }],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml', extra_arguments: ['-e', 'ansible_password={{build `Password`}}'] }],
  });
  fs.writeFileSync(path.join(box.dir, 'site.yml'), '- hosts: all\n  tasks: []\n');
  const r = await kiln(box, ['build', '-machine-readable', 'template.json']);
  const all = r.stdout + r.stderr;
  // This host has no sshpass, which Ansible needs for passwords: the run fails, and says so without the password.
  expect(r.code).toBe(1);
  expect(all).toContain('ansible_password=*****');
  expect(all).toContain('Error executing Ansible: Non-zero exit status: exit status');
  expect(all).not.toContain(PASSWORD);
});

test('a password-only communicator without ansible_password is refused with advice', async () => {
  const dir = workdir({ 'site.yml': '- hosts: all\n  tasks: []\n' });
  const run = await build({
    builders: [{ type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_password: PASSWORD }],
    provisioners: [{ type: 'ansible', playbook_file: 'site.yml' }],
  }, { dir });
  expect(errorOf(run)).toMatch(/^the ssh communicator logs in without a key file, and Kiln gives Ansible only keys: set "ssh_private_key_file"/);
});
