import { randomBytes } from 'crypto';
import * as path from 'path';
import { InterpolateContext, isComponentStage, PACKER_COMPATIBILITY_VERSION } from './context';
import { FunctionCallError } from './errors';
import { formatGoTime, RFC3339, strftime } from './go-time';
import { TemplateFunction } from './signature';
import { goToLower, goToUpper } from './unicode';
import { kindOf, mapGet, mapHas } from './values';

/*
 * Packer's own template functions (packer-plugin-sdk/template/interpolate
 * at v1.6.6) and the rules for where each one works. The error texts are
 * Packer's, typos included, because users see them verbatim.
 */

/** Packer's marker for errors that the variables pass retries. */
export const VARIABLE_NOT_SET = 'Error: variable not set:';

/**
 * Provisioners and post-processors are prepared with placeholder data: each
 * generated key maps to `Build_<Key>. ` followed by this text, and `build`
 * turns such a placeholder back into `{{.Key}}` for the run-time render.
 */
export const BUILD_PLACEHOLDER_MESSAGE = 'To set this dynamically in the Packer template, you must use the `build` function';

/** The placeholder value Packer uses for a generated-data key at prepare time. */
export function buildPlaceholder(key: string): string {
  return `Build_${key}. ${BUILD_PLACEHOLDER_MESSAGE}`;
}

function fail(message: string): never {
  throw new FunctionCallError(message);
}

const now = (ctx: InterpolateContext): Date => ctx.now ?? new Date();

function onlyInVariables(ctx: InterpolateContext, message: string): void {
  if (ctx.stage !== 'variables') fail(message);
}

/** Kiln does not talk to secret stores; a -var can carry the value instead. */
function unsupportedSecretStore(store: string): never {
  return fail(`${store} is not supported by Kiln; pass the secret with -var or -var-file instead`);
}

/** packer-plugin-sdk/uuid.TimeOrderedUUID: 8 hex digits of Unix seconds, then 12 random bytes. */
function timeOrderedUuid(at: Date): string {
  const seconds = Math.floor(at.getTime() / 1000) % 2 ** 32;
  const hex = randomBytes(12).toString('hex');
  const head = seconds.toString(16).padStart(8, '0');
  return `${head}-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12)}`;
}

/** Go's strings.Split, where an empty separator splits into characters. */
function goSplit(text: string, separator: string): string[] {
  return separator === '' ? [...text] : text.split(separator);
}

/** Go's strings.Replace: at most n replacements, all of them when n < 0. */
function goReplace(text: string, old: string, replacement: string, n: number): string {
  if (old === replacement || n === 0) return text;
  if (old === '') {
    // An empty old string matches before every character and at the end.
    const chars = [...text];
    const limit = n < 0 ? chars.length + 1 : n;
    let out = '';
    for (let i = 0; i <= chars.length; i++) {
      if (i < limit) out += replacement;
      out += chars[i] ?? '';
    }
    return out;
  }
  const parts = text.split(old);
  if (n < 0 || n >= parts.length - 1) return parts.join(replacement);
  return parts.slice(0, n + 1).join(replacement) + old + parts.slice(n + 1).join(old);
}

/** The generic cloud-builder rule: lower case, and bytes other than a-z, 0-9 and `-` become `-`. */
function cleanResourceName(name: string): string {
  if (/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) return name;
  let out = '';
  for (const byte of Buffer.from(goToLower(name), 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9]/.test(ch) ? ch : '-';
  }
  return out;
}

/** `build "Key"`: pass a placeholder through as `{{.Key}}`, or return the real value. */
function build(key: string, ctx: InterpolateContext): string {
  const data = ctx.data;
  if (data === undefined || data === null || kindOf(data) !== 'map') {
    fail(`Error validating build variable: the given variable ${key} will not be passed into your plugin.`);
  }
  const value = mapGet(data, key);
  if (!mapHas(data, key) || typeof value !== 'string') fail(`loaded data, but couldnt find ${key} in it.`);
  return value.includes(BUILD_PLACEHOLDER_MESSAGE) ? `{{.${key}}}` : value;
}

const packerFunctions: ReadonlyArray<[string, TemplateFunction]> = [
  ['user', {
    params: ['string'],
    call: ([name], ctx) => {
      const variables = ctx.userVariables ?? {};
      if (Object.prototype.hasOwnProperty.call(variables, name as string)) return variables[name as string];
      // Only the variables pass treats an unknown name as an error (and retries it).
      if (ctx.stage === 'variables') fail(`${VARIABLE_NOT_SET} ${name}`);
      return '';
    },
  }],
  ['env', {
    params: ['string'],
    call: ([name], ctx) => {
      onlyInVariables(ctx, 'env vars are not allowed here');
      return (ctx.env ?? process.env)[name as string] ?? '';
    },
  }],
  ['vault', {
    params: ['string', 'string'],
    call: (_args, ctx) => {
      onlyInVariables(ctx, 'Vault vars are only allowed in the variables section');
      return unsupportedSecretStore('vault');
    },
  }],
  ['consul_key', {
    params: ['string'],
    call: (_args, ctx) => {
      onlyInVariables(ctx, 'consul_key is not allowed here');
      return unsupportedSecretStore('consul_key');
    },
  }],
  ['aws_secretsmanager', {
    params: [],
    variadic: 'string',
    call: (args, ctx) => {
      onlyInVariables(ctx, 'AWS Secrets Manager is only allowed in the variables section');
      if (args.length === 0) fail('secret name must be provided');
      if (args.length > 2) fail('only secret name and optional secret key can be provided.');
      return unsupportedSecretStore('aws_secretsmanager');
    },
  }],
  ['timestamp', { params: [], call: (_args, ctx) => String(Math.floor(now(ctx).getTime() / 1000)) }],
  ['isotime', {
    params: [],
    variadic: 'string',
    call: (args, ctx) => {
      if (args.length > 1) fail(`too many values, 1 needed: [${args.join(' ')}]`);
      return formatGoTime(now(ctx), args.length === 0 ? RFC3339 : args[0] as string);
    },
  }],
  ['strftime', { params: ['string'], call: ([format], ctx) => strftime(format as string, now(ctx)) }],
  ['uuid', { params: [], call: (_args, ctx) => timeOrderedUuid(now(ctx)) }],
  ['pwd', { params: [], call: (_args, ctx) => ctx.cwd ?? process.cwd() }],
  ['template_dir', {
    params: [],
    call: (_args, ctx) => {
      if (!ctx.templatePath) fail('template path not available');
      return path.resolve(ctx.cwd ?? process.cwd(), path.dirname(ctx.templatePath));
    },
  }],
  ['build_name', {
    params: [],
    call: (_args, ctx) => (isComponentStage(ctx.stage) && ctx.buildName ? ctx.buildName : fail('build_name not available')),
  }],
  ['build_type', {
    params: [],
    call: (_args, ctx) => (isComponentStage(ctx.stage) && ctx.buildType ? ctx.buildType : fail('build_type not available')),
  }],
  ['packer_version', {
    params: [],
    call: (_args, ctx) => (isComponentStage(ctx.stage) ? PACKER_COMPATIBILITY_VERSION : fail('packer_version not available')),
  }],
  ['upper', { params: ['string'], call: ([text]) => goToUpper(text as string) }],
  ['lower', { params: ['string'], call: ([text]) => goToLower(text as string) }],
  ['split', {
    params: ['string', 'string', 'int'],
    call: ([text, separator, n]) => {
      const parts = goSplit(text as string, separator as string);
      const i = n as number;
      if (parts.length <= i) {
        fail(`the substring ${i} was unavailable using the separator value, ${separator}, only ${parts.length} values were found`);
      }
      // A negative index makes Go panic; the template engine reports the panic.
      if (i < 0) fail(`runtime error: index out of range [${i}]`);
      return parts[i];
    },
  }],
  ['replace', {
    params: ['string', 'string', 'int', 'string'],
    call: ([old, replacement, n, text]) => goReplace(text as string, old as string, replacement as string, n as number),
  }],
  ['replace_all', {
    params: ['string', 'string', 'string'],
    call: ([old, replacement, text]) => goReplace(text as string, old as string, replacement as string, -1),
  }],
  ['sed', {
    params: ['string', 'string'],
    call: () => fail('template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine'),
  }],
  ['build', { params: ['string'], call: ([key], ctx) => build(key as string, ctx) }],
];

export const PACKER_FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map(packerFunctions);

/** Only some cloud builders add this one, and only to their own config. */
export const CLEAN_RESOURCE_NAME: readonly [string, TemplateFunction] = [
  'clean_resource_name',
  { params: ['string'], call: ([name]) => cleanResourceName(name as string) },
];

/**
 * The amazon builders' `clean_resource_name`: it keeps what EC2 allows in an
 * AMI name (letters, digits, `()[] ./-'@_`), keeps the case, and turns every
 * other byte into `-`.
 */
export const CLEAN_AMI_NAME: TemplateFunction = { params: ['string'], call: ([name]) => cleanAmiName(name as string) };

/** True when EC2 accepts these characters in an AMI name (what `clean_resource_name` leaves alone). */
export function isCleanAmiName(name: string): boolean {
  return cleanAmiName(name) === name;
}

function cleanAmiName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9()[\] ./\-'@_]/.test(ch) ? ch : '-';
  }
  return out;
}
