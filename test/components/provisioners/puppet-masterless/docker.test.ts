import { build, errorOf, fileInImage, runIn, said, workdir } from '../../docker/harness';
import { cmDockerBuilder, requireCmImage } from '../cm-image';

/*
 * The puppet-masterless provisioner in Docker builds: manifests, modules and
 * hiera config are uploaded into the build's container, `puppet apply` runs
 * there (through sudo, Packer's default), and the committed image is looked at.
 */

jest.setTimeout(300_000);

beforeAll(() => requireCmImage());

const MANIFEST = `
file { '/etc/kiln-puppet':
  ensure => directory,
}
file { '/etc/kiln-puppet/motd':
  ensure  => file,
  mode    => '0644',
  content => "role=\${facts['role']} builder=\${facts['packer_builder_type']} build=\${facts['packer_build_name']}\\n",
}
user { 'svc':
  ensure => present,
  shell  => '/bin/sh',
  uid    => 4242,
}
`;

test('a manifest with facts creates a file and a user in the committed image', async () => {
  const dir = workdir({ 'manifests/site.pp': MANIFEST });
  const run = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{ type: 'puppet-masterless', manifest_file: 'manifests/site.pp', facter: { role: 'web' } }],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  const image = run.outcome.artifacts[0].id;
  expect(await fileInImage(image, '/etc/kiln-puppet/motd')).toBe('role=web builder=docker build=docker\n');
  expect(await runIn(image, ['getent', 'passwd', 'svc'])).toMatch(/^svc:x:4242:\d+::\/home\/svc:\/bin\/sh\n$/);
  expect(said(run)).toEqual(expect.arrayContaining([
    'Provisioning with Puppet...',
    'Creating directory: /tmp/packer-puppet-masterless',
    'Uploading manifest file from: manifests/site.pp',
    'Running Puppet: cd /tmp/packer-puppet-masterless && FACTER_packer_build_name=\'docker\' FACTER_packer_builder_type=\'docker\' FACTER_role=\'web\' '
      + 'sudo -E puppet apply --detailed-exitcodes /tmp/packer-puppet-masterless/manifests/site.pp',
  ]));
  // Puppet's report reaches the UI (exit 2, "changes applied", is success).
  expect(said(run).some((l) => /Notice: .*\/File\[\/etc\/kiln-puppet\/motd\]\/ensure: defined content/.test(l))).toBe(true);
});

test('modules, hiera data and extra arguments are uploaded and used; the staging directory can be removed', async () => {
  const dir = workdir({
    'site.pp': 'include greeting\n',
    'modules/greeting/manifests/init.pp': 'class greeting (String $text) {\n  file { \'/etc/greeting\': content => "${text}\\n" }\n}\n',
    'hiera.yaml': 'version: 5\nhierarchy:\n  - name: common\n    path: common.yaml\ndefaults:\n  datadir: /tmp/kiln-hiera\n  data_hash: yaml_data\n',
    'data/common.yaml': 'greeting::text: hello from hiera\n',
  });
  const run = await build({
    builders: [cmDockerBuilder()],
    provisioners: [
      // The hiera data directory goes first, with the file provisioner.
      { type: 'file', source: 'data/', destination: '/tmp/kiln-hiera' },
      {
        type: 'puppet-masterless',
        manifest_file: 'site.pp',
        module_paths: ['modules'],
        hiera_config_path: 'hiera.yaml',
        extra_arguments: ['--verbose', '--logdest={{.WorkingDir}}/puppet.log'],
        staging_directory: '/var/tmp/kiln-puppet',
        clean_staging_directory: true,
        prevent_sudo: true,
      },
      { type: 'shell', inline: ['test ! -e /var/tmp/kiln-puppet && echo staging removed'] },
    ],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  expect(await fileInImage(run.outcome.artifacts[0].id, '/etc/greeting')).toBe('hello from hiera\n');
  expect(said(run)).toEqual(expect.arrayContaining([
    'Running Puppet: cd /var/tmp/kiln-puppet && FACTER_packer_build_name=\'docker\' FACTER_packer_builder_type=\'docker\' '
      + 'puppet apply --detailed-exitcodes --modulepath=\'/var/tmp/kiln-puppet/module-0\' --hiera_config=\'/var/tmp/kiln-puppet/hiera.yaml\' '
      + '--verbose --logdest=/var/tmp/kiln-puppet/puppet.log /var/tmp/kiln-puppet/manifests/site.pp',
    'staging removed',
  ]));
});

test('a manifest that fails fails the build with Puppet\'s exit status; ignore_exit_codes lets it pass', async () => {
  const dir = workdir({ 'broken.pp': 'exec { \'/bin/false\': }\nfile { \'/etc/after-failure\': content => "x\\n" }\n' });
  const failing = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{ type: 'puppet-masterless', manifest_file: 'broken.pp' }],
  }, { dir });
  expect(errorOf(failing)).toMatch(/^Puppet exited with a non-zero exit status: [46]$/);
  expect(failing.outcome.artifacts).toEqual([]);
  expect(said(failing).some((l) => l.includes('/bin/false') && l.includes('returned 1 instead of one of [0]'))).toBe(true);

  const ignored = await build({
    builders: [cmDockerBuilder()],
    provisioners: [{ type: 'puppet-masterless', manifest_file: 'broken.pp', ignore_exit_codes: true }],
  }, { dir });
  expect(ignored.outcome.error).toBeUndefined();
  expect(await fileInImage(ignored.outcome.artifacts[0].id, '/etc/after-failure')).toBe('x\n');
});
