import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough, Readable } from 'stream';
import type Docker from 'dockerode';
import { BASE_IMAGE, docker, workdir } from './harness';
import { DockerCommunicator } from '../../../lib/components/docker/communicator';

/**
 * The docker communicator against a real container: how commands run and
 * report, and how files travel, including Packer's trailing-slash rules.
 */

let container: Docker.Container;
let comm: DockerCommunicator;

beforeAll(async () => {
  container = await docker.createContainer({
    Image: BASE_IMAGE,
    Entrypoint: ['/bin/sh'],
    Tty: true,
    OpenStdin: true,
    Labels: { 'kiln.run': `test-${randomUUID()}`, 'kiln.build': 'communicator-test' },
  });
  await container.start();
  comm = new DockerCommunicator(container, { tempDir: async () => workdir() });
});

afterAll(async () => {
  await container?.remove({ force: true, v: true });
});

/** Runs a command; returns its status and the lines it printed. */
async function sh(command: string, c: DockerCommunicator = comm, stdin?: Readable) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await c.exec(command, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), stdin });
  return { code, out, err };
}

/** The content of a remote file (via the shell). */
async function cat(file: string): Promise<string> {
  return (await sh(`cat ${file}`)).out.join('\n');
}

/** What is under a remote directory, as sorted relative paths (directories end with /). */
async function tree(dir: string): Promise<string[]> {
  const { out } = await sh(`cd ${dir} && find . -mindepth 1 | sort | while read f; do if [ -d "$f" ]; then echo "\${f#./}/"; else echo "\${f#./}"; fi; done`);
  return out;
}

describe('running commands', () => {
  it('reports stdout and stderr line by line, and the exit status', async () => {
    const r = await sh('echo out1; echo err1 >&2; printf "a\\n\\nb  \\nc\\rd\\nno-newline"; exit 7');
    expect(r.code).toBe(7);
    expect(r.out).toEqual(['out1', 'a', '', 'b', 'd', 'no-newline']);
    expect(r.err).toEqual(['err1']);
  });

  it('wraps the command in a subshell, as Packer does', async () => {
    expect((await sh('exit 3; echo never')).code).toBe(3);
    expect((await sh('cd /tmp && pwd')).out).toEqual(['/tmp']);
  });

  it('feeds stdin when given', async () => {
    const r = await sh('tr a-z A-Z', comm, Readable.from(['shout\n']));
    expect(r.out).toEqual(['SHOUT']);
  });

  it('runs one command at a time', async () => {
    const lines: string[] = [];
    const one = comm.exec('echo first-start; sleep 0.3; echo first-end', { stdout: (l) => lines.push(l) });
    const two = comm.exec('echo second', { stdout: (l) => lines.push(l) });
    await Promise.all([one, two]);
    expect(lines).toEqual(['first-start', 'first-end', 'second']);
  });

  it('runs as exec_user, and with a terminal when pty is set', async () => {
    const asNobody = new DockerCommunicator(container, { execUser: '65534:65534', pty: true });
    const r = await sh('id -u; [ -t 1 ] && echo terminal', asNobody);
    expect(r.out).toEqual(['65534', 'terminal']);
    expect((await sh('[ -t 1 ] || echo no-terminal')).out).toEqual(['no-terminal']);
  });
});

describe('uploading a file', () => {
  it('writes it at the destination with the given mode, owned by root', async () => {
    const data = Buffer.from('hello\n');
    await comm.upload('/tmp/up1.txt', Readable.from([data]), { size: data.length, mode: 0o640 });
    expect(await cat('/tmp/up1.txt')).toBe('hello');
    expect((await sh('stat -c "%a %U" /tmp/up1.txt')).out).toEqual(['640 root']);
  });

  it('gives a stream of unknown size mode 0600, as Packer does, and measures big ones on disk', async () => {
    const big = new PassThrough();
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const writing = (async () => {
      for (let i = 0; i < 9; i++) if (!big.write(chunk)) await new Promise((r) => big.once('drain', r));
      big.end();
    })();
    await Promise.all([comm.upload('/tmp/big.bin', big, {}), writing]);
    expect((await sh('wc -c < /tmp/big.bin; stat -c %a /tmp/big.bin')).out).toEqual([String(9 * 1024 * 1024), '600']);
  });

  it('gives uploads to the container\'s user (fix_upload_owner), unless told not to', async () => {
    const asNobody = new DockerCommunicator(container, { containerUser: '65534' });
    await asNobody.upload('/tmp/owned.txt', Readable.from(['x']), { size: 1 });
    expect((await sh('stat -c %u /tmp/owned.txt')).out).toEqual(['65534']);
    const noFix = new DockerCommunicator(container, { containerUser: '65534', fixUploadOwner: false });
    await noFix.upload('/tmp/unowned.txt', Readable.from(['x']), { size: 1 });
    expect((await sh('stat -c %u /tmp/unowned.txt')).out).toEqual(['0']);
  });

  it('fails when the destination\'s directory does not exist', async () => {
    await expect(comm.upload('/no/such/dir/f.txt', Readable.from(['x']), { size: 1 }))
      .rejects.toThrow(/^Failed to upload to '\/no\/such\/dir\/f.txt' in container: Could not find the file \/no\/such\/dir in container/);
  });

  it('fails when the destination is an existing directory', async () => {
    await sh('mkdir -p /tmp/adir');
    await expect(comm.upload('/tmp/adir', Readable.from(['x']), { size: 1 })).rejects.toThrow(/cannot overwrite directory .*with non-directory/);
  });
});

describe('uploading a directory, with Packer\'s trailing-slash rules', () => {
  let local: string;
  beforeAll(() => {
    local = workdir({ 'src/a.txt': 'A', 'src/sub/b.txt': 'B' });
    fs.chmodSync(path.join(local, 'src/a.txt'), 0o755);
    fs.symlinkSync('a.txt', path.join(local, 'src/link'));
  });

  it('copies "src" into an existing directory as a subdirectory', async () => {
    await sh('mkdir -p /d1');
    await comm.uploadDir('/d1', path.join(local, 'src'));
    expect(await tree('/d1')).toEqual(['src/', 'src/a.txt', 'src/link', 'src/sub/', 'src/sub/b.txt']);
    expect((await sh('stat -c %a /d1/src/a.txt; readlink /d1/src/link')).out).toEqual(['755', 'a.txt']);
  });

  it('copies the contents of "src" to a destination that does not exist yet', async () => {
    await comm.uploadDir('/d2', path.join(local, 'src'));
    expect(await tree('/d2')).toEqual(['a.txt', 'link', 'sub/', 'sub/b.txt']);
  });

  it('copies the contents of "src/" into an existing directory', async () => {
    await sh('mkdir -p /d3 && touch /d3/kept');
    await comm.uploadDir('/d3', `${path.join(local, 'src')}/`);
    expect(await tree('/d3')).toEqual(['a.txt', 'kept', 'link', 'sub/', 'sub/b.txt']);
  });

  it('copies the contents of "src/" to a destination that does not exist yet', async () => {
    await comm.uploadDir('/d4', `${path.join(local, 'src')}/`);
    expect(await tree('/d4')).toEqual(['a.txt', 'link', 'sub/', 'sub/b.txt']);
  });

  it('copies "src" into an existing "dst/" as a subdirectory', async () => {
    await sh('mkdir -p /d5');
    await comm.uploadDir('/d5/', path.join(local, 'src'));
    expect(await tree('/d5')).toEqual(['src/', 'src/a.txt', 'src/link', 'src/sub/', 'src/sub/b.txt']);
  });

  it('fails when the parent of a new destination does not exist', async () => {
    await expect(comm.uploadDir('/no/such/d', path.join(local, 'src'))).rejects.toThrow(/^Failed to upload to '\/no\/such\/d' in container: /);
  });
});

describe('downloading', () => {
  it('streams one remote file into a local stream', async () => {
    await sh('printf "remote content\\n" > /tmp/down.txt');
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    await comm.download('/tmp/down.txt', sink);
    expect(Buffer.concat(chunks).toString()).toBe('remote content\n');
  });

  it('fails with the engine\'s reason when the file does not exist', async () => {
    await expect(comm.download('/tmp/nothing-here', new PassThrough())).rejects.toThrow(/^Error downloading file: Could not find the file \/tmp\/nothing-here in container/);
  });

  it('downloads a directory (which Packer cannot do for docker) into a local directory', async () => {
    await sh('mkdir -p /tmp/dd/sub && echo 1 > /tmp/dd/one && echo 2 > /tmp/dd/sub/two && ln -sf one /tmp/dd/ln');
    const dst = workdir();
    await comm.downloadDir('/tmp/dd/', dst);
    expect(fs.readFileSync(path.join(dst, 'dd/one'), 'utf8')).toBe('1\n');
    expect(fs.readFileSync(path.join(dst, 'dd/sub/two'), 'utf8')).toBe('2\n');
    expect(fs.readlinkSync(path.join(dst, 'dd/ln'))).toBe('one');
  });
});
