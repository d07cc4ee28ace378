import { renderError, renderIn } from './helpers';

/*
 * Go's built-in template functions, as the packer 1.6.6 binary (Go 1.19)
 * runs them. Each expectation was checked with `packer console`.
 */

const data = { List: ['a', 'b', 'c'], Map: { k: 'v' }, Nil: null };
const withData = (text: string): string => renderIn(text, { data }, 'provisioner');
const reason = (text: string): string => {
  const message = renderError(text, { data }, 'provisioner');
  return message.slice(message.indexOf('>: ') + 3);
};

describe('and, or, not', () => {
  test('and returns the first empty argument, or the last one', () => {
    expect(renderIn('{{ and 1 0 "x" }}|{{ and 1 2 "x" }}')).toBe('0|x');
  });

  test('or returns the first non-empty argument, or the last one', () => {
    expect(renderIn('{{ or 0 "" "y" }}|{{ or 0 "" }}')).toBe('y|');
  });

  test('and and or stop evaluating once the answer is known', () => {
    expect(renderIn('{{ and 0 (upper 1) }}|{{ or 1 (upper 1) }}')).toBe('0|1');
    expect(renderError('{{ and 1 (upper 1) }}')).toBe('template: root:1:16: executing "root" at <1>: expected string; found 1');
  });

  test('a piped value is the last operand', () => {
    expect(renderIn('{{ "a" | and "b" }}|{{ 0 | or "" }}')).toBe('a|0');
  });

  test('not negates Go truth', () => {
    expect(renderIn('{{ not 0 }} {{ not "x" }} {{ true | not }}')).toBe('true false false');
  });
});

describe('comparisons', () => {
  test('eq compares the first argument with each of the others', () => {
    expect(renderIn('{{ eq 1 2 1 }} {{ eq "a" "b" }} {{ ne 1 2 }}')).toBe('true false true');
  });

  test('values of different types cannot be compared, not even 1 and 1.0', () => {
    expect(reason('{{ eq "a" 1 }}')).toBe('error calling eq: incompatible types for comparison');
    expect(reason('{{ eq 1 1.0 }}')).toBe('error calling eq: incompatible types for comparison');
  });

  test('a missing value equals only nil', () => {
    expect(withData('{{ eq .Missing nil }} {{ eq .Missing "a" }} {{ eq .Nil nil }}')).toBe('true false true');
  });

  test('eq needs two arguments', () => {
    expect(reason('{{ eq 1 }}')).toBe('error calling eq: missing argument for comparison');
  });

  test('lt, le, gt and ge order numbers and strings', () => {
    expect(renderIn('{{ lt 1 2 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge "a" "b" }} {{ lt "a" "b" }} {{ lt 1.5 2.5 }}')).toBe('true true true false true true');
  });

  test('ordering needs two basic values of one type', () => {
    expect(reason('{{ lt 1 2.5 }}')).toBe('error calling lt: incompatible types for comparison');
    expect(reason('{{ lt true false }}')).toBe('error calling lt: invalid type for comparison');
    expect(reason('{{ lt nil 1 }}')).toBe('error calling lt: invalid type for comparison');
  });
});

describe('len, index, slice', () => {
  test('len counts UTF-8 bytes of strings, and elements of lists and maps', () => {
    expect(withData('{{ len "héllo" }} {{ len .List }} {{ len .Map }}')).toBe('6 3 1');
  });

  test('len of something without a length fails', () => {
    expect(reason('{{ len 3 }}')).toBe('error calling len: len of type int');
  });

  test('index on a string gives a byte value', () => {
    expect(renderIn('{{ index "abc" 1 }}')).toBe('98');
  });

  test('index reads lists and maps; a missing map key prints <no value>', () => {
    expect(withData('{{ index .List 2 }} {{ index .Map "k" }} {{ index .Map "zz" }}')).toBe('c v <no value>');
  });

  test('index out of range fails like Go', () => {
    expect(reason('{{ index "abc" 3 }}')).toBe('error calling index: reflect: string index out of range');
    expect(reason('{{ index "abc" 5 }}')).toBe('error calling index: index out of range: 5');
    expect(reason('{{ index .Missing 0 }}')).toBe('error calling index: index of untyped nil');
    expect(reason('{{ index 3 1 }}')).toBe('error calling index: can\'t index item of type int');
  });

  test('slice cuts strings by bytes and lists by elements', () => {
    expect(withData('{{ slice "abcdef" 1 3 }} {{ slice "abc" 1 }} {{ slice .List 1 }}')).toBe('bc bc [b c]');
  });

  test('slice checks its bounds', () => {
    expect(reason('{{ slice "abc" 1 5 }}')).toBe('error calling slice: index out of range: 5');
    expect(reason('{{ slice "abc" 2 1 }}')).toBe('error calling slice: invalid slice index: 2 > 1');
    expect(reason('{{ slice "abc" 1 2 3 }}')).toBe('error calling slice: cannot 3-index slice a string');
  });
});

describe('print, println', () => {
  test('print puts spaces only between operands that are not strings', () => {
    expect(renderIn('{{ print 1 2 "a" "b" 3 true }}')).toBe('1 2ab3 true');
  });

  test('println separates every operand and ends the line', () => {
    expect(renderIn('{{ println 1 "a" }}|')).toBe('1 a\n|');
  });

  test('a missing value prints as <nil>', () => {
    expect(renderIn('{{ print .Foo 1 }}')).toBe('<nil> 1');
  });
});

describe('html, js, urlquery', () => {
  test('html escapes markup characters', () => {
    expect(renderIn('{{ html "<a href=\\"x\\">&\'</a>" }}')).toBe('&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;');
  });

  test('js escapes quotes, markup characters and non-printable characters', () => {
    expect(renderIn('{{ js "a\'b\\"c<d>e&f=g\\\\ \\t é \\u2028 `+\\u00a0" }}')).toBe('a\\\'b\\"c\\u003Cd\\u003Ee\\u0026f\\u003Dg\\\\ \\u0009 é \\u2028 `+\\u00A0');
  });

  test('urlquery escapes for a query string', () => {
    expect(renderIn('{{ urlquery "a b&c=d/é~_.-" }}')).toBe('a+b%26c%3Dd%2F%C3%A9~_.-');
  });

  test('several arguments are joined the way print joins them, missing ones as <no value>', () => {
    expect(renderIn('{{ html 1 "a" 2 }} {{ urlquery "a" "b" }} {{ html .Foo }}')).toBe('1a2 ab &lt;no value&gt;');
  });
});

describe('call', () => {
  test('call runs a function found in the data', () => {
    expect(renderIn('{{ call .Greet "you" }}', { data: { Greet: (who: unknown) => `hi ${String(who)}` } })).toBe('hi you');
  });

  test('call of a missing value fails', () => {
    expect(reason('{{ call .X }}')).toBe('error calling call: call of nil');
  });
});
