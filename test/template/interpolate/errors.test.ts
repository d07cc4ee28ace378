import { errorFrom, renderError, renderIn } from './helpers';
import { checkSyntax, parse, TemplateExecError, TemplateSyntaxError } from '../../../lib/template/interpolate';

/*
 * Error texts are Go's (Packer prints them verbatim); Kiln adds the offset,
 * line and column as properties. Go's exec messages count the column from 0
 * in UTF-8 bytes; the `column` property counts from 1 in characters.
 */

describe('syntax errors', () => {
  test.each([
    ['{{}}', 'missing value for command'],
    ['{{ foo }}', 'function "foo" not defined'],
    ['{{ upper "a" ', 'unclosed action'],
    ['{{ "abc }}', 'unterminated quoted string'],
    ['{{ `abc }}', 'unterminated raw quoted string'],
    ['{{ \'ab\' }}', 'malformed character constant: \'ab\''],
    ['{{ 12a }}', 'bad number syntax: "12a"'],
    ['{{ 089 }}', 'integer overflow: "089"'],
    ['{{ upper "a" ) }}', 'unexpected ")" in command'],
    ['{{ (upper "a" }}', 'unclosed left paren'],
    ['{{ $x := }}', 'missing value for command'],
    ['{{ | upper }}', 'unexpected "|" in command'],
    ['{{ if }}', 'missing value for if'],
    ['{{ end }}', 'unexpected {{end}}'],
    ['{{ else }}', 'unexpected {{else}}'],
    ['{{ if 1 }}', 'unexpected EOF'],
    ['{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}', 'expected end; found {{else}}'],
    ['{{ upper"a" }}', 'bad character U+0022 \'"\''],
    ['{{ "a".Foo }}', 'unexpected . after term "\\"a\\""'],
    ['{{ : }}', 'expected :='],
    ['{{ \u0001 }}', 'unrecognized character in action: U+0001'],
    ['{{ continue }}', '{{continue}} outside {{range}}'],
    ['{{ printf "%s" "a very long string" ) }}', 'unexpected ")" in command'],
  ])('%j fails with "%s"', (text, reason) => {
    const error = errorFrom(() => parse(text));
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error.message).toBe(`template: root:1: ${reason}`);
    expect(error.reason).toBe(reason);
  });

  test('the line is the line of the offending token', () => {
    expect(renderError('a\n{{ upper\n"x" | foo }}')).toBe('template: root:3: function "foo" not defined');
  });

  test('an action left open across lines says where it started', () => {
    expect(renderError('a\n{{ upper\n"x" ')).toBe('template: root:3: unclosed action started at root:2');
    expect(renderError('a\n{{ upper\n"x }}')).toBe('template: root:3: unterminated quoted string in action started at root:2');
  });

  test('a syntax error carries the offset, line and column of the offending token', () => {
    const error = errorFrom(() => parse('line one\n  {{ nope }}')) as unknown as TemplateSyntaxError;
    expect(error.offset).toBe(14);
    expect(error.line).toBe(2);
    expect(error.column).toBe(6);
  });

  test('the first problem wins, even when a worse one follows', () => {
    expect(renderError('{{ foo }} {{ "unterminated')).toBe('template: root:1: function "foo" not defined');
  });

  test('checkSyntax parses without running anything', () => {
    expect(() => checkSyntax('{{ env `HOME` }} {{ .Path }}')).not.toThrow();
    expect(() => checkSyntax('{{ .Path ')).toThrow('template: root:1: unclosed action');
  });

  test('checkSyntax accepts text without actions', () => {
    expect(() => checkSyntax('no actions')).not.toThrow();
  });
});

describe('execution errors', () => {
  test('a failing function reports the call, its position and its message', () => {
    const error = errorFrom(() => renderIn('{{env `HOME`}}')) as unknown as TemplateExecError;
    expect(error).toBeInstanceOf(TemplateExecError);
    expect(error.message).toBe('template: root:1:2: executing "root" at <env `HOME`>: error calling env: env vars are not allowed here');
    expect(error.functionName).toBe('env');
    expect(error.reason).toBe('error calling env: env vars are not allowed here');
    expect(error.context).toBe('env `HOME`');
  });

  test('the position of a bad action in a multi-line string is its line and column', () => {
    const text = 'n\nline2 {{ upper "x" }}\n  {{ env `HOME` }}';
    const error = errorFrom(() => renderIn(text)) as unknown as TemplateExecError;
    expect(error.message).toBe('template: root:3:5: executing "root" at <env `HOME`>: error calling env: env vars are not allowed here');
    expect(error.line).toBe(3);
    expect(error.column).toBe(6);
    expect(error.offset).toBe(text.indexOf('env'));
  });

  test('Go counts the column in bytes, so characters before the action count as UTF-8', () => {
    expect(renderError('héllo {{ env `X` }}')).toBe('template: root:1:10: executing "root" at <env `X`>: error calling env: env vars are not allowed here');
  });

  test('wrong argument counts name the function', () => {
    expect(renderError('{{ upper }}')).toBe('template: root:1:3: executing "root" at <upper>: wrong number of args for upper: want 1 got 0');
    expect(renderError('{{ upper "a" "b" }}')).toBe('template: root:1:3: executing "root" at <upper>: wrong number of args for upper: want 1 got 2');
    expect(renderError('{{ and }}')).toBe('template: root:1:3: executing "root" at <and>: wrong number of args for and: want at least 1 got 0');
  });

  test('argument types are checked like Go does', () => {
    expect(renderError('{{ 1 | upper }}')).toBe('template: root:1:7: executing "root" at <upper>: wrong type for value; expected string; got int');
    expect(renderError('{{ upper .Foo }}')).toBe('template: root:1:9: executing "root" at <.Foo>: invalid value; expected string');
    expect(renderError('{{ .Foo | upper }}')).toBe('template: root:1:10: executing "root" at <upper>: invalid value; expected string');
    expect(renderError('{{ upper 1 }}')).toBe('template: root:1:9: executing "root" at <1>: expected string; found 1');
    expect(renderError('{{ split "a-b" "-" "x" }}')).toBe('template: root:1:19: executing "root" at <"x">: expected integer; found "x"');
    expect(renderError('{{ upper nil }}')).toBe('template: root:1:9: executing "root" at <nil>: cannot assign nil to string');
  });

  test('an argument error names the function being called', () => {
    const error = errorFrom(() => renderIn('{{ upper .Foo }}')) as unknown as TemplateExecError;
    expect(error.functionName).toBe('upper');
  });

  test('a float literal with an integral value fits an int parameter', () => {
    expect(renderIn('{{ replace "a" "b" 1.0 "aaa" }}')).toBe('baa');
    expect(renderError('{{ replace "a" "b" 1.5 "aaa" }}')).toBe('template: root:1:19: executing "root" at <1.5>: expected integer; found 1.5');
  });

  test('nil is not a command', () => {
    expect(renderError('{{ nil }}')).toBe('template: root:1:3: executing "root" at <nil>: nil is not a command');
  });
});
