import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type * as Ec2 from '@aws-sdk/client-ec2';
import { blockDeviceProblem, ec2BlockDevice, readAmiFilter, readBlockDevices, readNameValueFilter, readTagBlocks } from './config';
import { Ec2Api, Ec2Factory, sdkEc2 } from './ec2';
import { sleep } from '../../../engine/build';
import type { Artifact, BuilderRuntime, BuildEnvironment, Communicator, GeneratedData, ProvisionHook } from '../../../engine/types';
import { FINGERPRINT_TAG, templateFingerprint } from '../../../template/fingerprint';
import * as interpolate from '../../../template/interpolate';
import { parseDuration } from '../../../template/schema';
import { connectSsh, SshConfig, sshPlan } from '../../communicators/ssh';
import { parsePrivateKey } from '../../communicators/ssh/connect';
import { shellQuote } from '../../shell-quote';
import { NO_HTTP } from '../generated-data';

/** Packer's id for artifacts of the amazon-ebs builder. */
export const AMAZON_EBS_BUILDER_ID = 'mitchellh.amazonebs';

type Config = Readonly<Record<string, unknown>>;

/** What tests (and nothing else) change: the EC2 clients and the polling pace. */
export interface AmazonEbsOptions {
  /** Creates the EC2 client of a region; defaults to the AWS SDK with the config's credentials. */
  readonly ec2?: Ec2Factory;
  /** Delay between two polls of a wait; defaults to `aws_polling.delay_seconds`, else 15 s. */
  readonly pollIntervalMs?: number;
  /** Delay before retrying a cleanup call that EC2 refuses for now (a group still in use). */
  readonly retryDelayMs?: number;
}

/** The AMIs a build made, by region: what Packer prints and the manifest records. */
export class AmiArtifact implements Artifact {
  public readonly builderId = AMAZON_EBS_BUILDER_ID;
  public readonly files: readonly string[] = [];

  constructor(
    /** AMI id by region. */
    public readonly amis: Readonly<Record<string, string>>,
    public readonly state: Readonly<Record<string, unknown>>,
    private readonly ec2: Ec2Factory,
  ) {}

  /** `region:ami-…` pairs, sorted, joined by commas (Packer's artifact id). */
  public get id(): string {
    return Object.entries(this.amis).map(([r, a]) => `${r}:${a}`).sort().join(',');
  }

  public describe(): string {
    const lines = Object.entries(this.amis).map(([r, a]) => `${r}: ${a}`).sort();
    return `AMIs were created:\n${lines.join('\n')}\n`;
  }

  public async destroy(): Promise<void> {
    const failures: string[] = [];
    for (const [region, ami] of Object.entries(this.amis)) {
      try {
        await this.ec2(region).deregisterImage({ ImageId: ami });
      } catch (e) {
        failures.push(`${region}: ${ami}: ${(e as Error).message}`);
      }
    }
    if (failures.length) throw new Error(`error deregistering the AMIs: ${failures.join('; ')}`);
  }
}

/** Options Packer 1.6.6 has that Kiln's build cannot carry out yet; refused before anything is created. */
const NOT_RUNNABLE: ReadonlyArray<[string, (c: Config) => boolean]> = [
  ['spot_price', (c) => Boolean(c.spot_price) && c.spot_price !== '0'],
  ['spot_instance_types', (c) => nonEmpty(c.spot_instance_types)],
  ['assume_role', (c) => c.assume_role !== undefined && c.assume_role !== null],
  ['mfa_code', (c) => Boolean(c.mfa_code)],
  ['shared_credentials_file', (c) => Boolean(c.shared_credentials_file)],
  ['decode_authorization_messages', (c) => c.decode_authorization_messages === true],
  ['insecure_skip_tls_verify', (c) => c.insecure_skip_tls_verify === true],
  ['ami_users', (c) => nonEmpty(c.ami_users)],
  ['ami_groups', (c) => nonEmpty(c.ami_groups)],
  ['ami_product_codes', (c) => nonEmpty(c.ami_product_codes)],
  ['snapshot_users', (c) => nonEmpty(c.snapshot_users)],
  ['snapshot_groups', (c) => nonEmpty(c.snapshot_groups)],
  ['ena_support', (c) => c.ena_support !== undefined],
  ['sriov_support', (c) => c.sriov_support === true],
  ['skip_save_build_region', (c) => c.skip_save_build_region === true],
  ['no_ephemeral', (c) => c.no_ephemeral === true],
  ['disable_stop_instance', (c) => c.disable_stop_instance === true],
  ['temporary_iam_instance_profile_policy_document', (c) => c.temporary_iam_instance_profile_policy_document !== undefined],
  ['ssh_interface', (c) => c.ssh_interface === 'session_manager'],
];

function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

function s(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

const show = (v: unknown): string => JSON.stringify(v);

/** Everything the steps share, like Packer's state bag. */
interface BuildState {
  readonly env: BuildEnvironment;
  readonly config: Config;
  readonly ec2: Ec2Api;
  readonly ec2For: Ec2Factory;
  readonly region: string;
  readonly pollMs: number;
  readonly retryDelayMs: number;
  readonly maxAttempts?: number;
  sourceImage?: Ec2.Image;
  subnetId?: string;
  vpcId?: string;
  availabilityZone?: string;
  securityGroupIds?: string[];
  keyName?: string;
  /** The name of the key pair this build created (not one the template names). */
  temporaryKeyName?: string;
  privateKey?: string;
  instance?: Ec2.Instance;
}

/**
 * Polls `probe` until it says done. Interruptible by the build's signal;
 * gives up after `attempts` polls, like the SDK waiters Packer uses.
 */
async function waitFor(st: BuildState, what: string, attempts: number, probe: () => Promise<boolean>): Promise<void> {
  const limit = st.maxAttempts ?? attempts;
  for (let i = 0; i < limit; i++) {
    if (await probe()) return;
    await sleep(st.pollMs, st.env.signal);
  }
  throw new Error(`timed out waiting for ${what} (${limit} attempts)`);
}

function checkAborted(st: BuildState): void {
  if (st.env.signal.aborted) throw st.env.signal.reason instanceof Error ? st.env.signal.reason : new Error('build cancelled');
}

/** The build-time template data of the tag fields (Packer's BuildInfoTemplate). */
function buildInfo(st: BuildState): Record<string, unknown> {
  const img = st.sourceImage ?? {};
  return {
    BuildRegion: st.region,
    SourceAMI: img.ImageId ?? '',
    SourceAMIName: img.Name ?? '',
    SourceAMICreationDate: img.CreationDate ?? '',
    SourceAMIOwner: img.OwnerId ?? '',
    SourceAMIOwnerName: img.ImageOwnerAlias ?? '',
    SourceAMITags: Object.fromEntries((img.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/** Renders a run-time text field with the source-AMI data and the amazon template functions. */
function renderText(st: BuildState, text: string): string {
  return interpolate.render(text, { ...st.env.interpolation, stage: 'builder', data: buildInfo(st), enableCleanResourceName: 'amazon' });
}

/** A map field plus its repeatable block form, both rendered (keys too). */
function renderTags(st: BuildState, mapKey: string, blockKey: string, keyName: 'key' | 'name' = 'key'): Record<string, string> {
  const raw = { ...(st.config[mapKey] as Record<string, string> | undefined ?? {}), ...readTagBlocks(st.config[blockKey], blockKey, keyName) };
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [renderText(st, k), renderText(st, s(v))]));
}

const ec2Tags = (tags: Record<string, string>): Ec2.Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const ec2Filters = (filters: Readonly<Record<string, string>>): Ec2.Filter[] =>
  Object.entries(filters).map(([Name, value]) => ({ Name, Values: value.split(',') }));

/** The fingerprint of the template being built: the tag's value when the template carries it, else computed. */
export function fingerprintOf(config: Config, templateJson: unknown): string | undefined {
  const tags = config.tags as Record<string, unknown> | undefined;
  const given = tags?.[FINGERPRINT_TAG];
  if (typeof given === 'string' && given) return given;
  return templateJson === undefined ? undefined : templateFingerprint(templateJson);
}

async function preValidate(st: BuildState): Promise<void> {
  const { ui } = st.env;
  const c = st.config;
  if (!c.skip_region_validation) {
    const regions = [...new Set([...(c.ami_regions as string[] | undefined ?? []), st.region])];
    const known = new Set(((await st.ec2.describeRegions({})).Regions ?? []).map((r) => r.RegionName));
    const unknown = regions.filter((r) => r && !known.has(r));
    if (unknown.length) throw new Error(`error validating regions: ${unknown.map((r) => show(r)).join(', ')} not available to this account (set "skip_region_validation" to skip this check)`);
  }
  if (c.force_deregister || st.env.force) {
    ui.say('Force deregister is set: not checking that the AMI name is free');
    return;
  }
  const name = s(c.ami_name);
  ui.say(`Prevalidating AMI Name: ${name}`);
  const found = await st.ec2.describeImages({ Filters: [{ Name: 'name', Values: [name] }] });
  const existing = found.Images?.[0];
  if (existing) throw new Error(`AMI name ${show(existing.Name)} is used by an existing AMI: ${existing.ImageId} (set "force_deregister" or use -force to replace it)`);
}

async function sourceAmi(st: BuildState): Promise<void> {
  const { ui } = st.env;
  const c = st.config;
  const filter = readAmiFilter(c.source_ami_filter);
  const input: Ec2.DescribeImagesRequest = c.source_ami
    ? { ImageIds: [s(c.source_ami)] }
    : { Owners: [...filter.owners], ...(Object.keys(filter.filters).length ? { Filters: ec2Filters(filter.filters) } : {}) };
  ui.say('Finding the source AMI...');
  const images = (await st.ec2.describeImages(input)).Images ?? [];
  if (images.length === 0) throw new Error('no AMI was found matching the source AMI parameters');
  if (images.length > 1 && !filter.mostRecent) {
    throw new Error('the source AMI filter matched more than one AMI: narrow the filter or set "most_recent": true');
  }
  const image = [...images].sort((a, b) => Date.parse(b.CreationDate ?? '') - Date.parse(a.CreationDate ?? ''))[0];
  if (image.RootDeviceType && image.RootDeviceType !== 'ebs') {
    throw new Error(`the root device of source AMI ${image.ImageId} is ${image.RootDeviceType}; amazon-ebs needs an EBS-backed AMI`);
  }
  ui.message(`Found Image ID: ${image.ImageId}`);
  st.sourceImage = image;
}

async function networkInfo(st: BuildState): Promise<void> {
  const c = st.config;
  st.vpcId = s(c.vpc_id) || undefined;
  st.subnetId = s(c.subnet_id) || undefined;
  st.availabilityZone = s(c.availability_zone) || undefined;
  const vpcFilter = readNameValueFilter(c.vpc_filter, 'vpc_filter');
  if (!st.vpcId && Object.keys(vpcFilter.filters).length) {
    const vpcs = (await st.ec2.describeVpcs({ Filters: ec2Filters(vpcFilter.filters) })).Vpcs ?? [];
    if (vpcs.length !== 1) throw new Error(`"vpc_filter" must match exactly one VPC, it matched ${vpcs.length}`);
    st.vpcId = vpcs[0].VpcId;
  }
  const subnetFilter = readNameValueFilter(c.subnet_filter, 'subnet_filter');
  if (!st.subnetId && Object.keys(subnetFilter.filters).length) {
    const filters = ec2Filters(subnetFilter.filters);
    if (st.vpcId) filters.push({ Name: 'vpc-id', Values: [st.vpcId] });
    if (st.availabilityZone) filters.push({ Name: 'availability-zone', Values: [st.availabilityZone] });
    const subnets = (await st.ec2.describeSubnets({ Filters: filters })).Subnets ?? [];
    if (subnets.length === 0) throw new Error('"subnet_filter" matched no subnet');
    let subnet = subnets[0];
    if (subnets.length > 1) {
      if (subnetFilter.mostFree) subnet = [...subnets].sort((a, b) => (b.AvailableIpAddressCount ?? 0) - (a.AvailableIpAddressCount ?? 0))[0];
      else if (subnetFilter.random) subnet = subnets[Math.floor(Math.random() * subnets.length)];
      else throw new Error(`"subnet_filter" matched ${subnets.length} subnets: narrow it or set "most_free" or "random"`);
    }
    st.subnetId = subnet.SubnetId;
    st.vpcId = subnet.VpcId;
    st.availabilityZone = subnet.AvailabilityZone;
  }
  if (st.subnetId && !st.vpcId) {
    const subnet = ((await st.ec2.describeSubnets({ SubnetIds: [st.subnetId] })).Subnets ?? [])[0];
    st.vpcId = subnet?.VpcId;
    st.availabilityZone ??= subnet?.AvailabilityZone;
  }
  const groups = [...(c.security_group_ids as string[] | undefined ?? []), ...(c.security_group_id ? [s(c.security_group_id)] : [])];
  const sgFilter = readNameValueFilter(c.security_group_filter, 'security_group_filter');
  if (groups.length === 0 && Object.keys(sgFilter.filters).length) {
    const filters = ec2Filters(sgFilter.filters);
    if (st.vpcId) filters.push({ Name: 'vpc-id', Values: [st.vpcId] });
    const found = (await st.ec2.describeSecurityGroups({ Filters: filters })).SecurityGroups ?? [];
    if (found.length === 0) throw new Error('"security_group_filter" matched no security group');
    groups.push(...found.map((g) => g.GroupId ?? ''));
  }
  st.securityGroupIds = groups;
}

async function keyPair(st: BuildState): Promise<void> {
  const { ui, cleanups } = st.env;
  const c = st.config;
  if (c.ssh_private_key_file) {
    ui.say('Using existing SSH private key');
    st.keyName = s(c.ssh_keypair_name) || undefined;
    return;
  }
  if (c.ssh_agent_auth) {
    ui.say(c.ssh_keypair_name ? `Using SSH Agent for existing key pair ${c.ssh_keypair_name}` : 'Using SSH Agent with key pair in source AMI');
    st.keyName = s(c.ssh_keypair_name) || undefined;
    return;
  }
  if (c.ssh_password) {
    ui.say('Not using a temporary key pair: the ssh password is used');
    return;
  }
  const type = s(c.temporary_key_pair_type) || 'rsa';
  if (type !== 'rsa' && type !== 'ed25519') throw new Error(`"temporary_key_pair_type" ${show(type)}: EC2 creates only "rsa" and "ed25519" key pairs`);
  const name = s(c.temporary_key_pair_name) || `packer_${randomUUID()}`;
  ui.say(`Creating temporary key pair: ${name}`);
  const created = await st.ec2.createKeyPair({ KeyName: name, ...(type === 'ed25519' ? { KeyType: 'ed25519' } : {}) });
  cleanups.defer(`temporary key pair ${name}`, async () => {
    ui.say('Deleting temporary key pair...');
    try {
      await st.ec2.deleteKeyPair({ KeyName: name });
    } catch (e) {
      ui.error(`Error deleting temporary key pair ${name}; delete it by hand: ${(e as Error).message}`);
    }
  });
  st.keyName = name;
  st.temporaryKeyName = name;
  st.privateKey = created.KeyMaterial;
}

function sshPort(c: Config): number {
  return c.communicator === 'winrm' ? Number(c.winrm_port) || 5985 : Number(c.ssh_port) || 22;
}

async function securityGroup(st: BuildState): Promise<void> {
  const { ui, cleanups } = st.env;
  const c = st.config;
  if ((st.securityGroupIds ?? []).length > 0) {
    ui.say('Using the given security groups');
    return;
  }
  const name = `packer_${randomUUID()}`;
  ui.say(`Creating temporary security group for this instance: ${name}`);
  const created = await st.ec2.createSecurityGroup({ GroupName: name, Description: 'Temporary group for a Kiln build', ...(st.vpcId ? { VpcId: st.vpcId } : {}) });
  const groupId = created.GroupId ?? '';
  cleanups.defer(`temporary security group ${groupId}`, async () => {
    ui.say('Deleting temporary security group...');
    // The group stays in use until the instance is gone; EC2 answers DependencyViolation meanwhile.
    for (let attempt = 1; ; attempt++) {
      try {
        await st.ec2.deleteSecurityGroup({ GroupId: groupId });
        return;
      } catch (e) {
        if ((e as { name?: string }).name === 'DependencyViolation' && attempt < 10) {
          await new Promise((r) => setTimeout(r, st.retryDelayMs));
          continue;
        }
        ui.error(`Error deleting security group ${groupId}; delete it by hand: ${(e as Error).message}`);
        return;
      }
    }
  });
  st.securityGroupIds = [groupId];
  const cidrs = (c.temporary_security_group_source_cidrs as string[] | undefined)?.length ? c.temporary_security_group_source_cidrs as string[] : ['0.0.0.0/0'];
  const port = sshPort(c);
  ui.say(`Authorizing access to port ${port} from ${cidrs.join(', ')} in the temporary security group...`);
  await st.ec2.authorizeSecurityGroupIngress({
    GroupId: groupId,
    IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: cidrs.map((CidrIp) => ({ CidrIp })) }],
  });
}

async function describeInstance(st: BuildState, id: string): Promise<Ec2.Instance | undefined> {
  const out = await st.ec2.describeInstances({ InstanceIds: [id] });
  return out.Reservations?.[0]?.Instances?.[0];
}

async function runInstance(st: BuildState): Promise<void> {
  const { ui, cleanups, interpolation } = st.env;
  const c = st.config;
  let userData = s(c.user_data);
  if (c.user_data_file) userData = fs.readFileSync(path.resolve(interpolation.cwd ?? process.cwd(), s(c.user_data_file)), 'utf8');
  const runTags = renderTags(st, 'run_tags', 'run_tag');
  if (!('Name' in runTags)) runTags.Name = 'Packer Builder';
  const volumeTags = renderTags(st, 'run_volume_tags', 'run_volume_tag', 'name');
  const devices = readBlockDevices(c.launch_block_device_mappings, 'launch_block_device_mappings').map(ec2BlockDevice);
  const placement: Ec2.Placement = {
    ...(st.availabilityZone && !st.subnetId ? { AvailabilityZone: st.availabilityZone } : {}),
    ...(c.tenancy ? { Tenancy: s(c.tenancy) as Ec2.Tenancy } : {}),
  };
  const publicIp = c.associate_public_ip_address;
  const input: Ec2.RunInstancesRequest = {
    ImageId: st.sourceImage?.ImageId,
    InstanceType: s(c.instance_type) as Ec2._InstanceType,
    MinCount: 1,
    MaxCount: 1,
    ...(st.keyName ? { KeyName: st.keyName } : {}),
    ...(userData ? { UserData: Buffer.from(userData).toString('base64') } : {}),
    ...(c.iam_instance_profile ? { IamInstanceProfile: { Name: s(c.iam_instance_profile) } } : {}),
    ...(devices.length ? { BlockDeviceMappings: devices as Ec2.BlockDeviceMapping[] } : {}),
    ...(Object.keys(placement).length ? { Placement: placement } : {}),
    InstanceInitiatedShutdownBehavior: (s(c.shutdown_behavior) || 'stop') as Ec2.ShutdownBehavior,
    ...(c.ebs_optimized ? { EbsOptimized: true } : {}),
    ...(c.enable_t2_unlimited ? { CreditSpecification: { CpuCredits: 'unlimited' } } : {}),
    // A public address can only be asked for on a network interface, which then carries subnet and groups.
    ...(publicIp === true && st.subnetId
      ? {
        NetworkInterfaces: [{
          DeviceIndex: 0, AssociatePublicIpAddress: true, DeleteOnTermination: true, SubnetId: st.subnetId, Groups: st.securityGroupIds,
        }],
      }
      : { ...(st.subnetId ? { SubnetId: st.subnetId } : {}), SecurityGroupIds: st.securityGroupIds }),
    TagSpecifications: [
      { ResourceType: 'instance', Tags: ec2Tags(runTags) },
      ...(Object.keys(volumeTags).length ? [{ ResourceType: 'volume' as const, Tags: ec2Tags(volumeTags) }] : []),
    ],
  };
  ui.say('Launching a source AWS instance...');
  const reservation = await st.ec2.runInstances(input);
  const id = reservation.Instances?.[0]?.InstanceId;
  if (!id) throw new Error('EC2 started no instance');
  cleanups.defer(`EC2 instance ${id}`, async () => {
    ui.say('Terminating the source AWS instance...');
    try {
      await st.ec2.terminateInstances({ InstanceIds: [id] });
      // Cleanup must finish even when the build was cancelled: poll without the build's signal.
      const quiet = { ...st, env: { ...st.env, signal: new AbortController().signal } };
      await waitFor(quiet, `instance ${id} to terminate`, 40, async () => (await describeInstance(st, id))?.State?.Name === 'terminated');
    } catch (e) {
      ui.error(`Error terminating instance ${id}; terminate it by hand: ${(e as Error).message}`);
    }
  });
  ui.message(`Instance ID: ${id}`);
  ui.say(`Waiting for instance (${id}) to become ready...`);
  await waitFor(st, `instance ${id} to run`, 40, async () => {
    const inst = await describeInstance(st, id);
    const state = inst?.State?.Name;
    if (state === 'running') {
      st.instance = inst;
      return true;
    }
    if (state === 'terminated' || state === 'shutting-down' || state === 'stopped' || state === 'stopping') {
      throw new Error(`instance ${id} entered state ${show(state)} while starting${inst?.StateReason?.Message ? `: ${inst.StateReason.Message}` : ''}`);
    }
    return false;
  });
}

/** The address to connect to, by `ssh_interface` (Packer's SSHHost). */
function hostOf(st: BuildState): string {
  const c = st.config;
  if (c.ssh_host) return s(c.ssh_host);
  const i = st.instance ?? {};
  const byInterface: Record<string, string | undefined> = {
    public_ip: i.PublicIpAddress,
    private_ip: i.PrivateIpAddress,
    public_dns: i.PublicDnsName,
    private_dns: i.PrivateDnsName,
  };
  const chosen = c.ssh_interface ? byInterface[s(c.ssh_interface)] : i.PublicDnsName || i.PublicIpAddress || i.PrivateIpAddress;
  if (!chosen) throw new Error(`instance ${i.InstanceId} has no ${c.ssh_interface ? s(c.ssh_interface).replace('_', ' ') : 'address'} to connect to`);
  return chosen;
}

async function connectAndProvision(st: BuildState, provision: ProvisionHook): Promise<void> {
  const { env, config: c } = st;
  const id = st.instance?.InstanceId ?? '';
  const baseData = { ID: id, PackerRunUUID: env.runId, ...NO_HTTP, ...generatedAmiData(st) };
  const communicator = s(c.communicator) || 'ssh';
  if (communicator === 'none') {
    await provision(undefined, baseData);
    return;
  }
  const host = hostOf(st);
  const cwd = env.interpolation.cwd ?? process.cwd();
  let plan = sshPlan(c as Partial<SshConfig>, cwd, host);
  if (st.privateKey) plan = { ...plan, settings: { ...plan.settings, privateKey: parsePrivateKey(Buffer.from(st.privateKey), 'the temporary key pair') } };
  const pause = c.pause_before_connecting ? parseDuration(s(c.pause_before_connecting)) : 0;
  const comm: Communicator = await connectSsh(env, plan, pause);
  const data: GeneratedData = {
    ...baseData,
    Host: host,
    Port: plan.settings.port,
    User: plan.settings.username,
    Password: s(c.ssh_password),
    ConnType: 'ssh',
    SSHPublicKey: '',
    SSHPrivateKey: st.privateKey ?? '',
    SSHAgentAuth: c.ssh_agent_auth ?? false,
    WinRMPassword: s(c.winrm_password),
  };
  await provision(comm, data);
  await clearTemporaryKey(st, comm);
}

/**
 * Packer's StepCleanupTempKeys: with `ssh_clear_authorized_keys`, the
 * temporary key pair's line is taken out of the SSH user's and root's
 * authorized_keys before the image is made, so that the AMI does not trust
 * a key that is about to be deleted. Failures are shown, not fatal, as in
 * Packer. Packer's pattern only matches RSA keys; this one matches the key
 * pair's line whatever its type (EC2 also makes ed25519 pairs).
 */
async function clearTemporaryKey(st: BuildState, comm: Communicator): Promise<void> {
  const c = st.config;
  if (!c.ssh_clear_authorized_keys || !st.temporaryKeyName) return;
  const { ui, signal } = st.env;
  ui.say('Trying to remove ephemeral keys from authorized_keys files');
  const pattern = `/^ssh-[^ ]* .* ${st.temporaryKeyName.replace(/[\\/.*^$[\]]/g, '\\$&')}$/d`;
  const commands = [
    `sed -i.bak ${shellQuote(pattern)} ~/.ssh/authorized_keys; rm ~/.ssh/authorized_keys.bak`,
    `sudo sed -i.bak ${shellQuote(pattern)} /root/.ssh/authorized_keys; sudo rm /root/.ssh/authorized_keys.bak`,
  ];
  for (const command of commands) {
    try {
      await comm.exec(command, { stdout: (l) => ui.message(l), stderr: (l) => ui.error(l), signal });
    } catch (e) {
      if (signal.aborted) throw e;
      ui.error(`Error cleaning up authorized_keys; remove the key ${st.temporaryKeyName} by hand: ${(e as Error).message}`);
    }
  }
}

function generatedAmiData(st: BuildState): Record<string, unknown> {
  const info = buildInfo(st);
  return {
    SourceAMIName: info.SourceAMIName,
    BuildRegion: info.BuildRegion,
    SourceAMI: info.SourceAMI,
    SourceAMICreationDate: info.SourceAMICreationDate,
    SourceAMIOwner: info.SourceAMIOwner,
    SourceAMIOwnerName: info.SourceAMIOwnerName,
  };
}

async function stopInstance(st: BuildState): Promise<void> {
  const id = st.instance?.InstanceId ?? '';
  st.env.ui.say('Stopping the source instance...');
  await st.ec2.stopInstances({ InstanceIds: [id] });
  st.env.ui.say('Waiting for the instance to stop...');
  await waitFor(st, `instance ${id} to stop`, 40, async () => {
    const state = (await describeInstance(st, id))?.State?.Name;
    if (state === 'terminated') throw new Error(`instance ${id} was terminated while stopping`);
    return state === 'stopped';
  });
}

/** `force_deregister`: removes AMIs of the same name in the build region and the copy regions. */
async function deregisterExisting(st: BuildState, regions: readonly string[]): Promise<void> {
  const c = st.config;
  if (!c.force_deregister && !st.env.force) return;
  for (const region of [st.region, ...regions]) {
    const ec2 = region === st.region ? st.ec2 : st.ec2For(region);
    const images = (await ec2.describeImages({ Owners: ['self'], Filters: [{ Name: 'name', Values: [s(c.ami_name)] }] })).Images ?? [];
    for (const image of images) {
      await ec2.deregisterImage({ ImageId: image.ImageId });
      st.env.ui.say(`Deregistered AMI ${s(c.ami_name)}, id: ${image.ImageId}`);
      if (c.force_delete_snapshot) {
        for (const snap of snapshotsOf(image)) {
          await ec2.deleteSnapshot({ SnapshotId: snap });
          st.env.ui.say(`Deleted snapshot: ${snap}`);
        }
      }
    }
  }
}

function snapshotsOf(image: Ec2.Image): string[] {
  return (image.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((x): x is string => Boolean(x));
}

/**
 * Waits for an AMI and returns it. Until the build succeeds, a failure or a
 * cancellation deregisters it and deletes its snapshots (`owned` is cleared
 * once the artifact is handed over).
 */
async function awaitImage(st: BuildState, ec2: Ec2Api, imageId: string, owned: { done: boolean }): Promise<Ec2.Image> {
  st.env.cleanups.defer(`AMI ${imageId} (${ec2.region})`, async () => {
    if (owned.done) return;
    st.env.ui.say(`Deregistering the AMI ${imageId} and deleting its snapshots because the build did not finish...`);
    try {
      const image = ((await ec2.describeImages({ ImageIds: [imageId] })).Images ?? [])[0];
      await ec2.deregisterImage({ ImageId: imageId });
      for (const snap of image ? snapshotsOf(image) : []) await ec2.deleteSnapshot({ SnapshotId: snap });
    } catch (e) {
      st.env.ui.error(`Error deregistering AMI ${imageId}; remove it by hand: ${(e as Error).message}`);
    }
  });
  st.env.ui.say(`Waiting for AMI ${imageId} to become ready...`);
  let image: Ec2.Image | undefined;
  await waitFor(st, `AMI ${imageId} to become available`, 120, async () => {
    image = ((await ec2.describeImages({ ImageIds: [imageId] })).Images ?? [])[0];
    if (image?.State === 'failed') throw new Error(`AMI ${imageId} failed: ${image.StateReason?.Message ?? 'no reason given'}`);
    return image?.State === 'available';
  });
  return image!;
}

async function createImage(st: BuildState, owned: { done: boolean }): Promise<{ amiId: string; image: Ec2.Image }> {
  const c = st.config;
  const name = s(c.ami_name);
  const id = st.instance?.InstanceId ?? '';
  st.env.ui.say(`Creating AMI ${name} from instance ${id}`);
  const mappings = readBlockDevices(c.ami_block_device_mappings, 'ami_block_device_mappings').map(ec2BlockDevice);
  const description = c.ami_description ? renderText(st, s(c.ami_description)) : undefined;
  const out = await st.ec2.createImage({
    InstanceId: id,
    Name: name,
    ...(description ? { Description: description } : {}),
    ...(mappings.length ? { BlockDeviceMappings: mappings as Ec2.BlockDeviceMapping[] } : {}),
  });
  const amiId = out.ImageId;
  if (!amiId) throw new Error('EC2 returned no AMI id');
  st.env.ui.message(`AMI: ${amiId}`);
  const image = await awaitImage(st, st.ec2, amiId, owned);
  return { amiId, image };
}

type Made = { amiId: string; image: Ec2.Image };

async function copyImage(st: BuildState, region: string, sourceId: string, owned: { done: boolean }, deleteSource = false): Promise<Made> {
  const c = st.config;
  const ec2 = st.ec2For(region);
  const encrypt = c.encrypt_boot === true;
  const kms = region === st.region ? s(c.kms_key_id) : s((c.region_kms_key_ids as Record<string, string> | undefined)?.[region]) || s(c.kms_key_id);
  st.env.ui.message(`Copying AMI ${sourceId} to ${region}${encrypt ? ' (encrypted)' : ''}`);
  const out = await ec2.copyImage({
    SourceRegion: st.region,
    SourceImageId: sourceId,
    Name: s(c.ami_name),
    ...(encrypt ? { Encrypted: true } : {}),
    ...(encrypt && kms ? { KmsKeyId: kms } : {}),
  });
  const amiId = out.ImageId;
  if (!amiId) throw new Error(`EC2 returned no AMI id for the copy to ${region}`);
  const image = await awaitImage(st, ec2, amiId, owned);
  if (deleteSource) {
    // The unencrypted intermediate AMI is replaced by its encrypted copy.
    const source = ((await st.ec2.describeImages({ ImageIds: [sourceId] })).Images ?? [])[0];
    await st.ec2.deregisterImage({ ImageId: sourceId });
    for (const snap of source ? snapshotsOf(source) : []) await st.ec2.deleteSnapshot({ SnapshotId: snap });
  }
  return { amiId, image };
}

async function tagImages(st: BuildState, images: Readonly<Record<string, Ec2.Image>>, fingerprint: string | undefined): Promise<void> {
  const tags = renderTags(st, 'tags', 'tag');
  const snapshotTags = renderTags(st, 'snapshot_tags', 'snapshot_tag');
  if (fingerprint) {
    tags[FINGERPRINT_TAG] = fingerprint;
    snapshotTags[FINGERPRINT_TAG] = fingerprint;
  }
  for (const [region, image] of Object.entries(images)) {
    const ec2 = region === st.region ? st.ec2 : st.ec2For(region);
    st.env.ui.say(`Adding tags to AMI (${image.ImageId}) in ${region}...`);
    if (Object.keys(tags).length) await ec2.createTags({ Resources: [image.ImageId ?? ''], Tags: ec2Tags(tags) });
    const snaps = snapshotsOf(image);
    if (snaps.length && Object.keys(snapshotTags).length) {
      st.env.ui.message(`Tagging snapshots: ${snaps.join(', ')}`);
      await ec2.createTags({ Resources: snaps, Tags: ec2Tags(snapshotTags) });
    }
  }
}

/** Refuses options Kiln cannot carry out, before anything is created. */
function checkRunnable(config: Config): void {
  const used = NOT_RUNNABLE.filter(([, isSet]) => isSet(config)).map(([k]) => k);
  const communicator = s(config.communicator) || 'ssh';
  if (communicator !== 'ssh' && communicator !== 'none') used.push(`communicator ${show(communicator)}`);
  if (used.length) {
    throw new Error(`Kiln's amazon-ebs builder cannot build with ${used.map((u) => (u.startsWith('communicator') ? u : show(u))).join(', ')} yet; remove ${used.length > 1 ? 'them' : 'it'} or build this template with Packer`);
  }
  for (const key of ['launch_block_device_mappings', 'ami_block_device_mappings']) {
    for (const d of readBlockDevices(config[key], key)) {
      const problem = blockDeviceProblem(d);
      if (problem) throw new Error(`${show(key)}: ${problem}`);
    }
  }
}

function pollingOf(config: Config): { delayMs?: number; maxAttempts?: number } {
  const p = config.aws_polling as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') return {};
  const delay = Number(p.delay_seconds);
  const attempts = Number(p.max_attempts);
  return { delayMs: delay > 0 ? delay * 1000 : undefined, maxAttempts: attempts > 0 ? attempts : undefined };
}

/** The whole build, with the EC2 clients and the polling pace given: what tests drive. */
export async function runAmazonEbs(
  env: BuildEnvironment,
  config: Config,
  provision: ProvisionHook,
  options: AmazonEbsOptions = {},
): Promise<Artifact | undefined> {
  checkRunnable(config);
  const ec2For = options.ec2 ?? sdkEc2({
    region: s(config.region) || undefined,
    accessKey: s(config.access_key) || undefined,
    secretKey: s(config.secret_key) || undefined,
    token: s(config.token) || undefined,
    profile: s(config.profile) || undefined,
    endpoint: s(config.custom_endpoint_ec2) || undefined,
    maxRetries: Number(config.max_retries) || 10,
  });
  const ec2 = ec2For(s(config.region) || undefined);
  const polling = pollingOf(config);
  const st: BuildState = {
    env,
    config,
    ec2,
    ec2For,
    region: ec2.region || s(config.region),
    pollMs: options.pollIntervalMs ?? polling.delayMs ?? 15_000,
    retryDelayMs: options.retryDelayMs ?? 5_000,
    maxAttempts: polling.maxAttempts,
  };
  const copyRegions = [...new Set(config.ami_regions as string[] | undefined ?? [])].filter((r) => r && r !== st.region);

  await preValidate(st);
  checkAborted(st);
  await sourceAmi(st);
  checkAborted(st);
  await networkInfo(st);
  checkAborted(st);
  await keyPair(st);
  checkAborted(st);
  await securityGroup(st);
  checkAborted(st);
  await runInstance(st);
  checkAborted(st);
  await connectAndProvision(st, provision);
  checkAborted(st);
  if (config.skip_create_ami === true) {
    env.ui.say('skip_create_ami is set: no AMI is created');
    return undefined;
  }
  await stopInstance(st);
  checkAborted(st);
  await deregisterExisting(st, copyRegions);
  checkAborted(st);

  const owned = { done: false };
  const created = await createImage(st, owned);
  const images: Record<string, Ec2.Image> = {};
  if (config.encrypt_boot === true) {
    env.ui.say('Encrypting the AMI: copying it within the build region with an encrypted boot volume...');
    const encrypted = await copyImage(st, st.region, created.amiId, owned, true);
    images[st.region] = encrypted.image;
  } else {
    images[st.region] = created.image;
  }
  if (copyRegions.length) {
    // All regions at once, as Packer does; every copy is waited for (and, once it exists, registered for
    // removal) before a failure of any of them ends the build.
    env.ui.say(`Copying the AMI to other regions: ${copyRegions.join(', ')}`);
    checkAborted(st);
    const copies = await Promise.allSettled(copyRegions.map((region) => copyImage(st, region, images[st.region].ImageId ?? '', owned)));
    const failed = copies.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) throw failed.reason;
    copies.forEach((c, i) => {
      images[copyRegions[i]] = (c as PromiseFulfilledResult<Made>).value.image;
    });
  }
  checkAborted(st);
  await tagImages(st, images, fingerprintOf(config, env.build.templateJson));
  checkAborted(st);

  owned.done = true;
  const amis = Object.fromEntries(Object.entries(images).map(([r, i]) => [r, i.ImageId ?? '']));
  const generated = { ...generatedAmiData(st), PackerRunUUID: env.runId };
  return new AmiArtifact(amis, { generated_data: generated, amis }, ec2For);
}

/**
 * amazon-ebs as Packer 1.6.6 runs it: check the name and regions, find the
 * source AMI, create a temporary key pair and security group, launch the
 * instance, provision it over SSH, stop it, create the AMI, copy it to the
 * other regions and tag the AMIs and their snapshots. Whatever is created is
 * registered for cleanup the moment it exists.
 */
export const builder: BuilderRuntime = {
  run(env, config, provision) {
    return runAmazonEbs(env, config, provision);
  },
};
