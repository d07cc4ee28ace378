/*
 * How Go values are represented while a template runs:
 *
 *   Go                         JavaScript
 *   invalid (missing key)      undefined
 *   nil interface              null
 *   string / bool              string / boolean
 *   int                        a safe-integer number
 *   float64                    any other number, or a Float64 box
 *   []interface{}              array
 *   map[string]interface{}     plain object or Map
 *
 * Go keeps `1.0` a float64 (it prints as `1` but does not compare equal to
 * the int 1), so a float whose value is integral needs the box.
 */

export class Float64 {
  constructor(readonly value: number) {}
}

export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'func';

export function kindOf(value: unknown): Kind {
  if (value === undefined) return 'invalid';
  if (value === null) return 'nil';
  switch (typeof value) {
    case 'boolean': return 'bool';
    case 'number': return Number.isSafeInteger(value) ? 'int' : 'float';
    case 'bigint': return 'int';
    case 'string': return 'string';
    case 'function': return 'func';
  }
  if (value instanceof Float64) return 'float';
  if (Array.isArray(value)) return 'slice';
  return 'map';
}

/** The Go type name, as fmt's `%T` and the template errors print it. */
export function typeName(value: unknown): string {
  switch (kindOf(value)) {
    case 'invalid':
    case 'nil': return '<nil>';
    case 'bool': return 'bool';
    case 'int': return 'int';
    case 'float': return 'float64';
    case 'string': return 'string';
    case 'slice': return '[]interface {}';
    case 'map': return 'map[string]interface {}';
    case 'func': return 'func()';
  }
}

export function numberOf(value: unknown): number {
  if (value instanceof Float64) return value.value;
  return Number(value);
}

/** Map keys in Go's printing and ranging order (sorted). */
export function mapKeys(map: object): string[] {
  const keys = map instanceof Map ? [...map.keys()].map(String) : Object.keys(map);
  return keys.sort(compareStrings);
}

/** Looks a key up without falling into inherited properties such as `constructor`. */
export function mapGet(map: object, key: string): unknown {
  if (map instanceof Map) return map.get(key);
  return Object.prototype.hasOwnProperty.call(map, key) ? (map as Record<string, unknown>)[key] : undefined;
}

export function mapHas(map: object, key: string): boolean {
  return map instanceof Map ? map.has(key) : Object.prototype.hasOwnProperty.call(map, key);
}

export function mapSize(map: object): number {
  return map instanceof Map ? map.size : Object.keys(map).length;
}

/** Go compares strings byte by byte in UTF-8, which is code-point order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return (left[i].codePointAt(0) ?? 0) - (right[i].codePointAt(0) ?? 0);
  }
  return left.length - right.length;
}

/** Go's template truth: zero values and empty collections are false. */
export function isTrue(value: unknown): boolean {
  switch (kindOf(value)) {
    case 'invalid':
    case 'nil': return false;
    case 'bool': return value as boolean;
    case 'int':
    case 'float': return numberOf(value) !== 0;
    case 'string': return (value as string).length > 0;
    case 'slice': return (value as unknown[]).length > 0;
    case 'map': return mapSize(value as object) > 0;
    case 'func': return true;
  }
}
