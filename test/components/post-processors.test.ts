import * as path from 'path';
import { validate, workdir } from './helpers';
import { artificePostProcessor } from '../../lib/components/post-processors/artifice/declaration';
import { checksumPostProcessor } from '../../lib/components/post-processors/checksum/declaration';
import { compressFormatOf, compressPostProcessor } from '../../lib/components/post-processors/compress/declaration';
import { dockerImportPostProcessor } from '../../lib/components/post-processors/docker-import/declaration';
import { dockerPushPostProcessor } from '../../lib/components/post-processors/docker-push/declaration';
import { dockerSavePostProcessor } from '../../lib/components/post-processors/docker-save/declaration';
import { dockerTagPostProcessor } from '../../lib/components/post-processors/docker-tag/declaration';
import { manifestPostProcessor } from '../../lib/components/post-processors/manifest/declaration';
import { shellLocalPostProcessor } from '../../lib/components/post-processors/shell-local/declaration';
import { shellLocalProvisioner } from '../../lib/components/provisioners/shell-local/declaration';

describe('the docker-tag post-processor', () => {
  test('accepts tags and the old tag key, each given as a comma-separated string', () => {
    const out = validate(dockerTagPostProcessor, { type: 'docker-tag', repository: 'acme/app', tags: 'v1,latest', tag: 'old', force: '1' });
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.config).toEqual({ repository: 'acme/app', tags: ['v1', 'latest'], tag: ['old'], force: true });
  });

  test('accepts a missing repository with a warning, as Packer fails only at run time', () => {
    const out = validate(dockerTagPostProcessor, {});
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual(['"repository" is not set: tagging will fail at run time']);
  });
});

describe('the docker-push post-processor', () => {
  test('accepts registry and ECR logins', () => {
    const out = validate(dockerPushPostProcessor, {
      login: 'true',
      login_username: 'u',
      login_password: 'p',
      login_server: 'registry.example.com',
      ecr_login: false,
      aws_access_key: 'a',
      aws_secret_key: 's',
      aws_token: 't',
      aws_profile: 'dev',
    });
    expect(out.errors).toEqual([]);
    expect(out.config).toMatchObject({ login: true, ecr_login: false });
  });

  test('needs login_server for ecr_login', () => {
    expect(validate(dockerPushPostProcessor, { ecr_login: true }).errors).toEqual(['"ecr_login" needs "login_server"']);
  });

  test('rejects login_email, which Packer only asks to fix', () => {
    expect(validate(dockerPushPostProcessor, { login_email: 'a@b.c' }).errors[0]).toMatch(/^unknown key "login_email"/);
  });
});

describe('the docker-save post-processor', () => {
  test('accepts a path', () => {
    expect(validate(dockerSavePostProcessor, { path: 'image.tar' })).toEqual({ config: { path: 'image.tar' }, errors: [], warnings: [] });
  });

  test('accepts a missing path with a warning', () => {
    expect(validate(dockerSavePostProcessor, {}).warnings).toEqual(['"path" is not set: saving will fail at run time']);
  });
});

describe('the docker-import post-processor', () => {
  test('accepts a repository, a tag and changes given as a string', () => {
    const out = validate(dockerImportPostProcessor, { repository: 'acme/app', tag: 1, changes: 'ENV A=1' });
    expect(out.errors).toEqual([]);
    expect(out.config).toEqual({ repository: 'acme/app', tag: '1', changes: ['ENV A=1'] });
  });
});

describe('the compress post-processor', () => {
  test('accepts an output and a level given as a string', () => {
    const out = validate(compressPostProcessor, { output: 'out/{{.BuildName}}.tar.gz', compression_level: '6' });
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.config).toEqual({ output: 'out/{{.BuildName}}.tar.gz', compression_level: 6 });
  });

  test('accepts any format, like Packer, but warns about an extension it does not know', () => {
    const out = validate(compressPostProcessor, { output: 'app', format: 'rar' });
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([
      '"format" "rar": the last extension, ".rar", is not a format Kiln knows (tar, zip, gz, tgz, lz4, bgzf, xz), so the archive will be a gzip-compressed tar',
    ]);
    expect(validate(compressPostProcessor, { output: 'app.tar.bz2' }).warnings).toEqual([
      '"output" "app.tar.bz2": the last extension, ".bz2", is not a format Kiln knows (tar, zip, gz, tgz, lz4, bgzf, xz), so the archive will be a gzip-compressed tar',
    ]);
  });

  test('accepts xz at validate, as Packer does', () => {
    expect(validate(compressPostProcessor, { output: 'app.tar.xz' })).toMatchObject({ errors: [], warnings: [] });
  });

  test('accepts the internal archive and algorithm keys that Packer accepts', () => {
    expect(validate(compressPostProcessor, { archive: 'zip', algorithm: 'xz' }).errors).toEqual([]);
  });

  test.each([
    ['packer_{{.BuildName}}_{{.BuilderType}}', undefined, { archive: 'tar', algorithm: 'gzip' }],
    ['app.tar.gz', undefined, { archive: 'tar', algorithm: 'gzip' }],
    ['app.tgz', undefined, { archive: 'tar', algorithm: 'gzip' }],
    ['app.tar', undefined, { archive: 'tar' }],
    ['app.zip', undefined, { archive: 'zip' }],
    ['app.tar.zip', undefined, { archive: 'zip' }],
    ['disk.raw.gz', undefined, { algorithm: 'gzip' }],
    ['disk.lz4', undefined, { algorithm: 'lz4' }],
    ['disk.bgzf', undefined, { algorithm: 'bgzf' }],
    ['app.tar.lz4', undefined, { archive: 'tar', algorithm: 'lz4' }],
    ['app.tar.bgzf', undefined, { archive: 'tar', algorithm: 'bgzf' }],
    ['app.tar.xz', undefined, { archive: 'tar', algorithm: 'xz' }],
    ['app', 'tar.xz', { archive: 'tar', algorithm: 'xz' }],
    ['app.zip', 'gz', { algorithm: 'gzip' }],
    ['app', 'ZIP', { archive: 'tar', algorithm: 'gzip', unknown: '.ZIP' }],
    ['app-1.2', undefined, { archive: 'tar', algorithm: 'gzip', unknown: '.2' }],
  ])('reads %j with format %j as %j, like Packer', (output, format, expected) => {
    expect(compressFormatOf(output, format)).toEqual(expected);
  });
});

describe('the manifest post-processor', () => {
  test('accepts custom data with number and boolean values, as strings', () => {
    const out = validate(manifestPostProcessor, { output: 'manifest.json', strip_path: 'true', strip_time: true, custom_data: { a: 1, b: true, c: 'x' } });
    expect(out.errors).toEqual([]);
    expect(out.config).toEqual({ output: 'manifest.json', strip_path: true, strip_time: true, custom_data: { a: '1', b: '1', c: 'x' } });
  });

  test('rejects nested custom data and the old filename key', () => {
    expect(validate(manifestPostProcessor, { custom_data: { a: { x: 1 } } }).errors).toEqual(['"custom_data".a must be a string, number or boolean, got {"x":1}']);
    expect(validate(manifestPostProcessor, { filename: 'x' }).errors[0]).toMatch(/^unknown key "filename"/);
  });
});

describe('the checksum post-processor', () => {
  test('accepts every supported type, given as one string, and an empty list', () => {
    const out = validate(checksumPostProcessor, { checksum_types: 'md5,sha1,sha224,sha256,sha384,sha512' });
    expect(out.errors).toEqual([]);
    expect(out.config.checksum_types).toHaveLength(6);
    expect(validate(checksumPostProcessor, { checksum_types: [] }).errors).toEqual([]);
  });

  test('rejects unknown types, case included', () => {
    expect(validate(checksumPostProcessor, { checksum_types: ['sha256', 'MD5', 'sha3'] }).errors).toEqual([
      '"checksum_types" entries must be one of "md5", "sha1", "sha224", "sha256", "sha384", "sha512", got "MD5"',
      '"checksum_types" entries must be one of "md5", "sha1", "sha224", "sha256", "sha384", "sha512", got "sha3"',
    ]);
  });
});

describe('the shell-local post-processor', () => {
  const dir = workdir({ 'after.sh': '#!/bin/sh\n' }, 0o755);

  test('accepts execute_command as a plain string', () => {
    const out = validate(shellLocalPostProcessor, { inline: ['echo done'], execute_command: 'echo {{.Script}}' });
    expect(out.errors).toEqual([]);
    expect(out.config.execute_command).toEqual(['echo {{.Script}}']);
  });

  test('shares the fields and rules of the shell-local provisioner', () => {
    expect(Object.keys(shellLocalPostProcessor.fields)).toEqual(Object.keys(shellLocalProvisioner.fields));
    expect(validate(shellLocalPostProcessor, {}).errors).toEqual(['one of "command", "inline", "script" or "scripts" must be set']);
    expect(validate(shellLocalPostProcessor, { script: 'after.sh', inline: [] }, dir).errors).toEqual([
      '"inline" must be left out when "script" or "scripts" is set, even when it is empty, got []',
    ]);
    expect(validate(shellLocalPostProcessor, { script: 'gone.sh' }, dir).errors).toEqual([
      `script "gone.sh" does not exist (resolved to ${path.join(dir, 'gone.sh')})`,
    ]);
  });
});

describe('the artifice post-processor', () => {
  test('accepts files given as a comma-separated string', () => {
    expect(validate(artificePostProcessor, { files: 'a.txt,out/*.log' }).config).toEqual({ files: ['a.txt', 'out/*.log'] });
  });

  test('requires at least one file', () => {
    const message = '"files" is required: Files (glob patterns allowed) that form the new artifact. Destroying the artifact deletes them.';
    expect(validate(artificePostProcessor, {}).errors).toEqual([message]);
    expect(validate(artificePostProcessor, { files: [] }).errors).toEqual([message]);
    expect(validate(artificePostProcessor, { files: '' }).errors).toEqual([message]);
  });
});
