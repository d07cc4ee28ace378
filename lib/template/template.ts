import * as path from 'path';
import { Problem, ProblemList, show } from './errors';
import { SourceDocument } from './parse';
import { didYouMean } from './schema';

/**
 * The template model: the structure of a Packer legacy JSON template, read
 * from a parsed document with every structural problem collected. Component
 * configs are kept raw here; `prepare` renders and validates them per build.
 */

export interface VariableDefinition {
  readonly name: string;
  /** The raw default (may hold `{{ }}` expressions); null when required. */
  readonly default: string | null;
  readonly required: boolean;
  readonly sensitive: boolean;
}

export interface BuilderEntry {
  /** `builders[0]` */
  readonly path: string;
  readonly type: string;
  /** The raw name (defaults to the type); only/except/override in the template match it. */
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface ProvisionerEntry {
  readonly path: string;
  readonly type: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly only?: readonly string[];
  readonly except?: readonly string[];
  readonly override?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly pauseBefore?: string;
  readonly maxRetries?: string;
  readonly timeout?: string;
}

export interface PostProcessorEntry {
  /** `post-processors[1]` for a single one, `post-processors[1][0]` inside a sequence. */
  readonly path: string;
  readonly type: string;
  /** Defaults to the type; `-except` on the command line matches it. */
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly only?: readonly string[];
  readonly except?: readonly string[];
  readonly keepInputArtifact?: boolean;
}

export interface Template {
  readonly file: string;
  readonly absPath?: string;
  /** Directory `template_dir` returns: the template's, or the working directory for stdin. */
  readonly dir: string;
  readonly description?: string;
  readonly minPackerVersion?: string;
  readonly variables: readonly VariableDefinition[];
  readonly sensitiveVariables: readonly string[];
  readonly builders: readonly BuilderEntry[];
  readonly provisioners: readonly ProvisionerEntry[];
  readonly errorCleanupProvisioner?: ProvisionerEntry;
  /** Each element is one chain of post-processors. */
  readonly postProcessors: readonly (readonly PostProcessorEntry[])[];
  readonly source: SourceDocument;
}

const ROOT_KEYS = [
  'variables', 'sensitive-variables', 'builders', 'provisioners', 'post-processors',
  'description', 'min_packer_version', 'error-cleanup-provisioner', 'push',
];
const PROVISIONER_META = ['only', 'except', 'override', 'pause_before', 'max_retries', 'timeout'];
const POST_PROCESSOR_META = ['type', 'name', 'only', 'except', 'keep_input_artifact'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** Reads a template's structure. Throws a TemplateError listing every structural problem. */
export function readTemplate(doc: SourceDocument, cwd: string = process.cwd()): Template {
  const problems = new ProblemList({ file: doc.file });
  const at = (jsonPath: (string | number)[], p: Omit<Problem, 'file'>): Problem => ({ ...doc.locate(jsonPath), ...p });

  const root = doc.value;
  if (!isObject(root)) {
    problems.add({ message: `a template must be an object with a "builders" list, got ${typeName(root)}` });
    problems.assertNone();
  }
  const rootObj = root as Record<string, unknown>;

  // Root keys match regardless of case, as in Packer; `_`-keys are comments and must be strings.
  const keys: Record<string, { key: string; value: unknown }> = {};
  for (const [key, value] of Object.entries(rootObj)) {
    if (key.startsWith('_')) {
      if (typeof value !== 'string') problems.add(at([key], { path: key, message: `a comment must be a string, got ${typeName(value)}` }));
      continue;
    }
    const canonical = ROOT_KEYS.find((k) => k === key.toLowerCase());
    if (!canonical) {
      const hint = didYouMean(key, ROOT_KEYS);
      problems.add(at([key], {
        path: key,
        message: `unknown root key ${show(key)}` + (hint ? ` — did you mean ${show(hint)}?` : '') +
          ` (allowed: ${ROOT_KEYS.join(', ')}, and "_"-prefixed comments)`,
      }));
      continue;
    }
    if (keys[canonical]) {
      problems.add(at([key], { path: key, message: `root key ${show(key)} repeats ${show(keys[canonical].key)}: keys that differ only in case are not allowed` }));
      continue;
    }
    keys[canonical] = { key, value };
  }
  const get = (k: string) => keys[k]?.value;
  const keyOf = (k: string) => keys[k]?.key ?? k;

  const description = get('description');
  if (description !== undefined && typeof description !== 'string') {
    problems.add(at([keyOf('description')], { path: 'description', message: `must be a string, got ${typeName(description)}` }));
  }
  const push = get('push');
  if (push !== undefined && push !== null && (typeof push !== 'object' || Array.isArray(push))) {
    problems.add(at([keyOf('push')], { path: 'push', message: `must be an object (the legacy Atlas settings, which Kiln ignores), got ${typeName(push)}` }));
  }
  const minVersion = get('min_packer_version');
  if (minVersion !== undefined && typeof minVersion !== 'string') {
    problems.add(at([keyOf('min_packer_version')], { path: 'min_packer_version', message: `must be a version string such as "1.6.0", got ${show(minVersion)}` }));
  }

  // Sensitive names first, so each variable knows whether it is one.
  const sensitiveRaw = get('sensitive-variables');
  const sensitiveVariables: string[] = [];
  if (sensitiveRaw !== undefined) {
    if (!Array.isArray(sensitiveRaw)) {
      problems.add(at([keyOf('sensitive-variables')], { path: 'sensitive-variables', message: `must be a list of variable names, got ${typeName(sensitiveRaw)}` }));
    } else {
      sensitiveRaw.forEach((n, i) => {
        if (typeof n === 'string') sensitiveVariables.push(n);
        else problems.add(at([keyOf('sensitive-variables'), i], { path: `sensitive-variables[${i}]`, message: `must be a variable name (a string), got ${show(n)}` }));
      });
    }
  }

  const variables: VariableDefinition[] = [];
  const varsRaw = get('variables');
  if (varsRaw !== undefined) {
    if (!isObject(varsRaw)) {
      problems.add(at([keyOf('variables')], { path: 'variables', message: `must be an object of name → value, got ${typeName(varsRaw)}` }));
    } else {
      for (const [name, value] of Object.entries(varsRaw)) {
        if (value !== null && typeof value !== 'string') {
          problems.add(at([keyOf('variables'), name], {
            path: `variables.${name}`,
            message: `value must be a string (or null for a required variable), got ${show(value)}` +
              (typeof value === 'number' || typeof value === 'boolean' ? ` — write "${String(value)}"` : ''),
          }));
          continue;
        }
        variables.push({ name, default: value, required: value === null, sensitive: sensitiveVariables.includes(name) });
      }
    }
  }

  const builders: BuilderEntry[] = [];
  const buildersRaw = get('builders');
  if (buildersRaw !== undefined && !Array.isArray(buildersRaw)) {
    problems.add(at([keyOf('builders')], { path: 'builders', message: `must be a list of builder objects, got ${typeName(buildersRaw)}` }));
  } else if (buildersRaw) {
    const names = new Map<string, string>();
    buildersRaw.forEach((b, i) => {
      const p = `builders[${i}]`;
      const loc = [keyOf('builders'), i];
      if (!isObject(b)) {
        problems.add(at(loc, { path: p, message: `a builder must be an object, got ${typeName(b)}` }));
        return;
      }
      const type = b.type;
      if (typeof type !== 'string' || !type) {
        problems.add(at(loc, { path: p, message: 'missing "type" (a string naming the builder, e.g. "docker")' }));
        return;
      }
      const rawName = typeof b.name === 'number' || typeof b.name === 'boolean' ? String(b.name) : b.name || type;
      if (typeof rawName !== 'string') {
        problems.add(at([...loc, 'name'], { path: p, component: type, message: `"name" must be a string, got ${show(rawName)}` }));
        return;
      }
      const earlier = names.get(rawName);
      if (earlier) {
        problems.add(at(loc, { path: p, component: `${type} ${show(rawName)}`, message: `a builder named ${show(rawName)} already exists (${earlier}); give each builder a unique "name"` }));
        return;
      }
      names.set(rawName, p);
      const { type: _t, name: _n, ...config } = b;
      builders.push({ path: p, type, name: rawName, config });
    });
  }

  const readProvisioner = (value: unknown, p: string, loc: (string | number)[]): ProvisionerEntry | undefined => {
    if (!isObject(value)) {
      problems.add(at(loc, { path: p, message: `a provisioner must be an object, got ${typeName(value)}` }));
      return undefined;
    }
    const type = value.type;
    if (typeof type !== 'string' || !type) {
      problems.add(at(loc, { path: p, message: 'missing "type" (a string naming the provisioner, e.g. "shell")' }));
      return undefined;
    }
    const config: Record<string, unknown> = {};
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (PROVISIONER_META.includes(k)) meta[k] = v;
      else if (k !== 'type') config[k] = v;
    }
    const component = type;
    const list = (key: string): string[] | undefined => {
      const v = meta[key];
      if (v === undefined || v === null) return undefined;
      // Provisioner meta keys decode weakly: a single string is a one-element list.
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      problems.add(at([...loc, key], { path: p, component, message: `"${key}" must be a list of builder names, got ${show(v)}` }));
      return undefined;
    };
    const only = list('only');
    const except = list('except');
    let override: Record<string, Record<string, unknown>> | undefined;
    if (meta.override !== undefined && meta.override !== null) {
      if (!isObject(meta.override)) {
        problems.add(at([...loc, 'override'], { path: p, component, message: `"override" must be an object of builder name → settings, got ${show(meta.override)}` }));
      } else {
        override = {};
        for (const [n, o] of Object.entries(meta.override)) {
          if (!isObject(o)) problems.add(at([...loc, 'override', n], { path: p, component, message: `"override.${n}" must be an object of settings, got ${show(o)}` }));
          else override[n] = o;
        }
      }
    }
    const durationMeta = (key: string): string | undefined => {
      const v = meta[key];
      if (v === undefined || v === null) return undefined;
      // Weak decoding: a number is nanoseconds, a boolean is 1ns or 0.
      if (typeof v === 'number') return `${Math.trunc(v)}ns`;
      if (typeof v === 'boolean') return v ? '1ns' : '0';
      if (typeof v === 'string' && isGoDuration(v)) return v;
      problems.add(at([...loc, key], { path: p, component, message: `"${key}" must be a duration such as "10s" or "2m", got ${show(v)}` }));
      return undefined;
    };
    const maxRetries = typeof meta.max_retries === 'boolean' ? (meta.max_retries ? '1' : '0') : meta.max_retries;
    if (maxRetries !== undefined && maxRetries !== null && typeof maxRetries !== 'string' && typeof maxRetries !== 'number') {
      problems.add(at([...loc, 'max_retries'], { path: p, component, message: `"max_retries" must be an integer, got ${show(maxRetries)}` }));
    }
    return {
      path: p,
      type,
      config,
      only,
      except,
      override,
      pauseBefore: durationMeta('pause_before'),
      timeout: durationMeta('timeout'),
      maxRetries: maxRetries === undefined || maxRetries === null ? undefined : String(maxRetries),
    };
  };

  const provisioners: ProvisionerEntry[] = [];
  const provRaw = get('provisioners');
  if (provRaw !== undefined && provRaw !== null) {
    if (!Array.isArray(provRaw)) {
      problems.add(at([keyOf('provisioners')], { path: 'provisioners', message: `must be a list of provisioner objects, got ${typeName(provRaw)}` }));
    } else {
      provRaw.forEach((v, i) => {
        const entry = readProvisioner(v, `provisioners[${i}]`, [keyOf('provisioners'), i]);
        if (entry) provisioners.push(entry);
      });
    }
  }
  const cleanupRaw = get('error-cleanup-provisioner');
  const errorCleanupProvisioner = cleanupRaw === undefined || cleanupRaw === null ? undefined
    : readProvisioner(cleanupRaw, 'error-cleanup-provisioner', [keyOf('error-cleanup-provisioner')]);

  const postProcessors: PostProcessorEntry[][] = [];
  const ppRaw = get('post-processors');
  if (ppRaw !== undefined && ppRaw !== null) {
    if (!Array.isArray(ppRaw)) {
      problems.add(at([keyOf('post-processors')], { path: 'post-processors', message: `must be a list, got ${typeName(ppRaw)}` }));
    } else {
      ppRaw.forEach((chainRaw, i) => {
        const chain: PostProcessorEntry[] = [];
        const items = Array.isArray(chainRaw) ? chainRaw : [chainRaw];
        items.forEach((item, j) => {
          const p = Array.isArray(chainRaw) ? `post-processors[${i}][${j}]` : `post-processors[${i}]`;
          const loc = Array.isArray(chainRaw) ? [keyOf('post-processors'), i, j] : [keyOf('post-processors'), i];
          const entry = readPostProcessor(item, p, loc, Array.isArray(chainRaw));
          if (entry) chain.push(entry);
        });
        postProcessors.push(chain);
      });
    }
  }

  function readPostProcessor(item: unknown, p: string, loc: (string | number)[], nested: boolean): PostProcessorEntry | undefined {
    if (typeof item === 'string') return { path: p, type: item, name: item, config: {} };
    if (Array.isArray(item)) {
      problems.add(at(loc, { path: p, message: nested ? 'a sequence cannot contain another sequence' : 'bad post-processor' }));
      return undefined;
    }
    if (!isObject(item)) {
      problems.add(at(loc, { path: p, message: `a post-processor must be a type name, an object or a list of those, got ${show(item)}` }));
      return undefined;
    }
    const config: Record<string, unknown> = {};
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) {
      if (POST_PROCESSOR_META.includes(k)) meta[k] = v;
      else config[k] = v;
    }
    const type = meta.type;
    if (typeof type !== 'string' || !type) {
      problems.add(at(loc, { path: p, message: 'missing "type" (a string naming the post-processor, e.g. "compress")' }));
      return undefined;
    }
    const component = type;
    let ok = true;
    const name = meta.name ?? type;
    if (typeof name !== 'string') {
      problems.add(at([...loc, 'name'], { path: p, component, message: `"name" must be a string, got ${show(name)}` }));
      ok = false;
    }
    // Unlike provisioners, post-processor meta keys decode strictly in Packer.
    const list = (key: 'only' | 'except'): string[] | undefined => {
      const v = meta[key];
      if (v === undefined || v === null) return undefined;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      problems.add(at([...loc, key], { path: p, component, message: `"${key}" must be a list of builder names, got ${show(v)}` }));
      ok = false;
      return undefined;
    };
    const only = list('only');
    const except = list('except');
    const keep = meta.keep_input_artifact;
    if (keep !== undefined && keep !== null && typeof keep !== 'boolean') {
      problems.add(at([...loc, 'keep_input_artifact'], { path: p, component, message: `"keep_input_artifact" must be true or false, got ${show(keep)}` }));
      ok = false;
    }
    if (!ok) return undefined;
    return { path: p, type, name: name as string, config, only, except, keepInputArtifact: typeof keep === 'boolean' ? keep : undefined };
  }

  problems.assertNone();
  return {
    file: doc.file,
    absPath: doc.absPath,
    dir: doc.absPath ? path.dirname(doc.absPath) : cwd,
    description: description as string | undefined,
    minPackerVersion: minVersion as string | undefined,
    variables,
    sensitiveVariables,
    builders,
    provisioners,
    errorCleanupProvisioner,
    postProcessors,
    source: doc,
  };
}

/** True for Go duration syntax ("1h2m", "300ms", "0"). */
export function isGoDuration(s: string): boolean {
  return /^[+-]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/.test(s.trim());
}
