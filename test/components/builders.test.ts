import * as path from 'path';
import { validate, workdir } from './helpers';
import { ed25519Certificate, ed25519Key, encryptedOpensshKey, encryptedPkcs8Key } from './ssh-material';
import { fileBuilder } from '../../lib/components/builders/file/declaration';
import { nullBuilder } from '../../lib/components/builders/null/declaration';

describe('the null builder', () => {
  const ssh = { ssh_host: '10.0.0.5', ssh_username: 'ubuntu', ssh_password: 'hunter2' };

  test('accepts an ssh host, user and password, converting weakly typed values', () => {
    const out = validate(nullBuilder, { type: 'null', ...ssh, ssh_port: '2222', ssh_pty: 'true', ssh_timeout: '10m', ssh_ciphers: 'aes128-ctr,aes256-ctr' });
    expect(out.errors).toEqual([]);
    expect(out.config).toMatchObject({ ssh_port: 2222, ssh_pty: true, ssh_timeout: '10m', ssh_ciphers: ['aes128-ctr', 'aes256-ctr'] });
  });

  test('accepts communicator "none" with nothing else', () => {
    expect(validate(nullBuilder, { communicator: 'none' }).errors).toEqual([]);
  });

  test('defaults to ssh and then needs the host, the user and one authentication method', () => {
    expect(validate(nullBuilder, {}).errors).toEqual([
      '"ssh_host" must be set: the address of the machine to connect to',
      '"ssh_username" must be set for the ssh communicator',
      'one authentication method must be set: "ssh_password", "ssh_private_key_file" or "ssh_agent_auth"',
    ]);
  });

  test('rejects the docker communicators, which can never find a host here', () => {
    expect(validate(nullBuilder, { communicator: 'docker' }).errors).toEqual([
      'communicator "docker" is not supported here; use one of "ssh", "winrm", "none"',
    ]);
    expect(validate(nullBuilder, { communicator: 'bogus', ...ssh }).errors).toEqual([
      'communicator "bogus" is not supported here; use one of "ssh", "winrm", "none"',
    ]);
  });

  test('needs the winrm host, user and a password (or an ssh key or the agent) with winrm', () => {
    expect(validate(nullBuilder, { communicator: 'winrm' }).errors).toEqual([
      '"winrm_host" must be set: the address of the machine to connect to',
      '"winrm_username" must be set for the winrm communicator',
      'one authentication method must be set: "winrm_password", "ssh_private_key_file" or "ssh_agent_auth"',
    ]);
    expect(validate(nullBuilder, { communicator: 'winrm', winrm_host: 'h', winrm_username: 'u', winrm_password: 'p' }).errors).toEqual([]);
    expect(validate(nullBuilder, { communicator: 'winrm', winrm_host: 'h', winrm_username: 'u', ssh_agent_auth: true }).errors).toEqual([]);
  });

  test('allows only one of password, key file and agent', () => {
    const dir = workdir({ 'id.key': ed25519Key().pkcs8 });
    expect(validate(nullBuilder, { ...ssh, ssh_private_key_file: 'id.key' }, dir).errors).toEqual([
      'only one of "ssh_agent_auth", "ssh_password" and "ssh_private_key_file" may be set',
    ]);
  });

  test('accepts ssh_agent_auth without a running agent, with a warning (Packer fails only when it connects)', () => {
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      const out = validate(nullBuilder, { ssh_host: 'h', ssh_username: 'u', ssh_agent_auth: true });
      expect(out.errors).toEqual([]);
      expect(out.warnings).toEqual(['"ssh_agent_auth" needs a running ssh-agent, but SSH_AUTH_SOCK is not set: connecting will fail']);
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
    }
  });

  describe('with a private key file (resolved against the working directory)', () => {
    const key = ed25519Key();
    const base = { ssh_host: 'h', ssh_username: 'u' };

    test('accepts PKCS#8 and OpenSSH keys', () => {
      const dir = workdir({ 'a.key': key.pkcs8, 'b.key': key.openssh });
      expect(validate(nullBuilder, { ...base, ssh_private_key_file: 'a.key' }, dir).errors).toEqual([]);
      expect(validate(nullBuilder, { ...base, ssh_private_key_file: path.join(dir, 'b.key') }).errors).toEqual([]);
    });

    test('rejects a missing file', () => {
      expect(validate(nullBuilder, { ...base, ssh_private_key_file: 'missing.key' }, workdir()).errors).toEqual([
        '"ssh_private_key_file" "missing.key" does not exist',
      ]);
    });

    test('rejects a file that holds no key', () => {
      expect(validate(nullBuilder, { ...base, ssh_private_key_file: 'k' }, workdir({ k: 'not a key\n' })).errors).toEqual([
        '"ssh_private_key_file" "k" is not a usable private key: no PEM "-----BEGIN ... PRIVATE KEY-----" block found',
      ]);
    });

    test('rejects keys protected by a passphrase, in both formats', () => {
      const dir = workdir({ 'p8.key': encryptedPkcs8Key(), 'os.key': encryptedOpensshKey() });
      const why = 'it is protected by a passphrase; decrypt it first (ssh-keygen -p)';
      expect(validate(nullBuilder, { ...base, ssh_private_key_file: 'p8.key' }, dir).errors).toEqual([`"ssh_private_key_file" "p8.key" is not a usable private key: ${why}`]);
      expect(validate(nullBuilder, { ...base, ssh_private_key_file: 'os.key' }, dir).errors).toEqual([`"ssh_private_key_file" "os.key" is not a usable private key: ${why}`]);
    });

    test('checks the certificate: its format, its validity window and its key', () => {
      const now = BigInt(Math.floor(Date.now() / 1000));
      const day = 86400n;
      const dir = workdir({
        'id.key': key.openssh,
        'good.pub': ed25519Certificate(key.publicKey, now - day, now + day),
        'forever.pub': ed25519Certificate(key.publicKey, 0n, 2n ** 64n - 1n),
        'expired.pub': ed25519Certificate(key.publicKey, now - 2n * day, now - day),
        'future.pub': ed25519Certificate(key.publicKey, now + day, now + 2n * day),
        'other.pub': ed25519Certificate(ed25519Key().publicKey, now - day, now + day),
        'plain.pub': `ssh-ed25519 ${Buffer.from('x').toString('base64')} me\n`,
      });
      const cert = (file: string): string[] => validate(nullBuilder, { ...base, ssh_private_key_file: 'id.key', ssh_certificate_file: file }, dir).errors;
      expect(cert('good.pub')).toEqual([]);
      expect(cert('forever.pub')).toEqual([]);
      expect(cert('expired.pub')).toEqual(['"ssh_certificate_file" "expired.pub" is not a usable ssh certificate: it has expired']);
      expect(cert('future.pub')).toEqual(['"ssh_certificate_file" "future.pub" is not a usable ssh certificate: it is not valid yet']);
      expect(cert('other.pub')).toEqual(['"ssh_certificate_file" "other.pub" is not a usable ssh certificate: it was issued for a different key']);
      expect(cert('plain.pub')).toEqual(['"ssh_certificate_file" "plain.pub" is not a usable ssh certificate: it holds no "...-cert-v01@openssh.com" certificate line']);
      expect(cert('missing.pub')).toEqual([`"ssh_certificate_file" "missing.pub" cannot be read (resolved to ${path.join(dir, 'missing.pub')}): ENOENT`]);
    });
  });

  test('needs a credential for the bastion, checks its key, and refuses a proxy next to it', () => {
    expect(validate(nullBuilder, { ...ssh, ssh_bastion_host: 'jump' }).errors).toEqual([
      'the bastion needs "ssh_bastion_password", "ssh_bastion_private_key_file" or "ssh_bastion_agent_auth"',
    ]);
    expect(validate(nullBuilder, { ...ssh, ssh_bastion_host: 'jump', ssh_bastion_private_key_file: 'nope.key' }, workdir()).errors).toEqual([
      '"ssh_bastion_private_key_file" "nope.key" does not exist',
    ]);
    expect(validate(nullBuilder, { ...ssh, ssh_bastion_host: 'jump', ssh_bastion_password: 'p', ssh_proxy_host: 'proxy' }).errors).toEqual([
      '"ssh_bastion_host" and "ssh_proxy_host" cannot be used together',
    ]);
  });

  test('checks the tunnel specifications and the file transfer method', () => {
    expect(validate(nullBuilder, { ...ssh, ssh_local_tunnels: ['8080:localhost:80', 'bad'], ssh_remote_tunnels: '9000:[::1]:90' }).errors).toEqual([
      '"ssh_local_tunnels" entries must be PORT:HOST:PORT, e.g. "8080:localhost:80", got "bad"',
    ]);
    expect(validate(nullBuilder, { ...ssh, ssh_file_transfer_method: 'rsync' }).errors).toEqual([
      '"ssh_file_transfer_method" must be "scp" or "sftp", got "rsync"',
    ]);
  });

  test('accepts the internal and temporary-key options Packer accepts, and rejects ssh_interface as Packer does', () => {
    expect(validate(nullBuilder, { ...ssh, temporary_key_pair_type: 'ed25519', temporary_key_pair_bits: '256', ssh_keypair_name: 'k', ssh_private_key: [65, 66] }).errors).toEqual([]);
    expect(validate(nullBuilder, { ...ssh, ssh_interface: 'public_ip' }).errors[0]).toMatch(/^unknown key "ssh_interface"/);
  });
});

describe('the file builder', () => {
  test('accepts a target with content', () => {
    const out = validate(fileBuilder, { type: 'file', target: 'out/hello.txt', content: 'hello' });
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([]);
  });

  test('requires a target', () => {
    expect(validate(fileBuilder, { content: 'x' }).errors).toEqual([
      '"target" is required: Path of the file to create; missing parent directories are created.',
    ]);
  });

  test('refuses both source and content', () => {
    expect(validate(fileBuilder, { target: 't', source: 's', content: 'c' }).errors).toEqual(['only one of "source" and "content" may be set']);
  });

  test('warns, but accepts, when neither source nor content is set', () => {
    const out = validate(fileBuilder, { target: 't' });
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual(['neither "source" nor "content" is set: "target" will be an empty file']);
  });
});
