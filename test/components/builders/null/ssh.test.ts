import * as fs from 'fs';
import * as path from 'path';
import { kiln, sandbox } from '../../../cli/kiln';
import { keyPair, KeyPair, requireImage, Sshd, startSshd, tempDir } from '../../communicators/ssh/sshd';
import { build, errorOf, said, workdir } from '../../docker/harness';

/*
 * The null builder with its default communicator, ssh, against a real sshd
 * (a container of the local image kiln/sshd on a loopback port): whole
 * builds through the engine, and through the CLI for secret masking.
 */

jest.setTimeout(120_000);

const PASSWORD = 'Null-Builder-pw-93b1';
let key: KeyPair;
let server: Sshd;

beforeAll(async () => {
  requireImage();
  key = keyPair(tempDir());
  server = await startSshd({ authorized: [key.authorized], password: PASSWORD });
});

function nullBuilder(extra: Record<string, unknown> = {}, target: Sshd = server) {
  return { type: 'null', ssh_host: '127.0.0.1', ssh_port: target.port, ssh_username: 'root', ssh_private_key_file: key.file, ...extra };
}

test('connects, provisions with shell and file, and makes Packer\'s null artifact', async () => {
  const dir = workdir({ 'conf/app.conf': 'x=1\n' });
  await server.sh('rm -rf /srv/null-test && mkdir -p /srv/null-test');
  const run = await build({
    builders: [nullBuilder()],
    provisioners: [
      {
        type: 'shell',
        environment_vars: ['GREETING=hello there'],
        inline: [
          'echo "$GREETING from $PACKER_BUILDER_TYPE"',
          'echo "{{build `ID`}} {{build `ConnType`}} {{build `Host`}} {{build `Port`}} {{build `User`}} [{{build `Password`}}]"',
        ],
      },
      { type: 'file', source: 'conf', destination: '/srv/null-test' },
      { type: 'shell', inline: ['cat /srv/null-test/conf/app.conf'] },
    ],
  }, { dir });
  expect(run.outcome.error).toBeUndefined();
  expect(said(run)).toEqual(expect.arrayContaining([
    'Using ssh communicator to connect: 127.0.0.1',
    'Waiting for SSH to become available...',
    'Connected to SSH!',
    'hello there from null',
    `Null ssh 127.0.0.1 ${server.port} root []`,
    'Uploading conf => /srv/null-test',
    'x=1',
  ]));
  expect(run.outcome.artifacts.map((a) => [a.builderId, a.id, a.describe()])).toEqual([['fnoeding.null', 'Null', 'Did not export anything. This is the null builder']]);
});

test('a provisioner that kills sshd (expect_disconnect) is followed by one that still runs, over a new connection', async () => {
  const target = await startSshd({ authorized: [key.authorized] });
  try {
    const run = await build({
      builders: [nullBuilder({}, target)],
      provisioners: [
        { type: 'shell', inline: ['echo before > /tmp/marker', 'pkill -9 -x sshd', 'sleep 10'], expect_disconnect: true, start_retry_timeout: '30s' },
        { type: 'shell', inline: ['echo after >> /tmp/marker', 'cat /tmp/marker'] },
      ],
    });
    expect(run.outcome.error).toBeUndefined();
    expect(said(run)).toEqual(expect.arrayContaining(['before', 'after']));
    // Two connections were accepted: the first, and the one after sshd came back.
    expect((await target.logs()).match(/Accepted publickey for root/g)).toHaveLength(2);
  } finally {
    await target.remove();
  }
});

test('without expect_disconnect, the disconnect fails the build with Packer\'s advice', async () => {
  const target = await startSshd({ authorized: [key.authorized] });
  try {
    const run = await build({
      builders: [nullBuilder({}, target)],
      provisioners: [{ type: 'shell', inline: ['pkill -9 -x sshd', 'sleep 10'] }],
    });
    expect(errorOf(run)).toBe('Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, '
      + 'you can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell provisioner parameters.');
  } finally {
    await target.remove();
  }
});

test('pause_before_connecting connects, pauses, then connects again', async () => {
  const run = await build({ builders: [nullBuilder({ pause_before_connecting: '300ms' })], provisioners: [{ type: 'shell', inline: ['echo ok'] }] });
  expect(run.outcome.error).toBeUndefined();
  const s = said(run);
  const at = s.indexOf('Pausing 300ms before connecting...');
  expect(at).toBeGreaterThan(0);
  expect(s.slice(at - 2, at + 3)).toEqual(['Waiting for SSH to become available...', 'Connected to SSH!', 'Pausing 300ms before connecting...',
    'Waiting for SSH to become available...', 'Connected to SSH!']);
});

test('the password never reaches the output of kiln build, not even -machine-readable or an error', async () => {
  const box = sandbox({
    builders: [{ type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_password: PASSWORD }],
    provisioners: [
      { type: 'shell', inline: ['echo "the password is {{build `Password`}}"', 'echo "$0" >/dev/null'] },
      { type: 'shell', inline: ['echo "{{build `Password`}}" >&2', 'exit 3'] },
    ],
  });
  for (const args of [['build', '-machine-readable', 'template.json'], ['build', '-color=false', 'template.json']]) {
    const r = await kiln(box, args);
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toContain('the password is <sensitive>');
    expect(all).toContain('Script exited with non-zero exit status: 3');
    expect(all).not.toContain(PASSWORD);
  }
  // A wrong password: the error names what failed, never the value.
  const wrong = sandbox({
    builders: [{ type: 'null', ssh_host: '127.0.0.1', ssh_port: server.port, ssh_username: 'root', ssh_password: `${PASSWORD}-wrong`, ssh_handshake_attempts: 1 }],
  });
  const r = await kiln(wrong, ['build', '-machine-readable', 'template.json']);
  expect(r.code).toBe(1);
  expect(r.stdout + r.stderr).toContain('attempted methods [none password keyboard-interactive]');
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  expect(fs.readdirSync(path.join(box.tmp))).toEqual([]);
});
