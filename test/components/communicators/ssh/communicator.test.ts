import { execFile, execFileSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { once } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough, Readable, Writable } from 'stream';
import { promisify } from 'util';
import { closedPort, keyPair, KeyPair, requireImage, Sshd, startSshd, tempDir } from './sshd';
import { connectSsh, sshPlan, SshConfig } from '../../../../lib/components/communicators/ssh';
import { CMD_DISCONNECT, SshCommunicator } from '../../../../lib/components/communicators/ssh/communicator';
import { testEnvironment } from '../../runtime-env';

/*
 * The ssh communicator against real OpenSSH servers (sshd 9.2 in containers
 * of the local image kiln/sshd, on loopback ports): authentication, Packer's
 * wait loop, commands, reconnection, and file transfers with scp and sftp.
 */

jest.setTimeout(90_000);

const execFileAsync = promisify(execFile);

let key: KeyPair;
let server: Sshd;
const PASSWORD = 'pw-Kiln-7f3a9c';

beforeAll(async () => {
  requireImage();
  key = keyPair(tempDir());
  server = await startSshd({ authorized: [key.authorized], password: PASSWORD });
});

/** Connects as a build would; returns the communicator and what was printed. */
async function connect(config: Partial<SshConfig>, target: Sshd = server, signal?: AbortSignal) {
  const { env, lines, cleanups } = testEnvironment({ cwd: tempDir(), signal });
  const plan = sshPlan({ ssh_host: '127.0.0.1', ssh_port: target.port, ssh_username: 'root', ...config }, env.interpolation.cwd!);
  const started = Date.now();
  try {
    const comm = await connectSsh(env, plan);
    return { comm, lines, cleanups, ms: Date.now() - started };
  } catch (e) {
    return { error: e as Error, lines, cleanups, ms: Date.now() - started };
  }
}

async function connected(config: Partial<SshConfig>, target: Sshd = server): Promise<SshCommunicator> {
  const r = await connect(config, target);
  if (!r.comm) throw r.error;
  return r.comm;
}

/** Runs a command, collecting its output lines. */
async function run(comm: SshCommunicator, command: string, stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await comm.exec(command, {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]),
  });
  return { code, out, err };
}

/** Counts sshd's log lines matching `re`. */
async function logCount(target: Sshd, re: RegExp): Promise<number> {
  return (await target.logs()).split('\n').filter((l) => re.test(l)).length;
}

describe('connecting', () => {
  test('with a key: Packer\'s messages, then commands with their output by line and exit codes', async () => {
    const r = await connect({ ssh_private_key_file: key.file });
    expect(r.error).toBeUndefined();
    expect(r.lines).toEqual([
      '==> test: Using ssh communicator to connect: 127.0.0.1',
      '==> test: Waiting for SSH to become available...',
      '==> test: Connected to SSH!',
    ]);
    const comm = r.comm!;
    expect(await run(comm, 'echo one; echo two >&2; printf "three\\nfour"; exit 7')).toEqual({ code: 7, out: ['one', 'three', 'four'], err: ['two'] });
    expect(await run(comm, 'cat; echo "[$(id -un)]"', 'from stdin\n')).toEqual({ code: 0, out: ['from stdin', '[root]'], err: [] });
    // Without stdin the command sees end of file at once instead of hanging.
    expect(await run(comm, 'cat; echo done')).toEqual({ code: 0, out: ['done'], err: [] });
    // Killed by a signal: 128 + its number, as Go reports it.
    expect((await run(comm, 'kill -TERM $$')).code).toBe(143);
    await r.cleanups.unwind();
  });

  test('with a password (password method) and through keyboard-interactive only', async () => {
    const comm = await connected({ ssh_password: PASSWORD });
    expect((await run(comm, 'echo ok')).out).toEqual(['ok']);
    comm.close();
    const kbd = await startSshd({ authorized: [], password: PASSWORD, keyboardInteractiveOnly: true });
    try {
      const viaKbd = await connected({ ssh_password: PASSWORD }, kbd);
      expect((await run(viaKbd, 'echo ok')).out).toEqual(['ok']);
      viaKbd.close();
      expect(await logCount(kbd, /Accepted keyboard-interactive\/pam for root/)).toBe(1);
    } finally {
      await kbd.remove();
    }
  });

  test('with ssh_pty: a terminal, so stderr arrives on stdout', async () => {
    const comm = await connected({ ssh_private_key_file: key.file, ssh_pty: true });
    const r = await run(comm, 'tty >/dev/null && echo has-tty; echo to-stderr >&2; stty size');
    expect(r).toEqual({ code: 0, out: ['has-tty', 'to-stderr', '40 80'], err: [] });
    comm.close();
  });

  test('a wrong key fails fast after exactly ssh_handshake_attempts attempts, with a clear message', async () => {
    const wrong = keyPair(tempDir(), 'wrong');
    const before = await logCount(server, /authenticating user root/);
    const r = await connect({ ssh_private_key_file: wrong.file, ssh_handshake_attempts: 3 });
    expect(r.error?.message).toBe('Kiln experienced an authentication error when trying to connect via SSH. This can happen if your '
      + 'username/password are wrong. You may want to double-check your credentials as part of your debugging process. '
      + 'original error: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain');
    expect(r.lines).toContain(`==> test: Error waiting for SSH: ${r.error!.message}`);
    // Three connections, two pauses of 2 s between them: well under ssh_timeout's 5 minutes.
    expect(r.ms).toBeLessThan(10_000);
    expect(await logCount(server, /authenticating user root/) - before).toBe(3);
  });

  test('a wrong password never shows up in the error', async () => {
    const r = await connect({ ssh_password: 'not-the-Password-123', ssh_handshake_attempts: 1 });
    expect(r.error?.message).toContain('attempted methods [none password keyboard-interactive]');
    expect(JSON.stringify([r.error!.message, r.lines])).not.toContain('not-the-Password-123');
  });

  test('against a closed port, ssh_timeout ends the wait: "Timeout waiting for SSH."', async () => {
    const port = await closedPort();
    const { env, lines } = testEnvironment({ cwd: tempDir() });
    const started = Date.now();
    const plan = sshPlan({ ssh_host: '127.0.0.1', ssh_port: port, ssh_username: 'root', ssh_password: 'x', ssh_timeout: '2500ms' }, tempDir());
    await expect(connectSsh(env, plan)).rejects.toThrow(/^Timeout waiting for SSH\.$/);
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThanOrEqual(2400);
    expect(ms).toBeLessThan(5000);
    expect(lines).toEqual([
      '==> test: Using ssh communicator to connect: 127.0.0.1',
      '==> test: Waiting for SSH to become available...',
      '==> test: Timeout waiting for SSH.',
    ]);
  });

  test('a cancelled build stops waiting at once', async () => {
    const port = await closedPort();
    const abort = new AbortController();
    const { env } = testEnvironment({ cwd: tempDir(), signal: abort.signal });
    const plan = sshPlan({ ssh_host: '127.0.0.1', ssh_port: port, ssh_username: 'root', ssh_password: 'x' }, tempDir());
    setTimeout(() => abort.abort(new Error('interrupted')), 300);
    const started = Date.now();
    await expect(connectSsh(env, plan)).rejects.toThrow('interrupted');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('settings that cannot work fail before any connection', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'garbage'), 'not a key');
    expect(() => sshPlan({ ssh_host: 'h', ssh_username: 'u', ssh_private_key_file: 'garbage' }, dir)).toThrow(/^the private key "garbage" cannot be used/);
    const sock = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      expect(() => sshPlan({ ssh_host: 'h', ssh_username: 'u', ssh_agent_auth: true }, dir)).toThrow('SSH_AUTH_SOCK is not set');
    } finally {
      if (sock !== undefined) process.env.SSH_AUTH_SOCK = sock;
    }
    expect(() => sshPlan({ ssh_host: 'h', ssh_username: 'u', ssh_password: 'p', ssh_proxy_host: 'proxy' }, dir)).toThrow(/"ssh_proxy_host" is not supported/);
  });

  test('through a bastion: the connection is a channel forwarded by the jump host', async () => {
    const bastion = await startSshd({ authorized: [key.authorized], options: ['LogLevel=DEBUG1'] });
    try {
      // The bastion reuses the main key file, as in Packer.
      const comm = await connected({ ssh_private_key_file: key.file, ssh_bastion_host: '127.0.0.1', ssh_bastion_port: bastion.port, ssh_bastion_username: 'root' });
      expect((await run(comm, 'echo "$SSH_CONNECTION" | cut -d" " -f4')).out).toEqual([String(server.port)]);
      await comm.upload('/tmp/via-bastion.txt', Readable.from([Buffer.from('hop\n')]), { size: 4 });
      expect(await server.sh('cat /tmp/via-bastion.txt')).toBe('hop\n');
      comm.close();
      expect(await bastion.logs()).toMatch(new RegExp(`direct-tcpip.*127\\.0\\.0\\.1 port ${server.port}|target 127\\.0\\.0\\.1 port ${server.port}`));
    } finally {
      await bastion.remove();
    }
  });
});

describe('the ssh-agent', () => {
  test('ssh_agent_auth authenticates with the agent\'s keys, and the agent is forwarded unless ssh_disable_agent_forwarding', async () => {
    // The agent runs in a container too (the image has ssh-agent); its socket is reached through a bind mount.
    const agentDir = tempDir('agent');
    fs.copyFileSync(key.file, path.join(agentDir, 'key'));
    const name = `kiln-test-agent-${randomBytes(4).toString('hex')}`;
    execFileSync('docker', ['run', '-d', '--rm', '--name', name, '--label', 'kiln.test=ssh', '-v', `${agentDir}:/agent`,
      'kiln/sshd:latest', 'ssh-agent', '-D', '-a', '/agent/sock']);
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      for (let i = 0; i < 50 && !fs.existsSync(path.join(agentDir, 'sock')); i++) await new Promise((r) => setTimeout(r, 100));
      execFileSync('docker', ['exec', '-e', 'SSH_AUTH_SOCK=/agent/sock', name, 'ssh-add', '-q', '/agent/key']);
      process.env.SSH_AUTH_SOCK = path.join(agentDir, 'sock');
      const comm = await connected({ ssh_agent_auth: true });
      expect((await run(comm, 'ssh-add -l >/dev/null && echo forwarded')).out).toEqual(['forwarded']);
      comm.close();
      const noForward = await connected({ ssh_agent_auth: true, ssh_disable_agent_forwarding: true });
      expect((await run(noForward, 'echo "[${SSH_AUTH_SOCK:-}]"')).out).toEqual(['[]']);
      noForward.close();
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
    }
  });
});

describe('timeouts', () => {
  test('ssh_read_write_timeout drops a silent connection; keep-alives keep a quiet one open', async () => {
    const silent = await connected({ ssh_private_key_file: key.file, ssh_read_write_timeout: '1s', ssh_keep_alive_interval: '-1s' });
    const started = Date.now();
    expect((await run(silent, 'sleep 4; echo late')).code).toBe(CMD_DISCONNECT);
    expect(Date.now() - started).toBeLessThan(3500);
    silent.close();
    const kept = await connected({ ssh_private_key_file: key.file, ssh_read_write_timeout: '1s', ssh_keep_alive_interval: '300ms' });
    expect(await run(kept, 'sleep 2; echo on time')).toEqual({ code: 0, out: ['on time'], err: [] });
    kept.close();
  });
});

describe('disconnects', () => {
  test('a command whose connection drops has Packer\'s disconnect status 2300218, and the next command reconnects', async () => {
    const target = await startSshd({ authorized: [key.authorized] });
    try {
      const comm = await connected({ ssh_private_key_file: key.file }, target);
      // Kill every sshd, as a restart or reboot does; the container's loop starts it again.
      expect((await run(comm, 'pkill -9 -x sshd; sleep 5')).code).toBe(CMD_DISCONNECT);
      let result: Awaited<ReturnType<typeof run>> | undefined;
      for (let i = 0; i < 50 && !result; i++) {
        try {
          result = await run(comm, 'echo back');
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(result).toEqual({ code: 0, out: ['back'], err: [] });
      comm.close();
    } finally {
      await target.remove();
    }
  });
});

/** A 200 MB file whose every mebibyte differs (a block of random bytes stamped with its index). */
function bigFile(dir: string): { file: string; sha: string; size: number } {
  const file = path.join(dir, 'big.bin');
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < 200; i++) {
    block.writeUInt32BE(i, 0);
    fs.writeSync(fd, block);
    hash.update(block);
  }
  fs.closeSync(fd);
  return { file, sha: hash.digest('hex'), size: 200 * 1024 * 1024 };
}

/**
 * Copies a file with the compiled communicator in a child process that
 * samples its own live memory (there a collection is cheap); returns the
 * growth at its peak. Needs lib/ compiled (`npx tsc --build`).
 */
async function probe(args: { port: number; method: string; direction: 'up' | 'down'; local: string; remote: string; mode?: number }): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, [
    '--expose-gc', '--max-old-space-size=64', path.join(__dirname, 'transfer-probe.js'), JSON.stringify({ ...args, key: key.file }),
  ]);
  return (JSON.parse(stdout) as { peak: number }).peak;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** `path mode size` of everything under a local directory, sorted. */
function localListing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = fs.statSync(full);
      out.push(`${rel}${name} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? '-' : st.size}`);
      if (st.isDirectory()) walk(full, `${rel}${name}/`);
    }
  };
  walk(root, '');
  return out;
}

/** The same listing of a remote directory. */
async function remoteListing(target: Sshd, root: string): Promise<string[]> {
  const out = await target.sh(`cd ${root} && find . -mindepth 1 -printf '%P %m %y %s\\n' | sort`);
  return out.trim().split('\n').filter(Boolean).map((l) => {
    const [p, mode, type, size] = l.split(' ');
    return `${p} ${mode} ${type === 'd' ? '-' : size}`;
  });
}

/** A local tree with assorted modes, an empty file, a file starting with "E", a streamed (large) file and a link. */
function tree(dir: string): string {
  const root = path.join(dir, 'tree');
  fs.mkdirSync(path.join(root, 'sub', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n', { mode: 0o644 });
  fs.writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'secret'), 's3cr3t', { mode: 0o600 });
  fs.writeFileSync(path.join(root, 'empty'), '', { mode: 0o644 });
  fs.writeFileSync(path.join(root, 'Echo.txt'), 'E\nC0644 3 evil\nabc\n', { mode: 0o644 });
  fs.writeFileSync(path.join(root, 'sub', 'deep', 'c.bin'), randomBytes(700 * 1024), { mode: 0o640 });
  fs.symlinkSync('a.txt', path.join(root, 'link'));
  fs.chmodSync(path.join(root, 'sub'), 0o750);
  fs.chmodSync(path.join(root, 'sub', 'deep'), 0o700);
  return root;
}

const TREE = [
  'Echo.txt 644 19',
  'a.txt 644 6',
  'empty 644 0',
  'link 644 6',
  'run.sh 755 19',
  'secret 600 6',
  'sub 750 -',
  'sub/deep 700 -',
  'sub/deep/c.bin 640 716800',
];

describe.each(['scp', 'sftp'] as const)('files with %s', (method) => {
  let comm: SshCommunicator;
  let dir: string;
  const remote = `/tmp/kiln-${method}`;

  beforeAll(async () => {
    comm = await connected({ ssh_private_key_file: key.file, ssh_file_transfer_method: method });
    dir = tempDir();
    await server.sh(`rm -rf ${remote} && mkdir -p ${remote}`);
  });
  afterAll(() => comm?.close());

  test('a 200 MB file goes up and comes back streamed, with memory staying flat', async () => {
    const big = bigFile(dir);
    const up = await probe({ port: server.port, method, direction: 'up', local: big.file, remote: `${remote}/big.bin`, mode: 0o640 });
    expect((await server.sh(`sha256sum ${remote}/big.bin | cut -d" " -f1; stat -c %a ${remote}/big.bin`)).split('\n')).toEqual([big.sha, '640', '']);
    const back = path.join(dir, 'back.bin');
    const down = await probe({ port: server.port, method, direction: 'down', local: back, remote: `${remote}/big.bin` });
    expect(sha256(back)).toBe(big.sha);
    // Live memory grows by a few windows' worth at most, not by the file's 200 MB.
    expect(up).toBeLessThan(40 * 1024 * 1024);
    expect(down).toBeLessThan(40 * 1024 * 1024);
    fs.rmSync(back);
    fs.rmSync(big.file);
    await server.sh(`rm -f ${remote}/big.bin`);
  });

  test('a streamed upload without size or mode gets 0644 (scp measures it first)', async () => {
    const body = new PassThrough();
    const done = comm.upload(`${remote}/streamed.txt`, body, {});
    body.end('streamed\n');
    await done;
    expect(await server.sh(`cat ${remote}/streamed.txt; stat -c %a ${remote}/streamed.txt`)).toBe('streamed\n644\n');
  });

  test('a directory tree goes up (itself, or its contents with a trailing slash) and comes back with its modes', async () => {
    const root = tree(dir);
    await server.sh(`mkdir -p ${remote}/itself ${remote}/contents`);
    await comm.uploadDir(`${remote}/itself`, root);
    await comm.uploadDir(`${remote}/contents`, `${root}/`);
    expect(await remoteListing(server, `${remote}/itself`)).toEqual(['tree 755 -', ...TREE.map((l) => `tree/${l}`)]);
    expect(await remoteListing(server, `${remote}/contents`)).toEqual(TREE);
    // Content survives, including a file that looks like scp records.
    expect(await server.sh(`cat ${remote}/contents/Echo.txt; ls ${remote}/contents`)).toBe('E\nC0644 3 evil\nabc\nEcho.txt\na.txt\nempty\nlink\nrun.sh\nsecret\nsub\n');
    const back = path.join(dir, `back-${method}`);
    await comm.downloadDir(`${remote}/itself/tree/`, back);
    expect(localListing(back)).toEqual(['tree 755 -', ...TREE.map((l) => `tree/${l}`)]);
    expect(sha256(path.join(back, 'tree/sub/deep/c.bin'))).toBe(sha256(path.join(root, 'sub/deep/c.bin')));
  });

  test('Packer\'s trailing-slash table: a new destination and a file onto a directory', async () => {
    const root = path.join(dir, 'tree');
    if (!fs.existsSync(root)) tree(dir);
    const newDst = comm.uploadDir(`${remote}/new`, root);
    if (method === 'scp') {
      await newDst; // the contents land in the new directory
      expect(await remoteListing(server, `${remote}/new`)).toEqual(TREE);
    } else {
      await expect(newDst).rejects.toThrow(/no such file/i);
    }
    const onto = comm.upload(`${remote}/contents`, fs.createReadStream(path.join(root, 'a.txt')), { size: 6, mode: 0o644 });
    await expect(onto).rejects.toThrow(method === 'scp' ? `scp: ${remote}/contents: Is a directory` : /^sftp: "Failure" \(SSH_FX_FAILURE\)/);
    await expect(comm.upload('/missing/dir/a.txt', Readable.from([Buffer.from('a')]), { size: 1 }))
      .rejects.toThrow(method === 'scp' ? /^scp: \/missing\/dir: No such file or directory/ : /No such file/);
    await expect(comm.download('/missing/file', new PassThrough())).rejects.toThrow(/No such file/);
  });

  test('a file the machine refuses in the middle of a tree fails with the machine\'s reason', async () => {
    const root = path.join(dir, 'tree');
    if (!fs.existsSync(root)) tree(dir);
    // A directory where a.txt should go: the file cannot be created.
    await server.sh(`rm -rf ${remote}/clash && mkdir -p ${remote}/clash/a.txt`);
    await expect(comm.uploadDir(`${remote}/clash`, `${root}/`))
      .rejects.toThrow(method === 'scp' ? `scp: ${remote}/clash/a.txt: Is a directory` : /^sftp: "Failure" \(SSH_FX_FAILURE\)/);
    // Nothing was taken for a record: no stray file appeared next to the destination.
    expect(await server.sh(`ls ${remote}/clash`)).not.toMatch(/alpha|evil/);
  });

  test('downloading a remote directory with a wildcard (scp expands it)', async () => {
    await server.sh(`mkdir -p ${remote}/logs && echo 1 > ${remote}/logs/a.log && echo 2 > ${remote}/logs/b.log && echo x > ${remote}/logs/c.txt`);
    const back = path.join(dir, `logs-${method}`);
    await comm.downloadDir(`${remote}/logs/*.log`, back);
    expect(localListing(back)).toEqual(['a.log 644 2', 'b.log 644 2']);
  });
});

test('a download into a stream that is slow to drain waits for it: the stream never holds more than its limit', async () => {
  for (const method of ['scp', 'sftp'] as const) {
    const comm = await connected({ ssh_private_key_file: key.file, ssh_file_transfer_method: method });
    await server.sh('head -c 8000000 /dev/zero > /tmp/kiln-slow.bin');
    let received = 0;
    let backlog = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        setTimeout(cb, 1);
      },
    });
    const write = slow.write.bind(slow);
    slow.write = ((chunk: Buffer, ...rest: never[]) => {
      const ok = write(chunk, ...rest);
      backlog = Math.max(backlog, slow.writableLength);
      return ok;
    }) as typeof slow.write;
    await comm.download('/tmp/kiln-slow.bin', slow);
    slow.end();
    await once(slow, 'finish');
    expect(received).toBe(8_000_000);
    // Writes stop once the stream reports itself full, until it drains.
    expect(backlog).toBeLessThanOrEqual(64 * 1024 + 256 * 1024);
    comm.close();
  }
});
