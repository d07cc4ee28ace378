import { FloatVerb, formatUnsignedFloat } from './go-float';
import { isPrint, runeCodeLabel } from './unicode';
import { kindOf, mapGet, mapKeys, numberOf, typeName } from './values';

/*
 * The parts of Go's fmt and strconv that templates reach: `{{ . }}` prints
 * with %v, and print/printf/println are fmt.Sprint/Sprintf/Sprintln. Error
 * texts such as `%!d(string=x)` are part of the output, so they match Go.
 */

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  /** `%#v`: Go syntax (quoted strings, typed composite literals) */
  sharpV?: boolean;
  width?: number;
  precision?: number;
}

const plainSpec = (): Spec => ({ minus: false, plus: false, sharp: false, space: false, zero: false });

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
};

function escapeRune(ch: string, quoteChar: string): string {
  if (ch === quoteChar || ch === '\\') return `\\${ch}`;
  if (isPrint(ch)) return ch;
  const escaped = SIMPLE_ESCAPES[ch];
  if (escaped) return escaped;
  const cp = ch.codePointAt(0) ?? 0xfffd;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** strconv.Quote */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) out += escapeRune(ch, '"');
  return `${out}"`;
}

/** strconv.QuoteRune */
export function quoteRune(cp: number): string {
  const ch = cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  return `'${escapeRune(ch, '\'')}'`;
}

function canBackquote(text: string): boolean {
  for (const ch of text) {
    if (ch === '`' || ch === '\u007f' || ch === '\ufeff' || (ch < ' ' && ch !== '\t')) return false;
  }
  return true;
}

function runeCount(text: string): number {
  return [...text].length;
}

function pad(text: string, spec: Spec, zeroAllowed = true): string {
  const missing = (spec.width ?? 0) - runeCount(text);
  if (missing <= 0) return text;
  if (spec.minus) return text + ' '.repeat(missing);
  return (spec.zero && zeroAllowed ? '0' : ' ').repeat(missing) + text;
}

function formatInteger(value: number | bigint, verb: string, spec: Spec): string {
  const big = BigInt(value);
  const negative = big < 0n;
  const magnitude = negative ? -big : big;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'b':
      digits = magnitude.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
    case 'O':
      digits = magnitude.toString(8);
      if (verb === 'O') prefix = '0o';
      else if (spec.sharp && digits !== '0') prefix = '0';
      break;
    case 'x':
    case 'X':
      digits = magnitude.toString(16);
      if (verb === 'X') digits = digits.toUpperCase();
      if (spec.sharp) prefix = verb === 'x' ? '0x' : '0X';
      break;
    default:
      digits = magnitude.toString(10);
  }
  let minDigits = spec.precision;
  if (minDigits === 0 && magnitude === 0n) return pad('', { ...spec, zero: false });
  if (minDigits === undefined && spec.zero && spec.width !== undefined && !spec.minus) {
    minDigits = spec.width - (negative || spec.plus || spec.space ? 1 : 0) - prefix.length;
  }
  if (minDigits !== undefined) digits = digits.padStart(minDigits, '0');
  let sign = '';
  if (negative) sign = '-';
  else if (spec.plus) sign = '+';
  else if (spec.space) sign = ' ';
  return pad(sign + prefix + digits, spec, false);
}

function formatFloat(x: number, verb: string, spec: Spec): string {
  const goVerb: FloatVerb = verb === 'v' ? 'g' : verb as FloatVerb;
  const precision = verb === 'v' ? -1 : spec.precision ?? (goVerb === 'g' || goVerb === 'G' ? -1 : 6);
  let body: string;
  if (Number.isNaN(x)) body = 'NaN';
  else if (!Number.isFinite(x)) body = 'Inf';
  else body = formatUnsignedFloat(Math.abs(x), goVerb, precision);
  const negative = x < 0 || Object.is(x, -0);
  let sign = '';
  if (negative) sign = '-';
  else if (spec.plus || (body === 'Inf' && !Number.isNaN(x))) sign = '+';
  else if (spec.space) sign = ' ';
  if (Number.isNaN(x) && spec.plus) sign = '+';
  const numeric = Number.isFinite(x);
  const missing = (spec.width ?? 0) - sign.length - body.length;
  if (spec.zero && !spec.minus && numeric && missing > 0) return sign + '0'.repeat(missing) + body;
  return pad(sign + body, spec, false);
}

function formatString(text: string, verb: string, spec: Spec): string {
  const limited = spec.precision === undefined ? text : [...text].slice(0, spec.precision).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(limited, spec);
    case 'q':
      return pad(spec.sharp && canBackquote(limited) ? `\`${limited}\`` : quote(limited), spec);
    default: {
      let bytes = [...Buffer.from(text, 'utf8')];
      if (spec.precision !== undefined) bytes = bytes.slice(0, spec.precision);
      const hexBytes = bytes.map((b) => {
        const digits = b.toString(16).padStart(2, '0');
        return verb === 'X' ? digits.toUpperCase() : digits;
      });
      const marker = verb === 'X' ? '0X' : '0x';
      const joined = spec.space
        ? hexBytes.map((h) => (spec.sharp ? marker + h : h)).join(' ')
        : (spec.sharp && hexBytes.length > 0 ? marker : '') + hexBytes.join('');
      return pad(joined, spec);
    }
  }
}

function badVerb(verb: string, value: unknown, spec: Spec): string {
  if (value === null || value === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(value)}=${printValue(value, 'v', spec, 0)})`;
}

const VERBS_BY_KIND: Readonly<Record<string, string>> = {
  bool: 'tv',
  int: 'vdbcoOqxXU',
  float: 'veEfFgG',
  string: 'vsqxX',
};

function printValue(value: unknown, verb: string, spec: Spec, depth: number): string {
  if (verb === 'T') return pad(typeName(value), spec);
  const kind = kindOf(value);
  if (kind === 'invalid' || kind === 'nil') {
    if (depth > 0 && spec.sharpV) return pad('interface {}(nil)', spec);
    return depth > 0 || verb === 'v' ? pad('<nil>', spec) : badVerb(verb, value, spec);
  }
  const allowed = VERBS_BY_KIND[kind];
  if (allowed !== undefined && !allowed.includes(verb)) return badVerb(verb, value, spec);
  switch (kind) {
    case 'bool':
      return pad(String(value), spec);
    case 'int':
      return printInteger(value as number | bigint, verb, spec);
    case 'float':
      return formatFloat(numberOf(value), verb, spec);
    case 'string':
      return spec.sharpV ? pad(quote(value as string), spec) : formatString(value as string, verb, spec);
    case 'slice': {
      const items = (value as unknown[]).map((item) => printValue(item, verb, spec, depth + 1));
      return spec.sharpV ? `[]interface {}{${items.join(', ')}}` : `[${items.join(' ')}]`;
    }
    case 'map': {
      const map = value as object;
      const entries = mapKeys(map).map((key) => `${printValue(key, verb, spec, depth + 1)}:${printValue(mapGet(map, key), verb, spec, depth + 1)}`);
      return spec.sharpV ? `map[string]interface {}{${entries.join(', ')}}` : `map[${entries.join(' ')}]`;
    }
    default:
      return verb === 'v' ? pad(typeName(value), spec) : badVerb(verb, value, spec);
  }
}

function printInteger(value: number | bigint, verb: string, spec: Spec): string {
  const n = Number(value);
  switch (verb) {
    case 'c': return pad(n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '\ufffd', spec);
    case 'q': return pad(quoteRune(n), spec);
    case 'U': {
      const label = runeCodeLabel(n);
      return pad(spec.sharp && n >= 0 && n <= 0x10ffff && isPrint(String.fromCodePoint(n)) ? `${label} '${String.fromCodePoint(n)}'` : label, spec);
    }
    default: return formatInteger(value, verb === 'v' ? 'd' : verb, spec);
  }
}

/** fmt's `%v` with no flags: how `{{ . }}` and print show a value. */
export function formatValue(value: unknown): string {
  return printValue(value, 'v', plainSpec(), 0);
}

/** fmt.Sprint: a space goes between operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(arg);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a trailing newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

function parseDigits(format: string, start: number): { value?: number; end: number } {
  let end = start;
  while (end < format.length && format[end] >= '0' && format[end] <= '9') end++;
  return end === start ? { end } : { value: Number(format.slice(start, end)), end };
}

/** fmt.Sprintf, with flags, width, precision, `*` and `[n]` argument indexes. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argIndex = 0;
  let reordered = false;
  let i = 0;

  const readArgIndex = (): boolean => {
    if (format[i] !== '[') return true;
    reordered = true;
    const close = format.indexOf(']', i);
    const n = close === -1 ? NaN : Number(format.slice(i + 1, close));
    if (!Number.isInteger(n) || n < 1 || n > args.length || format.slice(i + 1, close).trim() !== format.slice(i + 1, close)) {
      i = close === -1 ? format.length : close + 1;
      return false;
    }
    argIndex = n - 1;
    i = close + 1;
    return true;
  };
  const starArgument = (): number | undefined => {
    const arg = args[argIndex++];
    return kindOf(arg) === 'int' ? Number(arg) : undefined;
  };

  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent === -1) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    i = percent + 1;
    const spec = plainSpec();
    for (; i < format.length; i++) {
      const flag = format[i];
      if (flag === '#') {spec.sharp = true;} else if (flag === '0') {spec.zero = !spec.minus;} else if (flag === '+') {spec.plus = true;} else if (flag === '-') {
        spec.minus = true;
        spec.zero = false;
      } else if (flag === ' ') {spec.space = true;} else {break;}
    }
    let goodIndex = readArgIndex();
    let badWidth = false;
    let badPrecision = false;
    if (format[i] === '*') {
      i++;
      const width = starArgument();
      if (width === undefined) {badWidth = true;} else if (width < 0) {
        spec.minus = true;
        spec.zero = false;
        spec.width = -width;
      } else {spec.width = width;}
    } else {
      const parsed = parseDigits(format, i);
      spec.width = parsed.value;
      i = parsed.end;
    }
    if (format[i] === '.') {
      i++;
      goodIndex = readArgIndex() && goodIndex;
      if (format[i] === '*') {
        i++;
        const precision = starArgument();
        if (precision === undefined || precision < 0) badPrecision = true;
        else spec.precision = precision;
      } else {
        const parsed = parseDigits(format, i);
        spec.precision = parsed.value ?? 0;
        i = parsed.end;
      }
    }
    goodIndex = readArgIndex() && goodIndex;
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (badWidth) out += '%!(BADWIDTH)';
    if (badPrecision) out += '%!(BADPREC)';
    if (verb === '%') {out += '%';} else if (!goodIndex) {out += `%!${verb}(BADINDEX)`;} else if (argIndex >= args.length) {out += `%!${verb}(MISSING)`;} else {
      if (verb === 'v') {
        // For %v, '#' asks for Go syntax and '+' for field names; neither adds a sign or prefix.
        spec.sharpV = spec.sharp;
        spec.sharp = false;
        spec.plus = false;
      }
      out += printValue(args[argIndex++], verb, spec, 0);
    }
  }

  if (!reordered && argIndex < args.length) {
    const extras = args.slice(argIndex).map((arg) => (arg === null || arg === undefined ? '<nil>' : `${typeName(arg)}=${formatValue(arg)}`));
    out += `%!(EXTRA ${extras.join(', ')})`;
  }
  return out;
}
