import { FunctionCallError } from './errors';
import { formatValue, sprint, sprintf, sprintln } from './go-fmt';
import { TemplateFunction } from './signature';
import { isPrint, utf8Length } from './unicode';
import { compareStrings, isTrue, kindOf, mapGet, mapSize, numberOf, typeName } from './values';

/*
 * The functions every Go template has (text/template's builtins, Go 1.19
 * behaviour, which is what the packer 1.6.6 binary runs). Strings are byte
 * sequences in Go, so len, index and slice count UTF-8 bytes.
 */

/** Go's indirectInterface: a nil interface is no value at all. */
function indirect(value: unknown): unknown {
  return value === null ? undefined : value;
}

type BasicKind = 'bool' | 'int' | 'float' | 'string';

function basicKind(value: unknown): BasicKind | undefined {
  const kind = kindOf(value);
  return kind === 'bool' || kind === 'int' || kind === 'float' || kind === 'string' ? kind : undefined;
}

function fail(message: string): never {
  throw new FunctionCallError(message);
}

function equalBasic(kind: BasicKind, a: unknown, b: unknown): boolean {
  if (kind === 'int' || kind === 'float') return numberOf(a) === numberOf(b);
  return a === b;
}

/** eq: true if the first argument equals any of the others. */
function eq(args: unknown[]): boolean {
  const first = indirect(args[0]);
  if (args.length < 2) fail('missing argument for comparison');
  const firstKind = basicKind(first);
  for (const raw of args.slice(1)) {
    const other = indirect(raw);
    const otherKind = basicKind(other);
    if (firstKind !== otherKind) {
      // Comparing against a missing value or nil is allowed and false.
      if (first !== undefined && other !== undefined) fail('incompatible types for comparison');
      continue;
    }
    if (firstKind !== undefined) {
      if (equalBasic(firstKind, first, other)) return true;
      continue;
    }
    if (first === undefined || other === undefined) {
      if (first === other) return true;
      continue;
    }
    if (typeName(first) !== typeName(other)) {
      fail(`non-comparable types ${formatValue(first)}: ${typeName(first)}, ${typeName(other)}: ${formatValue(other)}`);
    }
    fail(`non-comparable type ${formatValue(other)}: ${typeName(other)}`);
  }
  return false;
}

function lessThan(args: unknown[]): boolean {
  const [a, b] = [indirect(args[0]), indirect(args[1])];
  const kindA = basicKind(a);
  const kindB = basicKind(b);
  if (kindA === undefined || kindB === undefined) fail('invalid type for comparison');
  if (kindA !== kindB) fail('incompatible types for comparison');
  if (kindA === 'bool') fail('invalid type for comparison');
  if (kindA === 'string') return compareStrings(a as string, b as string) < 0;
  return numberOf(a) < numberOf(b);
}

function lessOrEqual(args: unknown[]): boolean {
  return lessThan(args) || eq(args);
}

function byteLength(value: unknown): number | undefined {
  return typeof value === 'string' ? utf8Length(value) : undefined;
}

/** indexArg: an int index within 0..cap (cap itself is allowed here and caught by the caller). */
function indexArgument(index: unknown, cap: number): number {
  const value = indirect(index);
  const kind = kindOf(value);
  if (kind === 'invalid') fail('cannot index slice/array with nil');
  if (kind !== 'int') fail(`cannot index slice/array with type ${typeName(value)}`);
  const n = Number(value);
  if (n < 0 || n > cap) fail(`index out of range: ${n}`);
  return n;
}

function indexItem(args: unknown[]): unknown {
  let item = indirect(args[0]);
  if (item === undefined) fail('index of untyped nil');
  for (const key of args.slice(1)) {
    if (item === undefined || item === null) fail('index of nil pointer');
    const kind = kindOf(item);
    if (kind === 'string' || kind === 'slice') {
      const length = byteLength(item) ?? (item as unknown[]).length;
      const n = indexArgument(key, length);
      if (n === length) fail(`reflect: ${kind} index out of range`);
      item = kind === 'string' ? Buffer.from(item as string, 'utf8')[n] : (item as unknown[])[n];
    } else if (kind === 'map') {
      const name = indirect(key);
      if (name === undefined) fail('value is nil; should be of type string');
      if (typeof name !== 'string') fail(`value has type ${typeName(name)}; should be string`);
      item = mapGet(item as object, name);
    } else {
      fail(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(args: unknown[]): unknown {
  const item = indirect(args[0]);
  if (item === undefined) fail('slice of untyped nil');
  const indexes = args.slice(1);
  if (indexes.length > 3) fail(`too many slice indexes: ${indexes.length}`);
  const kind = kindOf(item);
  if (kind === 'string' && indexes.length === 3) fail('cannot 3-index slice a string');
  if (kind !== 'string' && kind !== 'slice') fail(`can't slice item of type ${typeName(item)}`);
  const length = byteLength(item) ?? (item as unknown[]).length;
  const bounds = [0, length, length];
  indexes.forEach((i, n) => {
    bounds[n] = indexArgument(i, length);
  });
  if (bounds[0] > bounds[1]) fail(`invalid slice index: ${bounds[0]} > ${bounds[1]}`);
  if (indexes.length === 3 && bounds[1] > bounds[2]) fail(`invalid slice index: ${bounds[1]} > ${bounds[2]}`);
  if (kind === 'string') return Buffer.from(item as string, 'utf8').subarray(bounds[0], bounds[1]).toString('utf8');
  return (item as unknown[]).slice(bounds[0], bounds[1]);
}

function lengthOf(args: unknown[]): number {
  const item = args[0];
  if (item === null) fail('len of nil pointer');
  if (item === undefined) fail('reflect: call of reflect.Value.Type on zero Value');
  switch (kindOf(item)) {
    case 'string': return utf8Length(item as string);
    case 'slice': return (item as unknown[]).length;
    case 'map': return mapSize(item as object);
    default: return fail(`len of type ${typeName(item)}`);
  }
}

function call(args: unknown[]): unknown {
  const fn = indirect(args[0]);
  if (fn === undefined) fail('call of nil');
  if (typeof fn !== 'function') fail(`non-function of type ${typeName(fn)}`);
  try {
    return (fn as (...a: unknown[]) => unknown)(...args.slice(1).map(indirect));
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

/** How html, js and urlquery turn their arguments into one string. */
function joinArguments(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((arg) => (arg === null || arg === undefined ? '<no value>' : arg)));
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '"': '&#34;', '\'': '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD',
};

function htmlEscape(text: string): string {
  return text.replace(/["'&<>\0]/g, (ch) => HTML_ESCAPES[ch]);
}

const JS_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\', '\'': '\\\'', '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D',
};

function unicodeEscape(ch: string): string {
  return `\\u${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function jsEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const escaped = JS_ESCAPES[ch];
    if (escaped) out += escaped;
    else if (ch < ' ') out += unicodeEscape(ch);
    else if (ch.charCodeAt(0) < 0x80 || isPrint(ch)) out += ch;
    else out += unicodeEscape(ch);
  }
  return out;
}

function queryEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const BUILTINS: ReadonlyMap<string, TemplateFunction> = new Map<string, TemplateFunction>([
  ['and', { params: ['value'], variadic: 'value', shortCircuit: 'and', call: (args) => args.find((a) => !isTrue(indirect(a))) ?? args[args.length - 1] }],
  ['or', { params: ['value'], variadic: 'value', shortCircuit: 'or', call: (args) => args.find((a) => isTrue(indirect(a))) ?? args[args.length - 1] }],
  ['not', { params: ['value'], call: (args) => !isTrue(indirect(args[0])) }],
  ['eq', { params: ['value'], variadic: 'value', call: eq }],
  ['ne', { params: ['value', 'value'], call: (args) => !eq(args) }],
  ['lt', { params: ['value', 'value'], call: lessThan }],
  ['le', { params: ['value', 'value'], call: lessOrEqual }],
  ['gt', { params: ['value', 'value'], call: (args) => !lessOrEqual(args) }],
  ['ge', { params: ['value', 'value'], call: (args) => !lessThan(args) }],
  ['len', { params: ['value'], call: lengthOf }],
  ['index', { params: ['value'], variadic: 'value', call: indexItem }],
  ['slice', { params: ['value'], variadic: 'value', call: slice }],
  ['call', { params: ['value'], variadic: 'value', call }],
  ['print', { params: [], variadic: 'any', call: sprint }],
  ['println', { params: [], variadic: 'any', call: sprintln }],
  ['printf', { params: ['string'], variadic: 'any', call: (args) => sprintf(args[0] as string, args.slice(1)) }],
  ['html', { params: [], variadic: 'any', call: (args) => htmlEscape(joinArguments(args)) }],
  ['js', { params: [], variadic: 'any', call: (args) => jsEscape(joinArguments(args)) }],
  ['urlquery', { params: [], variadic: 'any', call: (args) => queryEscape(joinArguments(args)) }],
]);
