import { execFile, execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ed25519Key } from '../../ssh-material';

/**
 * Real sshd servers for the ssh communicator's tests, each in its own
 * container made from the local image `kiln/sshd:latest` (scripts/setup.sh
 * builds it with debootstrap; nothing is pulled), on the host's network, on
 * a free loopback port, with throwaway keys. The host is never modified. The
 * docker engine may be shared: every container has a unique name and the
 * label `kiln.test=ssh`, and only the containers started here are removed.
 */

export const SSHD_IMAGE = 'kiln/sshd:latest';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1 (another process could take it meanwhile: unlikely, and the start fails clearly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A port nothing listens on (taken, then released). */
export const closedPort = freePort;

export interface KeyPair {
  /** Path of the private key file (OpenSSH format, mode 0600). */
  readonly file: string;
  /** The authorized_keys line. */
  readonly authorized: string;
}

const dirs: string[] = [];
const containers = new Set<string>();

/** A fresh private directory, removed after the file's tests. */
export function tempDir(word = 'ssh'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `kiln-${word}-test-`)));
  dirs.push(dir);
  return dir;
}

/** A new ed25519 key pair written under `dir`. */
export function keyPair(dir: string, name = 'id_ed25519'): KeyPair {
  const key = ed25519Key();
  const file = path.join(dir, name);
  fs.writeFileSync(file, key.openssh, { mode: 0o600 });
  const blob = Buffer.concat([lengthPrefixed(Buffer.from('ssh-ed25519')), lengthPrefixed(key.publicKey)]);
  return { file, authorized: `ssh-ed25519 ${blob.toString('base64')} kiln-test` };
}

function lengthPrefixed(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

export interface SshdOptions {
  /** Keys allowed to log in as root. */
  readonly authorized: readonly string[];
  /** Sets root's password and allows password authentication. */
  readonly password?: string;
  /** With `password`: offer it through keyboard-interactive (PAM) only, not as plain password authentication. */
  readonly keyboardInteractiveOnly?: boolean;
  /** Extra `-o Key=Value` options for sshd. */
  readonly options?: readonly string[];
  /** The image to run, one made from kiln/sshd. */
  readonly image?: string;
}

export interface Sshd {
  readonly name: string;
  readonly port: number;
  /** Runs a shell command in the container (as root); resolves to its stdout. */
  sh(command: string): Promise<string>;
  /** sshd's log so far. */
  logs(): Promise<string>;
  /** Removes the container. */
  remove(): Promise<void>;
}

/** Fails clearly when the image is missing: scripts/setup.sh makes it. */
export function requireImage(): void {
  try {
    execFileSync('docker', ['image', 'inspect', SSHD_IMAGE], { stdio: 'ignore' });
  } catch {
    throw new Error(`the image ${SSHD_IMAGE} is missing: run "bash scripts/setup.sh" first`);
  }
}

/**
 * Starts sshd on a free loopback port in a new container and waits until it
 * greets. sshd runs under a small loop that starts it again 0.2 s after it
 * dies, so a test can kill it as a reboot would and see it come back.
 */
export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  const dir = tempDir('sshd');
  fs.writeFileSync(path.join(dir, 'authorized_keys'), opts.authorized.map((l) => `${l}\n`).join(''), { mode: 0o644 });
  const port = await freePort();
  const name = `kiln-test-sshd-${randomBytes(4).toString('hex')}`;
  const sshdOptions = [
    'ListenAddress=127.0.0.1',
    'PermitRootLogin=yes',
    'StrictModes=no',
    'UsePAM=yes',
    `PasswordAuthentication=${opts.password && !opts.keyboardInteractiveOnly ? 'yes' : 'no'}`,
    `KbdInteractiveAuthentication=${opts.password ? 'yes' : 'no'}`,
    'MaxStartups=100',
    ...(opts.options ?? []),
  ];
  const sshd = `/usr/sbin/sshd -D -e -p ${port} ${sshdOptions.map((o) => `-o ${o}`).join(' ')}`;
  const setPassword = opts.password ? `echo 'root:${opts.password}' | chpasswd && ` : '';
  // root's authorized_keys is a copy, so that a build may edit it (ssh_clear_authorized_keys).
  const keys = 'mkdir -p /root/.ssh && cp /kiln-keys/authorized_keys /root/.ssh/authorized_keys && ';
  // The loop starts sshd again when a test kills it (as a reboot would).
  const script = `${keys}${setPassword}while :; do ${sshd}; sleep 0.2; done`;
  await run('docker', [
    'run', '-d', '--rm', '--name', name, '--label', 'kiln.test=ssh', '--network', 'host',
    '-v', `${dir}:/kiln-keys:ro`,
    opts.image ?? SSHD_IMAGE, '/bin/sh', '-c', script,
  ]);
  containers.add(name);
  const server: Sshd = {
    name,
    port,
    sh: async (command) => (await run('docker', ['exec', name, '/bin/sh', '-c', command], { maxBuffer: 64 * 1024 * 1024 })).stdout,
    logs: async () => {
      const r = await run('docker', ['logs', name], { maxBuffer: 16 * 1024 * 1024 });
      return r.stdout + r.stderr;
    },
    remove: async () => {
      containers.delete(name);
      await run('docker', ['rm', '-f', name]).catch(() => undefined);
    },
  };
  await waitForBanner(port, 15_000).catch(async (e: Error) => {
    throw new Error(`sshd in ${name} did not start: ${e.message}\n${await server.logs().catch(() => '')}`);
  });
  return server;
}

/** Resolves once something on `port` sends an SSH banner. */
export async function waitForBanner(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => finish(false), 1000);
      const finish = (v: boolean) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(v);
      };
      sock.once('data', (d: Buffer) => finish(d.toString('latin1').startsWith('SSH-')));
      sock.once('error', () => finish(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing answered on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(async () => {
  await Promise.all([...containers].map((name) => run('docker', ['rm', '-f', name]).catch(() => undefined)));
  containers.clear();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
