import { Fields } from '../../template/component';

/**
 * Communicator options shared by every builder that connects to its machine.
 * Spread into a builder's `fields`; `checkCommunicator` holds Packer's rules.
 */
export const communicatorFields = {
  communicator: {
    kind: 'string',
    doc: 'How Kiln talks to the machine being built: `ssh`, `docker`, `winrm` or `none`.',
    default: '- the builder\'s own default (`docker` for docker, `ssh` for null)',
  },
  pause_before_connecting: {
    kind: 'duration',
    doc: 'Wait this long after the first successful connection, then connect again.',
    default: '- no pause',
  },
} as const satisfies Fields;

export const sshFields = {
  ssh_host: { kind: 'string', doc: 'Address of the machine to connect to.', default: '- builder-specific' },
  ssh_port: { kind: 'integer', doc: 'SSH port.', default: '22' },
  ssh_username: { kind: 'string', doc: 'User to log in as.', default: '- none; required with the ssh communicator' },
  ssh_password: { kind: 'string', doc: 'Password for password and keyboard-interactive authentication.', default: '- none', secret: true },
  ssh_private_key_file: { kind: 'string', doc: 'Path of a private key file for public-key authentication (`~` is expanded).', default: '- none' },
  ssh_certificate_file: { kind: 'string', doc: 'Path of a signed certificate for the private key.', default: '- none' },
  ssh_agent_auth: { kind: 'boolean', doc: 'Authenticate with the keys of the running ssh-agent (`SSH_AUTH_SOCK`).', default: 'false' },
  ssh_timeout: { kind: 'duration', doc: 'How long to keep trying to connect.', default: '"5m"' },
  ssh_wait_timeout: { kind: 'duration', doc: 'Old name of `ssh_timeout`; overrides it when set.', default: '- ssh_timeout', deprecated: 'use ssh_timeout' },
  ssh_handshake_attempts: { kind: 'integer', doc: 'Authentication failures allowed before giving up.', default: '10' },
  ssh_pty: { kind: 'boolean', doc: 'Request a pseudo-terminal for commands.', default: 'false' },
  ssh_keep_alive_interval: { kind: 'duration', doc: 'Interval of keep-alive requests; negative disables them.', default: '"5s"' },
  ssh_read_write_timeout: { kind: 'duration', doc: 'Fail a connection that stays silent this long.', default: '- no timeout' },
  ssh_disable_agent_forwarding: { kind: 'boolean', doc: 'Do not forward the ssh-agent to the machine.', default: 'false' },
  ssh_file_transfer_method: { kind: 'string', doc: 'How files are copied: `scp` or `sftp`.', default: '"scp"' },
  ssh_clear_authorized_keys: { kind: 'boolean', doc: 'Remove the temporary key from authorized_keys before the image is made.', default: 'false' },
  ssh_ciphers: { kind: 'string-list', doc: 'Allowed ciphers.', default: '- the library defaults' },
  ssh_key_exchange_algorithms: { kind: 'string-list', doc: 'Allowed key exchange algorithms.', default: '- the library defaults' },
  ssh_bastion_host: { kind: 'string', doc: 'Jump host to connect through.', default: '- direct connection' },
  ssh_bastion_port: { kind: 'integer', doc: 'Port of the jump host.', default: '22' },
  ssh_bastion_username: { kind: 'string', doc: 'User on the jump host.', default: '- none' },
  ssh_bastion_password: { kind: 'string', doc: 'Password on the jump host.', default: '- none', secret: true },
  ssh_bastion_private_key_file: { kind: 'string', doc: 'Private key for the jump host.', default: '- the main ssh_private_key_file' },
  ssh_bastion_certificate_file: { kind: 'string', doc: 'Certificate for the jump host key.', default: '- the main ssh_certificate_file' },
  ssh_bastion_agent_auth: { kind: 'boolean', doc: 'Use the ssh-agent for the jump host.', default: 'false' },
  ssh_bastion_interactive: { kind: 'boolean', doc: 'Use keyboard-interactive authentication on the jump host.', default: 'false' },
  ssh_proxy_host: { kind: 'string', doc: 'SOCKS5 proxy to connect through.', default: '- no proxy' },
  ssh_proxy_port: { kind: 'integer', doc: 'Port of the SOCKS5 proxy.', default: '1080' },
  ssh_proxy_username: { kind: 'string', doc: 'SOCKS5 proxy user.', default: '- none' },
  ssh_proxy_password: { kind: 'string', doc: 'SOCKS5 proxy password.', default: '- none', secret: true },
  ssh_local_tunnels: { kind: 'string-list', doc: 'Local port forwards, `port:host:hostport`.', default: '- none' },
  ssh_remote_tunnels: { kind: 'string-list', doc: 'Remote port forwards, `port:host:hostport`.', default: '- none' },
  ssh_keypair_name: {
    kind: 'string',
    doc: 'Name of a cloud key pair holding the key; only cloud builders use it.',
    default: '- none',
    deprecated: 'only cloud builders use it; give the key with ssh_private_key_file',
  },
  temporary_key_pair_name: {
    kind: 'string',
    doc: 'Name of the temporary key pair that some builders create.',
    default: '- generated',
    deprecated: 'Kiln\'s builders never create a temporary key pair',
  },
  temporary_key_pair_type: {
    kind: 'string',
    doc: 'Algorithm of a temporary key pair: `rsa`, `dsa`, `ecdsa` or `ed25519`.',
    default: '"rsa"',
    deprecated: 'Kiln\'s builders never create a temporary key pair',
  },
  temporary_key_pair_bits: {
    kind: 'integer',
    doc: 'Size in bits of a temporary key pair.',
    default: '- the algorithm\'s default (4096 for rsa)',
    deprecated: 'Kiln\'s builders never create a temporary key pair',
  },
  ssh_public_key: {
    kind: 'integer-list',
    doc: 'Internal to Packer: the bytes of a generated public key.',
    default: '- none',
    deprecated: 'internal to Packer; give the key with ssh_private_key_file',
  },
  ssh_private_key: {
    kind: 'integer-list',
    doc: 'Internal to Packer: the bytes of a generated private key.',
    default: '- none',
    secret: true,
    deprecated: 'internal to Packer; give the key with ssh_private_key_file',
  },
} as const satisfies Fields;

export const winrmFields = {
  winrm_username: { kind: 'string', doc: 'WinRM user.', default: '- none; required with the winrm communicator' },
  winrm_password: { kind: 'string', doc: 'WinRM password.', default: '- none', secret: true },
  winrm_host: { kind: 'string', doc: 'WinRM host.', default: '- builder-specific' },
  winrm_port: { kind: 'integer', doc: 'WinRM port.', default: '5985 (5986 with TLS)' },
  winrm_timeout: { kind: 'duration', doc: 'How long to wait for WinRM.', default: '"30m"' },
  winrm_use_ssl: { kind: 'boolean', doc: 'Use TLS.', default: 'false' },
  winrm_insecure: { kind: 'boolean', doc: 'Skip TLS certificate checks.', default: 'false' },
  winrm_use_ntlm: { kind: 'boolean', doc: 'Use NTLM authentication.', default: 'false' },
  winrm_no_proxy: { kind: 'boolean', doc: 'Ignore proxy settings.', default: 'false' },
} as const satisfies Fields;
