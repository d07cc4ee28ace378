import {
  AuthorizeSecurityGroupIngressCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DescribeSubnetsCommand,
  DescribeInstancesResult,
  EC2Client,
  Image,
  InstanceStateName,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';

/*
 * A scripted EC2 for amazon-ebs tests: AWS cannot be reached from the test
 * machines, so aws-sdk-client-mock answers every EC2Client (in every region)
 * the way EC2 answers a successful build. Tests override single answers to
 * make a step fail.
 */

export const SOURCE_AMI: Image & { ImageId: string; Name: string } = {
  ImageId: 'ami-source0000000001',
  Name: 'ubuntu/images/focal-20260101',
  CreationDate: '2026-01-01T00:00:00.000Z',
  OwnerId: '099720109477',
  RootDeviceType: 'ebs',
  Tags: [{ Key: 'os', Value: 'ubuntu' }],
};
export const OLDER_AMI: Image = { ...SOURCE_AMI, ImageId: 'ami-source0000000000', CreationDate: '2025-01-01T00:00:00.000Z' };
export const NEW_AMI = 'ami-new00000000000001';
export const COPY_AMI = 'ami-copy0000000000001';
export const INSTANCE = 'i-0123456789abcdef0';
export const GROUP = 'sg-0123456789abcdef0';

const image = (ImageId: string, snapshot: string): Image => ({
  ImageId, State: 'available', Name: 'web-1', BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { SnapshotId: snapshot } }],
});

export interface InstanceAddress {
  readonly PublicIpAddress?: string;
  readonly PrivateIpAddress?: string;
  readonly PublicDnsName?: string;
}

export const instance = (state: string, address: InstanceAddress = { PublicIpAddress: '203.0.113.10', PrivateIpAddress: '10.0.0.10' }): DescribeInstancesResult => ({
  Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: state as InstanceStateName }, ...address }] }],
});

/** Scripts a successful build on a fresh mock of every EC2Client. */
export function mockEc2(address?: InstanceAddress): AwsClientStub<EC2Client> {
  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeRegionsCommand).resolves({ Regions: [{ RegionName: 'us-east-1' }, { RegionName: 'eu-west-1' }] });
  ec2.on(DescribeImagesCommand).resolves({ Images: [] });
  ec2.on(DescribeImagesCommand, { Owners: ['099720109477'] }).resolves({ Images: [OLDER_AMI, SOURCE_AMI] });
  ec2.on(DescribeImagesCommand, { ImageIds: [SOURCE_AMI.ImageId] }).resolves({ Images: [SOURCE_AMI] });
  ec2.on(DescribeImagesCommand, { ImageIds: [NEW_AMI] }).resolves({ Images: [image(NEW_AMI, 'snap-new0001')] });
  ec2.on(DescribeImagesCommand, { ImageIds: [COPY_AMI] }).resolves({ Images: [image(COPY_AMI, 'snap-copy0001')] });
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-1', VpcId: 'vpc-1', AvailabilityZone: 'us-east-1a' }] });
  ec2.on(CreateKeyPairCommand).callsFake((input: { KeyName: string }) => ({ KeyName: input.KeyName, KeyMaterial: 'not a real key' }));
  ec2.on(DeleteKeyPairCommand).resolves({});
  ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: GROUP });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({});
  ec2.on(DeleteSecurityGroupCommand).resolves({});
  ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: INSTANCE }] });
  ec2.on(DescribeInstancesCommand)
    .resolvesOnce(instance('pending', address))
    .resolvesOnce(instance('running', address))
    .resolvesOnce(instance('stopping', address))
    .resolvesOnce(instance('stopped', address))
    .resolves(instance('terminated', address));
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(TerminateInstancesCommand).resolves({});
  ec2.on(CreateImageCommand).resolves({ ImageId: NEW_AMI });
  ec2.on(CopyImageCommand).resolves({ ImageId: COPY_AMI });
  ec2.on(DeregisterImageCommand).resolves({});
  ec2.on(DeleteSnapshotCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  return ec2;
}

/** One recorded call: command name without `Command`, its input, and the region of the client that sent it. */
export interface Ec2Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
  readonly region: string;
}

export async function callsOf(ec2: AwsClientStub<EC2Client>): Promise<Ec2Call[]> {
  const out: Ec2Call[] = [];
  for (const call of ec2.calls()) {
    const command = call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
    const client = call.thisValue as EC2Client;
    out.push({ command: command.constructor.name.replace(/Command$/, ''), input: command.input, region: await client.config.region() });
  }
  return out;
}

/** The calls that undo something: what cleanup does. */
export const CLEANUP_COMMANDS = new Set(['TerminateInstances', 'DeleteSecurityGroup', 'DeleteKeyPair', 'DeregisterImage', 'DeleteSnapshot']);
