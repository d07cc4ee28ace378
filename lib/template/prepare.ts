import { ComponentDeclaration, ComponentKind } from './component';
import { Problem, ProblemList, TemplateError, show } from './errors';
import * as interpolate from './interpolate';
import { decodeConfig, didYouMean, parseDuration } from './schema';
import { BuilderEntry, PostProcessorEntry, ProvisionerEntry, Template } from './template';

/**
 * Turns a template plus command-line values into a plan: one prepared build
 * per selected builder, with every component's config rendered, decoded and
 * checked. `kiln validate` is `prepare` without running anything; `kiln build`
 * runs the plan.
 */


/** Keys every builder hands to provisioners and post-processors (Packer's common generated data). */
export const COMMON_GENERATED_DATA = [
  'ID', 'Host', 'Port', 'User', 'Password', 'ConnType', 'PackerRunUUID',
  'PackerHTTPIP', 'PackerHTTPPort', 'PackerHTTPAddr', 'SSHPublicKey', 'SSHPrivateKey', 'WinRMPassword',
];

/** Looks up declarations; the template layer knows none itself (see lib/components/catalog.ts). */
export interface ComponentCatalog {
  readonly kinds: Readonly<Record<ComponentKind, Readonly<Record<string, ComponentDeclaration>>>>;
}

export interface PrepareOptions {
  readonly catalog: ComponentCatalog;
  /** Values from -var and -var-file, already merged with Packer's precedence. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** -only: rendered build names to keep. */
  readonly only?: readonly string[];
  /** -except: rendered build names (or post-processor names) to drop. */
  readonly except?: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: Date;
}

export interface PreparedComponent {
  readonly kind: ComponentKind;
  readonly type: string;
  readonly declaration: ComponentDeclaration;
  /** Where it stands in the template, e.g. `provisioners[2]`. */
  readonly path: string;
  /** Rendered and decoded config (keys as in Packer JSON). */
  readonly config: Readonly<Record<string, unknown>>;
}

export interface PreparedProvisioner extends PreparedComponent {
  readonly pauseBeforeMs: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}

export interface PreparedPostProcessor extends PreparedComponent {
  readonly name: string;
  readonly keepInputArtifact?: boolean;
}

export interface PreparedBuild {
  /** The rendered build name. */
  readonly name: string;
  readonly type: string;
  readonly builder: PreparedComponent;
  readonly provisioners: readonly PreparedProvisioner[];
  readonly errorCleanupProvisioner?: PreparedProvisioner;
  readonly postProcessors: readonly (readonly PreparedPostProcessor[])[];
  /**
   * The parsed template document the build comes from, as written (before any
   * rendering): builders that tag their images compute its content fingerprint.
   */
  readonly templateJson?: unknown;
}

export interface Plan {
  readonly template: Template;
  /** Rendered user variables. */
  readonly variables: Readonly<Record<string, string>>;
  /** Values to mask in every output: sensitive variables and secret fields. */
  readonly secrets: readonly string[];
  readonly builds: readonly PreparedBuild[];
  readonly warnings: readonly Problem[];
}

function label(type: string, name?: string): string {
  return name && name !== type ? `${type} ${show(name)}` : type;
}

/** Compares dotted numeric versions; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a)!;
  const pb = parseVersion(b)!;
  for (let i = 0; i < Math.max(pa.nums.length, pb.nums.length); i++) {
    const d = (pa.nums[i] ?? 0) - (pb.nums[i] ?? 0);
    if (d) return Math.sign(d);
  }
  if (pa.pre && !pb.pre) return -1;
  if (!pa.pre && pb.pre) return 1;
  return 0;
}

function parseVersion(v: string): { nums: number[]; pre?: string } | undefined {
  const m = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  return m ? { nums: m[1].split('.').map(Number), pre: m[2] } : undefined;
}

/** Packer's element-wise `override` merge: lists by index, objects key by key, scalars replaced. */
export function mergeOverride(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const existingKey = Object.keys(out).find((x) => x.toLowerCase() === k.toLowerCase()) ?? k;
    const old = out[existingKey];
    if (Array.isArray(old) && Array.isArray(v)) {
      const merged = [...old];
      v.forEach((item, i) => { merged[i] = item; });
      out[existingKey] = merged;
    } else if (isPlainObject(old) && isPlainObject(v)) {
      out[existingKey] = { ...old, ...v };
    } else {
      out[existingKey] = v;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Renders variables, selects builds and prepares every component. Throws a TemplateError with every problem. */
export function prepare(template: Template, options: PrepareOptions): Plan {
  const problems = new ProblemList({ file: template.file });
  const warnings: Problem[] = [];
  const cwd = options.cwd ?? process.cwd();
  const now = options.now ?? new Date();
  const overrides = options.overrides ?? {};
  const baseCtx = { templatePath: template.absPath, cwd, env: options.env, now };

  checkReferences(template, problems);
  if (template.minPackerVersion) {
    if (!parseVersion(template.minPackerVersion)) {
      problems.add({ path: 'min_packer_version', message: `${show(template.minPackerVersion)} is not a version; write one such as "1.6.0"` });
    } else if (compareVersions(template.minPackerVersion, interpolate.PACKER_COMPATIBILITY_VERSION) > 0) {
      problems.add({ path: 'min_packer_version', message: `the template requires Packer ${template.minPackerVersion} or newer; Kiln implements Packer ${interpolate.PACKER_COMPATIBILITY_VERSION} templates` });
    }
  }

  for (const v of template.variables) {
    if (v.required && overrides[v.name] === undefined) {
      problems.add({ ...template.source.locate(['variables', v.name]), path: `variables.${v.name}`, message: `required variable ${show(v.name)} is not set: pass -var '${v.name}=...' or a -var-file` });
    }
  }
  problems.assertNone();

  let variables: Record<string, string>;
  try {
    const defs = new Map<string, string | null>(template.variables.map((v) => [v.name, v.default]));
    variables = interpolate.renderVariables(defs, overrides, baseCtx);
  } catch (e) {
    throw new TemplateError([{ file: template.file, path: 'variables', message: (e as Error).message }]);
  }
  const secrets = new Set<string>();
  for (const name of template.sensitiveVariables) {
    const value = variables[name];
    if (value) secrets.add(value);
  }

  // Build names are rendered with user variables only; the command line selects by rendered name.
  const named: { entry: BuilderEntry; name: string }[] = [];
  for (const entry of template.builders) {
    try {
      // Packer renders names repeatedly: a variable may itself hold {{ }}.
      const name = interpolate.renderRepeatedly(entry.name, { ...baseCtx, stage: 'build-name', userVariables: variables });
      named.push({ entry, name });
    } catch (e) {
      problems.add({ path: `${entry.path}.name`, component: label(entry.type, entry.name), message: `cannot render the name: ${(e as Error).message}` });
    }
  }
  const byName = new Map<string, BuilderEntry>();
  for (const { entry, name } of named) {
    const other = byName.get(name);
    if (other) problems.add({ path: entry.path, component: label(entry.type, entry.name), message: `its name renders to ${show(name)}, the same as ${other.path}; rendered build names must be unique` });
    byName.set(name, entry);
  }
  problems.assertNone();

  const selected = named
    .filter(({ name }) => !options.only?.length || options.only.includes(name))
    .filter(({ name }) => !options.except?.includes(name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const builds: PreparedBuild[] = [];
  for (const { entry, name } of selected) {
    const build = prepareBuild(template, entry, name, { ...options, cwd }, { ...baseCtx, userVariables: variables }, problems, warnings, secrets);
    if (build) builds.push(build);
  }
  problems.assertNone();
  return { template, variables, secrets: [...secrets].sort((a, b) => b.length - a.length), builds, warnings };
}

type RenderBase = Omit<interpolate.InterpolateContext, 'stage'>;

function knownBuilders(names: ReadonlySet<string>): string {
  return names.size ? ` (builders: ${[...names].map((n) => show(n)).join(', ')})` : '';
}

function unknownBuilder(key: string, name: string, names: ReadonlySet<string>): string {
  const hint = didYouMean(name, [...names]);
  return `"${key}" names builder ${show(name)}, which does not exist` + (hint ? ` — did you mean ${show(hint)}?` : knownBuilders(names));
}

/**
 * Packer's template validation (after parsing, before any build): there is a
 * builder, and every only/except/override names an existing builder by its raw name.
 */
function checkReferences(template: Template, problems: ProblemList): void {
  if (!template.builders.length) problems.add({ path: 'builders', message: 'at least one builder must be defined' });
  const names = new Set(template.builders.map((b) => b.name));
  const at = (path: string) => ({ ...template.source.locate(path.replace(/\]/g, '').split(/[.[]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x))) });
  for (const p of template.provisioners) {
    if (p.only && p.except) {
      problems.add({ ...at(p.path), path: p.path, component: p.type, message: 'only one of "only" and "except" may be set' });
      continue;
    }
    for (const [key, list] of [['only', p.only], ['except', p.except]] as const) {
      for (const n of list ?? []) {
        if (!names.has(n)) problems.add({ ...at(p.path), path: p.path, component: p.type, message: unknownBuilder(key, n, names) });
      }
    }
    for (const n of Object.keys(p.override ?? {})) {
      if (!names.has(n)) problems.add({ ...at(p.path), path: p.path, component: p.type, message: `"override" names builder ${show(n)}, which does not exist` + knownBuilders(names) });
    }
  }
  for (const chain of template.postProcessors) {
    for (const pp of chain) {
      for (const [key, list] of [['only', pp.only], ['except', pp.except]] as const) {
        for (const n of list ?? []) {
          if (!names.has(n)) problems.add({ path: pp.path, component: label(pp.type, pp.name), message: unknownBuilder(key, n, names) });
        }
      }
    }
  }
}

function prepareBuild(
  template: Template,
  entry: BuilderEntry,
  buildName: string,
  options: PrepareOptions & { cwd: string },
  ctx: RenderBase,
  problems: ProblemList,
  warnings: Problem[],
  secrets: Set<string>,
): PreparedBuild | undefined {
  const before = problems.length;
  const builderDecl = lookup(options.catalog, 'builder', entry.type, entry.path, label(entry.type, entry.name), problems);
  const buildCtx: RenderBase = { ...ctx, buildName, buildType: entry.type };
  const checkCtx = (component: string, path: string) => ({
    cwd: options.cwd,
    buildName,
    warn: (message: string) => warnings.push({ file: template.file, path, component, message }),
  });

  let builder: PreparedComponent | undefined;
  if (builderDecl) {
    const component = label(entry.type, entry.name);
    const builderCtx = { ...buildCtx, stage: 'builder' as const, data: null, enableCleanResourceName: builderDecl.cleanResourceName };
    const config = prepareConfig(builderDecl, entry.config, builderCtx, entry.path, component, problems, checkCtx(component, entry.path), secrets);
    if (config) builder = { kind: 'builder', type: entry.type, declaration: builderDecl, path: entry.path, config };
  }

  // Provisioners and post-processors see placeholders for the builder's generated data until run time.
  const dataKeys = [...COMMON_GENERATED_DATA, ...(builderDecl?.generatedData ?? [])];
  const placeholders = Object.fromEntries(dataKeys.map((k) => [k, interpolate.buildPlaceholder(k)]));

  const applies = (only?: readonly string[], except?: readonly string[]) =>
    (!only || only.includes(entry.name)) && !(except ?? []).includes(entry.name);

  const prepareProvisioner = (p: ProvisionerEntry): PreparedProvisioner | undefined => {
    const decl = lookup(options.catalog, 'provisioner', p.type, p.path, p.type, problems);
    if (!decl) return undefined;
    const raw = p.override?.[entry.name] ? mergeOverride(p.config, p.override[entry.name]) : p.config;
    const config = prepareConfig(decl, raw, { ...buildCtx, stage: 'provisioner', data: placeholders }, p.path, p.type, problems, checkCtx(p.type, p.path), secrets);
    let maxRetries = 0;
    if (p.maxRetries !== undefined) {
      try {
        // Rendered with user variables only, like build names (build_name is not available here in Packer).
        const rendered = interpolate.renderRepeatedly(p.maxRetries, { ...ctx, stage: 'build-name', data: null });
        if (!/^[+-]?\d+$/.test(rendered.trim())) throw new Error(`got ${show(rendered)}`);
        maxRetries = parseInt(rendered, 10);
      } catch (e) {
        problems.add({ path: p.path, component: p.type, message: `"max_retries" must be an integer: ${(e as Error).message}` });
      }
    }
    if (!config) return undefined;
    return {
      kind: 'provisioner',
      type: p.type,
      declaration: decl,
      path: p.path,
      config,
      pauseBeforeMs: p.pauseBefore ? parseDuration(p.pauseBefore) : 0,
      timeoutMs: p.timeout ? parseDuration(p.timeout) : 0,
      maxRetries,
    };
  };

  const provisioners: PreparedProvisioner[] = [];
  for (const p of template.provisioners) {
    if (!applies(p.only, p.except)) continue;
    const prepared = prepareProvisioner(p);
    if (prepared) provisioners.push(prepared);
  }
  const cleanupEntry = template.errorCleanupProvisioner;
  const errorCleanupProvisioner = cleanupEntry && applies(cleanupEntry.only, cleanupEntry.except)
    ? prepareProvisioner(cleanupEntry) : undefined;

  const postProcessors: PreparedPostProcessor[][] = [];
  for (const chain of template.postProcessors) {
    const out: PreparedPostProcessor[] = [];
    for (const pp of chain) {
      // `-except` naming a post-processor drops it and the rest of its chain.
      if (options.except?.includes(pp.name)) break;
      if (!applies(pp.only, pp.except)) continue;
      const out1 = preparePostProcessor(pp);
      if (out1) out.push(out1);
    }
    if (out.length) postProcessors.push(out);
  }

  function preparePostProcessor(pp: PostProcessorEntry): PreparedPostProcessor | undefined {
    const component = label(pp.type, pp.name);
    const decl = lookup(options.catalog, 'post-processor', pp.type, pp.path, component, problems);
    if (!decl) return undefined;
    const config = prepareConfig(decl, pp.config, { ...buildCtx, stage: 'post-processor', data: placeholders }, pp.path, component, problems, checkCtx(component, pp.path), secrets);
    if (!config) return undefined;
    return { kind: 'post-processor', type: pp.type, declaration: decl, path: pp.path, config, name: pp.name, keepInputArtifact: pp.keepInputArtifact };
  }

  if (problems.length > before || !builder) return undefined;
  return { name: buildName, type: entry.type, builder, provisioners, errorCleanupProvisioner, postProcessors, templateJson: template.source.value };
}

function lookup(
  catalog: ComponentCatalog, kind: ComponentKind, type: string, path: string, component: string, problems: ProblemList,
): ComponentDeclaration | undefined {
  const table = catalog.kinds[kind];
  if (Object.prototype.hasOwnProperty.call(table, type)) return table[type];
  const known = Object.keys(table);
  const hint = didYouMean(type, known);
  problems.add({
    path,
    component,
    message: `unknown ${kind} type ${show(type)}` + (hint ? ` — did you mean ${show(hint)}?` : '') + `; Kiln supports ${known.map((k) => show(k)).join(', ')}`,
  });
  return undefined;
}

/**
 * Packer's prepare pass for one component: render every string once (map keys
 * too), except run-time fields whose syntax alone is checked; then decode
 * weakly against the declaration and apply its own rules.
 */
function prepareConfig(
  decl: ComponentDeclaration,
  raw: Readonly<Record<string, unknown>>,
  ctx: interpolate.InterpolateContext,
  path: string,
  component: string,
  problems: ProblemList,
  checkCtx: { cwd: string; buildName: string; warn(message: string): void },
  secrets: Set<string>,
): Record<string, unknown> | undefined {
  const before = problems.length;
  const runtimeKeys = new Set(Object.entries(decl.fields).filter(([, s]) => s.renderAtRuntime).map(([k]) => k.toLowerCase()));
  const rendered: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const where = show(key);
    if (runtimeKeys.has(key.toLowerCase())) {
      forEachString(value, (s, sub) => {
        try {
          interpolate.checkSyntax(s, { enableCleanResourceName: ctx.enableCleanResourceName });
        } catch (e) {
          problems.add({ path, component, message: `${where}${sub}: ${(e as Error).message}` });
        }
      });
      rendered[key] = value;
      continue;
    }
    rendered[key] = renderDeep(value, (s, sub) => {
      try {
        return interpolate.render(s, ctx);
      } catch (e) {
        problems.add({ path, component, message: `${where}${sub}: ${(e as Error).message}` });
        return s;
      }
    });
  }
  if (problems.length > before) return undefined;

  const { config, errors } = decodeConfig(decl, rendered);
  for (const message of errors) problems.add({ path, component, message });
  if (errors.length) return undefined;
  if (decl.check) {
    for (const message of decl.check(config as never, checkCtx)) problems.add({ path, component, message });
  }
  for (const [key, spec] of Object.entries(decl.fields)) {
    const v = config[key];
    if (spec.secret && typeof v === 'string' && v) secrets.add(v);
  }
  return problems.length > before ? undefined : config;
}

function forEachString(value: unknown, fn: (s: string, sub: string) => void, sub = ''): void {
  if (typeof value === 'string') fn(value, sub);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, fn, `${sub}[${i}]`));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) forEachString(v, fn, `${sub}.${k}`);
}

function renderDeep(value: unknown, fn: (s: string, sub: string) => string, sub = ''): unknown {
  if (typeof value === 'string') return fn(value, sub);
  if (Array.isArray(value)) return value.map((v, i) => renderDeep(v, fn, `${sub}[${i}]`));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[fn(k, `${sub} (key)`)] = renderDeep(v, fn, `${sub}.${k}`);
    return out;
  }
  return value;
}
