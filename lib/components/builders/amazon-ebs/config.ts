import * as net from 'net';

/**
 * Reading the nested options of amazon-ebs (filters, block devices, tag
 * blocks) the way Packer's weak decoding does, and checking them with
 * Packer 1.6.6's prepare-time rules. Pure: the declaration uses it at
 * validate, the runtime to build its EC2 requests.
 */

type Json = Record<string, unknown>;

/** The value kinds of the nested options' keys. */
type NestedKind = 'string' | 'boolean' | 'integer' | 'string-list' | 'string-map';

/**
 * The keys of each nested option, with their kinds: what the readers below
 * accept, and (through `nestedPropType`) the type of the construct prop.
 */
export const NESTED_SHAPES = {
  source_ami_filter: { filters: 'string-map', owners: 'string-list', most_recent: 'boolean' },
  subnet_filter: { filters: 'string-map', most_free: 'boolean', random: 'boolean' },
  filter: { filters: 'string-map' },
  block_device: {
    device_name: 'string',
    volume_size: 'integer',
    volume_type: 'string',
    iops: 'integer',
    throughput: 'integer',
    delete_on_termination: 'boolean',
    encrypted: 'boolean',
    kms_key_id: 'string',
    snapshot_id: 'string',
    virtual_name: 'string',
    no_device: 'boolean',
  },
  tag: { key: 'string', value: 'string' },
  named_tag: { name: 'string', value: 'string' },
} as const satisfies Record<string, Record<string, NestedKind>>;

const TS_TYPES: Record<NestedKind, string> = {
  'string': 'string', 'boolean': 'boolean', 'integer': 'number', 'string-list': 'string[]', 'string-map': 'Record<string, string>',
};

/** The TypeScript type of a nested option's construct prop: an object, or a list of them. */
export function nestedPropType(shape: keyof typeof NESTED_SHAPES, options: { list?: boolean; required?: readonly string[] } = {}): string {
  const fields = Object.entries(NESTED_SHAPES[shape] as Record<string, NestedKind>)
    .map(([k, kind]) => `readonly ${k}${options.required?.includes(k) ? '' : '?'}: ${TS_TYPES[kind]}`);
  const object = `{ ${fields.join('; ')} }`;
  return options.list ? `ReadonlyArray<${object}>` : object;
}

/** Keys a nested option accepts: its shape's, plus Packer's singular `filter` blocks for filters. */
function allowedKeys(shape: keyof typeof NESTED_SHAPES): string[] {
  const keys = Object.keys(NESTED_SHAPES[shape]);
  return keys.includes('filters') ? [...keys, 'filter'] : keys;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key looked up case-insensitively, as mapstructure matches field names. */
function field(obj: Json, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

function bool(v: unknown, what: string, errors: string[]): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && /^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (typeof v === 'string' && /^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  errors.push(`${what}: expected a boolean, got ${JSON.stringify(v)}`);
  return undefined;
}

function int(v: unknown, what: string, errors: string[]): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return parseInt(v, 10);
  errors.push(`${what}: expected an integer, got ${JSON.stringify(v)}`);
  return 0;
}

function strings(v: unknown, what: string, errors: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v === '' ? [] : v.split(',');
  if (Array.isArray(v)) return v.map(str);
  errors.push(`${what}: expected a list of strings, got ${JSON.stringify(v)}`);
  return [];
}

function stringMap(v: unknown, what: string, errors: string[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) {
    errors.push(`${what}: expected an object of strings, got ${JSON.stringify(v)}`);
    return {};
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x)]));
}

/** `source_ami_filter`. */
export interface AmiFilter {
  readonly filters: Readonly<Record<string, string>>;
  readonly owners: readonly string[];
  readonly mostRecent: boolean;
}

/** `subnet_filter`, `vpc_filter`, `security_group_filter`. */
export interface NameValueFilter {
  readonly filters: Readonly<Record<string, string>>;
  readonly mostFree: boolean;
  readonly random: boolean;
}

/** Reads `filters` plus the repeatable `filter` block ({ key|name, value }) into one map. */
function filterMap(obj: Json, what: string, keyName: 'key' | 'name', errors: string[]): Record<string, string> {
  const filters = stringMap(field(obj, 'filters'), `${what}.filters`, errors);
  const blocks = field(obj, 'filter');
  if (blocks !== undefined && blocks !== null) {
    if (!Array.isArray(blocks)) errors.push(`${what}.filter: expected a list of { "${keyName}", "value" } objects`);
    else for (const b of blocks) if (isObject(b)) filters[str(field(b, keyName))] = str(field(b, 'value'));
  }
  return filters;
}

function unknownKeys(obj: Json, allowed: readonly string[], what: string, errors: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k.toLowerCase())) errors.push(`${what}: unknown key ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  }
}

export function readAmiFilter(v: unknown, errors: string[] = []): AmiFilter {
  if (v === undefined || v === null) return { filters: {}, owners: [], mostRecent: false };
  if (!isObject(v)) {
    errors.push('"source_ami_filter": expected an object with "filters", "owners" and "most_recent"');
    return { filters: {}, owners: [], mostRecent: false };
  }
  unknownKeys(v, allowedKeys('source_ami_filter'), '"source_ami_filter"', errors);
  return {
    filters: filterMap(v, '"source_ami_filter"', 'key', errors),
    owners: strings(field(v, 'owners'), '"source_ami_filter.owners"', errors),
    mostRecent: bool(field(v, 'most_recent'), '"source_ami_filter.most_recent"', errors) ?? false,
  };
}

export function readNameValueFilter(v: unknown, key: string, errors: string[] = []): NameValueFilter {
  if (v === undefined || v === null) return { filters: {}, mostFree: false, random: false };
  if (!isObject(v)) {
    errors.push(`${JSON.stringify(key)}: expected an object with "filters"`);
    return { filters: {}, mostFree: false, random: false };
  }
  unknownKeys(v, allowedKeys(key === 'subnet_filter' ? 'subnet_filter' : 'filter'), JSON.stringify(key), errors);
  return {
    filters: filterMap(v, JSON.stringify(key), 'name', errors),
    mostFree: bool(field(v, 'most_free'), `"${key}.most_free"`, errors) ?? false,
    random: bool(field(v, 'random'), `"${key}.random"`, errors) ?? false,
  };
}

/** The repeatable `tag`/`run_tag`/`snapshot_tag`/`spot_tag` ({ key, value }) and `run_volume_tag` ({ name, value }) blocks. */
export function readTagBlocks(v: unknown, key: string, keyName: 'key' | 'name', errors: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (!Array.isArray(v)) {
    errors.push(`${JSON.stringify(key)}: expected a list of { "${keyName}", "value" } objects`);
    return out;
  }
  v.forEach((b, i) => {
    if (!isObject(b)) errors.push(`"${key}[${i}]": expected an object with "${keyName}" and "value"`);
    else out[str(field(b, keyName))] = str(field(b, 'value'));
  });
  return out;
}

/** One entry of `launch_block_device_mappings` or `ami_block_device_mappings`. */
export interface BlockDevice {
  readonly deviceName: string;
  readonly deleteOnTermination: boolean;
  readonly encrypted?: boolean;
  readonly iops: number;
  readonly noDevice: boolean;
  readonly snapshotId: string;
  readonly throughput: number;
  readonly virtualName: string;
  readonly volumeType: string;
  readonly volumeSize: number;
  readonly kmsKeyId: string;
}

/** Provisioned IOPS per GiB that EC2 allows, by volume type. */
const IOPS_RATIOS: Readonly<Record<string, number>> = { io1: 50, io2: 500 };

export function readBlockDevices(v: unknown, key: string, errors: string[] = []): BlockDevice[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push(`${JSON.stringify(key)}: expected a list of block devices`);
    return [];
  }
  return v.flatMap((raw, i) => {
    const what = `"${key}[${i}]"`;
    if (!isObject(raw)) {
      errors.push(`${what}: expected an object`);
      return [];
    }
    unknownKeys(raw, allowedKeys('block_device'), what, errors);
    return [{
      deviceName: str(field(raw, 'device_name')),
      deleteOnTermination: bool(field(raw, 'delete_on_termination'), `${what}.delete_on_termination`, errors) ?? false,
      encrypted: bool(field(raw, 'encrypted'), `${what}.encrypted`, errors),
      iops: int(field(raw, 'iops'), `${what}.iops`, errors),
      noDevice: bool(field(raw, 'no_device'), `${what}.no_device`, errors) ?? false,
      snapshotId: str(field(raw, 'snapshot_id')),
      throughput: int(field(raw, 'throughput'), `${what}.throughput`, errors),
      virtualName: str(field(raw, 'virtual_name')),
      volumeType: str(field(raw, 'volume_type')),
      volumeSize: int(field(raw, 'volume_size'), `${what}.volume_size`, errors),
      kmsKeyId: str(field(raw, 'kms_key_id')),
    }];
  });
}

/** Packer's per-device rules; like Packer, at most one problem per device. */
export function blockDeviceProblem(b: BlockDevice): string | undefined {
  if (!b.deviceName) return 'the `device_name` must be set for every device in a block device mapping';
  if (b.kmsKeyId && b.encrypted === false) return `the device ${b.deviceName} sets a kms_key_id, so it needs "encrypted": true`;
  const ratio = IOPS_RATIOS[b.volumeType];
  if (ratio !== undefined && b.volumeSize !== 0) {
    if (Math.trunc(b.iops / b.volumeSize) > ratio) {
      return `${b.deviceName}: ${b.volumeType} volumes allow at most ${ratio} provisioned IOPS per GiB`;
    }
    if (b.iops < 100 || b.iops > 64000) return `the iops of device ${b.deviceName} must be between 100 and 64000`;
  }
  if (b.volumeType === 'gp3') {
    if (b.throughput < 125 || b.throughput > 1000) return `the throughput of device ${b.deviceName} must be between 125 and 1000`;
    if (b.iops < 3000 || b.iops > 16000) return `the iops of device ${b.deviceName} must be between 3000 and 16000`;
  } else if (b.throughput > 0) {
    return `throughput can only be set on gp3 volumes (device ${b.deviceName})`;
  }
  return undefined;
}

/** The EC2 form of a block device (the SDK's `BlockDeviceMapping` shape). */
export function ec2BlockDevice(b: BlockDevice): Record<string, unknown> {
  if (b.noDevice) return { DeviceName: b.deviceName, NoDevice: '' };
  if (b.virtualName) return b.virtualName.startsWith('ephemeral') ? { DeviceName: b.deviceName, VirtualName: b.virtualName } : { DeviceName: b.deviceName };
  const ebs: Record<string, unknown> = { DeleteOnTermination: b.deleteOnTermination };
  if (b.volumeType) ebs.VolumeType = b.volumeType;
  if (b.volumeSize > 0) ebs.VolumeSize = b.volumeSize;
  if (['io1', 'io2', 'gp3'].includes(b.volumeType)) ebs.Iops = b.iops;
  if (b.volumeType === 'gp3') ebs.Throughput = b.throughput;
  if (b.snapshotId) ebs.SnapshotId = b.snapshotId;
  if (b.encrypted !== undefined) ebs.Encrypted = b.encrypted;
  if (b.kmsKeyId) ebs.KmsKeyId = b.kmsKeyId;
  return { DeviceName: b.deviceName, Ebs: ebs };
}

/** A KMS key id, alias or ARN as Packer accepts it. */
export function isKmsKey(key: string): boolean {
  const id = '[a-f0-9-]+$';
  const alias = 'alias/[a-zA-Z0-9:/_-]+$';
  const arn = '^arn:aws(-us-gov)?:kms:([a-z]{2}-(gov-)?[a-z]+-\\d{1})?:(\\d{12}):';
  return [`^${id}`, `^${alias}`, `${arn}key/${id}`, `${arn}${alias}`].some((p) => new RegExp(p).test(key));
}

/** Go's net.ParseCIDR: an IPv4 or IPv6 address, `/`, a prefix length in range. */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const ip = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const family = net.isIP(ip);
  if (!family || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
