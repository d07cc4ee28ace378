import { build, dockerBuilder, errorOf, said, workdir } from '../../docker/harness';

/** One discarded docker build running the given provisioners. */
function template(...provisioners: object[]) {
  return { builders: [dockerBuilder({ discard: true })], provisioners };
}

describe('the shell provisioner', () => {
  it('runs inline commands as one script with the default shebang, stdout as output and stderr as errors', async () => {
    const run = await build(template({ type: 'shell', inline: ['echo to-stdout', 'echo to-stderr >&2', 'head -1 $0'] }));
    expect(run.outcome.error).toBeUndefined();
    expect(run.lines).toEqual(expect.arrayContaining(['    docker: to-stdout', '==> docker: to-stderr', '    docker: #!/bin/sh -e']));
    expect(said(run).find((l) => l.startsWith('Provisioning with shell script: '))).toMatch(/packer-shell\d+$/);
  });

  it('stops at the first failing inline command because of "-e", unless inline_shebang says otherwise', async () => {
    const strict = await build(template({ type: 'shell', inline: ['false', 'echo not-reached'] }));
    expect(errorOf(strict)).toBe('Script exited with non-zero exit status: 1.Allowed exit codes are: [0]');
    expect(said(strict)).not.toContain('not-reached');
    const lenient = await build(template({ type: 'shell', inline_shebang: '/bin/sh', inline: ['false', 'echo reached'] }));
    expect(lenient.outcome.error).toBeUndefined();
    expect(said(lenient)).toContain('reached');
  });

  it('builds {{.Vars}} exactly as Packer does: sorted, quoted, with the build name and type', async () => {
    const run = await build(template({
      type: 'shell',
      environment_vars: ['QUOTE=it\'s', 'FOO=bar baz', 'EMPTY=', 'EQ=a=b', 'DOLLAR=$HOME'],
      execute_command: 'cat <<\'END\'\n[{{.Vars}}]\nEND\n{{.Vars}} sh {{.Path}}',
      inline: ['echo "$FOO|$QUOTE|$EQ|$DOLLAR|$PACKER_BUILD_NAME|$PACKER_BUILDER_TYPE"'],
    }));
    expect(said(run)).toEqual(expect.arrayContaining([
      '[DOLLAR=\'$HOME\' EMPTY=\'\' EQ=\'a=b\' FOO=\'bar baz\' PACKER_BUILDER_TYPE=\'docker\' PACKER_BUILD_NAME=\'docker\' QUOTE=\'it\'"\'"\'s\' ]',
      'bar baz|it\'s|a=b|$HOME|docker|docker',
    ]));
  });

  it('applies env_var_format to each variable', async () => {
    const run = await build(template({
      type: 'shell',
      env_var_format: '%s=%q ',
      environment_vars: ['A=1'],
      execute_command: 'cat <<\'END\'\n{{.Vars}}\nEND\n',
      inline: ['true'],
    }));
    expect(said(run)).toContain('A="1" PACKER_BUILDER_TYPE="docker" PACKER_BUILD_NAME="docker"');
  });

  it('writes the variables to a file sourced by the command with use_env_var_file, and removes it afterwards', async () => {
    const run = await build(template(
      {
        type: 'shell',
        use_env_var_file: true,
        environment_vars: ['GREETING=hi there'],
        execute_command: 'echo "file={{.EnvVarFile}}"; cat {{.EnvVarFile}}; stat -c %a {{.EnvVarFile}}; chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}',
        inline: ['echo "$GREETING"'],
      },
      { type: 'shell', inline: ['ls /tmp | grep -c varfile_ || true'] },
    ));
    const out = said(run);
    expect(out.find((l) => l.startsWith('file='))).toMatch(/^file=\/tmp\/varfile_\d+\.sh$/);
    expect(out).toEqual(expect.arrayContaining([
      'export GREETING=\'hi there\'',
      'export PACKER_BUILDER_TYPE=\'docker\'',
      'export PACKER_BUILD_NAME=\'docker\'',
      '600',
      'hi there',
    ]));
    expect(out[out.length - 2]).toBe('0');
  });

  it('runs script and scripts from local files in order', async () => {
    const dir = workdir({ 'one.sh': 'echo one\n', 'two.sh': 'echo two\necho "no-newline-at-end"' });
    const run = await build(template({ type: 'shell', scripts: ['one.sh', 'two.sh'] }), { dir });
    expect(run.outcome.error).toBeUndefined();
    const out = said(run);
    expect(out).toEqual(expect.arrayContaining(['Provisioning with shell script: one.sh', 'one', 'Provisioning with shell script: two.sh', 'two', 'no-newline-at-end']));
    expect(out.indexOf('one')).toBeLessThan(out.indexOf('two'));
  });

  it('turns Windows line endings into Unix ones, unless binary is set', async () => {
    const dir = workdir({ 'crlf.sh': '#!/bin/sh\r\necho "carriage returns: $(tr -cd \'\\r\' < $0 | wc -c)" #\r\n' });
    const run = await build(template(
      { type: 'shell', script: 'crlf.sh' },
      { type: 'shell', script: 'crlf.sh', binary: true, execute_command: 'sh {{.Path}}' },
    ), { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(said(run).filter((l) => l.startsWith('carriage returns: '))).toEqual(['carriage returns: 0', 'carriage returns: 2']);
  });

  it('uploads to remote_path, removes the script afterwards, and keeps it with skip_clean', async () => {
    const run = await build(template(
      { type: 'shell', remote_path: '/tmp/mine.sh', inline: ['echo "running $0"'] },
      { type: 'shell', remote_folder: '/root', remote_file: 'kept.sh', skip_clean: true, inline: ['true'] },
      { type: 'shell', inline: ['ls /tmp/mine.sh /root/kept.sh 2>&1 || true'] },
    ));
    const out = said(run);
    expect(out).toContain('running /tmp/mine.sh');
    expect(out).toEqual(expect.arrayContaining(['/root/kept.sh']));
    expect(out.some((l) => /\/tmp\/mine\.sh: No such file or directory/.test(l))).toBe(true);
  });

  it('accepts the exit codes in valid_exit_codes and reports others with Packer\'s message', async () => {
    const ok = await build(template({ type: 'shell', valid_exit_codes: [0, 7], inline: ['exit 7'] }));
    expect(ok.outcome.error).toBeUndefined();
    const bad = await build(template({ type: 'shell', valid_exit_codes: [0, 1], inline: ['exit 2'] }));
    expect(errorOf(bad)).toBe('Script exited with non-zero exit status: 2.Allowed exit codes are: [0 1]');
  });

  it('renders inline lines and execute_command at run time with the build\'s data', async () => {
    const run = await build({
      variables: { who: 'kiln' },
      ...template({
        type: 'shell',
        execute_command: 'echo "exec {{.ConnType}} {{.Path}}" && sh {{.Path}}',
        inline: ['echo "inline {{ build `ConnType` }} {{ user `who` }}"'],
      }),
    });
    expect(said(run)).toEqual(expect.arrayContaining(['inline docker kiln']));
    expect(said(run).find((l) => l.startsWith('exec '))).toMatch(/^exec docker \/tmp\/script_\d+\.sh$/);
  });

  it('retries the upload within start_retry_timeout, e.g. until the remote folder exists', async () => {
    const run = await build(template(
      { type: 'shell', inline: ['(sleep 1; mkdir /later) >/dev/null 2>&1 &'] },
      { type: 'shell', remote_folder: '/later', start_retry_timeout: '20s', inline: ['echo "ran from $0"'] },
    ));
    expect(run.outcome.error).toBeUndefined();
    expect(said(run).find((l) => l.startsWith('ran from /later/script_'))).toBeDefined();
  });

  it('gives up after start_retry_timeout with the upload error', async () => {
    const run = await build(template({ type: 'shell', remote_folder: '/never', start_retry_timeout: '1s', inline: ['true'] }));
    expect(errorOf(run)).toMatch(/^Error uploading script: Failed to upload to '\/never\/script_\d+\.sh' in container: Could not find the file \/never in container/);
  });

  it('pauses after the provisioner with pause_after', async () => {
    const started = Date.now();
    const run = await build(template({ type: 'shell', pause_after: '500ms', inline: ['true'] }));
    expect(said(run)).toContain('Pausing 500ms after this provisioner...');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });
});
