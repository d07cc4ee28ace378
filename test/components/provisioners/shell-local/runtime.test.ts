import * as fs from 'fs';
import { cleanOutputLine, flattenEnvironment, KILL_GRACE_MS, LineSplitter, withDefaults } from '../../../../lib/components/provisioners/shell-local/run-local';
import { provisioner } from '../../../../lib/components/provisioners/shell-local/runtime';
import { RECORD_GROUP, groupGone, read, RUN_ID, scratch, testEnvironment, waitFor } from '../../runtime-env';

/* The shell-local provisioner, running real commands on this machine. */

const run = async (cwd: string, config: Record<string, unknown>, data: Record<string, unknown> = {}, signal?: AbortSignal) => {
  const t = testEnvironment({ cwd, signal, buildName: 'web', buildType: 'null' });
  let error: Error | undefined;
  try {
    await provisioner.provision(t.env, config, undefined, data);
  } catch (e) {
    error = e as Error;
  }
  await t.cleanups.unwind();
  return { ...t, error };
};

describe('the {{.Vars}} string', () => {
  const build = { name: 'docker', type: 'docker' };
  const identity = (s: string) => s;

  test('is sorted, always holds PACKER_BUILD_NAME and PACKER_BUILDER_TYPE, and escapes single quotes as Packer does', () => {
    expect(flattenEnvironment(['QUOTE=it\'s', 'FOO=bar baz', 'EQ=a=b', 'EMPTY=', 'DOLLAR=$HOME'], '%s=\'%s\' ', build, {}, identity))
      .toBe('DOLLAR=\'$HOME\' EMPTY=\'\' EQ=\'a=b\' FOO=\'bar baz\' PACKER_BUILDER_TYPE=\'docker\' PACKER_BUILD_NAME=\'docker\' QUOTE=\'it\'"\'"\'s\' ');
  });

  test('formats with Go\'s printf, marks included', () => {
    expect(flattenEnvironment([], 'export %s=%q\n', build, {}, identity)).toBe('export PACKER_BUILDER_TYPE="docker"\nexport PACKER_BUILD_NAME="docker"\n');
    expect(flattenEnvironment([], '%s ', build, {}, identity)).toBe('PACKER_BUILDER_TYPE %!(EXTRA string=docker)PACKER_BUILD_NAME %!(EXTRA string=docker)');
  });

  test('renders each entry first, and a later entry for the same name wins', () => {
    expect(flattenEnvironment(['A={{x}}', 'A=2'], '%s=%s;', build, {}, (s) => s.replace('{{x}}', '1'))).toBe('A=2;PACKER_BUILDER_TYPE=docker;PACKER_BUILD_NAME=docker;');
    expect(flattenEnvironment(['A={{x}}'], '%s=%s;', build, {}, (s) => s.replace('{{x}}', '1'))).toBe('A=1;PACKER_BUILDER_TYPE=docker;PACKER_BUILD_NAME=docker;');
  });

  test('adds the PACKER_HTTP_ variables only when the builder serves HTTP', () => {
    const none = { PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER', PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER', PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER' };
    expect(flattenEnvironment([], '%s=%s ', build, none, identity)).toBe('PACKER_BUILDER_TYPE=docker PACKER_BUILD_NAME=docker ');
    expect(flattenEnvironment([], '%s=%s ', build, { PackerHTTPIP: '10.0.0.1', PackerHTTPPort: '8080', PackerHTTPAddr: '10.0.0.1:8080' }, identity))
      .toBe('PACKER_BUILDER_TYPE=docker PACKER_BUILD_NAME=docker PACKER_HTTP_ADDR=10.0.0.1:8080 PACKER_HTTP_IP=10.0.0.1 PACKER_HTTP_PORT=8080 ');
  });
});

describe('output lines', () => {
  test('lose trailing blanks and keep only what follows the last carriage return', () => {
    expect(cleanOutputLine('50%\r75%\r100%  \r\n')).toBe('100%');
    expect(cleanOutputLine('  indented\t ')).toBe('  indented');
  });

  test('are split as they complete, even when a chunk ends inside a character, and the last unterminated one comes out at the end', () => {
    const lines: string[] = [];
    const split = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('héllo\n\nwörld', 'utf8');
    split.write(bytes.subarray(0, 2));
    split.write(bytes.subarray(2, 9));
    expect(lines).toEqual(['héllo', '']);
    split.write(bytes.subarray(9));
    split.end();
    expect(lines).toEqual(['héllo', '', 'wörld']);
  });
});

describe('the defaults Packer fills in', () => {
  test('run each script with /bin/sh -c, and inline scripts with a /bin/sh -e shebang', () => {
    const config = withDefaults({ inline: ['true'] }, 'provisioner', 'linux');
    expect(config.execute_command).toEqual(['/bin/sh', '-c', '{{.Vars}} {{.Script}}']);
    expect(config.inline_shebang).toBe('/bin/sh -e');
    expect(config.env_var_format).toBe('%s=\'%s\' ');
  });

  test('on Windows use cmd, set-style variables and a .cmd script', () => {
    const config = withDefaults({ inline: ['true'] }, 'provisioner', 'win32');
    expect(config.execute_command).toEqual(['cmd', '/V', '/C', '{{.Vars}}', 'call', '{{.Script}}']);
    expect(config.env_var_format).toBe('set %s=%s && ');
    expect(config.tempfile_extension).toBe('cmd');
  });

  test('turn command into a one-line inline and script into a one-element scripts', () => {
    expect(withDefaults({ command: 'echo hi' }, 'provisioner').inline).toEqual(['echo hi']);
    expect(withDefaults({ script: 'a.sh' }, 'provisioner').scripts).toEqual(['a.sh']);
  });

  test('only the post-processor puts sh -c in front of a one-element execute_command', () => {
    expect(withDefaults({ inline: ['x'], execute_command: ['echo {{.Script}}'] }, 'provisioner').execute_command).toEqual(['echo {{.Script}}']);
    expect(withDefaults({ inline: ['x'], execute_command: ['echo {{.Script}}'] }, 'post-processor').execute_command).toEqual(['sh', '-c', 'echo {{.Script}}']);
  });
});

describe('the shell-local provisioner', () => {
  test('writes inline commands to an owner-only script that starts with the shebang, runs it and removes it', async () => {
    const dir = scratch();
    const { lines, error, tempDirs } = await run(dir, { inline: ['head -n 1 "$0" > shebang', 'stat -c %a "$0" > mode', 'echo "$0" > path', 'echo out', 'echo err >&2'] });
    expect(error).toBeUndefined();
    expect(read(dir, 'shebang')).toBe('#!/bin/sh -e\n');
    expect(read(dir, 'mode')).toBe('700\n');
    const script = read(dir, 'path')!.trim();
    expect(lines).toEqual([`==> web: Running local shell script: ${script}`, '    web: out', '==> web: err']);
    expect(fs.existsSync(script)).toBe(false);
    expect(tempDirs.every((d) => !fs.existsSync(d))).toBe(true);
  });

  test('stops at the first failing inline command, because of the -e in the shebang', async () => {
    const dir = scratch();
    const { error } = await run(dir, { inline: ['false', 'touch reached'] });
    expect(error?.message).toBe('Script exited with non-zero exit status: 1.Allowed exit codes are: [0]');
    expect(read(dir, 'reached')).toBeUndefined();
  });

  test('renders inline lines with the builder\'s data at run time; missing keys print <no value>', async () => {
    const dir = scratch();
    await run(dir, { inline: ['echo "{{.ID}} {{.Host}} {{build_name}}" > out'] }, { ID: 'Null' });
    expect(read(dir, 'out')).toBe('Null <no value> web\n');
  });

  test('passes the environment variables, the host environment and PACKER_RUN_UUID', async () => {
    const dir = scratch();
    process.env.KILN_TEST_INHERITED = 'from the host';
    try {
      await run(dir, {
        inline: ['echo "$GREETING|$QUOTED|$PACKER_BUILD_NAME|$PACKER_BUILDER_TYPE|$PACKER_RUN_UUID|$KILN_TEST_INHERITED" > env'],
        environment_vars: ['GREETING=hello {{build_name}}', 'QUOTED=it\'s'],
      });
    } finally {
      delete process.env.KILN_TEST_INHERITED;
    }
    expect(read(dir, 'env')).toBe(`hello web|it's|web|null|${RUN_ID}|from the host\n`);
  });

  test('renders execute_command with .Vars, .Script and .Command, and runs it without a shell in between', async () => {
    const dir = scratch();
    const { lines, error } = await run(dir, {
      inline: ['echo ran'],
      environment_vars: ['A=1'],
      execute_command: ['/bin/sh', '-c', 'echo "{{.Vars}}|{{.Script}}|{{.Command}}" > cmd; {{.Vars}} {{.Script}}', 'ignored-arg0'],
    });
    expect(error).toBeUndefined();
    const [vars, script, command] = read(dir, 'cmd')!.trim().split('|');
    expect(vars).toBe('A=\'1\' PACKER_BUILDER_TYPE=\'null\' PACKER_BUILD_NAME=\'web\' ');
    expect(command).toBe(script);
    expect(lines).toEqual([`==> web: Running local shell script: ${script}`, '    web: ran']);
  });

  test('runs scripts directly, in order, naming them as the template does and resolving them against the working directory', async () => {
    const dir = scratch({ 'scripts/one.sh': '#!/bin/sh\necho one >> order\n', 'scripts/two.sh': '#!/bin/sh\necho two >> order\necho "$0" >> order\n' }, ['scripts/one.sh', 'scripts/two.sh']);
    const { lines, error } = await run(dir, { scripts: ['scripts/one.sh', 'scripts/two.sh'] });
    expect(error).toBeUndefined();
    expect(read(dir, 'order')).toBe(`one\ntwo\n${dir}/scripts/two.sh\n`);
    expect(lines).toEqual(['==> web: Running local shell script: scripts/one.sh', '==> web: Running local shell script: scripts/two.sh']);
  });

  test('fails on a script that is not executable, with the shell\'s message and status 126, as Packer does', async () => {
    const dir = scratch({ 'plain.sh': 'echo hi\n' });
    const { lines, error } = await run(dir, { script: 'plain.sh' });
    expect(lines).toContain(`==> web: /bin/sh: 1: ${dir}/plain.sh: Permission denied`);
    expect(error?.message).toBe('Script exited with non-zero exit status: 126.Allowed exit codes are: [0]');
  });

  test('runs the old command key like a one-line inline', async () => {
    const dir = scratch();
    await run(dir, { command: 'echo via-command > out' });
    expect(read(dir, 'out')).toBe('via-command\n');
  });

  test('accepts the exit codes listed in valid_exit_codes and names them when another comes', async () => {
    const dir = scratch();
    expect((await run(dir, { inline: ['exit 7'], valid_exit_codes: [0, 7] })).error).toBeUndefined();
    expect((await run(dir, { inline: ['exit 3'], valid_exit_codes: [0, 7] })).error?.message)
      .toBe('Script exited with non-zero exit status: 3.Allowed exit codes are: [0 7]');
  });

  test('skips itself on a system that only_on does not name', async () => {
    const dir = scratch();
    const { lines, error } = await run(dir, { inline: ['touch ran'], only_on: ['windows', 'darwin'] });
    expect(error).toBeUndefined();
    expect(lines).toEqual(['==> web: Skipping shell-local due to runtime OS']);
    expect(read(dir, 'ran')).toBeUndefined();
    expect((await run(dir, { inline: ['touch ran'], only_on: ['linux'] })).error).toBeUndefined();
    expect(read(dir, 'ran')).toBe('');
  });

  test('names the temporary script after tempfile_extension', async () => {
    const dir = scratch();
    await run(dir, { inline: ['basename "$0" > name'], tempfile_extension: '.sh' });
    expect(read(dir, 'name')).toMatch(/^inline-[0-9a-f]{8}\.sh\n$/);
  });

  test('says why a program cannot start, and fails with Packer\'s message', async () => {
    const dir = scratch();
    const { lines, error } = await run(dir, { inline: ['true'], execute_command: ['/nonexistent/shell', '{{.Script}}'] });
    expect(lines[1]).toMatch(/^==> web: Cannot start "\/nonexistent\/shell": spawn \/nonexistent\/shell ENOENT$/);
    expect(error?.message).toMatch(/^Error executing script: \/.*\/inline-[0-9a-f]{8}\n\nPlease see output above for more information\.$/);
  });

  test('when cancelled, stops the script and everything it started, and removes the temporary script', async () => {
    const dir = scratch();
    const controller = new AbortController();
    const running = run(dir, { inline: [RECORD_GROUP, '(sleep 30; touch orphan-finished) &', 'sleep 30', 'touch finished'] }, {}, controller.signal);
    await waitFor(() => Boolean(read(dir, 'pgid')?.endsWith('\n')));
    const started = Date.now();
    controller.abort();
    const { error, tempDirs } = await running;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error?.message).toMatch(/^Error executing script: .*\n\nPlease see output above for more information\.$/);
    await groupGone(Number(read(dir, 'pgid')));
    expect(tempDirs.every((d) => !fs.existsSync(d))).toBe(true);
  });

  test('when cancelled, kills a script that ignores SIGTERM once the grace period is over', async () => {
    const dir = scratch();
    const controller = new AbortController();
    const running = run(dir, { inline: [RECORD_GROUP, 'sleep 30'], execute_command: ['/bin/sh', '-c', 'trap "" TERM; {{.Vars}} {{.Script}}'] }, {}, controller.signal);
    await waitFor(() => Boolean(read(dir, 'pgid')?.endsWith('\n')));
    const started = Date.now();
    controller.abort();
    const { error } = await running;
    expect(Date.now() - started).toBeGreaterThanOrEqual(KILL_GRACE_MS - 100);
    expect(Date.now() - started).toBeLessThan(KILL_GRACE_MS + 2000);
    expect(error?.message).toMatch(/^Error executing script: /);
    await groupGone(Number(read(dir, 'pgid')));
  });

  test('does not start at all when the build is already cancelled', async () => {
    const dir = scratch();
    const controller = new AbortController();
    controller.abort();
    const { error } = await run(dir, { inline: ['touch ran'] }, {}, controller.signal);
    expect(error?.message).toMatch(/^Error executing script: /);
    expect(read(dir, 'ran')).toBeUndefined();
  });
});
