import * as fs from 'fs';
import * as path from 'path';
import { ESC, RECORD_GROUP, groupGone, hasScript, kiln, kilnOnTerminal, kilnTyping, nullBuild, read, sandbox, start, waitFor } from '../kiln';

/*
 * `kiln build` end to end: the compiled CLI (bin/kiln) runs real templates
 * with the null builder and shell-local in a sandbox (see ../kiln.ts).
 * Compile first (`npx tsc --build`); scripts/test.sh does.
 */

describe('kiln build', () => {
  const ok = { builders: [nullBuild], provisioners: [{ type: 'shell-local', inline: ['echo hello from {{build_name}}'] }] };

  test('exits 0 after a successful build, with the output on stdout and nothing on stderr', async () => {
    const box = sandbox(ok);
    const { code, stdout, stderr } = await kiln(box, ['build', 'template.json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('    null: hello from null\n');
    expect(stdout).toMatch(/\n==> Builds finished\. The artifacts of successful builds are:\n--> null: Did not export anything\. This is the null builder\n$/);
  });

  test('exits 1 when a build fails', async () => {
    const box = sandbox({ builders: [nullBuild], provisioners: [{ type: 'shell-local', inline: ['exit 5'] }] });
    const { code, stdout } = await kiln(box, ['build', 'template.json']);
    expect(code).toBe(1);
    expect(stdout).toContain('--> null: Script exited with non-zero exit status: 5.Allowed exit codes are: [0]\n');
  });

  test('prints no colour when stdout is not a terminal (Packer colours anyway)', async () => {
    const box = sandbox(ok);
    const { stdout } = await kiln(box, ['build', 'template.json']);
    expect(stdout).not.toContain(ESC);
  });

  (hasScript ? test : test.skip)('colours a terminal\'s output unless -color=false', () => {
    const box = sandbox(ok);
    expect(kilnOnTerminal(box, ['build', 'template.json'])).toContain(`${ESC}`);
    const plain = kilnOnTerminal(box, ['build', '-color=false', 'template.json']);
    expect(plain).toContain('==> Builds finished');
    expect(plain).not.toContain(ESC);
  });

  test('-timestamp-ui puts the local time (RFC 3339, as Packer) in front of each line of a build', async () => {
    const box = sandbox(ok);
    const { code, stdout } = await kiln(box, ['build', '-timestamp-ui', 'template.json'], { env: { TZ: 'Asia/Kolkata' } });
    expect(code).toBe(0);
    const line = stdout.split('\n').find((l) => l.includes('hello from null'));
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30:     null: hello from null$/);
    const utc = await kiln(box, ['build', '-timestamp-ui', 'template.json'], { env: { TZ: 'UTC' } });
    expect(utc.stdout.split('\n').find((l) => l.includes('hello from null'))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ:     null: hello from null$/);
  });

  test('rejects an unknown -on-error value before running anything', async () => {
    const box = sandbox({ builders: [nullBuild], provisioners: [{ type: 'shell-local', inline: ['touch ran'] }] });
    const { code, stdout, stderr } = await kiln(box, ['build', '-on-error=bogus', 'template.json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('kiln: -on-error must be one of "cleanup", "abort", "ask", "run-cleanup-provisioner", got "bogus"');
    expect(read(box.dir, 'ran')).toBeUndefined();
  });

  test('rejects unknown flags, such as -parallel which Packer 1.6.6 does not have either', async () => {
    const box = sandbox(ok);
    const { code, stderr } = await kiln(box, ['build', '-parallel=false', 'template.json']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^kiln: unknown flag -parallel\b/);
    expect(stderr).toContain('Run "kiln build --help" for usage.');
  });

  describe('at a breakpoint', () => {
    const template = { builders: [nullBuild], provisioners: [{ type: 'breakpoint', note: 'look' }, { type: 'shell-local', inline: ['touch after'] }] };

    test('without a terminal, says the breakpoint is skipped and carries on (Packer 1.6.6 fails the build)', async () => {
      const box = sandbox(template);
      const { code, stdout } = await kiln(box, ['build', 'template.json']);
      expect(code).toBe(0);
      expect(stdout).toContain('==> null: Pausing at breakpoint provisioner with note "look".\n==> null: No terminal to wait on: skipping the breakpoint and continuing...\n');
      expect(read(box.dir, 'after')).toBe('');
    });

    (hasScript ? test : test.skip)('on a terminal, waits for Enter', async () => {
      const box = sandbox(template);
      const { code, screen } = await kilnTyping(box, ['build', '-color=false', 'template.json'], 'Press enter to continue.', '\r');
      expect(code).toBe(0);
      expect(screen).toContain('==> null: Press enter to continue.');
      expect(read(box.dir, 'after')).toBe('');
    });

    (hasScript ? test : test.skip)('on a terminal, Ctrl-C cancels the build', async () => {
      const box = sandbox(template);
      const { code, screen } = await kilnTyping(box, ['build', '-color=false', 'template.json'], 'Press enter to continue.', '\x03');
      expect(code).toBe(1);
      expect(screen).toContain('Interrupt received. Cancelling builds and cleaning up...');
      expect(screen).toMatch(/Cleanly cancelled builds after being interrupted\.\n$/);
      expect(read(box.dir, 'after')).toBeUndefined();
    });
  });

  test('Ctrl-C while a shell-local script sleeps cancels cleanly and leaves nothing behind', async () => {
    const box = sandbox({
      builders: [nullBuild],
      provisioners: [{ type: 'shell-local', inline: ['echo "$0" > script-path', RECORD_GROUP, 'sleep 30', 'touch finished'] }],
      ['post-processors']: [{ type: 'shell-local', inline: ['touch post-processed'] }],
    });
    const { child, done } = start(box, ['build', 'template.json']);
    await waitFor(() => Boolean(read(box.dir, 'pgid')?.endsWith('\n')));
    const interrupted = Date.now();
    child.kill('SIGINT');
    const { code, stdout } = await done;

    expect(Date.now() - interrupted).toBeLessThan(5000);
    expect(code).not.toBe(0);
    expect(stdout).toContain('Interrupt received. Cancelling builds and cleaning up...\n');
    expect(stdout).toMatch(/\nCleanly cancelled builds after being interrupted\.\n$/);
    await groupGone(Number(read(box.dir, 'pgid')));
    expect(read(box.dir, 'finished')).toBeUndefined();
    expect(read(box.dir, 'post-processed')).toBeUndefined();
    const script = read(box.dir, 'script-path')!.trim();
    expect(script.startsWith(box.tmp)).toBe(true);
    expect(fs.existsSync(script)).toBe(false);
    expect(fs.readdirSync(box.tmp)).toEqual([]);
    expect(fs.readdirSync(path.join(box.state, 'runs'))).toEqual([]);
  });
});
