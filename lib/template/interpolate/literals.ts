import { quote } from './go-fmt';
import { Float64 } from './values';

/*
 * Go literal syntax inside actions: quoted strings (strconv.Unquote) and
 * numbers (the rules of text/template's NumberNode). A failure returns a
 * message; the parser turns it into a syntax error.
 */

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  'a': 0x07, 'b': 0x08, 'f': 0x0c, 'n': 0x0a, 'r': 0x0d, 't': 0x09, 'v': 0x0b, '\\': 0x5c,
};

const INVALID_SYNTAX = 'invalid syntax';

interface Escape {
  /** raw bytes for \x and octal escapes, a code point otherwise */
  readonly bytes?: number[];
  readonly codePoint?: number;
  readonly end: number;
}

function isHexDigits(text: string): boolean {
  return /^[0-9a-fA-F]+$/.test(text);
}

/** One escape sequence starting at the backslash; undefined if malformed. */
function readEscape(body: string, at: number, quoteChar: string): Escape | undefined {
  const c = body[at + 1];
  if (c === undefined) return undefined;
  if (c in SIMPLE_ESCAPES) return { codePoint: SIMPLE_ESCAPES[c], end: at + 2 };
  if (c === quoteChar) return { codePoint: c.charCodeAt(0), end: at + 2 };
  if (c === 'x' || c === 'u' || c === 'U') {
    const length = { x: 2, u: 4, U: 8 }[c];
    const digits = body.slice(at + 2, at + 2 + length);
    if (digits.length !== length || !isHexDigits(digits)) return undefined;
    const value = parseInt(digits, 16);
    if (c === 'x') return { bytes: [value], end: at + 2 + length };
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
    return { codePoint: value, end: at + 2 + length };
  }
  if (c >= '0' && c <= '7') {
    const digits = body.slice(at + 1, at + 4);
    if (!/^[0-7]{3}$/.test(digits)) return undefined;
    const value = parseInt(digits, 8);
    return value > 255 ? undefined : { bytes: [value], end: at + 4 };
  }
  return undefined;
}

/**
 * strconv.Unquote for `"..."` and `` `...` ``. `\x` and octal escapes are
 * bytes, so the result is assembled as UTF-8 and decoded at the end.
 */
export function unquoteString(literal: string): string | { error: string } {
  if (literal.startsWith('`')) {
    // Go drops carriage returns from raw strings.
    return literal.slice(1, -1).replace(/\r/g, '');
  }
  const body = literal.slice(1, -1);
  if (!body.includes('\\')) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] !== '\\') {
      const cp = body.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
      continue;
    }
    const escape = readEscape(body, i, '"');
    if (!escape) return { error: INVALID_SYNTAX };
    bytes.push(...(escape.bytes ?? Buffer.from(String.fromCodePoint(escape.codePoint ?? 0), 'utf8')));
    i = escape.end;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The rune of a character constant such as `'a'` or `'\n'`. */
export function unquoteChar(literal: string): number | { error: string } {
  const body = literal.slice(1, -1);
  const malformed = { error: `malformed character constant: ${literal}` };
  if (body.startsWith('\\')) {
    const escape = readEscape(body, 0, '\'');
    if (!escape) return { error: INVALID_SYNTAX };
    if (escape.end !== body.length) return malformed;
    return escape.bytes ? escape.bytes[0] : escape.codePoint ?? 0;
  }
  const cp = body.codePointAt(0);
  if (cp === undefined || String.fromCodePoint(cp) === '\'') return { error: INVALID_SYNTAX };
  return String.fromCodePoint(cp).length === body.length ? cp : malformed;
}

/** Go's rule for `_` in numbers: only between digits, or right after a base prefix. */
function underscoresOk(text: string): boolean {
  let s = text.replace(/^[+-]/, '');
  let previous: 'start' | 'digit' | 'underscore' | 'other' = 'start';
  const hex = /^0[xX]/.test(s);
  if (/^0[bBoOxX]/.test(s)) {
    s = s.slice(2);
    previous = 'digit';
  }
  for (const ch of s) {
    if ((ch >= '0' && ch <= '9') || (hex && /[a-fA-F]/.test(ch))) {previous = 'digit';} else if (ch === '_') {
      if (previous !== 'digit') return false;
      previous = 'underscore';
    } else {
      if (previous === 'underscore') return false;
      previous = 'other';
    }
  }
  return previous !== 'underscore';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(text, 0, 64) without the range check. */
function parseInteger(text: string): bigint | undefined {
  if (!underscoresOk(text)) return undefined;
  const negative = text.startsWith('-');
  let s = text.replace(/^[+-]/, '').replace(/_/g, '');
  let radix = 10;
  let valid = /^[0-9]+$/;
  if (/^0[xX]/.test(s)) {
    radix = 16;
    valid = /^[0-9a-fA-F]+$/;
    s = s.slice(2);
  } else if (/^0[oO]/.test(s)) {
    radix = 8;
    valid = /^[0-7]+$/;
    s = s.slice(2);
  } else if (/^0[bB]/.test(s)) {
    radix = 2;
    valid = /^[01]+$/;
    s = s.slice(2);
  } else if (s.length > 1 && s.startsWith('0')) {
    radix = 8;
    valid = /^[0-7]+$/;
  }
  if (!valid.test(s)) return undefined;
  let value = 0n;
  for (const ch of s) value = value * BigInt(radix) + BigInt(parseInt(ch, radix));
  return negative ? -value : value;
}

/** strconv.ParseFloat(text, 64) for the forms the lexer lets through. */
function parseFloat64(text: string): number | undefined {
  if (!underscoresOk(text)) return undefined;
  const s = text.replace(/_/g, '');
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?[0-9]+)$/.exec(s);
  if (hex) {
    const [, sign, whole, fraction, exponent] = hex;
    if (whole === '' && fraction === '') return undefined;
    const mantissa = parseInt(whole + fraction || '0', 16) / 16 ** fraction.length;
    const value = mantissa * 2 ** Number(exponent);
    return sign === '-' ? -value : value;
  }
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return undefined;
  return Number(s);
}

export interface NumberLiteral {
  /** set when the number fits an `int` parameter */
  readonly int?: number;
  /** what the number becomes where any type is accepted */
  readonly constant: number | Float64;
  /** a uint64 beyond int64: Go fails when it is used as a value */
  readonly overflowsInt?: boolean;
}

export function parseNumber(text: string): NumberLiteral | { error: string } {
  if (text.endsWith('i')) return { error: `complex number ${text} is not supported by Kiln` };
  const integer = parseInteger(text);
  if (integer !== undefined && integer >= INT64_MIN && integer <= INT64_MAX) {
    return { int: Number(integer), constant: Number(integer) };
  }
  if (integer !== undefined && integer >= 0n && integer <= UINT64_MAX) {
    return { constant: new Float64(Number(integer)), overflowsInt: true };
  }
  const float = parseFloat64(text);
  if (float === undefined) return { error: `illegal number syntax: ${quote(text)}` };
  if (!/[.eEpP]/.test(text)) return { error: `integer overflow: ${quote(text)}` };
  const isInt = Number.isInteger(float) && Math.abs(float) < 2 ** 63;
  const hexInt = /^[+-]?0[xX]/.test(text) && !/[pP]/.test(text);
  return { int: isInt ? float : undefined, constant: hexInt ? float : new Float64(float) };
}
