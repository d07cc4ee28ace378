import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { keyPair, KeyPair, requireImage, Sshd, startSshd, tempDir } from './sshd';

/*
 * The same null-builder template (shell and file provisioners over ssh) built
 * by the real Packer 1.6.6 and by Kiln's CLI against the same sshd, each into
 * its own remote and local directories: the files created on the machine,
 * the uploads (with their modes) and the downloads must be the same, and so
 * must the connection messages. Needs lib/ compiled (`npx tsc --build`);
 * skipped when Packer is not installed.
 */

const PACKER = process.env.PACKER_BIN ?? '/usr/bin/packer';
const ROOT = path.resolve(__dirname, '../../../..');
const KILN = path.join(ROOT, 'bin/kiln');
const differential = fs.existsSync(PACKER) ? describe : describe.skip;

jest.setTimeout(120_000);

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function runTool(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** `path mode size sha` of everything under a local directory. */
function localTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = fs.statSync(full);
      const sum = st.isDirectory() ? '-' : createHash('sha256').update(fs.readFileSync(full)).digest('hex').slice(0, 12);
      out.push(`${rel}${name} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? '-' : st.size} ${sum}`);
      if (st.isDirectory()) walk(full, `${rel}${name}/`);
    }
  };
  walk(root, '');
  return out;
}

async function remoteTree(server: Sshd, root: string): Promise<string[]> {
  const script = `cd ${root} && find . -mindepth 1 | sort | while read -r p; do p=\${p#./}; `
    + 'if [ -d "$p" ]; then echo "$p $(stat -c %a "$p") - -"; '
    + 'else echo "$p $(stat -c \'%a %s\' "$p") $(sha256sum "$p" | cut -c1-12)"; fi; done';
  return (await server.sh(script)).trim().split('\n');
}

/** The template both tools build; `root` (remote) and `out` (local) differ per tool. */
function template(server: Sshd, key: KeyPair, method: string) {
  return {
    variables: { root: '', out: '' },
    builders: [{
      type: 'null',
      ssh_host: '127.0.0.1',
      ssh_port: server.port,
      ssh_username: 'root',
      ssh_private_key_file: key.file,
      ssh_file_transfer_method: method,
    }],
    provisioners: [
      {
        type: 'shell',
        environment_vars: ['GREETING=hello there', 'QUOTE=it\'s'],
        inline: [
          'mkdir -p {{user `root`}}/existing {{user `root`}}/contents',
          'echo "$GREETING / $QUOTE / $PACKER_BUILD_NAME / $PACKER_BUILDER_TYPE" > {{user `root`}}/env.txt',
          'echo "{{build `ID`}} {{build `ConnType`}} {{build `User`}}" > {{user `root`}}/data.txt',
        ],
      },
      { type: 'file', source: 'tree', destination: '{{user `root`}}/existing' },
      { type: 'file', source: 'tree/', destination: '{{user `root`}}/contents' },
      { type: 'file', source: 'single.txt', destination: '{{user `root`}}/contents/' },
      { type: 'file', source: 'single.txt', destination: '{{user `root`}}/renamed.txt' },
      { type: 'shell', script: 'script.sh', environment_vars: ['ROOT={{user `root`}}'] },
      { type: 'file', direction: 'download', source: '{{user `root`}}/env.txt', destination: '{{user `out`}}/env.txt' },
      { type: 'file', direction: 'download', source: '{{user `root`}}/data.txt', destination: '{{user `out`}}/sub/' },
      { type: 'file', direction: 'download', source: '{{user `root`}}/existing/tree/', destination: '{{user `out`}}/dir' },
    ],
  };
}

function workspace(): string {
  const dir = tempDir('ssh-differential');
  fs.mkdirSync(path.join(dir, 'tree/sub/deep'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tree/a.txt'), 'alpha\n', { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'tree/run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'tree/private'), 'p', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'tree/empty'), '');
  fs.writeFileSync(path.join(dir, 'tree/sub/deep/data.bin'), Buffer.alloc(300_000, 7), { mode: 0o640 });
  fs.chmodSync(path.join(dir, 'tree/sub'), 0o750);
  fs.writeFileSync(path.join(dir, 'single.txt'), 'single\n', { mode: 0o640 });
  // CRLF line endings: both convert them (binary is false).
  fs.writeFileSync(path.join(dir, 'script.sh'), 'echo from-script > "$ROOT/script.txt"\r\nls "$ROOT/contents" > "$ROOT/ls.txt"\r\n');
  return dir;
}

/** The lines of the connect step, without the build's name. */
const connectLines = (output: string) => output.split('\n')
  .map((l) => l.replace(/^==> [^:]+: /, ''))
  .filter((l) => /^(Using ssh communicator|Waiting for SSH|Connected to SSH)/.test(l));

differential('Kiln and Packer on the same sshd', () => {
  let key: KeyPair;
  let server: Sshd;

  beforeAll(async () => {
    requireImage();
    if (!fs.existsSync(path.join(ROOT, 'lib/cli/main.js'))) throw new Error('lib/ is not compiled: run "npx tsc --build" first');
    key = keyPair(tempDir());
    server = await startSshd({ authorized: [key.authorized] });
  });

  test.each(['scp', 'sftp'])('shell and file provisioners with %s have the same effects', async (method) => {
    const dir = workspace();
    fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify(template(server, key, method), null, 2));
    const state = tempDir('ssh-differential-state');
    const vars = (tool: string) => ['-var', `root=/srv/${method}-${tool}`, '-var', `out=${path.join(dir, `out-${tool}`)}`];
    const [packer, kiln] = [
      await runTool([PACKER, 'build', ...vars('packer'), 'template.json'], dir, {}),
      await runTool([process.execPath, KILN, 'build', '-color=false', ...vars('kiln'), 'template.json'], dir, { KILN_STATE_DIR: state }),
    ];
    expect({ code: packer.code, output: packer.code === 0 ? '' : packer.output }).toEqual({ code: 0, output: '' });
    expect({ code: kiln.code, output: kiln.code === 0 ? '' : kiln.output }).toEqual({ code: 0, output: '' });
    expect(connectLines(kiln.output)).toEqual(connectLines(packer.output));
    expect(connectLines(packer.output)).toEqual(['Using ssh communicator to connect: 127.0.0.1', 'Waiting for SSH to become available...', 'Connected to SSH!']);

    const remote = await remoteTree(server, `/srv/${method}-kiln`);
    expect(remote).toEqual(await remoteTree(server, `/srv/${method}-packer`));
    expect(remote).toEqual(expect.arrayContaining([
      'contents/single.txt 640 7 ' + createHash('sha256').update('single\n').digest('hex').slice(0, 12),
      'existing/tree/sub 750 - -',
      'existing/tree/private 600 1 ' + createHash('sha256').update('p').digest('hex').slice(0, 12),
    ]));
    expect(await server.sh(`cat /srv/${method}-kiln/env.txt /srv/${method}-kiln/data.txt /srv/${method}-kiln/script.txt`))
      .toBe('hello there / it\'s / null / null\nNull ssh root\nfrom-script\n');

    const local = localTree(path.join(dir, 'out-kiln'));
    expect(local).toEqual(localTree(path.join(dir, 'out-packer')));
    expect(local.map((l) => l.split(' ')[0])).toEqual([
      'dir', 'dir/tree', 'dir/tree/a.txt', 'dir/tree/empty', 'dir/tree/private', 'dir/tree/run.sh',
      'dir/tree/sub', 'dir/tree/sub/deep', 'dir/tree/sub/deep/data.bin', 'env.txt', 'sub', 'sub/data.txt',
    ]);
  });
});
