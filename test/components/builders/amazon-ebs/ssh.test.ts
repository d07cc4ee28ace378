import * as fs from 'fs';
import { CreateImageCommand, CreateKeyPairCommand, CreateTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { callsOf, CLEANUP_COMMANDS, INSTANCE, mockEc2, NEW_AMI } from './mock-ec2';
import { FINGERPRINT_TAG, templateFingerprint } from '../../../../lib/template/fingerprint';
import { keyPair, KeyPair, requireImage, Sshd, startSshd, tempDir } from '../../communicators/ssh/sshd';
import { build, said, workdir } from '../../docker/harness';

/*
 * amazon-ebs end to end through the engine, with EC2 mocked (AWS is not
 * reachable from the test machines) and SSH real: the mocked instance's
 * public IP is 127.0.0.1 and `ssh_port` is the port of an sshd container,
 * so the shell provisioner really runs over SSH.
 */

jest.setTimeout(120_000);

let key: KeyPair;
let server: Sshd;
let ec2: AwsClientStub<EC2Client>;

beforeAll(async () => {
  requireImage();
  key = keyPair(tempDir());
  server = await startSshd({ authorized: [key.authorized] });
});
beforeEach(() => {
  ec2 = mockEc2({ PublicIpAddress: '127.0.0.1', PrivateIpAddress: '10.0.0.10' });
});
afterEach(() => ec2.restore());
afterAll(async () => {
  await server?.remove();
});

function template(extra: Record<string, unknown> = {}) {
  return {
    'builders': [{
      type: 'amazon-ebs',
      region: 'us-east-1',
      source_ami_filter: { filters: { name: 'ubuntu/images/*' }, owners: ['099720109477'], most_recent: true },
      instance_type: 't3.micro',
      ami_name: 'web {{timestamp | clean_resource_name}}',
      ssh_username: 'root',
      ssh_port: server.port,
      ssh_interface: 'public_ip',
      aws_polling: { delay_seconds: 1 },
      tags: { Name: 'web' },
      ...extra,
    }],
    'provisioners': [{
      type: 'shell',
      inline: [
        'mkdir -p /srv/ebs && echo "built from {{build `SourceAMI`}} in {{build `BuildRegion`}} on {{build `ID`}}" > /srv/ebs/proof',
        'cat /srv/ebs/proof',
      ],
    }],
    'post-processors': [{ type: 'manifest', output: 'manifest.json', strip_time: true }],
  };
}

describe('amazon-ebs over a real sshd (mocked EC2 client; AWS is not reachable from the test machines)', () => {
  test('the temporary key pair\'s private key logs in, the provisioner writes a file over SSH, and the manifest records the AMIs', async () => {
    // EC2 hands back the private key of the key pair it creates: here, one sshd accepts.
    ec2.on(CreateKeyPairCommand).callsFake((input: { KeyName: string }) => ({ KeyName: input.KeyName, KeyMaterial: fs.readFileSync(key.file, 'utf8') }));
    await server.sh('rm -rf /srv/ebs');
    const dir = workdir();
    const tpl = template();
    const run = await build(tpl, { dir });
    expect(run.outcome.error).toBeUndefined();

    const proof = `built from ami-source0000000001 in us-east-1 on ${INSTANCE}`;
    expect((await server.sh('cat /srv/ebs/proof')).trim()).toBe(proof);
    expect(said(run)).toEqual(expect.arrayContaining(['Using ssh communicator to connect: 127.0.0.1', 'Connected to SSH!', proof]));

    const calls = await callsOf(ec2);
    const runInput = calls.find((c) => c.command === 'RunInstances')!.input;
    expect(runInput.KeyName).toMatch(/^packer_/);
    // ami_name went through amazon's clean_resource_name at prepare: the space is kept.
    expect(calls.find((c) => c.command === 'CreateImage')!.input.Name).toMatch(/^web \d+$/);
    // The engine hands the template document to the builder: the fingerprint is the template's.
    const amiTags = calls.find((c) => c.command === 'CreateTags')!.input.Tags as { Key: string; Value: string }[];
    expect(amiTags).toContainEqual({ Key: FINGERPRINT_TAG, Value: templateFingerprint(JSON.parse(JSON.stringify(tpl))) });
    expect(calls.filter((c) => CLEANUP_COMMANDS.has(c.command)).map((c) => c.command)).toEqual(['TerminateInstances', 'DeleteSecurityGroup', 'DeleteKeyPair']);

    const manifest = JSON.parse(fs.readFileSync(`${dir}/manifest.json`, 'utf8'));
    expect(manifest.builds).toEqual([expect.objectContaining({ builder_type: 'amazon-ebs', artifact_id: `us-east-1:${NEW_AMI}` })]);
    // The builder's artifact, and the same again from manifest, which passes its input on.
    const amis = ['mitchellh.amazonebs', `AMIs were created:\nus-east-1: ${NEW_AMI}\n`];
    expect(run.outcome.artifacts.map((a) => [a.builderId, a.describe()])).toEqual([amis, amis]);
  });

  test('ssh_clear_authorized_keys takes the temporary key pair\'s line out of authorized_keys before the AMI is made', async () => {
    ec2.on(CreateKeyPairCommand).callsFake((input: { KeyName: string }) => ({ KeyName: input.KeyName, KeyMaterial: fs.readFileSync(key.file, 'utf8') }));
    // As EC2 puts it there: the key pair's public key, named by its key pair, next to a key of the image's own.
    const keyMaterial = key.authorized.split(' ').slice(0, 2).join(' ');
    await server.sh(`echo '${keyMaterial} kiln_temporary.key' >> /root/.ssh/authorized_keys`);
    const before = await server.sh('cat /root/.ssh/authorized_keys');
    expect(before).toContain(' kiln_temporary.key\n');
    let during = '';
    ec2.on(CreateImageCommand).callsFake(async () => {
      during = await server.sh('cat /root/.ssh/authorized_keys');
      return { ImageId: NEW_AMI };
    });
    const run = await build({ ...template({ ssh_clear_authorized_keys: true, temporary_key_pair_name: 'kiln_temporary.key' }), 'post-processors': [] });
    expect(run.outcome.error).toBeUndefined();
    expect(said(run)).toContain('Trying to remove ephemeral keys from authorized_keys files');
    // Gone by the time the image is made; the image's own key stays.
    expect(during).toBe(before.replace(`${keyMaterial} kiln_temporary.key\n`, ''));
    expect(during).toContain(`${key.authorized}\n`);
    expect(await server.sh('ls /root/.ssh')).toBe('authorized_keys\n');
  });

  test('with ssh_private_key_file no key pair is created, and a provisioner failure over SSH terminates the instance', async () => {
    const run = await build({
      ...template({ ssh_private_key_file: key.file }),
      'provisioners': [{ type: 'shell', inline: ['echo on the instance', 'exit 3'] }],
      'post-processors': [],
    });
    expect(run.outcome.error?.message).toMatch(/exit status: 3/);
    expect(said(run)).toContain('on the instance');
    const commands = (await callsOf(ec2)).map((c) => c.command);
    expect(commands).not.toContain('CreateKeyPair');
    expect(commands).not.toContain('CreateImage');
    expect(commands.filter((c) => CLEANUP_COMMANDS.has(c))).toEqual(['TerminateInstances', 'DeleteSecurityGroup']);
    expect(ec2.commandCalls(RunInstancesCommand)[0].args[0].input.KeyName).toBeUndefined();
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });
});
