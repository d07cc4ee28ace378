import * as crypto from 'crypto';

/** Small builders of SSH key and certificate files for the communicator tests. */

function str(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}

function pem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export interface Ed25519Key {
  /** PKCS#8 PEM text of the private key. */
  readonly pkcs8: string;
  /** The same key as an OpenSSH-format file, as `ssh-keygen` writes it. */
  readonly openssh: string;
  /** The 32-byte public key. */
  readonly publicKey: Buffer;
}

export function ed25519Key(): Ed25519Key {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const pk = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const blob = Buffer.concat([str('ssh-ed25519'), str(pk)]);
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const check = Buffer.from([1, 2, 3, 4]);
  const unpadded = Buffer.concat([check, check, str('ssh-ed25519'), str(pk), str(Buffer.concat([seed, pk])), str('test')]);
  const padding = Buffer.from(Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, i) => i + 1));
  const secret = Buffer.concat([unpadded, padding]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), str('none'), str('none'), str(''), Buffer.from([0, 0, 0, 1]), str(blob), str(secret)]);
  return { pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), openssh: pem('OPENSSH PRIVATE KEY', body), publicKey: pk };
}

/** An OpenSSH-format key file whose private part is encrypted with a passphrase. */
export function encryptedOpensshKey(): string {
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), str('aes256-ctr'), str('bcrypt'), str(Buffer.alloc(24)), Buffer.from([0, 0, 0, 1])]);
  return pem('OPENSSH PRIVATE KEY', body);
}

/** A PKCS#8 key encrypted with a passphrase. */
export function encryptedPkcs8Key(): string {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
}

/**
 * An ed25519 user certificate line for `publicKey`, valid between the two Unix
 * times (the signature is not real: Kiln, like Packer, does not verify it at validate).
 */
export function ed25519Certificate(publicKey: Buffer, validAfter: bigint, validBefore: bigint): string {
  const type = 'ssh-ed25519-cert-v01@openssh.com';
  const blob = Buffer.concat([
    str(type), str(Buffer.alloc(32)), str(publicKey),
    u64(1n), Buffer.from([0, 0, 0, 1]), str('id'), str(''), u64(validAfter), u64(validBefore),
    str(''), str(''), str(''), str(''), str(''),
  ]);
  return `${type} ${blob.toString('base64')} user@example\n`;
}
