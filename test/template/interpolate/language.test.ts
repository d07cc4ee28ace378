import { contextFor, renderError, renderIn } from './helpers';
import { hasActions, render } from '../../../lib/template/interpolate';

/*
 * The Go text/template language as Packer runs it. Expected outputs were
 * checked against packer 1.6.6 (`packer console`, builder names and
 * shell-local inline lines).
 */

const data = { Name: 'web', Port: 8080, Empty: '', Zero: 0, Nil: null, List: ['a', 'b'], Map: { b: 2, a: 'x' }, Nested: { Inner: 'deep' } };
const withData = (text: string): string => renderIn(text, { data }, 'provisioner');

describe('text and actions', () => {
  test('text without actions comes back unchanged', () => {
    expect(renderIn('plain text, even with } and {')).toBe('plain text, even with } and {');
  });

  test('hasActions looks for an opening delimiter only', () => {
    expect(hasActions('a {{ x')).toBe(true);
    expect(hasActions('a { { x }}')).toBe(false);
  });

  test('an action prints the value of its pipeline', () => {
    expect(renderIn('a{{ "b" }}c{{ 1 }}{{ true }}')).toBe('abc1true');
  });

  test('actions may span lines', () => {
    expect(renderIn('a {{ upper\n"x" }}')).toBe('a X');
  });

  test('numbers follow Go literal syntax', () => {
    expect(renderIn("{{ 0x1F }} {{ 1_000 }} {{ 0o17 }} {{ 0b101 }} {{ 1e3 }} {{ 'a' }} {{ -2 }} {{ +3 }} {{ .5 }} {{ 1.0 }} {{ 017 }}"))
      .toBe('31 1000 15 5 1000 97 -2 3 0.5 1 15');
  });
});

describe('string literals', () => {
  test('raw strings in backquotes keep backslashes', () => {
    expect(renderIn('{{ `a\\nb` }}')).toBe('a\\nb');
  });

  test('raw strings may span lines and drop carriage returns', () => {
    expect(renderIn('{{ `a\r\nb` }}')).toBe('a\nb');
  });

  test('double-quoted strings understand Go escapes', () => {
    expect(renderIn('{{ "tab\\there \\"quoted\\" back\\\\slash \\x41\\u00e9\\U0001F600 \\101\\n" }}'))
      .toBe('tab\there "quoted" back\\slash Aé😀 A\n');
  });

  test('hex escapes are bytes, so two of them can spell one UTF-8 character', () => {
    expect(renderIn('{{ "\\xc3\\xa9" }}')).toBe('é');
  });

  test('an unknown escape is a syntax error', () => {
    expect(renderError('{{ "\\z" }}')).toBe('template: root:1: invalid syntax');
  });

  test('a literal {{ is written as a string action', () => {
    expect(renderIn('{{ `{{` }} .Name }}')).toBe('{{ .Name }}');
    expect(renderIn('{{ "{{" }}user `x`{{ "}}" }}')).toBe('{{user `x`}}');
  });
});

describe('trim markers and comments', () => {
  test('{{- and -}} remove the white space next to the action', () => {
    expect(renderIn('a \n {{- "b" -}} \n c')).toBe('abc');
  });

  test('the dash must be followed by a space, otherwise it is a minus sign', () => {
    expect(renderIn('a {{-3}} c')).toBe('a -3 c');
  });

  test('trimming works across lines around control actions', () => {
    expect(renderIn('x{{- "y" }}\n{{ if true -}}\n  t\n{{- end }}')).toBe('xy\nt');
  });

  test('comments print nothing', () => {
    expect(renderIn('a{{/* anything {{ here */}}b')).toBe('ab');
    expect(renderIn('a {{- /* x */ -}} b')).toBe('ab');
  });

  test('a comment must touch both delimiters', () => {
    expect(renderError('a{{ /* x */ }}b')).toBe('template: root:1: unexpected "/" in command');
    expect(renderError('a{{/* x */ }}b')).toBe('template: root:1: comment ends before closing delimiter');
    expect(renderError('a{{/* x }}b')).toBe('template: root:1: unclosed comment');
  });
});

describe('pipelines', () => {
  test('the piped value becomes the last argument', () => {
    expect(renderIn('{{ build_name | replace "-" "/" 1 }}')).toBe('my/build');
    expect(renderIn('{{ upper "a" | printf "%s-%s" "x" }}')).toBe('x-A');
  });

  test('pipelines chain through several functions', () => {
    expect(renderIn('{{ "x" | printf "%s" | upper | printf "[%s]" }}')).toBe('[X]');
  });

  test('parentheses group a sub-pipeline', () => {
    expect(renderIn('{{ lower (printf "%s-%s" "A" (upper "b")) }}')).toBe('a-b');
  });

  test('a function without arguments can be an argument', () => {
    expect(renderIn('{{ upper build_name }}')).toBe('MY-BUILD');
  });

  test('a trailing pipe symbol is accepted, as in Go', () => {
    expect(renderIn('{{ upper "a" | }}')).toBe('A');
  });

  test('only the first command of a pipeline may be a plain value', () => {
    expect(renderError('{{ "a" | "b" }}')).toBe('template: root:1: non executable command in pipeline stage 2');
  });

  test('a value cannot take arguments', () => {
    expect(renderError('{{ "a" "b" }}')).toBe('template: root:1:3: executing "root" at <"a">: can\'t give argument to non-function "a"');
  });
});

describe('data fields', () => {
  test('.Field reads a key of the data map', () => {
    expect(withData('{{ .Name }}:{{ .Port }}')).toBe('web:8080');
  });

  test('a missing key prints <no value>', () => {
    expect(withData('{{ .Missing }}')).toBe('<no value>');
  });

  test('a missing key in the middle of a chain also prints <no value>', () => {
    expect(withData('{{ .Missing.Deeper }}')).toBe('<no value>');
  });

  test('a nil value prints <no value>', () => {
    expect(withData('{{ .Nil }}')).toBe('<no value>');
  });

  test('chains read nested maps', () => {
    expect(withData('{{ .Nested.Inner }}')).toBe('deep');
  });

  test('without data, fields and dot print <no value>', () => {
    expect(renderIn('{{ .HTTPIP }} {{ . }} {{ $ }}')).toBe('<no value> <no value> <no value>');
  });

  test('lists and maps print the way Go prints them, map keys sorted', () => {
    expect(withData('{{ .List }} {{ .Map }}')).toBe('[a b] map[a:x b:2]');
  });

  test('a field of a nil value is an error', () => {
    expect(renderError('{{ .Nil.X }}', { data })).toBe('template: root:1:7: executing "root" at <.Nil.X>: nil pointer evaluating interface {}.X');
  });

  test('a field of a string is an error, reported at the second field', () => {
    expect(renderError("echo 'OUT: {{ .Name.X }}'", { data }))
      .toBe('template: root:1:19: executing "root" at <.Name.X>: can\'t evaluate field X in type interface {}');
  });

  test('a field of a function result names the result type', () => {
    expect(renderError('{{ (upper "a").Foo }}')).toBe('template: root:1:10: executing "root" at <"a">: can\'t evaluate field Foo in type string');
  });

  test('a map key cannot take arguments', () => {
    expect(renderError('{{ .Name "a" }}', { data })).toBe('template: root:1:3: executing "root" at <.Name>: Name is not a method but has arguments');
  });
});

describe('variables', () => {
  test('$x := declares and $x = assigns; declarations print nothing', () => {
    expect(renderIn('{{ $x := "v" }}{{ $x }}{{ $x = "w" }}{{ $x }}')).toBe('vw');
  });

  test('$ is the data passed to the template', () => {
    expect(withData('{{ with .Nested }}{{ .Inner }}/{{ $.Name }}{{ end }}')).toBe('deep/web');
  });

  test('variables declared inside a control structure end with it', () => {
    expect(renderError('{{ if true }}{{ $z := 1 }}{{ end }}{{ $z }}')).toBe('template: root:1: undefined variable "$z"');
  });

  test('an undeclared variable is a syntax error', () => {
    expect(renderError('{{ $y }}')).toBe('template: root:1: undefined variable "$y"');
  });
});

describe('if, else if, else', () => {
  test.each([
    ['{{ if eq 1 1 }}yes{{ else if true }}maybe{{ else }}no{{ end }}', 'yes'],
    ['{{ if eq 1 2 }}yes{{ else if true }}maybe{{ else }}no{{ end }}', 'maybe'],
    ['{{ if false }}yes{{ else if false }}maybe{{ else }}no{{ end }}', 'no'],
    ['{{ if .Missing }}t{{ else }}f{{ end }}', 'f'],
  ])('%s renders %j', (text, expected) => {
    expect(withData(text)).toBe(expected);
  });

  test.each([
    ['false', false], ['0', false], ['""', false], ['.Empty', false], ['.Zero', false], ['.Nil', false],
    ['true', true], ['1', true], ['"x"', true], ['.List', true], ['.Map', true], ['0.5', true],
  ])('Go truth: %s is %s', (value, truth) => {
    expect(withData(`{{ if ${value} }}true{{ else }}false{{ end }}`)).toBe(String(truth));
  });
});

test('nil on its own is not a command', () => {
  expect(renderError('{{ if nil }}x{{ end }}')).toBe('template: root:1:6: executing "root" at <nil>: nil is not a command');
});

describe('with', () => {
  test('with sets dot to a non-empty value', () => {
    expect(renderIn('{{ with "q" }}[{{ . }}]{{ end }}')).toBe('[q]');
  });

  test('with falls back to else for an empty value', () => {
    expect(renderIn('{{ with "" }}x{{ else }}empty{{ end }}')).toBe('empty');
  });

  test('with can declare a variable', () => {
    expect(renderIn('{{ with $x := "q" }}{{ $x }}{{ . }}{{ end }}')).toBe('qq');
  });

  test('else if is only for if', () => {
    expect(renderError('{{ with 1 }}a{{ else if 2 }}b{{ end }}')).toBe('template: root:1: unexpected <if> in input');
  });
});

describe('range', () => {
  test('range visits list elements in order', () => {
    expect(withData('{{ range .List }}<{{ . }}>{{ end }}')).toBe('<a><b>');
  });

  test('range with two variables gets the index and the element', () => {
    expect(withData('{{ range $i, $e := .List }}{{ $i }}={{ $e }};{{ end }}')).toBe('0=a;1=b;');
  });

  test('range visits maps in key order', () => {
    expect(withData('{{ range $k, $v := .Map }}{{ $k }}:{{ $v }} {{ end }}')).toBe('a:x b:2 ');
  });

  test('range over nothing takes the else branch', () => {
    expect(withData('{{ range .Missing }}x{{ else }}empty{{ end }}')).toBe('empty');
  });

  test('break and continue work inside range', () => {
    expect(withData('{{ range .List }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}')).toBe('a');
    expect(withData('{{ range .List }}{{ if eq . "a" }}{{ continue }}{{ end }}{{ . }}{{ end }}')).toBe('b');
  });

  test('break outside range is a syntax error', () => {
    expect(renderError('{{ break }}')).toBe('template: root:1: {{break}} outside {{range}}');
  });

  test('a string cannot be ranged over', () => {
    expect(renderError('{{ range $x := "q" }}{{ end }}')).toBe('template: root:1:15: executing "root" at <"q">: range can\'t iterate over q');
  });

  test('range declares at most two variables', () => {
    expect(renderError('{{ range $i, $e, $f := . }}{{ end }}')).toBe('template: root:1: too many declarations in range');
  });
});

describe('define, template and block', () => {
  test('a defined template runs with the value passed to it', () => {
    expect(renderIn('{{ define "x" }}X{{ . }}{{ end }}{{ template "x" "arg" }}')).toBe('Xarg');
  });

  test('block defines a template and runs it in place', () => {
    expect(renderIn('{{ block "x" "v" }}[{{ . }}]{{ end }}')).toBe('[v]');
  });

  test('an unknown template is an execution error', () => {
    expect(renderError('{{ template "x" }}')).toBe('template: root:1:12: executing "root" at <{{template "x"}}>: template "x" not defined');
  });
});

describe('caching', () => {
  test('rendering the same text twice gives the same result from the cached parse', () => {
    const ctx = contextFor('builder');
    expect(render('{{ upper "cached" }}', ctx)).toBe('CACHED');
    expect(render('{{ upper "cached" }}', ctx)).toBe('CACHED');
  });
});
