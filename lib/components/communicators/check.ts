import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Communicator types a template may name. */
export const COMMUNICATOR_TYPES = ['ssh', 'winrm', 'docker', 'dockerWindowsContainer', 'none'] as const;

/** The fields `checkCommunicator` reads, whatever builder they come from. */
export interface CommunicatorConfig {
  communicator?: string;
  ssh_host?: string;
  ssh_username?: string;
  ssh_password?: string;
  ssh_private_key_file?: string;
  ssh_certificate_file?: string;
  ssh_agent_auth?: boolean;
  ssh_file_transfer_method?: string;
  ssh_bastion_host?: string;
  ssh_bastion_password?: string;
  ssh_bastion_private_key_file?: string;
  ssh_bastion_certificate_file?: string;
  ssh_bastion_agent_auth?: boolean;
  ssh_proxy_host?: string;
  ssh_local_tunnels?: string[];
  ssh_remote_tunnels?: string[];
  winrm_host?: string;
  winrm_username?: string;
  winrm_password?: string;
}

export interface CheckCommunicatorOptions {
  /**
   * The builder cannot discover the machine's address and credentials itself
   * (null): the host, the user and one authentication method must be given.
   */
  readonly requireHost?: boolean;
  /** Communicator types this builder accepts; all of `COMMUNICATOR_TYPES` when left out. */
  readonly allowed?: readonly string[];
  /** Directory that relative key and certificate paths are resolved against. */
  readonly cwd?: string;
  /** Receives warnings: problems Packer only finds when it connects. */
  readonly warn?: (message: string) => void;
}

/** Expands a leading `~` as ssh and Packer do. */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

const show = (v: unknown): string => JSON.stringify(v);

/**
 * Packer's prepare-time communicator rules. `requireHost` is set by builders
 * that cannot discover the address themselves (null).
 */
export function checkCommunicator(config: CommunicatorConfig, defaultType: string, opts: CheckCommunicatorOptions = {}): string[] {
  const errors: string[] = [];
  const type = config.communicator || defaultType;
  const allowed = opts.allowed ?? COMMUNICATOR_TYPES;
  if (!allowed.includes(type)) {
    errors.push(`communicator ${show(type)} is not supported here; use one of ${allowed.map((a) => show(a)).join(', ')}`);
    return errors;
  }
  const resolve = (p: string): string => path.resolve(opts.cwd ?? process.cwd(), expandHome(p));

  if (type === 'ssh') {
    if (opts.requireHost && !config.ssh_host) errors.push('"ssh_host" must be set: the address of the machine to connect to');
    if (!config.ssh_username) errors.push('"ssh_username" must be set for the ssh communicator');
    if (config.ssh_private_key_file) {
      errors.push(...checkKeyFile('ssh_private_key_file', config.ssh_private_key_file, 'ssh_certificate_file', config.ssh_certificate_file, resolve));
    }
    if (config.ssh_agent_auth && !process.env.SSH_AUTH_SOCK) {
      // Packer accepts this at validate and fails only when it connects.
      opts.warn?.('"ssh_agent_auth" needs a running ssh-agent, but SSH_AUTH_SOCK is not set: connecting will fail');
    }
    const method = config.ssh_file_transfer_method;
    if (method && method !== 'scp' && method !== 'sftp') {
      errors.push(`"ssh_file_transfer_method" must be "scp" or "sftp", got ${show(method)}`);
    }
    if (config.ssh_bastion_host) {
      // The bastion falls back to the main key and certificate.
      const bastionKey = config.ssh_bastion_private_key_file || config.ssh_private_key_file;
      const bastionCert = config.ssh_bastion_certificate_file || config.ssh_certificate_file;
      if (!config.ssh_bastion_agent_auth) {
        if (!config.ssh_bastion_password && !bastionKey) {
          errors.push('the bastion needs "ssh_bastion_password", "ssh_bastion_private_key_file" or "ssh_bastion_agent_auth"');
        } else if (config.ssh_bastion_private_key_file) {
          errors.push(...checkKeyFile('ssh_bastion_private_key_file', config.ssh_bastion_private_key_file, 'ssh_bastion_certificate_file', bastionCert, resolve));
        }
      }
      if (config.ssh_proxy_host) errors.push('"ssh_bastion_host" and "ssh_proxy_host" cannot be used together');
    }
    for (const field of ['ssh_local_tunnels', 'ssh_remote_tunnels'] as const) {
      for (const spec of config[field] ?? []) {
        if (!isTunnelSpec(spec)) errors.push(`${show(field)} entries must be PORT:HOST:PORT, e.g. "8080:localhost:80", got ${show(spec)}`);
      }
    }
  }

  if (type === 'winrm') {
    if (opts.requireHost && !config.winrm_host) errors.push('"winrm_host" must be set: the address of the machine to connect to');
    if (!config.winrm_username) errors.push('"winrm_username" must be set for the winrm communicator');
  }

  if (opts.requireHost && type !== 'none') {
    // Packer's null builder counts the ssh key and agent as methods even with winrm.
    const password = type === 'winrm' ? config.winrm_password : config.ssh_password;
    if (!password && !config.ssh_private_key_file && !config.ssh_agent_auth) {
      errors.push(type === 'winrm'
        ? 'one authentication method must be set: "winrm_password", "ssh_private_key_file" or "ssh_agent_auth"'
        : 'one authentication method must be set: "ssh_password", "ssh_private_key_file" or "ssh_agent_auth"');
    }
    if ([config.ssh_password, config.ssh_private_key_file, config.ssh_agent_auth].filter(Boolean).length > 1) {
      errors.push('only one of "ssh_agent_auth", "ssh_password" and "ssh_private_key_file" may be set');
    }
  }
  return errors;
}

/** Packer opens, parses and (with a certificate) checks the key when it prepares the builder. */
function checkKeyFile(keyField: string, keyFile: string, certField: string, certFile: string | undefined, resolve: (p: string) => string): string[] {
  const keyPath = resolve(keyFile);
  let text: string;
  try {
    text = fs.readFileSync(keyPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [`${show(keyField)} ${show(keyFile)} does not exist`];
    return [`${show(keyField)} ${show(keyFile)} cannot be read (resolved to ${keyPath}): ${code ?? String(e)}`];
  }
  const keyProblem = privateKeyProblem(text);
  if (keyProblem) return [`${show(keyField)} ${show(keyFile)} is not a usable private key: ${keyProblem}`];
  if (!certFile) return [];
  const certPath = resolve(certFile);
  let cert: string;
  try {
    cert = fs.readFileSync(certPath, 'utf8');
  } catch (e) {
    return [`${show(certField)} ${show(certFile)} cannot be read (resolved to ${certPath}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`];
  }
  const certProblem = certificateProblem(cert, Date.now() / 1000, publicKeyBlobOf(text));
  return certProblem ? [`${show(certField)} ${show(certFile)} is not a usable ssh certificate: ${certProblem}`] : [];
}

/**
 * Why the text of a private key file cannot be used, or undefined. Mirrors what
 * Packer's ssh library accepts: one PEM block of type RSA, EC, DSA, PKCS#8 or
 * OpenSSH, not protected by a passphrase.
 */
export function privateKeyProblem(text: string): string | undefined {
  const block = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!block) return 'no PEM "-----BEGIN ... PRIVATE KEY-----" block found';
  const [, label, body] = block;
  if (/^Proc-Type:\s*4,ENCRYPTED/m.test(body) || label === 'ENCRYPTED PRIVATE KEY') {
    return 'it is protected by a passphrase; decrypt it first (ssh-keygen -p)';
  }
  switch (label) {
    case 'OPENSSH PRIVATE KEY': {
      const raw = Buffer.from(body.replace(/\s+/g, ''), 'base64');
      const magic = 'openssh-key-v1\0';
      if (raw.subarray(0, magic.length).toString('latin1') !== magic || raw.length < magic.length + 4) {
        return 'the OpenSSH key data is damaged';
      }
      let pos = magic.length;
      const str = (): Buffer => {
        if (pos + 4 > raw.length) throw new Error('short');
        const len = raw.readUInt32BE(pos);
        if (pos + 4 + len > raw.length) throw new Error('short');
        pos += 4 + len;
        return raw.subarray(pos - len, pos);
      };
      try {
        if (str().toString('latin1') !== 'none') return 'it is protected by a passphrase; decrypt it first (ssh-keygen -p)';
        str(); // kdf name
        str(); // kdf options
        pos += 4; // number of keys
        str(); // public key
        const secret = str();
        // An unencrypted private part starts with the same check number twice.
        if (secret.length < 8 || secret.readUInt32BE(0) !== secret.readUInt32BE(4)) return 'the OpenSSH key data is damaged';
        return undefined;
      } catch {
        return 'the OpenSSH key data is damaged';
      }
    }
    case 'DSA PRIVATE KEY':
      return undefined;
    case 'RSA PRIVATE KEY':
    case 'EC PRIVATE KEY':
    case 'PRIVATE KEY':
      try {
        crypto.createPrivateKey({ key: block[0], format: 'pem' });
        return undefined;
      } catch {
        return `the ${label} data is damaged`;
      }
    default:
      return `keys of type ${show(label)} are not supported; use an RSA, ECDSA, Ed25519 or DSA key`;
  }
}

/** SSH wire encoding: a string or byte blob, prefixed with its length. */
function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** SSH wire encoding of a positive big-endian integer (mpint). */
function sshMpint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return sshString(trimmed[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/**
 * The public key of a private key file in SSH wire format, to compare with a
 * certificate; undefined when Kiln cannot tell (DSA keys, damaged files).
 */
export function publicKeyBlobOf(text: string): Buffer | undefined {
  const block = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!block) return undefined;
  try {
    if (block[1] === 'OPENSSH PRIVATE KEY') {
      const raw = Buffer.from(block[2].replace(/\s+/g, ''), 'base64');
      let pos = 'openssh-key-v1\0'.length;
      const str = (): Buffer => {
        const len = raw.readUInt32BE(pos);
        const v = raw.subarray(pos + 4, pos + 4 + len);
        pos += 4 + len;
        return v;
      };
      str(); // cipher
      str(); // kdf name
      str(); // kdf options
      pos += 4; // number of keys
      return Buffer.from(str());
    }
    const jwk = crypto.createPublicKey({ key: block[0], format: 'pem' }).export({ format: 'jwk' });
    const b64 = (v: string | undefined): Buffer => Buffer.from(v ?? '', 'base64url');
    if (jwk.kty === 'RSA') return Buffer.concat([sshString('ssh-rsa'), sshMpint(b64(jwk.e)), sshMpint(b64(jwk.n))]);
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return Buffer.concat([sshString('ssh-ed25519'), sshString(b64(jwk.x))]);
    const curves: Record<string, string> = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' };
    if (jwk.kty === 'EC' && jwk.crv && curves[jwk.crv]) {
      const curve = curves[jwk.crv];
      const point = Buffer.concat([Buffer.from([4]), b64(jwk.x), b64(jwk.y)]);
      return Buffer.concat([sshString(`ecdsa-sha2-${curve}`), sshString(curve), sshString(point)]);
    }
  } catch {
    // Not a key Kiln can read; privateKeyProblem reports damaged files.
  }
  return undefined;
}

/** Number of public-key fields each certificate type carries between the nonce and the serial. */
const CERT_KEY_FIELDS: Record<string, number> = {
  'ssh-rsa-cert-v01@openssh.com': 2,
  'ssh-dss-cert-v01@openssh.com': 4,
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': 2,
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': 2,
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': 2,
  'ssh-ed25519-cert-v01@openssh.com': 1,
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com': 3,
  'sk-ssh-ed25519-cert-v01@openssh.com': 2,
};

/**
 * Why the text of an ssh certificate file cannot be used at `now` (Unix
 * seconds), or undefined. Checks the format, the validity window and, when
 * `keyBlob` (the private key's public half, SSH wire format) is given, that
 * the certificate is for that key, as Packer does.
 */
export function certificateProblem(text: string, now: number, keyBlob?: Buffer): string | undefined {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  const words = line?.split(/\s+/) ?? [];
  const at = words.findIndex((w) => w in CERT_KEY_FIELDS);
  if (at < 0 || at + 1 >= words.length) return 'it holds no "...-cert-v01@openssh.com" certificate line';
  const blob = Buffer.from(words[at + 1], 'base64');
  let pos = 0;
  const u32 = (): number => {
    if (pos + 4 > blob.length) throw new Error('short');
    const v = blob.readUInt32BE(pos);
    pos += 4;
    return v;
  };
  const u64 = (): bigint => {
    if (pos + 8 > blob.length) throw new Error('short');
    const v = blob.readBigUInt64BE(pos);
    pos += 8;
    return v;
  };
  const str = (): Buffer => {
    const len = u32();
    if (pos + len > blob.length) throw new Error('short');
    const v = blob.subarray(pos, pos + len);
    pos += len;
    return v;
  };
  try {
    const type = str().toString('latin1');
    if (type !== words[at]) return 'the certificate data does not match its type';
    str(); // nonce
    const keyStart = pos;
    for (let i = 0; i < CERT_KEY_FIELDS[type]; i++) str();
    const certKey = Buffer.concat([sshString(type.replace('-cert-v01@openssh.com', '')), blob.subarray(keyStart, pos)]);
    u64(); // serial
    u32(); // certificate type
    str(); // key id
    str(); // principals
    const after = u64();
    const before = u64();
    const nowBig = BigInt(Math.floor(now));
    const int64Max = 2n ** 63n - 1n;
    if (after > int64Max || nowBig < after) return 'it is not valid yet';
    if (before !== 2n ** 64n - 1n && (before > int64Max || nowBig >= before)) return 'it has expired';
    if (keyBlob && !type.startsWith('sk-') && !keyBlob.equals(certKey)) return 'it was issued for a different key';
    return undefined;
  } catch {
    return 'the certificate data is damaged';
  }
}

/** `PORT:HOST:PORT`, as Packer's tunnel parser reads it (the host may be empty or a bracketed IPv6 address). */
export function isTunnelSpec(spec: string): boolean {
  const colon = spec.indexOf(':');
  if (colon < 0) return false;
  const listen = spec.slice(0, colon);
  const forward = spec.slice(colon + 1);
  let host: string;
  let port: string;
  if (forward.startsWith('[')) {
    const end = forward.indexOf(']');
    if (end < 0 || forward[end + 1] !== ':') return false;
    host = forward.slice(1, end);
    port = forward.slice(end + 2);
    if (host.includes('[')) return false;
  } else {
    const last = forward.lastIndexOf(':');
    if (last < 0) return false;
    host = forward.slice(0, last);
    port = forward.slice(last + 1);
    if (/[:[\]]/.test(host)) return false;
  }
  const isInt = (s: string): boolean => /^[+-]?\d+$/.test(s);
  return isInt(port) && isInt(listen);
}
