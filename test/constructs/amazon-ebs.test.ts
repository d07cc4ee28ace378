import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AmazonEbsBuilder, App, ImageTemplate, ShellProvisioner } from '../../lib/constructs';
import { FINGERPRINT_TAG } from '../../lib/template/fingerprint';

describe('AmazonEbsBuilder', () => {
  test('typed nested props synthesize with the template keys, and the real packer validate accepts the result', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-ebs-construct-'));
    try {
      const app = new App({ outdir });
      const t = new ImageTemplate(app, 'ami');
      new AmazonEbsBuilder(t, 'Ebs', {
        region: 'eu-west-1',
        instanceType: 't3.micro',
        sshUsername: 'admin',
        amiName: 'kiln {{timestamp | clean_resource_name}}',
        sourceAmiFilter: { filters: { 'name': 'debian-12-amd64-*', 'root-device-type': 'ebs' }, owners: ['136693071363'], most_recent: true },
        subnetFilter: { filters: { 'tag:Name': 'build' }, most_free: true },
        launchBlockDeviceMappings: [{ device_name: '/dev/xvda', volume_size: 20, volume_type: 'gp2', delete_on_termination: true }],
        runTag: [{ key: 'Owner', value: 'kiln' }],
        runVolumeTag: [{ name: 'Owner', value: 'kiln' }],
        tags: { Team: 'web' },
      });
      new ShellProvisioner(t, 'Hello', { inline: ['echo hello'] });
      app.synth();
      const json = JSON.parse(fs.readFileSync(path.join(outdir, 'ami.json'), 'utf8'));
      expect(json.builders[0]).toMatchObject({
        source_ami_filter: { filters: { 'name': 'debian-12-amd64-*', 'root-device-type': 'ebs' }, owners: ['136693071363'], most_recent: true },
        subnet_filter: { filters: { 'tag:Name': 'build' }, most_free: true },
        launch_block_device_mappings: [{ device_name: '/dev/xvda', volume_size: 20, volume_type: 'gp2', delete_on_termination: true }],
        run_tag: [{ key: 'Owner', value: 'kiln' }],
        run_volume_tag: [{ name: 'Owner', value: 'kiln' }],
        tags: { Team: 'web', [FINGERPRINT_TAG]: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      const packer = spawnSync('packer', ['validate', 'ami.json'], { cwd: outdir, encoding: 'utf8' });
      expect(packer.stdout + packer.stderr).toBe('');
      expect(packer.status).toBe(0);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
