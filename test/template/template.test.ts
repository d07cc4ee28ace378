import { CATALOG } from '../../lib/components/catalog';
import { TemplateError } from '../../lib/template/errors';
import { parseSource } from '../../lib/template/parse';
import { prepare } from '../../lib/template/prepare';
import { readTemplate } from '../../lib/template/template';

function read(value: unknown, file = 't.json') {
  return readTemplate(parseSource(JSON.stringify(value, null, 2), file));
}

function problems(value: unknown, file = 't.json'): string[] {
  try {
    read(value, file);
  } catch (e) {
    if (e instanceof TemplateError) return e.problems.map((p) => `${p.path ?? ''}${p.component ? ` (${p.component})` : ''}: ${p.message}`);
    throw e;
  }
  throw new Error('expected a TemplateError');
}

function prepareProblems(value: unknown): string[] {
  try {
    prepare(read(value), { catalog: { kinds: CATALOG } });
  } catch (e) {
    if (e instanceof TemplateError) return e.problems.map((p) => `${p.path ?? ''}${p.component ? ` (${p.component})` : ''}: ${p.message}`);
    throw e;
  }
  throw new Error('expected a TemplateError');
}

const nullBuilder = { type: 'null', communicator: 'none' };

describe('reading the template structure', () => {
  test('builder names default to the type', () => {
    expect(read({ builders: [nullBuilder, { type: 'file', name: 'f', target: 'x' }] }).builders.map((b) => b.name)).toEqual(['null', 'f']);
  });

  test('root keys match regardless of case and _-comments are skipped', () => {
    const t = read({ _comment: 'hi', Builders: [nullBuilder], VARIABLES: { a: 'b' } });
    expect(t.builders).toHaveLength(1);
    expect(t.variables).toEqual([{ name: 'a', default: 'b', required: false, sensitive: false }]);
  });

  test('every structural problem is reported at once', () => {
    expect(problems({
      _bad: 5,
      variables: { n: 5 },
      buiders: [],
      provisioners: [{ inline: ['x'] }],
    })).toEqual([
      '_bad: a comment must be a string, got a number',
      'buiders: unknown root key "buiders" — did you mean "builders"? (allowed: variables, sensitive-variables, builders, provisioners, post-processors, description, min_packer_version, error-cleanup-provisioner, push, and "_"-prefixed comments)',
      'variables.n: value must be a string (or null for a required variable), got 5 — write "5"',
      'provisioners[0]: missing "type" (a string naming the provisioner, e.g. "shell")',
    ]);
  });

  test('duplicate builder names are rejected, naming the first one', () => {
    expect(problems({ builders: [nullBuilder, { type: 'null' }] })).toEqual([
      'builders[1] (null "null"): a builder named "null" already exists (builders[0]); give each builder a unique "name"',
    ]);
  });

  test('null variables are required and sensitive variables are marked', () => {
    const t = read({ 'variables': { key: null, pw: 'x' }, 'sensitive-variables': ['pw'], 'builders': [nullBuilder] });
    expect(t.variables).toEqual([
      { name: 'key', default: null, required: true, sensitive: false },
      { name: 'pw', default: 'x', required: false, sensitive: true },
    ]);
  });

  test('post-processors come as a string, an object or a sequence, each a chain', () => {
    const t = read({
      'builders': [nullBuilder],
      'post-processors': ['compress', { type: 'manifest', name: 'm' }, ['artifice', { type: 'compress', only: ['null'] }]],
    });
    expect(t.postProcessors.map((c) => c.map((p) => `${p.type}/${p.name}@${p.path}`))).toEqual([
      ['compress/compress@post-processors[0]'],
      ['manifest/m@post-processors[1]'],
      ['artifice/artifice@post-processors[2][0]', 'compress/compress@post-processors[2][1]'],
    ]);
  });

  test('post-processor meta keys are strict: a string "only" and a string keep_input_artifact fail', () => {
    expect(problems({
      'builders': [nullBuilder],
      'post-processors': [{ type: 'compress', only: 'null' }, [{ type: 'manifest', keep_input_artifact: 'true' }, ['x']]],
    })).toEqual([
      'post-processors[0] (compress): "only" must be a list of builder names, got "null"',
      'post-processors[1][0] (manifest): "keep_input_artifact" must be true or false, got "true"',
      'post-processors[1][1]: a sequence cannot contain another sequence',
    ]);
  });

  test('provisioner meta keys decode weakly: a string "only" is a one-element list, a number pause is nanoseconds', () => {
    const t = read({ builders: [nullBuilder], provisioners: [{ type: 'shell-local', inline: ['true'], only: 'null', pause_before: 5 }] });
    expect(t.provisioners[0].only).toEqual(['null']);
    expect(t.provisioners[0].pauseBefore).toBe('5ns');
    expect(t.provisioners[0].config).toEqual({ inline: ['true'] });
  });

  test('provisioner only/except/override must name existing builders (raw names), checked when preparing', () => {
    expect(prepareProblems({
      builders: [{ ...nullBuilder, name: 'web' }],
      provisioners: [
        { type: 'shell', inline: ['x'], only: ['wbe'] },
        { type: 'shell', inline: ['x'], only: ['web'], except: ['web'] },
        { type: 'shell', inline: ['x'], override: { db: { inline: ['y'] } } },
      ],
    })).toEqual([
      'provisioners[0] (shell): "only" names builder "wbe", which does not exist — did you mean "web"?',
      'provisioners[1] (shell): only one of "only" and "except" may be set',
      'provisioners[2] (shell): "override" names builder "db", which does not exist (builders: "web")',
    ]);
  });

  test('a malformed pause_before is a structural problem', () => {
    expect(problems({ builders: [nullBuilder], provisioners: [{ type: 'shell', inline: ['x'], pause_before: 'soon' }] })).toEqual([
      'provisioners[0] (shell): "pause_before" must be a duration such as "10s" or "2m", got "soon"',
    ]);
  });
});
