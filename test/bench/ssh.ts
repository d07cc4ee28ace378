import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Benchmark } from './harness';
import { ed25519Key } from '../components/ssh-material';

/**
 * SSH transfer benchmarks: the null builder with a file provisioner uploading
 * one 200 MB file, and a tree of 2,000 small files, to a real sshd (a
 * container of the local image kiln/sshd from scripts/setup.sh, on a free
 * loopback port), Kiln against Packer. The destination is a tmpfs in the
 * container, so that the communicators are measured rather than the
 * container's disk. Each benchmark starts its own sshd and removes it.
 */

const root = path.resolve(__dirname, '..', '..');
const kiln = [process.execPath, path.join(root, 'bin', 'kiln')];

/** A free port on 127.0.0.1, found by a child process (the harness is synchronous). */
function freePort(): number {
  const script = 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})';
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim());
}

/** Waits until the port sends an SSH banner. */
function waitForSsh(port: number): void {
  const script = `const c=require("net").connect(${port},"127.0.0.1");c.on("data",d=>process.exit(String(d).startsWith("SSH-")?0:1));c.on("error",()=>process.exit(1));setTimeout(()=>process.exit(1),1000)`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync(process.execPath, ['-e', script]).status === 0) return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error(`sshd on port ${port} did not start`);
}

interface Fixture {
  readonly dir: string;
  readonly container: string;
}

function authorizedLine(publicKey: Buffer): string {
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(publicKey)]).toString('base64')} kiln-bench`;
}

/** Starts sshd with a fresh key; writes the payload and one template per tool into a fresh directory. */
function setUp(method: 'scp' | 'sftp', source: string, payload: (dir: string) => void): Fixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-ssh-'));
  const key = ed25519Key();
  fs.writeFileSync(path.join(dir, 'key'), key.openssh, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `${authorizedLine(key.publicKey)}\n`);
  payload(dir);
  const port = freePort();
  const container = `kiln-bench-sshd-${randomBytes(4).toString('hex')}`;
  execFileSync('docker', [
    'run', '-d', '--rm', '--name', container, '--label', 'kiln.test=ssh', '--network', 'host', '--tmpfs', '/bench:size=1g',
    '-v', `${path.join(dir, 'authorized_keys')}:/root/.ssh/authorized_keys:ro`,
    'kiln/sshd:latest', '/usr/sbin/sshd', '-D', '-e', '-p', String(port), '-o', 'ListenAddress=127.0.0.1', '-o', 'StrictModes=no',
  ], { stdio: 'ignore' });
  waitForSsh(port);
  for (const tool of ['kiln', 'packer']) {
    fs.writeFileSync(path.join(dir, `${tool}.json`), JSON.stringify({
      builders: [{
        type: 'null', ssh_host: '127.0.0.1', ssh_port: port, ssh_username: 'root', ssh_private_key_file: 'key', ssh_file_transfer_method: method,
      }],
      provisioners: [{ type: 'file', source, destination: `/bench/${tool}/` }],
    }));
  }
  return { dir, container };
}

function tearDown(f: Fixture | undefined): void {
  if (!f) return;
  spawnSync('docker', ['rm', '-f', f.container], { stdio: 'ignore' });
  fs.rmSync(f.dir, { recursive: true, force: true });
}

/** One 200 MB file of random blocks. */
function bigFile(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'big.bin'), 'w');
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < 200; i++) {
    block.writeUInt32BE(i, 0);
    fs.writeSync(fd, block);
  }
  fs.closeSync(fd);
}

/** 2,000 files of 1–3 KB in 20 directories. */
function smallFiles(dir: string): void {
  for (let d = 0; d < 20; d++) {
    const sub = path.join(dir, 'small', `d${String(d).padStart(2, '0')}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(sub, `f${String(f).padStart(3, '0')}.txt`), randomBytes(1000 + f * 20));
  }
}

function benchmark(name: string, method: 'scp' | 'sftp', source: string, payload: (dir: string) => void, runs: number, targetRatio?: number): Benchmark {
  let fixture: Fixture | undefined;
  const fx = () => {
    if (!fixture) throw new Error('the benchmark was not set up');
    return fixture;
  };
  // The destination is emptied before each timed run (untimed), so every run copies everything anew.
  const clear = (tool: string) => () => execFileSync('docker', ['exec', fx().container, 'sh', '-c', `rm -rf /bench/${tool}; mkdir -p /bench/${tool}`]);
  const command = (tool: 'kiln' | 'packer', argv: string[]) => ({
    get argv() {
      return [...argv, '-color=false', path.join(fx().dir, `${tool}.json`)];
    },
    get cwd() {
      return fx().dir;
    },
    before: clear(tool),
  });
  return {
    name,
    kiln: command('kiln', [...kiln, 'build']),
    packer: command('packer', ['packer', 'build']),
    runs,
    targetRatio,
    setup: () => {
      fixture = setUp(method, source, payload);
    },
    teardown: () => {
      tearDown(fixture);
      fixture = undefined;
    },
  };
}

export const sshBenchmarks: Benchmark[] = [
  benchmark('ssh upload 200 MB file (scp)', 'scp', 'big.bin', bigFile, 5, 1.0),
  benchmark('ssh upload 2,000 small files (scp)', 'scp', 'small/', smallFiles, 7, 1.0),
  benchmark('ssh upload 200 MB file (sftp)', 'sftp', 'big.bin', bigFile, 5, 1.0),
  benchmark('ssh upload 2,000 small files (sftp)', 'sftp', 'small/', smallFiles, 7, 1.0),
];
