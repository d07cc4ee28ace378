import { errorFrom, renderError, renderIn } from './helpers';
import { buildPlaceholder, parse, Stage } from '../../../lib/template/interpolate';

/*
 * Packer's own functions and where they work. Messages and outputs checked
 * with packer 1.6.6 unless a comment says otherwise.
 */

const COMPONENT_STAGES: Stage[] = ['builder', 'provisioner', 'post-processor'];
const ALL_STAGES: Stage[] = ['variables', 'build-name', ...COMPONENT_STAGES];

const reason = (text: string, stage: Stage = 'builder', extra = {}): string => {
  const message = renderError(text, extra, stage);
  return message.slice(message.indexOf('>: ') + 3);
};

describe('user', () => {
  test('user reads a user variable', () => {
    expect(renderIn('{{ user `region` }}', { userVariables: { region: 'eu' } })).toBe('eu');
  });

  test('user accepts a double-quoted name', () => {
    expect(renderIn('{{ user "region" }}', { userVariables: { region: 'eu' } })).toBe('eu');
  });

  test.each(['build-name', ...COMPONENT_STAGES] as Stage[])('outside the variables section an undefined variable is empty (%s)', (stage) => {
    expect(renderIn('[{{ user `nope` }}]', {}, stage)).toBe('[]');
  });

  test('in the variables section an undefined variable is an error', () => {
    expect(reason('{{ user `nope` }}', 'variables')).toBe('error calling user: Error: variable not set: nope');
  });

  test('user needs exactly one argument', () => {
    expect(reason('{{ user }}')).toBe('wrong number of args for user: want 1 got 0');
  });
});

describe('env and the secret stores', () => {
  test('env reads the environment in the variables section', () => {
    expect(renderIn('{{ env `KILN_TEST` }}', { env: { KILN_TEST: 'v' } }, 'variables')).toBe('v');
  });

  test('an unset environment variable is empty', () => {
    expect(renderIn('[{{ env `KILN_UNSET` }}]', { env: {} }, 'variables')).toBe('[]');
  });

  test.each(['build-name', ...COMPONENT_STAGES] as Stage[])('env fails outside the variables section (%s)', (stage) => {
    expect(reason('{{ env `HOME` }}', stage)).toBe('error calling env: env vars are not allowed here');
  });

  test.each([
    ['{{ vault `secret/x` `key` }}', 'error calling vault: Vault vars are only allowed in the variables section'],
    ['{{ consul_key `x` }}', 'error calling consul_key: consul_key is not allowed here'],
    ['{{ aws_secretsmanager `x` }}', 'error calling aws_secretsmanager: AWS Secrets Manager is only allowed in the variables section'],
  ])('%s fails outside the variables section with Packer\'s message', (text, expected) => {
    expect(reason(text, 'provisioner')).toBe(expected);
  });

  test.each([
    ['{{ vault `secret/x` `key` }}', 'vault'],
    ['{{ consul_key `x` }}', 'consul_key'],
    ['{{ aws_secretsmanager `x` `k` }}', 'aws_secretsmanager'],
  ])('%s in the variables section says Kiln does not support it', (text, name) => {
    expect(reason(text, 'variables')).toBe(`error calling ${name}: ${name} is not supported by Kiln; pass the secret with -var or -var-file instead`);
  });

  test('aws_secretsmanager checks its argument count first', () => {
    expect(reason('{{ aws_secretsmanager }}', 'variables')).toBe('error calling aws_secretsmanager: secret name must be provided');
    expect(reason('{{ aws_secretsmanager `a` `b` `c` }}', 'variables'))
      .toBe('error calling aws_secretsmanager: only secret name and optional secret key can be provided.');
  });

  test('vault takes a path and a key', () => {
    expect(reason('{{ vault `a` }}', 'variables')).toBe('wrong number of args for vault: want 2 got 1');
  });
});

describe('build_name, build_type and packer_version', () => {
  test.each(COMPONENT_STAGES)('they work in component configs (%s)', (stage) => {
    expect(renderIn('{{ build_name }}/{{ build_type }}/{{ packer_version }}', {}, stage)).toBe('my-build/docker/1.6.6');
  });

  test.each(['variables', 'build-name'] as Stage[])('they are not available in the %s pass', (stage) => {
    expect(reason('{{ build_name }}', stage)).toBe('error calling build_name: build_name not available');
    expect(reason('{{ build_type }}', stage)).toBe('error calling build_type: build_type not available');
    expect(reason('{{ packer_version }}', stage)).toBe('error calling packer_version: packer_version not available');
  });
});

describe('template_dir and pwd', () => {
  test.each(ALL_STAGES)('template_dir is the absolute directory of the template (%s)', (stage) => {
    expect(renderIn('{{ template_dir }}', {}, stage)).toBe('/work/templates');
  });

  test('a relative template path is resolved against the working directory', () => {
    expect(renderIn('{{ template_dir }}', { templatePath: 'sub/t.json', cwd: '/work/run' })).toBe('/work/run/sub');
  });

  test('without a template path, template_dir fails', () => {
    expect(reason('{{ template_dir }}', 'builder', { templatePath: undefined })).toBe('error calling template_dir: template path not available');
  });

  test('pwd is the working directory', () => {
    expect(renderIn('{{ pwd }}')).toBe('/work/run');
  });
});

describe('timestamp, uuid', () => {
  test('timestamp is Unix seconds', () => {
    expect(renderIn('{{ timestamp }}')).toBe('1795265685');
  });

  test('uuid is time-ordered: Unix seconds in hex, then random hex, 8-4-4-4-12', () => {
    const uuid = renderIn('{{ uuid }}');
    expect(uuid).toMatch(/^6b019495-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(renderIn('{{ uuid }}')).not.toBe(uuid);
  });
});

describe('upper and lower', () => {
  test('upper and lower change case', () => {
    expect(renderIn('{{ upper "abc" }} {{ lower "ÀB" }}')).toBe('ABC àb');
  });

  test('like Go, they map one character to one character', () => {
    expect(renderIn('{{ upper "ß" }} {{ lower "İ" }}')).toBe('ß i');
  });
});

describe('split', () => {
  test('split returns the part at an index', () => {
    expect(renderIn('{{ split "a-b-c" "-" 1 }}')).toBe('b');
  });

  test('an empty separator splits into characters', () => {
    expect(renderIn('{{ split "héllo" "" 1 }}')).toBe('é');
  });

  test('an index out of range fails with Packer\'s message', () => {
    expect(reason('{{ split "a-b" "-" 5 }}'))
      .toBe('error calling split: the substring 5 was unavailable using the separator value, -, only 2 values were found');
  });

  test('a negative index fails the way the Go panic is reported', () => {
    expect(reason('{{ split "a-b" "-" -1 }}')).toBe('error calling split: runtime error: index out of range [-1]');
  });
});

describe('replace and replace_all', () => {
  test('replace replaces at most n occurrences', () => {
    expect(renderIn('{{ replace "a" "b" 1 "aaa" }} {{ replace "a" "b" -1 "aaa" }} {{ replace "aa" "b" 1 "aaaaa" }}')).toBe('baa bbb baaa');
  });

  test('an empty old string matches around every character', () => {
    expect(renderIn('{{ replace "" "-" 2 "abc" }} {{ replace "" "-" -1 "hé" }}')).toBe('-a-bc -h-é-');
  });

  test('replace_all replaces every occurrence', () => {
    expect(renderIn('{{ replace_all "a" "b" "aaa" }}')).toBe('bbb');
  });

  test('with a pipe, the input is the last argument', () => {
    expect(renderIn('{{ build_name | replace "-" "/" 1 }} {{ "a.b.c" | replace_all "." "_" }}')).toBe('my/build a_b_c');
  });
});

describe('sed', () => {
  test('sed always fails with the deprecation text', () => {
    expect(reason('{{ sed "s/a/b/" "abc" }}'))
      .toBe('error calling sed: template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine');
  });
});

describe('build', () => {
  const placeholders = { data: { ID: buildPlaceholder('ID'), Host: buildPlaceholder('Host') } };

  test('at prepare time, build turns a placeholder into a {{.Key}} action for the run-time render', () => {
    expect(renderIn('{{ build `ID` }}', placeholders, 'provisioner')).toBe('{{.ID}}');
  });

  test('writing {{.ID}} directly gets the placeholder text', () => {
    expect(renderIn('{{ .ID }}', placeholders, 'provisioner'))
      .toBe('Build_ID. To set this dynamically in the Packer template, you must use the `build` function');
  });

  test('with real data, build returns the value', () => {
    expect(renderIn('{{ build `ID` }}', { data: { ID: 'abc123' } }, 'post-processor')).toBe('abc123');
  });

  test('a key that is not in the data fails', () => {
    expect(reason('{{ build `Nope` }}', 'provisioner', placeholders)).toBe('error calling build: loaded data, but couldnt find Nope in it.');
  });

  test('in a builder (no data) build fails', () => {
    expect(reason('{{ build `ID` }}'))
      .toBe('error calling build: Error validating build variable: the given variable ID will not be passed into your plugin.');
  });
});

describe('clean_resource_name', () => {
  test('it does not exist unless the builder adds it', () => {
    expect(renderError('{{ isotime | clean_resource_name }}')).toBe('template: root:1: function "clean_resource_name" not defined');
  });

  test('cloud builders enable it: lower case, other characters become dashes', () => {
    expect(renderIn('{{ "My Image:2026" | clean_resource_name }}', { enableCleanResourceName: true })).toBe('my-image-2026');
  });

  test('a name that is already valid is kept', () => {
    expect(renderIn('{{ clean_resource_name "web-1" }}', { enableCleanResourceName: true })).toBe('web-1');
  });

  test('the amazon builders\' rule keeps case and what EC2 allows in AMI names; other bytes become dashes', () => {
    expect(renderIn('{{ "My Image:2026 (v1) [a]/b.c-d\'e@f_g*h" | clean_resource_name }}', { enableCleanResourceName: 'amazon' }))
      .toBe('My Image-2026 (v1) [a]/b.c-d\'e@f_g-h');
    // Each byte of a multi-byte character becomes a dash, as in Packer.
    expect(renderIn('{{ "é" | clean_resource_name }}', { enableCleanResourceName: 'amazon' })).toBe('--');
  });

  test('parsing knows about it only when asked', () => {
    expect(() => parse('{{ clean_resource_name "x" }}', { enableCleanResourceName: true })).not.toThrow();
    expect(errorFrom(() => parse('{{ clean_resource_name "x" }}')).message).toBe('template: root:1: function "clean_resource_name" not defined');
  });
});
