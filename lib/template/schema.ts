import type { ValidateFunction, ErrorObject } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import { ComponentDeclaration, FieldKind, FieldSpec } from './component';
import { show } from './errors';

/**
 * JSON Schema for each component type, derived from its declaration, and the
 * weak decoding Packer applies before a component sees its config.
 */

const BOOL_STRINGS = ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False', ''];
// Go's strconv.ParseInt with base 0, plus "" (weak decoding reads an empty string as 0).
const INT_PATTERN = '^([+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|[1-9][0-9]*))?$';
const INT_LIST_PATTERN = '^\\s*([+-]?[0-9]+(\\s*,\\s*[+-]?[0-9]+)*)?\\s*$';
const DURATION_PATTERN = '^([+-]?0|[+-]?(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$';
const scalar = { type: ['string', 'number', 'boolean'] };

function kindSchema(spec: FieldSpec): object {
  // Every field may be null: Packer treats a null value as "not set". Type lists
  // rather than nested anyOf keep the compiled validators small and fast.
  const int = { anyOf: [{ type: ['number', 'boolean'] }, { type: 'string', pattern: INT_PATTERN }] };
  switch (spec.kind) {
    case 'string':
      return spec.allowed ? { type: ['string', 'null'], enum: [...spec.allowed, null] } : { type: ['string', 'number', 'boolean', 'null'] };
    case 'boolean':
      return { anyOf: [{ type: ['boolean', 'number', 'null'] }, { type: 'string', enum: BOOL_STRINGS }] };
    case 'integer':
      return { anyOf: [{ type: ['number', 'boolean', 'null'] }, { type: 'string', pattern: INT_PATTERN }] };
    case 'duration':
      return { anyOf: [{ type: ['number', 'null'] }, { type: 'string', pattern: DURATION_PATTERN }] };
    case 'string-list':
      return { anyOf: [{ type: ['array'], items: scalar }, { type: ['string', 'null'] }, { type: 'object', maxProperties: 0 }] };
    case 'integer-list':
      // A comma-separated string is split, then each part read as an integer.
      return { anyOf: [{ type: 'array', items: int }, { type: ['number', 'boolean', 'null'] }, { type: 'string', pattern: INT_LIST_PATTERN }, { type: 'object', maxProperties: 0 }] };
    case 'string-map':
      return { type: ['object', 'null'], additionalProperties: scalar };
    case 'json':
      return {};
  }
}

/** The JSON Schema (draft-07) of a component's config, keys as in Packer JSON. */
export function jsonSchemaOf(decl: ComponentDeclaration): Record<string, unknown> {
  const properties: Record<string, unknown> = { type: { const: decl.type } };
  for (const [name, spec] of Object.entries(decl.fields)) {
    properties[name] = { ...kindSchema(spec), description: spec.doc };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `kiln:${decl.kind}/${decl.type}`,
    title: `${decl.kind} "${decl.type}"`,
    description: decl.summary,
    type: 'object',
    properties,
    patternProperties: { '^packer_': {} },
    additionalProperties: false,
  };
}

/** A short hash of a schema, to tell whether precompiled code was made from it. */
export function schemaHash(schema: object): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('crypto') as typeof import('crypto')).createHash('sha1').update(JSON.stringify(schema)).digest('hex');
}

const validators = new Map<ComponentDeclaration, ValidateFunction>();
let ajvInstance: import('ajv').default | undefined;
/** The file of a schema's precompiled validator: `schemas/builder-docker.js`. */
export function precompiledFile(schema: Record<string, unknown>): string {
  return `${String(schema.$id).replace(/^kiln:/, '').replace('/', '-')}.js`;
}

/** Validation code compiled at build time (projenrc/generate-schemas.ts), if present and current. */
function precompiledValidator(schema: Record<string, unknown>): ValidateFunction | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`./schemas/${precompiledFile(schema)}`) as { validate: ValidateFunction; hash: string };
    return mod.hash === schemaHash(schema) ? mod.validate : undefined;
  } catch {
    return undefined;
  }
}

function validatorOf(decl: ComponentDeclaration): ValidateFunction {
  let v = validators.get(decl);
  if (!v) v = precompiledValidator(jsonSchemaOf(decl));
  if (!v) {
    if (!ajvInstance) {
      // Loaded on first use so that commands which never validate a config stay fast.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Ajv = require('ajv').default as typeof import('ajv').default;
      ajvInstance = new Ajv({ allErrors: true, strict: false });
    }
    v = ajvInstance.compile(jsonSchemaOf(decl));
  }
  validators.set(decl, v);
  return v;
}

function describeKind(spec: FieldSpec): string {
  const kinds: Record<FieldKind, string> = {
    'string': 'a string',
    'boolean': 'a boolean (true, false, "true", "false", "1" or "0")',
    'integer': 'an integer',
    'duration': 'a duration such as "30s", "5m" or "1h30m"',
    'string-list': 'a list of strings (or one comma-separated string)',
    'integer-list': 'a list of integers',
    'string-map': 'an object of string values',
    'json': 'any value',
  };
  if (spec.kind === 'string' && spec.allowed) return `one of ${spec.allowed.map((a) => JSON.stringify(a)).join(', ')}`;
  return kinds[spec.kind];
}

/** Suggests the closest known name, if one is close enough to be a likely typo. */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  if (!candidates.length) return undefined;
  const best = closest(name.toLowerCase(), candidates as string[]);
  const limit = Math.max(2, Math.floor(name.length / 3));
  return distance(name.toLowerCase(), best) <= limit ? best : undefined;
}

export interface DecodeResult {
  /** Canonical keys, weak values converted to the declared kinds. */
  readonly config: Record<string, unknown>;
  /** Messages relative to the component, e.g. `unknown key "imagee" — did you mean "image"?` */
  readonly errors: string[];
}

/**
 * Matches keys case-insensitively (as Packer does), rejects unknown keys with a
 * suggestion, validates with the component's JSON Schema (all errors, not the
 * first) and converts weakly typed values.
 */
export function decodeConfig(decl: ComponentDeclaration, raw: Readonly<Record<string, unknown>>): DecodeResult {
  const errors: string[] = [];
  const byLower = new Map<string, string>();
  for (const name of Object.keys(decl.fields)) byLower.set(name.toLowerCase(), name);
  const known = [...byLower.values()];

  const normalized: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'type' || key.toLowerCase().startsWith('packer_')) continue;
    const canonical = byLower.get(key.toLowerCase());
    if (!canonical) {
      const hint = didYouMean(key, known);
      errors.push(`unknown key ${show(key)}` + (hint ? ` — did you mean ${show(hint)}?` : ''));
      continue;
    }
    if (canonical in normalized) {
      errors.push(`key ${show(key)} given twice (keys match regardless of case)`);
      continue;
    }
    normalized[canonical] = value;
  }

  const validate = validatorOf(decl);
  if (!validate(normalized)) {
    errors.push(...schemaMessages(decl, normalized, validate.errors ?? []));
  }
  for (const [name, spec] of Object.entries(decl.fields)) {
    if (spec.required && isEmpty(normalized[name])) errors.push(`${show(name)} is required: ${spec.doc}`);
  }
  if (errors.length) return { config: normalized, errors };

  const config: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(normalized)) {
    const v = coerce(decl.fields[name], value);
    if (v !== undefined) config[name] = v;
  }
  return { config, errors };
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** One message per bad field, naming the value and what is allowed. */
function schemaMessages(decl: ComponentDeclaration, config: Record<string, unknown>, errs: readonly ErrorObject[]): string[] {
  // Per field, the deepest error says most precisely what is wrong (an item rather than the list).
  const deepest = new Map<string, ErrorObject>();
  for (const e of errs) {
    const field = e.instancePath.split('/')[1];
    if (field === undefined) continue;
    const prev = deepest.get(field);
    if (!prev || e.instancePath.length > prev.instancePath.length) deepest.set(field, e);
  }
  const out: string[] = [];
  for (const e of deepest.values()) {
    const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const field = segments[0];
    const spec = decl.fields[field];
    if (!spec) continue;
    const value = config[field];
    let where = show(field);
    let bad: unknown = value;
    if (segments.length > 1 && (spec.kind === 'string-list' || spec.kind === 'integer-list' || spec.kind === 'string-map')) {
      where += Array.isArray(value) ? `[${segments[1]}]` : `.${segments[1]}`;
      bad = (value as Record<string, unknown>)[segments[1]];
      const itemKind = spec.kind === 'integer-list' ? 'an integer' : 'a string, number or boolean';
      out.push(`${where} must be ${itemKind}, got ${show(bad)}`);
      continue;
    }
    out.push(`${where} must be ${describeKind(spec)}, got ${show(bad)}`);
  }
  return out;
}

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(String(v));
}

function toStr(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

function toInt(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = String(v).trim();
  if (s === '') return 0;
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[+-]/, '');
  if (/^0[xX]/.test(body)) return sign * parseInt(body.slice(2), 16);
  if (/^0[oO]/.test(body)) return sign * parseInt(body.slice(2), 8);
  if (/^0[0-7]+$/.test(body)) return sign * parseInt(body.slice(1), 8);
  return sign * parseInt(body, 10);
}

/** Packer splits a string given for a list field on commas. */
function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && v !== null) return [];
  if (typeof v === 'string') return v === '' ? [] : v.split(',');
  return [v];
}

function coerce(spec: FieldSpec, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (spec.kind) {
    case 'string':
      return toStr(value);
    case 'boolean':
      return toBool(value);
    case 'integer':
      return toInt(value);
    case 'duration':
      return typeof value === 'number' ? `${Math.trunc(value)}ns` : String(value);
    case 'string-list':
      return toList(value).map(toStr);
    case 'integer-list':
      return toList(value).map(toInt);
    case 'string-map':
      return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toStr(v)]));
    case 'json':
      return value;
  }
}

/** Go's time.ParseDuration, in milliseconds. Throws on a malformed value. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value / 1e6;
  const s = value.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const m = /^([+-]?)(.*)$/.exec(s)!;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  const body = m[2];
  if (!body) throw new Error(`time: invalid duration ${show(value)}`);
  while (pos < body.length) {
    re.lastIndex = pos;
    const part = re.exec(body);
    if (!part) throw new Error(`time: invalid duration ${show(value)}`);
    total += parseFloat(part[1]) * units[part[2]];
    pos = re.lastIndex;
  }
  return m[1] === '-' ? -total : total;
}
