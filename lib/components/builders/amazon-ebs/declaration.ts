import * as fs from 'fs';
import * as path from 'path';
import { blockDeviceProblem, isCidr, isKmsKey, nestedPropType, readAmiFilter, readBlockDevices, readNameValueFilter, readTagBlocks } from './config';
import { declareComponent, Fields } from '../../../template/component';
import { isCleanAmiName } from '../../../template/interpolate';
import { checkCommunicator } from '../../communicators/check';
import { communicatorFields, sshFields, winrmFields } from '../../communicators/fields';

/** Types of the construct props of the nested options; keys as in the template. */
const FILTERS = nestedPropType('filter');
const SOURCE_AMI_FILTER = nestedPropType('source_ami_filter');
const SUBNET_FILTER = nestedPropType('subnet_filter');
const TAG_BLOCKS = nestedPropType('tag', { list: true, required: ['key', 'value'] });
const NAMED_TAG_BLOCKS = nestedPropType('named_tag', { list: true, required: ['name', 'value'] });
const BLOCK_DEVICES = nestedPropType('block_device', { list: true, required: ['device_name'] });

const RUNTIME_TAGS = 'rendered at build time, where `{{ .SourceAMI }}`, `{{ .SourceAMIName }}`, `{{ .BuildRegion }}` and the other source-AMI data are known';

const accessFields = {
  region: { kind: 'string', doc: 'AWS region to build in (also `AWS_REGION`/`AWS_DEFAULT_REGION` or the profile\'s region).', default: '- the SDK\'s default region' },
  access_key: { kind: 'string', doc: 'AWS access key id; `secret_key` must be set with it.', secret: true, default: '- the AWS SDK\'s default credential chain' },
  secret_key: { kind: 'string', doc: 'AWS secret access key; `access_key` must be set with it.', secret: true, default: '- the AWS SDK\'s default credential chain' },
  token: { kind: 'string', doc: 'AWS session token for temporary static credentials.', secret: true, default: '- none' },
  profile: { kind: 'string', doc: 'Named profile of the shared AWS config and credentials files.', default: '- `AWS_PROFILE`, else `default`' },
  shared_credentials_file: { kind: 'string', doc: 'Path of the shared credentials file.', default: '- `~/.aws/credentials`' },
  custom_endpoint_ec2: { kind: 'string', doc: 'URL of the EC2 API to talk to instead of AWS\'s (e.g. a VPC endpoint or a test double).', default: '- the region\'s public endpoint' },
  max_retries: { kind: 'integer', doc: 'Attempts for an AWS call that fails with a retryable error.', default: '10' },
  insecure_skip_tls_verify: { kind: 'boolean', doc: 'Do not check the TLS certificate of the EC2 endpoint (for test endpoints only).', default: 'false' },
  skip_region_validation: { kind: 'boolean', doc: 'Do not check `region` and `ami_regions` against the regions the account can use before building.', default: 'false' },
  skip_credential_validation: { kind: 'boolean', doc: 'Packer option: skip the STS check of the credentials. Kiln never makes that check.', default: 'false' },
  skip_metadata_api_check: { kind: 'boolean', doc: 'Packer option: ignored by Packer 1.6.6 and by Kiln.', default: 'false' },
  mfa_code: { kind: 'string', doc: 'MFA code for assuming a role (not supported by Kiln\'s builds).', secret: true, default: '- none' },
  assume_role: { kind: 'json', doc: 'Role to assume: `{ "role_arn", "session_name", "external_id", ... }` (not supported by Kiln\'s builds; use a profile with `role_arn`).', default: '- no role' },
  decode_authorization_messages: { kind: 'boolean', doc: 'Decode "UnauthorizedOperation" messages with STS (not supported by Kiln\'s builds).', default: 'false' },
  vault_aws_engine: { kind: 'json', doc: 'Read credentials from Vault\'s AWS secrets engine (not supported by Kiln).', default: '- not used' },
  aws_polling: { kind: 'json', doc: 'How often to poll while waiting for AWS: `{ "delay_seconds": 2, "max_attempts": 40 }`.', default: '- the SDK waiter\'s defaults' },
} as const satisfies Fields;

const amiFields = {
  ami_name: { kind: 'string', required: true, doc: 'Name of the AMI: 3 to 128 letters, digits and `()[] ./-\'@_`; it must not exist yet (see `force_deregister`). Pipe through `clean_resource_name` to replace other characters.' },
  ami_description: { kind: 'string', doc: `Description of the AMI; ${RUNTIME_TAGS}.`, default: '- none', renderAtRuntime: true },
  ami_virtualization_type: { kind: 'string', doc: 'Virtualization type of the AMI, `hvm` or `paravirtual`.', default: '- the source AMI\'s' },
  ami_users: { kind: 'string-list', doc: 'Account ids allowed to launch the AMI (not supported by Kiln\'s builds yet).', default: '- none' },
  ami_groups: { kind: 'string-list', doc: 'Groups allowed to launch the AMI; `all` makes it public (not supported by Kiln\'s builds yet).', default: '- none' },
  ami_product_codes: { kind: 'string-list', doc: 'Product codes to attach to the AMI (not supported by Kiln\'s builds yet).', default: '- none' },
  skip_create_ami: {
    kind: 'boolean',
    doc: 'Build and provision the instance but create no AMI (for testing provisioners). Not an option of Packer 1.6.6 (it came with later versions), which rejects templates that set it: `kiln synth` refuses it, hand-written templates may use it with `kiln build`.',
    default: 'false',
    notInPacker: true,
  },
  ami_regions: { kind: 'string-list', doc: 'Other regions to copy the AMI to; the build region is left out.', default: '- none' },
  tags: { kind: 'string-map', doc: `Tags of the AMI (and, in other regions, of its copies); ${RUNTIME_TAGS}. Kiln always adds \`kiln:fingerprint\`.`, default: '- only the fingerprint tag', renderAtRuntime: true },
  tag: { kind: 'json', propType: TAG_BLOCKS, doc: 'Tags of the AMI as a list of `{ "key", "value" }` blocks; merged into `tags`.', default: '- none', renderAtRuntime: true },
  ena_support: { kind: 'boolean', doc: 'Enable enhanced networking (ENA) on the AMI (not supported by Kiln\'s builds yet).', default: '- as the source AMI' },
  sriov_support: { kind: 'boolean', doc: 'Enable SR-IOV networking on the AMI (not supported by Kiln\'s builds yet).', default: 'false' },
  force_deregister: { kind: 'boolean', doc: 'Deregister an existing AMI of the same name before creating this one (also set by `-force`).', default: 'false' },
  force_delete_snapshot: { kind: 'boolean', doc: 'With `force_deregister`, also delete the snapshots of the deregistered AMI.', default: 'false' },
  encrypt_boot: { kind: 'boolean', doc: 'Encrypt the boot volume of the AMI (and its copies): the copies in other regions are encrypted with `kms_key_id` or the default key.', default: '- as the source' },
  kms_key_id: { kind: 'string', doc: 'KMS key id, alias or ARN for `encrypt_boot`; needs `encrypt_boot: true`.', default: '- the account\'s default EBS key' },
  region_kms_key_ids: { kind: 'string-map', doc: 'KMS key per region of `ami_regions`, for encrypted copies; every region of `ami_regions` must be listed.', default: '- none' },
  skip_save_build_region: { kind: 'boolean', doc: 'Keep the AMI only in `ami_regions`, not in the build region (not supported by Kiln\'s builds yet).', default: 'false' },
  snapshot_tags: { kind: 'string-map', doc: `Tags of the AMI's snapshots; ${RUNTIME_TAGS}. Kiln always adds \`kiln:fingerprint\`.`, default: '- only the fingerprint tag', renderAtRuntime: true },
  snapshot_tag: { kind: 'json', propType: TAG_BLOCKS, doc: 'Snapshot tags as a list of `{ "key", "value" }` blocks; merged into `snapshot_tags`.', default: '- none', renderAtRuntime: true },
  snapshot_users: { kind: 'string-list', doc: 'Account ids allowed to create volumes from the snapshots (not supported by Kiln\'s builds yet).', default: '- none' },
  snapshot_groups: { kind: 'string-list', doc: 'Groups allowed to create volumes from the snapshots (not supported by Kiln\'s builds yet).', default: '- none' },
} as const satisfies Fields;

const runFields = {
  source_ami: { kind: 'string', doc: 'Id of the AMI to start from; `source_ami` or `source_ami_filter` must be set.', default: '- found by `source_ami_filter`' },
  source_ami_filter: {
    kind: 'json',
    propType: SOURCE_AMI_FILTER,
    doc: 'Finds the source AMI: `{ "filters": { "name": "ubuntu/images/*" }, "owners": ["099720109477"], "most_recent": true }`. An owner is required; with several matches and no `most_recent` the build fails.',
    default: '- `source_ami` is used',
  },
  instance_type: { kind: 'string', doc: 'EC2 instance type of the build instance, e.g. `t3.micro`; this or `spot_instance_types` must be set.', default: '- none' },
  availability_zone: { kind: 'string', doc: 'Availability zone to launch in.', default: '- chosen by EC2 (or by the subnet)' },
  subnet_id: { kind: 'string', doc: 'Subnet to launch in (needed in a VPC without a default subnet).', default: '- the default subnet' },
  subnet_filter: { kind: 'json', propType: SUBNET_FILTER, doc: 'Finds the subnet: `{ "filters": { "tag:Name": "build" }, "most_free": true, "random": false }`.', default: '- `subnet_id` is used' },
  vpc_id: { kind: 'string', doc: 'VPC of the temporary security group, when `subnet_id` is given.', default: '- the subnet\'s VPC' },
  vpc_filter: { kind: 'json', propType: FILTERS, doc: 'Finds the VPC: `{ "filters": { "isDefault": "false" } }`; exactly one must match.', default: '- `vpc_id` is used' },
  security_group_id: { kind: 'string', doc: 'A security group for the instance (old single form of `security_group_ids`).', default: '- a temporary group is created' },
  security_group_ids: { kind: 'string-list', doc: 'Security groups for the instance; they must allow SSH from this machine.', default: '- a temporary group is created' },
  security_group_filter: { kind: 'json', propType: FILTERS, doc: 'Finds security groups: `{ "filters": { "tag:Class": "packer" } }`.', default: '- `security_group_ids` is used' },
  temporary_security_group_source_cidrs: { kind: 'string-list', doc: 'CIDR blocks the temporary security group allows SSH from.', default: '["0.0.0.0/0"]' },
  associate_public_ip_address: { kind: 'boolean', doc: 'Give the instance a public IP address (needs `subnet_id`).', default: '- the subnet\'s setting' },
  ssh_interface: {
    kind: 'string',
    doc: 'Which address of the instance to connect to: `public_ip`, `private_ip`, `public_dns` or `private_dns` (Packer\'s `session_manager` is not supported by Kiln).',
    default: '- the public DNS name, else the public IP, else the private IP',
  },
  iam_instance_profile: { kind: 'string', doc: 'Name of an IAM instance profile for the build instance.', default: '- none' },
  skip_profile_validation: { kind: 'boolean', doc: 'Do not check that `iam_instance_profile` exists.', default: 'false' },
  temporary_iam_instance_profile_policy_document: { kind: 'json', doc: 'Policy of a temporary instance profile (not supported by Kiln\'s builds).', default: '- none' },
  shutdown_behavior: { kind: 'string', doc: 'What an OS shutdown does to the instance: `stop` or `terminate`.', default: '"stop"' },
  user_data: { kind: 'string', doc: 'User data passed to the instance; only one of `user_data` and `user_data_file` may be set.', default: '- none' },
  user_data_file: { kind: 'string', doc: 'Path of a file whose content is the instance\'s user data.', default: '- none', localPath: true },
  run_tags: { kind: 'string-map', doc: `Tags of the build instance; ${RUNTIME_TAGS}.`, default: '- none', renderAtRuntime: true },
  run_tag: { kind: 'json', propType: TAG_BLOCKS, doc: 'Instance tags as a list of `{ "key", "value" }` blocks; merged into `run_tags`.', default: '- none', renderAtRuntime: true },
  run_volume_tags: { kind: 'string-map', doc: `Tags of the build instance's volumes (not of the AMI's snapshots); ${RUNTIME_TAGS}.`, default: '- none', renderAtRuntime: true },
  run_volume_tag: { kind: 'json', propType: NAMED_TAG_BLOCKS, doc: 'Volume tags as a list of `{ "name", "value" }` blocks; merged into `run_volume_tags`.', default: '- none', renderAtRuntime: true },
  launch_block_device_mappings: {
    kind: 'json',
    propType: BLOCK_DEVICES,
    doc: 'Block devices of the build instance, e.g. `[{ "device_name": "/dev/sda1", "volume_size": 20, "volume_type": "gp3", "iops": 3000, "throughput": 125, "delete_on_termination": true }]`; their snapshots become part of the AMI.',
    default: '- the source AMI\'s',
  },
  ami_block_device_mappings: { kind: 'json', propType: BLOCK_DEVICES, doc: 'Extra block devices recorded in the AMI, same fields as `launch_block_device_mappings`.', default: '- none' },
  no_ephemeral: { kind: 'boolean', doc: 'Windows guests: hide the instance-store volumes (not supported by Kiln\'s builds yet).', default: 'false' },
  ebs_optimized: { kind: 'boolean', doc: 'Launch the instance EBS-optimized.', default: 'false' },
  enable_t2_unlimited: { kind: 'boolean', doc: 'Launch a t2 instance with unlimited CPU credits.', default: 'false' },
  tenancy: { kind: 'string', doc: 'Tenancy of the instance: `default`, `dedicated` or `host`.', default: '"default"' },
  disable_stop_instance: { kind: 'boolean', doc: 'Do not stop the instance before the image is made: a provisioner must stop it (not supported by Kiln\'s builds yet).', default: 'false' },
  windows_password_timeout: { kind: 'duration', doc: 'How long to wait for the Windows administrator password (winrm; not supported by Kiln).', default: '"20m"' },
  spot_price: { kind: 'string', doc: 'Maximum hourly price for a spot build instance, or `auto` (spot instances are not supported by Kiln\'s builds yet).', default: '- an on-demand instance' },
  spot_instance_types: { kind: 'string-list', doc: 'Instance types to choose from for a spot instance; instead of `instance_type`.', default: '- none' },
  spot_price_auto_product: { kind: 'string', doc: 'Deprecated and unused.', default: '- none', deprecated: 'no longer needed; remove it' },
  spot_tags: { kind: 'string-map', doc: `Tags of the spot request; ${RUNTIME_TAGS}. Needs \`spot_price\`.`, default: '- none', renderAtRuntime: true },
  spot_tag: { kind: 'json', propType: TAG_BLOCKS, doc: 'Spot request tags as a list of `{ "key", "value" }` blocks.', default: '- none', renderAtRuntime: true },
  block_duration_minutes: { kind: 'integer', doc: 'Reserved duration of a spot instance, a multiple of 60.', default: '0' },
  pause_before_ssm: { kind: 'duration', doc: 'Wait before opening a Session Manager tunnel (not supported by Kiln).', default: '- no pause' },
  session_manager_port: { kind: 'integer', doc: 'Local port of a Session Manager tunnel (not supported by Kiln).', default: '- a free port' },
} as const satisfies Fields;

/** The temporary key pair fields apply here: amazon-ebs creates an EC2 key pair when no key or password is given. */
const keyPairFields = {
  ssh_keypair_name: {
    kind: 'string',
    doc: 'Existing EC2 key pair to launch the instance with; give its private key with `ssh_private_key_file` (or use `ssh_agent_auth`).',
    default: '- a temporary key pair',
  },
  temporary_key_pair_name: { kind: 'string', doc: 'Name of the temporary EC2 key pair.', default: '- `packer_<unique id>`' },
  temporary_key_pair_type: { kind: 'string', doc: 'Algorithm of the temporary key pair; EC2 creates `rsa` and `ed25519` keys.', default: '"rsa"' },
  temporary_key_pair_bits: { kind: 'integer', doc: 'Packer option: ignored, EC2 chooses the size of the keys it creates.', default: '- EC2\'s size' },
} as const satisfies Fields;

export const amazonEbsFields = {
  ...accessFields,
  ...amiFields,
  ...runFields,
  ...communicatorFields,
  ...sshFields,
  ...keyPairFields,
  ...winrmFields,
} as const satisfies Fields;

const SSH_INTERFACES = ['public_ip', 'private_ip', 'public_dns', 'private_dns', 'session_manager'];

export const amazonEbsBuilder = declareComponent({
  kind: 'builder',
  type: 'amazon-ebs',
  summary: 'Launches an EC2 instance from a source AMI, provisions it over SSH, and registers an EBS-backed AMI from it.',
  generatedData: ['SourceAMIName', 'BuildRegion', 'SourceAMI', 'SourceAMICreationDate', 'SourceAMIOwner', 'SourceAMIOwnerName'],
  cleanResourceName: 'amazon',
  fields: amazonEbsFields,
  check(config, ctx) {
    const errors: string[] = [];

    // Access config.
    if (Boolean(config.access_key) !== Boolean(config.secret_key)) errors.push('"access_key" and "secret_key" must be set together, or neither');
    if (config.vault_aws_engine !== undefined && config.vault_aws_engine !== null) {
      // Packer reads Vault while it validates; Kiln has no Vault client.
      errors.push('"vault_aws_engine" is not supported by Kiln: give credentials with "access_key"/"secret_key", "profile" or the environment');
    }

    // AMI config.
    const name = config.ami_name ?? '';
    if (!name) errors.push('"ami_name" must be set');
    if (name.length < 3 || name.length > 128) errors.push(`"ami_name" must be 3 to 128 characters long, got ${name.length}`);
    if (!isCleanAmiName(name)) {
      errors.push(`"ami_name" ${JSON.stringify(name)} may contain only letters, digits, parentheses, square brackets, spaces, periods, slashes, dashes, single quotes, at-signs and underscores; pipe it through clean_resource_name to replace the others`);
    }
    const amiRegions = config.ami_regions ?? [];
    const regionKeys = config.region_kms_key_ids ?? {};
    if (Object.keys(regionKeys).length > 0) {
      for (const r of Object.keys(regionKeys)) if (!amiRegions.includes(r)) errors.push(`region ${r} is in "region_kms_key_ids" but not in "ami_regions"`);
      for (const r of new Set(amiRegions)) if (!(r in regionKeys)) errors.push(`region ${r} is in "ami_regions" but not in "region_kms_key_ids"`);
    }
    const kmsKeys = [config.kms_key_id ?? '', ...Object.values(regionKeys)].filter(Boolean);
    if ((config.ami_users ?? []).length > 0) {
      if (!config.kms_key_id && config.encrypt_boot === true) errors.push('an AMI encrypted with the default KMS key cannot be shared: set "kms_key_id" or drop "ami_users"');
      if (Object.values(regionKeys).some((k) => !k)) errors.push('an AMI encrypted with the default KMS key cannot be shared with other regions: give every region of "region_kms_key_ids" a key');
    }
    if (kmsKeys.length > 0 && config.encrypt_boot !== true) errors.push('"kms_key_id" and "region_kms_key_ids" need "encrypt_boot": true');
    for (const k of kmsKeys) if (!isKmsKey(k)) errors.push(`${JSON.stringify(k)} is not a valid KMS key id, alias or ARN`);
    if ((config.snapshot_users ?? []).length > 0) {
      if (!config.kms_key_id && Object.keys(regionKeys).length === 0 && config.encrypt_boot === true) {
        errors.push('snapshots encrypted with the default KMS key cannot be shared: set "kms_key_id" or "region_kms_key_ids"');
      }
      if (Object.values(regionKeys).some((k) => !k)) errors.push('snapshots encrypted with the default KMS key cannot be shared: give every region of "region_kms_key_ids" a key');
    }

    // Nested blocks: only their shape can be checked now (their strings render at build time).
    readTagBlocks(config.tag, 'tag', 'key', errors);
    readTagBlocks(config.snapshot_tag, 'snapshot_tag', 'key', errors);
    readTagBlocks(config.run_tag, 'run_tag', 'key', errors);
    readTagBlocks(config.spot_tag, 'spot_tag', 'key', errors);
    readTagBlocks(config.run_volume_tag, 'run_volume_tag', 'name', errors);
    const filter = readAmiFilter(config.source_ami_filter, errors);
    readNameValueFilter(config.subnet_filter, 'subnet_filter', errors);
    readNameValueFilter(config.vpc_filter, 'vpc_filter', errors);
    readNameValueFilter(config.security_group_filter, 'security_group_filter', errors);
    for (const key of ['ami_block_device_mappings', 'launch_block_device_mappings'] as const) {
      for (const device of readBlockDevices(config[key], key, errors)) {
        const problem = blockDeviceProblem(device);
        if (problem) errors.push(`${JSON.stringify(key)}: ${problem}`);
      }
    }

    // Run config.
    const communicator = config.communicator || 'ssh';
    errors.push(...checkCommunicator(config, 'ssh', { cwd: ctx.cwd, warn: (m) => ctx.warn(m) }));
    const sshInterface = config.ssh_interface ?? '';
    if (sshInterface && !SSH_INTERFACES.includes(sshInterface)) {
      errors.push(`"ssh_interface" must be one of ${SSH_INTERFACES.map((s) => JSON.stringify(s)).join(', ')}, got ${JSON.stringify(sshInterface)}`);
    }
    if (sshInterface === 'session_manager') {
      if (communicator === 'winrm') errors.push('"ssh_interface": "session_manager" works only with the ssh communicator');
      if (!config.iam_instance_profile && config.temporary_iam_instance_profile_policy_document === undefined) {
        errors.push('"ssh_interface": "session_manager" needs "iam_instance_profile" (with AmazonSSMManagedInstanceCore) or "temporary_iam_instance_profile_policy_document"');
      }
    }
    if (config.ssh_keypair_name) {
      if (communicator === 'winrm' && !config.winrm_password && !config.ssh_private_key_file) {
        errors.push('"ssh_private_key_file" must be set to read the winrm password when "ssh_keypair_name" is used');
      } else if (communicator !== 'winrm' && !config.ssh_private_key_file && !config.ssh_agent_auth) {
        errors.push('"ssh_keypair_name" needs "ssh_private_key_file" or "ssh_agent_auth"');
      }
    }
    const filterEmpty = filter.owners.length === 0 && Object.keys(filter.filters).length === 0;
    if (!config.source_ami && filterEmpty) errors.push('one of "source_ami" or "source_ami_filter" must be set');
    if (!config.source_ami && filter.owners.length === 0) errors.push('"source_ami_filter" must list "owners": without an owner anyone\'s AMI could match');
    const spotTypes = config.spot_instance_types ?? [];
    if (!config.instance_type && spotTypes.length === 0) errors.push('one of "instance_type" or "spot_instance_types" must be set');
    if (config.instance_type && spotTypes.length > 0) errors.push('only one of "instance_type" and "spot_instance_types" may be set');
    if ((config.block_duration_minutes ?? 0) % 60 !== 0) errors.push(`"block_duration_minutes" must be a multiple of 60, got ${config.block_duration_minutes}`);
    const spot = Boolean(config.spot_price) && config.spot_price !== '0';
    const spotTagBlocks = readTagBlocks(config.spot_tag, 'spot_tag', 'key', []);
    if ((config.spot_tags !== undefined || Object.keys(spotTagBlocks).length > 0) && !spot) errors.push('"spot_tags" can only be set with "spot_price"');
    if (config.user_data && config.user_data_file) {
      errors.push('only one of "user_data" and "user_data_file" may be set');
    } else if (config.user_data_file && !fs.existsSync(path.resolve(ctx.cwd, config.user_data_file))) {
      errors.push(`"user_data_file" ${JSON.stringify(config.user_data_file)} does not exist`);
    }
    if (config.security_group_id && (config.security_group_ids ?? []).length > 0) errors.push('only one of "security_group_id" and "security_group_ids" may be set');
    for (const cidr of config.temporary_security_group_source_cidrs ?? []) {
      if (!isCidr(cidr)) errors.push(`"temporary_security_group_source_cidrs": ${JSON.stringify(cidr)} is not a CIDR block like "203.0.113.0/24"`);
    }
    if (config.shutdown_behavior && !['stop', 'terminate'].includes(config.shutdown_behavior)) {
      errors.push(`"shutdown_behavior" must be "stop" or "terminate", got ${JSON.stringify(config.shutdown_behavior)}`);
    }
    if (config.enable_t2_unlimited) {
      if (config.spot_price) errors.push('"enable_t2_unlimited" cannot be used with spot instances');
      const type = config.instance_type ?? '';
      if (!type.includes('.')) errors.push(`"enable_t2_unlimited": cannot read the instance family of ${JSON.stringify(type)}`);
      else if (type.split('.')[0] !== 't2') errors.push(`"enable_t2_unlimited" needs a t2 instance type, got ${JSON.stringify(type)}`);
    }
    if (config.tenancy && !['default', 'dedicated', 'host'].includes(config.tenancy)) {
      errors.push(`"tenancy" must be "default", "dedicated" or "host", got ${JSON.stringify(config.tenancy)}`);
    }
    if (spot && (config.ena_support === true || config.sriov_support)) {
      errors.push('spot instances cannot be modified, which "ena_support" and "sriov_support" need: start from an AMI that already has them');
    }
    if (config.skip_create_ami !== undefined) ctx.warn('"skip_create_ami" is a Kiln option here: Packer 1.6.6 does not know it and rejects this template');
    if (config.spot_price_auto_product) ctx.warn('"spot_price_auto_product" is deprecated and no longer needed; remove it');
    return errors;
  },
});
