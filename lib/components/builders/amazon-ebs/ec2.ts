/* eslint-disable @typescript-eslint/no-require-imports */
import type * as Ec2 from '@aws-sdk/client-ec2';

/**
 * The EC2 calls amazon-ebs makes, and nothing more: the build steps talk to
 * this interface so that tests can answer for AWS. `sdkEc2` backs it with
 * the AWS SDK; the SDK is loaded only when a build runs.
 */
export interface Ec2Api {
  readonly region: string;
  describeRegions(input: Ec2.DescribeRegionsRequest): Promise<Ec2.DescribeRegionsResult>;
  describeImages(input: Ec2.DescribeImagesRequest): Promise<Ec2.DescribeImagesResult>;
  describeInstances(input: Ec2.DescribeInstancesRequest): Promise<Ec2.DescribeInstancesResult>;
  describeSubnets(input: Ec2.DescribeSubnetsRequest): Promise<Ec2.DescribeSubnetsResult>;
  describeVpcs(input: Ec2.DescribeVpcsRequest): Promise<Ec2.DescribeVpcsResult>;
  describeSecurityGroups(input: Ec2.DescribeSecurityGroupsRequest): Promise<Ec2.DescribeSecurityGroupsResult>;
  createKeyPair(input: Ec2.CreateKeyPairRequest): Promise<Ec2.KeyPair>;
  deleteKeyPair(input: Ec2.DeleteKeyPairRequest): Promise<unknown>;
  createSecurityGroup(input: Ec2.CreateSecurityGroupRequest): Promise<Ec2.CreateSecurityGroupResult>;
  authorizeSecurityGroupIngress(input: Ec2.AuthorizeSecurityGroupIngressRequest): Promise<unknown>;
  deleteSecurityGroup(input: Ec2.DeleteSecurityGroupRequest): Promise<unknown>;
  runInstances(input: Ec2.RunInstancesRequest): Promise<Ec2.Reservation>;
  stopInstances(input: Ec2.StopInstancesRequest): Promise<unknown>;
  terminateInstances(input: Ec2.TerminateInstancesRequest): Promise<unknown>;
  createImage(input: Ec2.CreateImageRequest): Promise<Ec2.CreateImageResult>;
  copyImage(input: Ec2.CopyImageRequest): Promise<Ec2.CopyImageResult>;
  deregisterImage(input: Ec2.DeregisterImageRequest): Promise<unknown>;
  deleteSnapshot(input: Ec2.DeleteSnapshotRequest): Promise<unknown>;
  createTags(input: Ec2.CreateTagsRequest): Promise<unknown>;
}

/** Where and as whom to call EC2. */
export interface Ec2Access {
  readonly region?: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly token?: string;
  readonly profile?: string;
  readonly endpoint?: string;
  readonly maxRetries?: number;
}

/** Creates the client for one region (the build region, or a region the AMI is copied to). */
export type Ec2Factory = (region?: string) => Ec2Api;

/**
 * EC2 through the AWS SDK v3. Credentials come from `access_key`/`secret_key`
 * when given, else from the SDK's default chain (environment, `profile` or
 * `AWS_PROFILE` in the shared files, SSO, instance roles).
 */
export function sdkEc2(access: Ec2Access): Ec2Factory {
  const sdk = require('@aws-sdk/client-ec2') as typeof Ec2;
  const clients = new Map<string, Ec2Api>();
  return (region) => {
    const key = region ?? access.region ?? '';
    let api = clients.get(key);
    if (api) return api;
    const client = new sdk.EC2Client({
      region: key || undefined,
      endpoint: access.endpoint || undefined,
      maxAttempts: access.maxRetries && access.maxRetries > 0 ? access.maxRetries : undefined,
      profile: access.profile || undefined,
      credentials: access.accessKey && access.secretKey
        ? { accessKeyId: access.accessKey, secretAccessKey: access.secretKey, sessionToken: access.token || undefined }
        : undefined,
    });
    // Each method sends its command; the interface above holds the precise types.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const call = (Command: new (input: any) => unknown) => async (input: unknown): Promise<any> => {
      try {
        return await client.send(new Command(input) as never);
      } catch (e) {
        throw explainSdkError(e, Command.name.replace(/Command$/, ''), key);
      }
    };
    api = {
      region: key,
      describeRegions: call(sdk.DescribeRegionsCommand),
      describeImages: call(sdk.DescribeImagesCommand),
      describeInstances: call(sdk.DescribeInstancesCommand),
      describeSubnets: call(sdk.DescribeSubnetsCommand),
      describeVpcs: call(sdk.DescribeVpcsCommand),
      describeSecurityGroups: call(sdk.DescribeSecurityGroupsCommand),
      createKeyPair: call(sdk.CreateKeyPairCommand),
      deleteKeyPair: call(sdk.DeleteKeyPairCommand),
      createSecurityGroup: call(sdk.CreateSecurityGroupCommand),
      authorizeSecurityGroupIngress: call(sdk.AuthorizeSecurityGroupIngressCommand),
      deleteSecurityGroup: call(sdk.DeleteSecurityGroupCommand),
      runInstances: call(sdk.RunInstancesCommand),
      stopInstances: call(sdk.StopInstancesCommand),
      terminateInstances: call(sdk.TerminateInstancesCommand),
      createImage: call(sdk.CreateImageCommand),
      copyImage: call(sdk.CopyImageCommand),
      deregisterImage: call(sdk.DeregisterImageCommand),
      deleteSnapshot: call(sdk.DeleteSnapshotCommand),
      createTags: call(sdk.CreateTagsCommand),
    };
    clients.set(key, api);
    return api;
  };
}

/**
 * Turns the SDK's terse failures into a cause a user can act on: missing
 * credentials, an unreachable endpoint, or EC2's own error with the call that
 * got it. Other errors pass through unchanged.
 */
export function explainSdkError(e: unknown, operation: string, region: string): unknown {
  if (!(e instanceof Error)) return e;
  const where = region ? ` in ${region}` : '';
  let message: string | undefined;
  if (e.name === 'CredentialsProviderError') {
    message = 'no AWS credentials: set "access_key" and "secret_key", or "profile", or AWS_ACCESS_KEY_ID and '
      + `AWS_SECRET_ACCESS_KEY (the SDK's default chain found none: ${e.message})`;
  } else if (['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH'].includes((e as NodeJS.ErrnoException).code ?? '')) {
    message = `cannot reach EC2${where} (${(e as NodeJS.ErrnoException).code}): check the network, "region" and "custom_endpoint_ec2"`;
  } else if ((e as { $metadata?: unknown }).$metadata !== undefined && e.name && e.name !== 'Error') {
    message = `EC2 ${operation}${where} failed: ${e.name}: ${e.message}`;
  }
  if (!message) return e;
  const wrapped = new Error(message, { cause: e });
  // Keep the SDK's name (tests and retries look at it).
  Object.defineProperty(wrapped, 'name', { value: e.name });
  return wrapped;
}
