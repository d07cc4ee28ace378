import {
  AuthorizeSecurityGroupIngressCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { callsOf, CLEANUP_COMMANDS, COPY_AMI, GROUP, INSTANCE, instance, mockEc2, NEW_AMI, SOURCE_AMI } from './mock-ec2';
import { AmiArtifact, runAmazonEbs } from '../../../../lib/components/builders/amazon-ebs/runtime';
import type { ProvisionHook } from '../../../../lib/engine/types';
import { FINGERPRINT_TAG, templateFingerprint } from '../../../../lib/template/fingerprint';
import type { PreparedBuild } from '../../../../lib/template/prepare';
import { scratch, testEnvironment, TestEnvironment } from '../../runtime-env';

const FAST = { pollIntervalMs: 1, retryDelayMs: 1 };

/** A template as the engine would have read it, for the fingerprint. */
const TEMPLATE = { builders: [{ type: 'amazon-ebs', ami_name: 'web-1' }] };

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    region: 'us-east-1',
    source_ami_filter: { filters: { name: 'ubuntu/images/*' }, owners: ['099720109477'], most_recent: true },
    instance_type: 't3.micro',
    subnet_id: 'subnet-1',
    communicator: 'none',
    ami_name: 'web-1',
    ami_description: 'built from {{ .SourceAMIName }}',
    ami_regions: ['eu-west-1', 'us-east-1'],
    tags: { 'Name': 'web', 'Base': '{{ .SourceAMI }}', '{{ .BuildRegion }}': 'region-key' },
    snapshot_tags: { Snap: 'yes' },
    run_tags: { Role: 'builder' },
    run_volume_tags: { Volume: 'build-{{ .SourceAMIName | clean_resource_name }}' },
    temporary_security_group_source_cidrs: ['198.51.100.0/24'],
    ...extra,
  };
}

interface Run {
  readonly t: TestEnvironment;
  readonly artifact?: AmiArtifact;
  readonly error?: Error;
}

interface RunOptions {
  readonly provision?: ProvisionHook;
  readonly signal?: AbortSignal;
  readonly templateJson?: unknown;
}

async function run(extra: Record<string, unknown> = {}, opts: RunOptions = {}): Promise<Run> {
  const t = testEnvironment({ cwd: scratch(), signal: opts.signal, buildType: 'amazon-ebs' });
  const env = { ...t.env, build: { name: 'test', type: 'amazon-ebs', templateJson: opts.templateJson ?? TEMPLATE } as PreparedBuild };
  let artifact: AmiArtifact | undefined;
  let error: Error | undefined;
  try {
    artifact = await runAmazonEbs(env, config(extra), opts.provision ?? (async () => {}), FAST) as AmiArtifact | undefined;
  } catch (e) {
    error = e as Error;
  }
  // The engine unwinds the build's cleanups whatever happened.
  await t.cleanups.unwind();
  return { t, artifact, error };
}

/** The cleanup calls made, in order, as `Command target`. */
async function cleanupCalls(ec2: AwsClientStub<EC2Client>): Promise<string[]> {
  return (await callsOf(ec2)).filter((c) => CLEANUP_COMMANDS.has(c.command)).map((c) => {
    const i = c.input as { InstanceIds?: string[]; GroupId?: string; KeyName?: string; ImageId?: string; SnapshotId?: string };
    const target = i.InstanceIds?.[0] ?? i.GroupId ?? (i.KeyName?.startsWith('packer_') ? 'temporary key' : i.KeyName) ?? i.ImageId ?? i.SnapshotId;
    return `${c.command} ${target} (${c.region})`;
  });
}

const INSTANCE_GONE = [`TerminateInstances ${INSTANCE} (us-east-1)`, `DeleteSecurityGroup ${GROUP} (us-east-1)`, 'DeleteKeyPair temporary key (us-east-1)'];
const GROUP_AND_KEY = [`DeleteSecurityGroup ${GROUP} (us-east-1)`, 'DeleteKeyPair temporary key (us-east-1)'];

let ec2: AwsClientStub<EC2Client>;
beforeEach(() => {
  ec2 = mockEc2();
});
afterEach(() => ec2.restore());

describe('amazon-ebs step logic (mocked EC2 client; AWS is not reachable from the test machines)', () => {
  test('the happy path makes Packer\'s API calls in order, with their parameters, and cleans up the instance, group and key', async () => {
    const { artifact, error } = await run();
    expect(error).toBeUndefined();
    const calls = await callsOf(ec2);
    const keyName = (calls.find((c) => c.command === 'CreateKeyPair')!.input.KeyName as string);
    const groupName = (calls.find((c) => c.command === 'CreateSecurityGroup')!.input.GroupName as string);
    expect(keyName).toMatch(/^packer_[0-9a-f-]{36}$/);
    expect(groupName).toMatch(/^packer_[0-9a-f-]{36}$/);
    const fingerprint = templateFingerprint(TEMPLATE);
    expect(calls.map((c) => [c.command, c.region, c.input])).toEqual([
      ['DescribeRegions', 'us-east-1', {}],
      ['DescribeImages', 'us-east-1', { Filters: [{ Name: 'name', Values: ['web-1'] }] }],
      ['DescribeImages', 'us-east-1', { Owners: ['099720109477'], Filters: [{ Name: 'name', Values: ['ubuntu/images/*'] }] }],
      ['DescribeSubnets', 'us-east-1', { SubnetIds: ['subnet-1'] }],
      ['CreateKeyPair', 'us-east-1', { KeyName: keyName }],
      ['CreateSecurityGroup', 'us-east-1', { GroupName: groupName, Description: 'Temporary group for a Kiln build', VpcId: 'vpc-1' }],
      ['AuthorizeSecurityGroupIngress', 'us-east-1', {
        GroupId: GROUP,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '198.51.100.0/24' }] }],
      }],
      ['RunInstances', 'us-east-1', {
        ImageId: SOURCE_AMI.ImageId,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        KeyName: keyName,
        InstanceInitiatedShutdownBehavior: 'stop',
        SubnetId: 'subnet-1',
        SecurityGroupIds: [GROUP],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'Role', Value: 'builder' }, { Key: 'Name', Value: 'Packer Builder' }] },
          // clean_resource_name is the amazon one: case and `/` kept.
          { ResourceType: 'volume', Tags: [{ Key: 'Volume', Value: 'build-ubuntu/images/focal-20260101' }] },
        ],
      }],
      ['DescribeInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['DescribeInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['StopInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['DescribeInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['DescribeInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['CreateImage', 'us-east-1', { InstanceId: INSTANCE, Name: 'web-1', Description: `built from ${SOURCE_AMI.Name}` }],
      ['DescribeImages', 'us-east-1', { ImageIds: [NEW_AMI] }],
      ['CopyImage', 'eu-west-1', { SourceRegion: 'us-east-1', SourceImageId: NEW_AMI, Name: 'web-1' }],
      ['DescribeImages', 'eu-west-1', { ImageIds: [COPY_AMI] }],
      ['CreateTags', 'us-east-1', {
        Resources: [NEW_AMI],
        Tags: [
          { Key: 'Name', Value: 'web' }, { Key: 'Base', Value: SOURCE_AMI.ImageId }, { Key: 'us-east-1', Value: 'region-key' },
          { Key: FINGERPRINT_TAG, Value: fingerprint },
        ],
      }],
      ['CreateTags', 'us-east-1', { Resources: ['snap-new0001'], Tags: [{ Key: 'Snap', Value: 'yes' }, { Key: FINGERPRINT_TAG, Value: fingerprint }] }],
      ['CreateTags', 'eu-west-1', {
        Resources: [COPY_AMI],
        Tags: [
          { Key: 'Name', Value: 'web' }, { Key: 'Base', Value: SOURCE_AMI.ImageId }, { Key: 'us-east-1', Value: 'region-key' },
          { Key: FINGERPRINT_TAG, Value: fingerprint },
        ],
      }],
      ['CreateTags', 'eu-west-1', { Resources: ['snap-copy0001'], Tags: [{ Key: 'Snap', Value: 'yes' }, { Key: FINGERPRINT_TAG, Value: fingerprint }] }],
      // Cleanup, newest first: the instance (then wait until it is gone), its group, the key.
      ['TerminateInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['DescribeInstances', 'us-east-1', { InstanceIds: [INSTANCE] }],
      ['DeleteSecurityGroup', 'us-east-1', { GroupId: GROUP }],
      ['DeleteKeyPair', 'us-east-1', { KeyName: keyName }],
    ]);
    expect(artifact!.builderId).toBe('mitchellh.amazonebs');
    expect(artifact!.id).toBe(`eu-west-1:${COPY_AMI},us-east-1:${NEW_AMI}`);
    expect(artifact!.describe()).toBe(`AMIs were created:\neu-west-1: ${COPY_AMI}\nus-east-1: ${NEW_AMI}\n`);
    expect(artifact!.amis).toEqual({ 'us-east-1': NEW_AMI, 'eu-west-1': COPY_AMI });
  });

  test('the artifact\'s destroy deregisters the AMI in every region', async () => {
    const { artifact } = await run();
    ec2.resetHistory();
    await artifact!.destroy();
    expect(await cleanupCalls(ec2)).toEqual([`DeregisterImage ${NEW_AMI} (us-east-1)`, `DeregisterImage ${COPY_AMI} (eu-west-1)`]);
  });

  describe('a failure at each step triggers exactly the cleanups of what was created', () => {
    const cases: Array<[string, () => void, RegExp, string[]]> = [
      ['region validation', () => ec2.on(DescribeRegionsCommand).rejects(new Error('AuthFailure')), /AuthFailure/, []],
      ['an unknown region', () => ec2.on(DescribeRegionsCommand).resolves({ Regions: [{ RegionName: 'us-east-1' }] }), /"eu-west-1" not available/, []],
      ['the AMI name is taken', () => ec2.on(DescribeImagesCommand, { Filters: [{ Name: 'name', Values: ['web-1'] }] }).resolves({ Images: [{ ImageId: 'ami-old', Name: 'web-1' }] }),
        /AMI name "web-1" is used by an existing AMI: ami-old/, []],
      ['no source AMI', () => ec2.on(DescribeImagesCommand, { Owners: ['099720109477'] }).resolves({ Images: [] }), /no AMI was found/, []],
      ['creating the key pair', () => ec2.on(CreateKeyPairCommand).rejects(new Error('KeyPairLimitExceeded')), /KeyPairLimitExceeded/, []],
      ['creating the security group', () => ec2.on(CreateSecurityGroupCommand).rejects(new Error('SecurityGroupLimitExceeded')), /SecurityGroupLimitExceeded/,
        ['DeleteKeyPair temporary key (us-east-1)']],
      ['opening the ssh port', () => ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(new Error('InvalidPermission.Malformed')), /InvalidPermission/, GROUP_AND_KEY],
      ['launching the instance', () => ec2.on(RunInstancesCommand).rejects(new Error('InsufficientInstanceCapacity')), /InsufficientInstanceCapacity/, GROUP_AND_KEY],
      ['the instance dies while starting', () => ec2.on(DescribeInstancesCommand).resolves(instance('terminated')), /entered state "terminated"/, INSTANCE_GONE],
      ['stopping the instance', () => ec2.on(StopInstancesCommand).rejects(new Error('IncorrectInstanceState')), /IncorrectInstanceState/, INSTANCE_GONE],
      ['creating the AMI', () => ec2.on(CreateImageCommand).rejects(new Error('InvalidAMIName.Duplicate')), /InvalidAMIName.Duplicate/, INSTANCE_GONE],
      ['the AMI fails', () => ec2.on(DescribeImagesCommand, { ImageIds: [NEW_AMI] }).resolves({
        Images: [{ ImageId: NEW_AMI, State: 'failed', StateReason: { Message: 'boom' }, BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-new0001' } }] }],
      }), /AMI ami-new00000000000001 failed: boom/,
      [`TerminateInstances ${INSTANCE} (us-east-1)`, `DeregisterImage ${NEW_AMI} (us-east-1)`, 'DeleteSnapshot snap-new0001 (us-east-1)', ...GROUP_AND_KEY]],
      ['copying the AMI', () => ec2.on(CopyImageCommand).rejects(new Error('InvalidRegion')), /InvalidRegion/,
        [`TerminateInstances ${INSTANCE} (us-east-1)`, `DeregisterImage ${NEW_AMI} (us-east-1)`, 'DeleteSnapshot snap-new0001 (us-east-1)', ...GROUP_AND_KEY]],
      ['tagging', () => ec2.on(CreateTagsCommand).rejects(new Error('TagLimitExceeded')), /TagLimitExceeded/, [
        `TerminateInstances ${INSTANCE} (us-east-1)`,
        `DeregisterImage ${COPY_AMI} (eu-west-1)`, 'DeleteSnapshot snap-copy0001 (eu-west-1)',
        `DeregisterImage ${NEW_AMI} (us-east-1)`, 'DeleteSnapshot snap-new0001 (us-east-1)',
        ...GROUP_AND_KEY,
      ]],
    ];
    test.each(cases)('%s', async (_step, breakIt, message, expected) => {
      breakIt();
      const { error } = await run();
      expect(error?.message).toMatch(message);
      const cleanups = await cleanupCalls(ec2);
      // The instance cleanup comes first (newest), then whatever was made before it, in reverse.
      expect([...cleanups].sort()).toEqual([...expected].sort());
      if (expected.length) expect(cleanups[cleanups.length - 1]).toBe(expected[expected.length - 1]);
    });

    test('copies run in parallel; when one region fails, the copy that was made is removed with the rest', async () => {
      let inFlight = 0;
      let most = 0;
      ec2.on(CopyImageCommand).callsFake(async (_input: unknown, getClient: () => EC2Client) => {
        const region = await getClient().config.region();
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        if (region === 'ap-south-1') throw new Error('InvalidRegion: ap-south-1 is not enabled for this account');
        return { ImageId: COPY_AMI };
      });
      const { error } = await run({ ami_regions: ['eu-west-1', 'ap-south-1'], skip_region_validation: true });
      expect(error?.message).toMatch(/InvalidRegion: ap-south-1/);
      expect(most).toBe(2);
      expect([...await cleanupCalls(ec2)].sort()).toEqual([
        `TerminateInstances ${INSTANCE} (us-east-1)`,
        `DeregisterImage ${COPY_AMI} (eu-west-1)`, 'DeleteSnapshot snap-copy0001 (eu-west-1)',
        `DeregisterImage ${NEW_AMI} (us-east-1)`, 'DeleteSnapshot snap-new0001 (us-east-1)',
        ...GROUP_AND_KEY,
      ].sort());
    });

    test('a failing provisioner', async () => {
      const { error } = await run({}, { provision: async () => { throw new Error('Script exited with non-zero exit status: 1'); } });
      expect(error?.message).toMatch(/non-zero exit status/);
      expect(await cleanupCalls(ec2)).toEqual(INSTANCE_GONE);
    });
  });

  describe('cancellation (AbortSignal) mid-build triggers cleanup', () => {
    test('cancelled while waiting for the instance to run: the instance, group and key are removed', async () => {
      const ac = new AbortController();
      ec2.on(DescribeInstancesCommand).callsFake(() => {
        setTimeout(() => ac.abort(new Error('build cancelled')), 5);
        return instance('pending');
      });
      const { error } = await run({}, { signal: ac.signal });
      expect(error?.message).toBe('build cancelled');
      expect(await cleanupCalls(ec2)).toEqual(INSTANCE_GONE);
    });

    test('cancelled while provisioning: the instance is terminated and nothing else is created', async () => {
      const ac = new AbortController();
      const { error } = await run({}, { signal: ac.signal, provision: async () => { ac.abort(new Error('build cancelled')); } });
      expect(error?.message).toBe('build cancelled');
      const commands = (await callsOf(ec2)).map((c) => c.command);
      expect(commands).not.toContain('StopInstances');
      expect(commands).not.toContain('CreateImage');
      expect(await cleanupCalls(ec2)).toEqual(INSTANCE_GONE);
    });

    test('cancelled while waiting for the AMI: the AMI and its snapshots are removed too', async () => {
      const ac = new AbortController();
      ec2.on(DescribeImagesCommand, { ImageIds: [NEW_AMI] }).callsFake(() => {
        setTimeout(() => ac.abort(new Error('build cancelled')), 5);
        return { Images: [{ ImageId: NEW_AMI, State: 'pending', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-new0001' } }] }] };
      });
      const { error } = await run({}, { signal: ac.signal });
      expect(error?.message).toBe('build cancelled');
      expect(await cleanupCalls(ec2)).toEqual([
        `DeregisterImage ${NEW_AMI} (us-east-1)`, 'DeleteSnapshot snap-new0001 (us-east-1)', ...INSTANCE_GONE,
      ]);
    });
  });

  describe('the fingerprint tag', () => {
    async function fingerprintTags(): Promise<string[]> {
      return (await callsOf(ec2)).filter((c) => c.command === 'CreateTags')
        .map((c) => ((c.input.Tags as { Key: string; Value: string }[]).find((t) => t.Key === FINGERPRINT_TAG)?.Value ?? '<none>'));
    }

    test('is the one in the template\'s tags when a synthesized template carries it, on AMIs and snapshots', async () => {
      const { error } = await run({ tags: { Name: 'web', [FINGERPRINT_TAG]: 'f'.repeat(64) } });
      expect(error).toBeUndefined();
      expect(await fingerprintTags()).toEqual(['f'.repeat(64), 'f'.repeat(64), 'f'.repeat(64), 'f'.repeat(64)]);
    });

    test('is computed from the template being built when its tags lack it, even with no tags at all', async () => {
      const template = { builders: [{ type: 'amazon-ebs', ami_name: 'other' }], provisioners: [{ type: 'shell', inline: ['true'] }] };
      const { error } = await run({ tags: undefined, snapshot_tags: undefined, ami_regions: [] }, { templateJson: template });
      expect(error).toBeUndefined();
      expect(await fingerprintTags()).toEqual([templateFingerprint(template), templateFingerprint(template)]);
    });
  });

  describe('other paths', () => {
    test('an explicit source_ami, an existing security group and a password: no key pair and no group are created', async () => {
      const { error } = await run({ source_ami: SOURCE_AMI.ImageId, source_ami_filter: undefined, security_group_ids: ['sg-given'], ssh_password: 'pw', ami_regions: [] });
      expect(error).toBeUndefined();
      const calls = await callsOf(ec2);
      expect(calls.find((c) => c.command === 'DescribeImages' && c.input.ImageIds)?.input).toEqual({ ImageIds: [SOURCE_AMI.ImageId] });
      expect(calls.map((c) => c.command)).not.toContain('CreateKeyPair');
      expect(calls.map((c) => c.command)).not.toContain('CreateSecurityGroup');
      expect(calls.find((c) => c.command === 'RunInstances')?.input).toMatchObject({ SecurityGroupIds: ['sg-given'] });
      expect(calls.find((c) => c.command === 'RunInstances')?.input.KeyName).toBeUndefined();
      expect(await cleanupCalls(ec2)).toEqual([`TerminateInstances ${INSTANCE} (us-east-1)`]);
    });

    test('a filter that matches several AMIs without most_recent fails before anything is created', async () => {
      const { error } = await run({ source_ami_filter: { filters: { name: 'ubuntu/*' }, owners: ['099720109477'] } });
      expect(error?.message).toMatch(/matched more than one AMI/);
      expect(await cleanupCalls(ec2)).toEqual([]);
    });

    test('skip_region_validation skips DescribeRegions; force_deregister replaces an AMI of the same name and its snapshots', async () => {
      ec2.on(DescribeImagesCommand, { Owners: ['self'] }).resolves({ Images: [{ ImageId: 'ami-old', Name: 'web-1', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-old' } }] }] });
      const { error } = await run({ skip_region_validation: true, force_deregister: true, force_delete_snapshot: true, ami_regions: [] });
      expect(error).toBeUndefined();
      const commands = (await callsOf(ec2)).map((c) => c.command);
      expect(commands).not.toContain('DescribeRegions');
      expect(commands.slice(commands.indexOf('StopInstances'), commands.indexOf('CreateImage') + 1))
        .toEqual(['StopInstances', 'DescribeInstances', 'DescribeInstances', 'DescribeImages', 'DeregisterImage', 'DeleteSnapshot', 'CreateImage']);
    });

    test('encrypt_boot copies the AMI encrypted within the build region and removes the unencrypted one', async () => {
      const { artifact, error } = await run({ encrypt_boot: true, kms_key_id: 'alias/images', ami_regions: [] });
      expect(error).toBeUndefined();
      const calls = await callsOf(ec2);
      expect(calls.find((c) => c.command === 'CopyImage')).toMatchObject({
        region: 'us-east-1', input: { SourceRegion: 'us-east-1', SourceImageId: NEW_AMI, Encrypted: true, KmsKeyId: 'alias/images' },
      });
      expect(await cleanupCalls(ec2)).toEqual([`DeregisterImage ${NEW_AMI} (us-east-1)`, 'DeleteSnapshot snap-new0001 (us-east-1)', ...INSTANCE_GONE]);
      expect(artifact!.amis).toEqual({ 'us-east-1': COPY_AMI });
    });

    test('options Kiln cannot carry out are refused with a clear message before any AWS call', async () => {
      const { error } = await run({ spot_price: 'auto', ami_users: ['123456789012'] });
      expect(error?.message).toBe('Kiln\'s amazon-ebs builder cannot build with "spot_price", "ami_users" yet; remove them or build this template with Packer');
      expect(ec2.calls()).toHaveLength(0);
    });

    test('skip_create_ami provisions and cleans up but makes no AMI', async () => {
      const { artifact, error } = await run({ skip_create_ami: true });
      expect(error).toBeUndefined();
      expect(artifact).toBeUndefined();
      const commands = (await callsOf(ec2)).map((c) => c.command);
      expect(commands).not.toContain('StopInstances');
      expect(commands).not.toContain('CreateImage');
      expect(await cleanupCalls(ec2)).toEqual(INSTANCE_GONE);
    });
  });
});
