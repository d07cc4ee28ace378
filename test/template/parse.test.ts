import { TemplateError } from '../../lib/template/errors';
import { parseSource } from '../../lib/template/parse';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateError) return e.describe();
    throw e;
  }
  throw new Error('expected a TemplateError');
}

describe('parsing template files', () => {
  test('a JSON syntax error names the file, line and column and shows the line', () => {
    const text = '{\n  "builders": [\n    {"type": "null",}\n  ]\n}\n';
    const msg = problemsOf(() => parseSource(text, 'web.json'));
    expect(msg).toMatch(/^web\.json:3:21: invalid JSON: /);
    expect(msg).toContain('{"type": "null",}');
    expect(msg).toContain('^');
  });

  test('JSON comments are rejected like Packer does, even though YAML would accept them', () => {
    expect(problemsOf(() => parseSource('{"builders": [] // no\n}', 't.json'))).toMatch(/^t\.json:1:17: invalid JSON/);
  });

  test('duplicate keys are rejected at any depth, naming the key and its position', () => {
    const text = '{\n  "builders": [\n    {"type": "null", "name": "a", "name": "b"}\n  ]\n}';
    expect(problemsOf(() => parseSource(text, 'dup.json'))).toMatch(/^dup\.json:3:35: duplicate key "name": keys must be unique in every object/);
  });

  test('keys spelled with escapes are the same key', () => {
    expect(problemsOf(() => parseSource('{"a": 1, "\\u0061": 2}', 'esc.json'))).toMatch(/^esc\.json:1:10: duplicate key/);
    expect(parseSource('{"a": {"b": 1}, "b": [{"a": 1}, {"a": 2}]}', 'ok.json').value).toEqual({ a: { b: 1 }, b: [{ a: 1 }, { a: 2 }] });
  });

  test('duplicate keys are rejected in YAML too', () => {
    const text = 'builders:\n  - type: "null"\n    type: file\n';
    expect(problemsOf(() => parseSource(text, 'dup.yaml'))).toMatch(/^dup\.yaml:3:5: duplicate key "type"/);
  });

  test('YAML gives the same value as the equivalent JSON', () => {
    const json = parseSource('{"variables": {"a": "1"}, "builders": [{"type": "null", "communicator": "none"}]}', 'a.json');
    const yaml = parseSource('variables:\n  a: "1"\nbuilders:\n  - type: "null"\n    communicator: none\n', 'a.yml');
    expect(yaml.value).toEqual(json.value);
  });

  test('YAML 1.2 keeps "yes" a string, so it means what it would in JSON', () => {
    expect(parseSource('a: yes\n', 'y.yaml').value).toEqual({ a: 'yes' });
  });

  test('locate() finds the line and column of a value by JSON path', () => {
    const doc = parseSource('{\n  "builders": [\n    {"type": "docker",\n     "imagee": "x"}\n  ]\n}', 'w.json');
    expect(doc.locate(['builders', 0, 'imagee'])).toEqual({ line: 4, column: 16 });
    expect(doc.locate(['nope'])).toBeUndefined();
  });
});
