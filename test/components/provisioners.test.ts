import * as path from 'path';
import { validate, workdir } from './helpers';
import { breakpointProvisioner } from '../../lib/components/provisioners/breakpoint/declaration';
import { fileProvisioner } from '../../lib/components/provisioners/file/declaration';
import { shellProvisioner } from '../../lib/components/provisioners/shell/declaration';
import { shellLocalProvisioner } from '../../lib/components/provisioners/shell-local/declaration';

describe('the shell provisioner', () => {
  const dir = workdir({ 'setup.sh': 'echo hi\n', 'scripts/two.sh': 'echo two\n' });

  test('accepts inline commands given as one comma-separated string, and exit codes given as strings', () => {
    const out = validate(shellProvisioner, { type: 'shell', inline: 'echo one,echo two', valid_exit_codes: ['0', '7'], environment_vars: 'A=1,B=x=y,C=' });
    expect(out.errors).toEqual([]);
    expect(out.config).toMatchObject({ inline: ['echo one', 'echo two'], valid_exit_codes: [0, 7], environment_vars: ['A=1', 'B=x=y', 'C='] });
  });

  test('accepts a single exit code, a number for a string and string booleans', () => {
    const out = validate(shellProvisioner, { inline: ['true'], valid_exit_codes: 7, remote_file: 42, binary: '1', pause_after: '30s' });
    expect(out.errors).toEqual([]);
    expect(out.config).toMatchObject({ valid_exit_codes: [7], remote_file: '42', binary: true, pause_after: '30s' });
  });

  test('accepts scripts that exist, resolving relative paths against the working directory', () => {
    expect(validate(shellProvisioner, { script: 'setup.sh' }, dir).errors).toEqual([]);
    expect(validate(shellProvisioner, { scripts: ['setup.sh', path.join(dir, 'scripts/two.sh')] }, dir).errors).toEqual([]);
  });

  test('rejects a script that does not exist, saying where it looked', () => {
    expect(validate(shellProvisioner, { scripts: ['setup.sh', 'missing.sh'] }, dir).errors).toEqual([
      `script "missing.sh" does not exist (resolved to ${path.join(dir, 'missing.sh')})`,
    ]);
  });

  test('needs one of inline, script or scripts, and empty ones do not count', () => {
    const message = 'one of "inline", "script" or "scripts" must be set';
    expect(validate(shellProvisioner, {}).errors).toEqual([message]);
    expect(validate(shellProvisioner, { inline: [], scripts: '', script: '' }).errors).toEqual([message]);
  });

  test('allows only one of inline, script and scripts', () => {
    const message = 'only one of "inline", "script" and "scripts" may be set';
    expect(validate(shellProvisioner, { inline: ['a'], script: 'setup.sh' }, dir).errors).toEqual([message]);
    expect(validate(shellProvisioner, { script: 'setup.sh', scripts: ['setup.sh'] }, dir).errors).toEqual([message]);
  });

  test('accepts an empty inline next to a script, as Packer does', () => {
    expect(validate(shellProvisioner, { inline: [], script: 'setup.sh' }, dir).errors).toEqual([]);
  });

  test('rejects environment variables without "=" or without a name', () => {
    expect(validate(shellProvisioner, { inline: ['a'], environment_vars: ['=a', 'b', 'C=', 5] }).errors).toEqual([
      '"environment_vars" entries must be KEY=value with a non-empty KEY, got "=a"',
      '"environment_vars" entries must be KEY=value with a non-empty KEY, got "b"',
      '"environment_vars" entries must be KEY=value with a non-empty KEY, got "5"',
    ]);
  });

  test('rejects execute_command given as a list, as Packer does', () => {
    expect(validate(shellProvisioner, { inline: ['a'], execute_command: ['sh', '-c'] }).errors).toEqual([
      '"execute_command" must be a string, got ["sh","-c"]',
    ]);
  });
});

describe('the file provisioner', () => {
  const dir = workdir({ 'app.conf': 'x', 'site/index.html': '<p>' });

  test('accepts an upload of files that exist, combining sources given as a string with source', () => {
    const out = validate(fileProvisioner, { type: 'file', sources: 'app.conf,site/', source: 'site/index.html', destination: '/etc/app/' }, dir);
    expect(out.errors).toEqual([]);
    expect(out.config).toMatchObject({ sources: ['app.conf', 'site/'], source: 'site/index.html' });
  });

  test('requires a destination', () => {
    expect(validate(fileProvisioner, { source: 'app.conf' }, dir).errors).toEqual([
      '"destination" is required: Where the copy goes. A trailing `/` means "into this directory, keeping the name"; parent directories must already exist on the machine.',
    ]);
  });

  test('requires a source', () => {
    expect(validate(fileProvisioner, { destination: '/x', sources: [], source: '' }).errors).toEqual(['"source" or "sources" must be set: the files to copy']);
  });

  test('accepts only upload and download as direction (an empty one means upload)', () => {
    expect(validate(fileProvisioner, { source: 'app.conf', destination: '/x', direction: 'sideways' }, dir).errors).toEqual([
      '"direction" must be "upload" or "download", got "sideways"',
    ]);
    expect(validate(fileProvisioner, { source: 'app.conf', destination: '/x', direction: 'Upload' }, dir).errors).toEqual([
      '"direction" must be "upload" or "download", got "Upload"',
    ]);
    expect(validate(fileProvisioner, { source: 'app.conf', destination: '/x', direction: '' }, dir).errors).toEqual([]);
  });

  test('rejects an upload whose source does not exist, unless it is generated', () => {
    expect(validate(fileProvisioner, { sources: ['app.conf', 'nope.txt'], destination: '/x/' }, dir).errors).toEqual([
      `source "nope.txt" does not exist (resolved to ${path.join(dir, 'nope.txt')}); set "generated": true if an earlier step creates it`,
    ]);
    expect(validate(fileProvisioner, { source: 'nope.txt', destination: '/x', generated: 'true' }, dir).errors).toEqual([]);
  });

  test('does not look for the sources of a download on this machine', () => {
    expect(validate(fileProvisioner, { source: '/var/log/app.log', destination: 'logs/', direction: 'download' }, dir).errors).toEqual([]);
  });

  test('rejects the content key, which Packer 1.6.6 does not have', () => {
    expect(validate(fileProvisioner, { content: 'x', destination: '/x' }).errors[0]).toMatch(/^unknown key "content"/);
  });
});

describe('the shell-local provisioner', () => {
  const dir = workdir({ 'local.sh': '#!/bin/sh\necho hi\n' }, 0o755);

  test('accepts inline commands, systems given as one string and keys in any case', () => {
    const out = validate(shellLocalProvisioner, { type: 'shell-local', Inline: 'echo a,echo b', only_on: 'linux,darwin', valid_exit_codes: '0', execute_command: 'bash,-c,{{.Vars}} {{.Script}}' });
    expect(out.errors).toEqual([]);
    expect(out.config).toMatchObject({ inline: ['echo a', 'echo b'], only_on: ['linux', 'darwin'], valid_exit_codes: [0], execute_command: ['bash', '-c', '{{.Vars}} {{.Script}}'] });
  });

  test('accepts a command, or a script that exists', () => {
    expect(validate(shellLocalProvisioner, { command: 'echo hi' }).errors).toEqual([]);
    expect(validate(shellLocalProvisioner, { command: 'echo hi', inline: [] }).errors).toEqual([]);
    expect(validate(shellLocalProvisioner, { script: 'local.sh' }, dir).errors).toEqual([]);
  });

  test('needs one of command, inline, script or scripts', () => {
    const message = 'one of "command", "inline", "script" or "scripts" must be set';
    expect(validate(shellLocalProvisioner, {}).errors).toEqual([message]);
    expect(validate(shellLocalProvisioner, { inline: [] }).errors).toEqual([message]);
  });

  test('allows only one of command, inline, script and scripts', () => {
    const message = 'only one of "command", "inline", "script" and "scripts" may be set';
    expect(validate(shellLocalProvisioner, { command: 'a', inline: ['b'] }).errors).toEqual([message]);
    expect(validate(shellLocalProvisioner, { command: 'a', script: 'local.sh' }, dir).errors).toEqual([message]);
    expect(validate(shellLocalProvisioner, { script: 'local.sh', scripts: ['local.sh'] }, dir).errors).toEqual([message]);
  });

  test('rejects an empty inline next to a script, as Packer does', () => {
    const message = '"inline" must be left out when "script" or "scripts" is set, even when it is empty, got []';
    expect(validate(shellLocalProvisioner, { script: 'local.sh', inline: [] }, dir).errors).toEqual([message]);
    expect(validate(shellLocalProvisioner, { scripts: ['local.sh'], inline: '' }, dir).errors).toEqual([message]);
  });

  test('rejects a script that does not exist', () => {
    expect(validate(shellLocalProvisioner, { script: 'nope.sh' }, dir).errors).toEqual([
      `script "nope.sh" does not exist (resolved to ${path.join(dir, 'nope.sh')})`,
    ]);
  });

  test('accepts only Go system names in only_on, in lower case', () => {
    expect(validate(shellLocalProvisioner, { inline: ['a'], only_on: ['linux', 'plan9', 'Linux'] }).errors).toEqual([
      '"only_on" entries must be one of "darwin", "freebsd", "linux", "openbsd", "solaris", "windows", got "plan9"',
      '"only_on" entries must be one of "darwin", "freebsd", "linux", "openbsd", "solaris", "windows", got "Linux"',
    ]);
  });

  test('rejects use_linux_pathing with inline commands and with paths that have no drive letter', () => {
    expect(validate(shellLocalProvisioner, { inline: ['a'], use_linux_pathing: true }).errors).toEqual([
      '"use_linux_pathing" works only with "script" or "scripts", not with "inline" or "command"',
    ]);
    expect(validate(shellLocalProvisioner, { script: 'local.sh', use_linux_pathing: true }, dir).errors).toEqual([
      `"use_linux_pathing" needs Windows script paths with a drive letter (C:/...), got "local.sh" (resolved to ${path.join(dir, 'local.sh')})`,
    ]);
  });

  test('rejects malformed environment variables', () => {
    expect(validate(shellLocalProvisioner, { inline: ['a'], environment_vars: ['=x'] }).errors).toEqual([
      '"environment_vars" entries must be KEY=value with a non-empty KEY, got "=x"',
    ]);
  });

  test('does not know the shell provisioner\'s "binary" key', () => {
    expect(validate(shellLocalProvisioner, { inline: ['a'], binary: true }).errors[0]).toMatch(/^unknown key "binary"/);
  });
});

describe('the breakpoint provisioner', () => {
  test('accepts a note given as a number and disable given as a string', () => {
    const out = validate(breakpointProvisioner, { type: 'breakpoint', note: 5, disable: 'true' });
    expect(out.errors).toEqual([]);
    expect(out.config).toEqual({ note: '5', disable: true });
  });

  test('rejects keys it does not have', () => {
    expect(validate(breakpointProvisioner, { pause: 1 }).errors[0]).toMatch(/^unknown key "pause"/);
  });
});
