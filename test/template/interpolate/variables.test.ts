import { errorFrom, NOW } from './helpers';
import {
  maskDataReferences, renderVariables, TemplateExecError, VariableInterpolationError, VariablesContext,
} from '../../../lib/template/interpolate';

/*
 * Packer's variable pass. Every scenario here was run through packer 1.6.6
 * (variables printed by a shell-local post-processor).
 */

const ctx: VariablesContext = { now: NOW, templatePath: '/work/templates/app.json', cwd: '/work/run', env: { HOME: '/home/kiln' } };
const render = (defaults: Record<string, string | null>, overrides: Record<string, string> = {}): Record<string, string> =>
  renderVariables(new Map(Object.entries(defaults)), overrides, ctx);
const failure = (defaults: Record<string, string | null>, overrides: Record<string, string> = {}): Error & Record<string, unknown> =>
  errorFrom(() => render(defaults, overrides));

const notDefined = 'Please make sure that the variable you\'re referencing has been defined; '
  + 'Packer treats all variables used to interpolate other user variables as required.';

describe('defaults referring to each other', () => {
  test('references resolve whatever the order of definition', () => {
    expect(render({ a: '{{user `b`}}-x', b: '{{user `c`}}-y', c: 'z' })).toEqual({ a: 'z-y-x', b: 'z-y', c: 'z' });
  });

  test('a double-quoted name works too', () => {
    expect(render({ a: '{{ user "b" }}', b: '{{ user `c` }}', c: 'C' }).a).toBe('C');
  });

  test('plain values come back as they are', () => {
    expect(render({ region: 'eu-west-1', empty: '' })).toEqual({ region: 'eu-west-1', empty: '' });
  });
});

describe('undefined references and cycles', () => {
  test('a reference to an undefined variable fails with Packer\'s message', () => {
    const error = failure({ a: '{{user `missing`}}' });
    expect(error).toBeInstanceOf(VariableInterpolationError);
    expect(error.message).toBe(
      'Failed to interpolate "a": "{{user `missing`}}"; error: template: root:1:2: executing "root" at <user `missing`>: '
      + `error calling user: Error: variable not set: missing: ${notDefined}`,
    );
    expect(error.variable).toBe('a');
  });

  test('a cycle fails and names the last variable tried', () => {
    expect(failure({ a: '{{ user `b` }}', b: '{{ user `a` }}' }).message).toBe(
      'Failed to interpolate "b": "{{ user `a` }}"; error: template: root:1:3: executing "root" at <user `a`>: '
      + `error calling user: Error: variable not set: a: ${notDefined}`,
    );
  });

  test('a self reference fails', () => {
    expect(failure({ a: '{{ user `b` }}', b: '{{ user `a` }}', c: '{{ user `c` }}' }).message).toContain('Failed to interpolate "c"');
  });

  test('a double-quoted reference to an undefined variable fails too', () => {
    expect(failure({ a: '{{ user "missing" }}' }).message).toContain('"a": "{{ user "missing" }}"; error: ');
  });

  test('Packer quirk: the failure is dropped while another backquoted user call keeps rendering', () => {
    expect(render({ a: '{{user `missing`}}', c: '{{user `d`}}', d: 'x' })).toEqual({ c: 'x', d: 'x' });
  });

  test('Packer quirk: the empty name is always defined', () => {
    expect(render({ a: '[{{ user `` }}]' })).toEqual({ a: '[]' });
  });
});

describe('what works in the variables pass', () => {
  test('env, template_dir, pwd, isotime, upper and split work', () => {
    const out = render({ a: '{{ env `HOME` }} {{ template_dir }} {{ pwd }} {{ isotime "2006" }} {{ upper `x` }} {{ split `a-b` `-` 1 }}' });
    expect(out.a).toBe('/home/kiln /work/templates /work/run 2026 X b');
  });

  test('every variable sees the same clock', () => {
    const out = renderVariables(new Map([['a', '{{ timestamp }}'], ['b', '{{ timestamp }}']]), {}, { ...ctx, now: undefined });
    expect(out.a).toBe(out.b);
  });

  test('build_name fails with the bare template error', () => {
    const error = failure({ a: '{{build_name}}' });
    expect(error).toBeInstanceOf(TemplateExecError);
    expect(error.message).toBe('template: root:1:2: executing "root" at <build_name>: error calling build_name: build_name not available');
  });

  test('packer_version is not available either', () => {
    expect(failure({ a: '{{ packer_version }}' }).message).toContain('error calling packer_version: packer_version not available');
  });

  test('a syntax error names the variable', () => {
    expect(failure({ a: '{{foo}}' }).message).toBe('error interpolating default value for \'a\': template: root:1: function "foo" not defined');
  });
});

describe('{{ .X }} in variables', () => {
  test('data references are kept literally for a later pass', () => {
    expect(render({ a: '{{ .HTTPIP }}/x', b: 'z {{.X}} {{user `a`}}' })).toEqual({ a: '{{ .HTTPIP }}/x', b: 'z {{.X}} {{ .HTTPIP }}/x' });
  });

  test('only Packer\'s exact pattern is kept: two spaces before the dot render as <no value>', () => {
    expect(render({ a: '{{  .Y }}|{{ if .Y }}y{{ end }}' }).a).toBe('<no value>|');
  });
});

describe('command-line values', () => {
  test('overrides win over defaults and are rendered too', () => {
    expect(render({ a: '{{ user `b` }}', b: 'B' }, { b: '{{ user `c` }}', c: 'C' })).toEqual({ a: 'C', b: 'C', c: 'C' });
  });

  test('variables the template does not declare can be set', () => {
    expect(render({ a: 'x' }, { zz: '{{ upper `q` }}' })).toEqual({ a: 'x', zz: 'Q' });
  });

  test('a required variable takes its value from the command line', () => {
    expect(render({ req: null, b: '{{ user `req` }}!' }, { req: 'given' })).toEqual({ req: 'given', b: 'given!' });
  });
});

describe('maskDataReferences', () => {
  test.each([
    ['{{.X}}', true], ['{{ .X }}', true], ['{{.}}', true], ['{{ .X | upper }}', true], ['{{\n.X}}', true], ['{{.X\n}}', true],
    ['{{  .X }}', false], ['{{- .X }}', false], ['{{ if .X }}', false], ['{{ .X\nY }}', false], ['{{ .X', false],
  ])('%j is masked: %s', (text, masked) => {
    const result = maskDataReferences(text);
    expect(result.text !== text).toBe(masked);
    expect(result.restore(result.text)).toBe(text);
  });

  test('only the data references in a longer text are masked', () => {
    const masked = maskDataReferences('{{ user `a` }}-{{ .HTTPPort }}-{{{.Y}}');
    expect(masked.text).toMatch(/^\{\{ user `a` \}\}-kiln-mask-[0-9a-f-]+-\{kiln-mask-[0-9a-f-]+$/);
    expect(masked.restore(masked.text)).toBe('{{ user `a` }}-{{ .HTTPPort }}-{{{.Y}}');
  });
});
