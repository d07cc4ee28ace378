import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { Builder } from './builder';
import { TemplateComponent } from './component';
import { ImageTemplate } from './image-template';
import { PostProcessor, PostProcessorChain } from './post-processor';
import { Provisioner } from './provisioner';
import { resolveSourceImageTokens, sourceImageTokens } from './source-image';
import { CATALOG } from '../components/catalog';
import { TemplateError } from '../template/errors';
import { templateFingerprint, withFingerprintTags } from '../template/fingerprint';
import { parseSource } from '../template/parse';
import { prepare } from '../template/prepare';
import { readTemplate } from '../template/template';

/**
 * Turns image templates into Packer JSON. Pure: reads the local files that
 * props name (to stage them as assets), touches nothing else.
 */

/** A local file or directory a template refers to, copied into the output. */
export interface Asset {
  /** Absolute path of the source. */
  readonly source: string;
  /** Path inside the output directory: `assets/<content hash>/<name>`. */
  readonly staged: string;
  readonly directory: boolean;
}

export interface SynthesizedTemplate {
  readonly template: ImageTemplate;
  readonly name: string;
  /** The Packer JSON as written (asset paths relative to the template's directory). */
  readonly json: Record<string, unknown>;
  readonly assets: readonly Asset[];
  /** Names of the templates whose images this one starts from. */
  readonly dependencies: readonly string[];
  /**
   * sha256 of the template JSON without its fingerprint tags (see
   * `templateFingerprint`); asset contents are in it through their hashed paths.
   */
  readonly fingerprint: string;
}

/** Problems found at synth, each naming a construct path. */
export class SynthError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`synth found ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` + problems.map((p) => `  ${p}`).join('\n'));
    this.name = 'SynthError';
  }
}

/** Keys sorted at every depth, so output is byte-for-byte stable. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

/** Content hash of a file or a directory tree (names, modes and contents). */
export function hashPath(p: string): string {
  const h = createHash('sha256');
  const walk = (abs: string, rel: string) => {
    const st = fs.statSync(abs);
    if (st.isDirectory()) {
      h.update(`d ${rel} ${st.mode & 0o777}\n`);
      for (const name of fs.readdirSync(abs).sort()) walk(path.join(abs, name), rel ? `${rel}/${name}` : name);
    } else {
      h.update(`f ${rel} ${st.mode & 0o777} ${st.size}\n`);
      h.update(fs.readFileSync(abs));
    }
  };
  walk(p, '');
  return h.digest('hex');
}

/** Fields that name local files to stage, per component type (keys as in Packer JSON). */
function localPathFields(c: TemplateComponent, config: Record<string, unknown>): string[] {
  if (!c.declaration) return [];
  const fields = Object.entries(c.declaration.fields).filter(([, spec]) => spec.localPath).map(([k]) => k);
  // A download's source is on the machine, not here.
  if (c.kind === 'provisioner' && c.type === 'file' && config.direction === 'download') return [];
  return fields;
}

interface RenderedComponent {
  readonly construct: IConstruct;
  readonly jsonPath: string;
}

/**
 * Renders one template. `mode: 'check'` keeps asset paths absolute (so the
 * template can be validated before anything is written); `'output'` points
 * them at the staged copies through `{{template_dir}}`.
 */
function render(t: ImageTemplate, imageOf: (templatePath: string) => string, mode: 'check' | 'output', problems: string[]) {
  const assets: Asset[] = [];
  const components: RenderedComponent[] = [];
  const dependencies = new Set<string>();

  const stage = (c: IConstruct, value: unknown): unknown => {
    if (typeof value !== 'string' || !value || value.includes('{{')) return value;
    const abs = path.resolve(value);
    if (!fs.existsSync(abs)) {
      problems.push(`${c.node.path}: local path ${JSON.stringify(value)} does not exist (resolved to ${abs})`);
      return value;
    }
    if (mode === 'check') return abs;
    const directory = fs.statSync(abs).isDirectory();
    const staged = `assets/${hashPath(abs)}/${path.basename(abs)}`;
    if (!assets.some((a) => a.staged === staged)) assets.push({ source: abs, staged, directory });
    // A trailing slash on a directory means "its contents" to Packer; keep it.
    return `{{template_dir}}/${staged}${directory && value.endsWith('/') ? '/' : ''}`;
  };

  const resolveTokens = (c: IConstruct, value: unknown): unknown => {
    if (typeof value === 'string') {
      for (const p of sourceImageTokens(value)) dependencies.add(p);
      return resolveSourceImageTokens(value, (p) => {
        try {
          return imageOf(p);
        } catch (e) {
          problems.push(`${c.node.path}: ${(e as Error).message}`);
          return '';
        }
      });
    }
    if (Array.isArray(value)) return value.map((v) => resolveTokens(c, v));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTokens(c, v)]));
    }
    return value;
  };

  const configOf = (c: TemplateComponent) => {
    const config = resolveTokens(c, c._renderConfig()) as Record<string, unknown>;
    for (const [key, spec] of Object.entries(c.declaration?.fields ?? {})) {
      if (spec.notInPacker && key in config) {
        problems.push(`${c.node.path} (${c.type}): "${key}" is an option of Kiln's engine that Packer 1.6.6 rejects; `
          + 'synthesized templates must be real Packer JSON, so set it only in hand-written templates');
      }
    }
    for (const f of localPathFields(c, config)) {
      const v = config[f];
      config[f] = Array.isArray(v) ? v.map((x) => stage(c, x)) : stage(c, v);
    }
    return config;
  };

  const json: Record<string, unknown> = {};
  if (t.description !== undefined) json.description = t.description;
  if (t.minPackerVersion !== undefined) json.min_packer_version = t.minPackerVersion;
  if (t.variables.length) {
    json.variables = Object.fromEntries(t.variables.map((v) => [v.name, v.required ? null : v.options.default ?? '']));
    const sensitive = t.variables.filter((v) => v.options.sensitive).map((v) => v.name);
    if (sensitive.length) json['sensitive-variables'] = sensitive;
  }

  const builders = t.builders;
  const names = new Map<string, Builder>();
  json.builders = builders.map((b, i) => {
    const other = names.get(b.buildName);
    if (other) problems.push(`${b.node.path}: build name ${JSON.stringify(b.buildName)} is already used by ${other.node.path}; set a unique name`);
    names.set(b.buildName, b);
    components.push({ construct: b, jsonPath: `builders[${i}]` });
    return { type: b.type, ...(b.buildName !== b.type ? { name: b.buildName } : {}), ...configOf(b) };
  });

  const builderRef = (owner: IConstruct, b: Builder): string => {
    if (!builders.includes(b)) problems.push(`${owner.node.path}: refers to builder ${b.node.path}, which is not in template ${t.node.path}`);
    return b.buildName;
  };

  const provisionerJson = (p: Provisioner) => {
    const o = p.options;
    const entry: Record<string, unknown> = { type: p.type, ...configOf(p) };
    if (o.only) entry.only = o.only.map((b) => builderRef(p, b));
    if (o.except) entry.except = o.except.map((b) => builderRef(p, b));
    const overrides = p._renderOverrides();
    if (overrides.length) entry.override = Object.fromEntries(overrides.map((ov) => [builderRef(p, ov.builder), resolveTokens(p, ov.config)]));
    if (o.pauseBefore !== undefined) entry.pause_before = o.pauseBefore;
    if (o.maxRetries !== undefined) entry.max_retries = o.maxRetries;
    if (o.timeout !== undefined) entry.timeout = o.timeout;
    return entry;
  };

  const provisioners = t.provisioners.filter((p) => !p.options.onErrorCleanup);
  if (provisioners.length) {
    json.provisioners = provisioners.map((p, i) => {
      components.push({ construct: p, jsonPath: `provisioners[${i}]` });
      return provisionerJson(p);
    });
  }
  const cleanup = t.provisioners.filter((p) => p.options.onErrorCleanup);
  if (cleanup.length > 1) problems.push(`${cleanup[1].node.path}: a template has at most one error-cleanup provisioner (${cleanup[0].node.path} is one)`);
  if (cleanup.length) {
    components.push({ construct: cleanup[0], jsonPath: 'error-cleanup-provisioner' });
    json['error-cleanup-provisioner'] = provisionerJson(cleanup[0]);
  }

  const ppJson = (pp: PostProcessor) => {
    const o = pp.options;
    const entry: Record<string, unknown> = { type: pp.type, ...configOf(pp) };
    if (o.name !== undefined) entry.name = o.name;
    if (o.only) entry.only = o.only.map((b) => builderRef(pp, b));
    if (o.except) entry.except = o.except.map((b) => builderRef(pp, b));
    if (o.keepInputArtifact !== undefined) entry.keep_input_artifact = o.keepInputArtifact;
    return entry;
  };
  const chains = t.postProcessorChains;
  if (chains.length) {
    json['post-processors'] = chains.map((chain, i) => {
      if (chain.length === 1 && !PostProcessorChain.isPostProcessorChain(chain[0].node.scope)) {
        components.push({ construct: chain[0], jsonPath: `post-processors[${i}]` });
        return ppJson(chain[0]);
      }
      return chain.map((pp, j) => {
        components.push({ construct: pp, jsonPath: `post-processors[${i}][${j}]` });
        return ppJson(pp);
      });
    });
  }
  return { json, assets, components, dependencies: [...dependencies] };
}

/** The image name a template's build produces, for `SourceImage.fromTemplate`. */
function taggedImageOf(t: ImageTemplate): string {
  const docker = t.builders.find((b) => b.type === 'docker');
  const config = docker?._renderConfig();
  if (!docker || config?.commit !== true) {
    throw new Error(`SourceImage.fromTemplate(${t.node.path}): that template must have a docker builder with commit: true`);
  }
  for (const chain of t.postProcessorChains) {
    const tag = chain.find((pp) => pp.type === 'docker-tag');
    if (!tag) continue;
    const c = tag._renderConfig();
    const tags = [...(Array.isArray(c.tags) ? c.tags : []), ...(typeof c.tag === 'string' ? [c.tag] : Array.isArray(c.tag) ? c.tag : [])] as string[];
    const repo = String(c.repository ?? '');
    if (!repo || repo.includes('{{') || tags.some((x) => String(x).includes('{{'))) {
      throw new Error(`SourceImage.fromTemplate(${t.node.path}): its docker-tag post-processor must use a literal repository and tag, so the dependent build can name the image`);
    }
    return tags.length ? `${repo}:${tags[0]}` : repo;
  }
  throw new Error(`SourceImage.fromTemplate(${t.node.path}): that template must tag its image with a DockerTagPostProcessor`);
}

/** Maps a validation problem's JSON path (e.g. `provisioners[1]`) to the construct that produced it. */
function constructFor(components: readonly RenderedComponent[], jsonPath: string | undefined): IConstruct | undefined {
  if (!jsonPath) return undefined;
  return components.find((c) => jsonPath === c.jsonPath || jsonPath.startsWith(c.jsonPath + '.') || jsonPath.startsWith(c.jsonPath + '['))?.construct;
}

/**
 * Synthesizes every template under `root`: validates all of them first,
 * collecting every problem with its construct path, and throws a SynthError
 * if there is any. Writes nothing.
 */
export function synthesizeTemplates(root: IConstruct): SynthesizedTemplate[] {
  const templates = root.node.findAll().filter(ImageTemplate.isImageTemplate);
  const problems: string[] = [];
  const byPath = new Map(templates.map((t) => [t.node.path, t]));
  const imageOf = (p: string) => {
    const t = byPath.get(p);
    if (!t) throw new Error(`SourceImage.fromTemplate: template ${p} is not in this app`);
    return taggedImageOf(t);
  };

  for (const c of root.node.findAll()) {
    for (const message of c.node.validate()) problems.push(`${c.node.path}: ${message}`);
  }
  const seenNames = new Map<string, ImageTemplate>();
  for (const t of templates) {
    const other = seenNames.get(t.templateName);
    if (other) problems.push(`${t.node.path}: template name ${JSON.stringify(t.templateName)} is already used by ${other.node.path}`);
    seenNames.set(t.templateName, t);
  }

  const out: SynthesizedTemplate[] = [];
  for (const t of templates) {
    const checked = render(t, imageOf, 'check', problems);
    if (!checked.json.builders || (checked.json.builders as unknown[]).length === 0) {
      problems.push(`${t.node.path}: a template needs at least one builder`);
      continue;
    }
    // Validate exactly as `kiln validate` would; required variables get a stand-in value.
    try {
      const doc = parseSource(JSON.stringify(checked.json), templateFileName(t.templateName));
      const overrides = Object.fromEntries(t.variables.filter((v) => v.required).map((v) => [v.name, '1']));
      prepare(readTemplate(doc), { catalog: { kinds: CATALOG }, overrides });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      for (const p of e.problems) {
        const c = constructFor(checked.components, p.path);
        const where = c ? c.node.path : `${t.node.path}${p.path ? ` (${p.path})` : ''}`;
        const what = c && TemplateComponent.isTemplateComponent(c) ? ` (${c.type})` : '';
        problems.push(`${where}${what}: ${p.message}`);
      }
    }
    const rendered = render(t, imageOf, 'output', []);
    const unsigned = sortKeys(rendered.json) as Record<string, unknown>;
    const fingerprint = templateFingerprint(unsigned);
    out.push({
      template: t,
      name: t.templateName,
      // Builders that tag their images (amazon-ebs) carry the fingerprint, so
      // infrastructure code can find the image built from this very definition.
      json: withFingerprintTags(unsigned, fingerprint),
      assets: rendered.assets,
      dependencies: rendered.dependencies.map((p) => byPath.get(p)?.templateName ?? p),
      fingerprint,
    });
  }

  const cycle = findCycle(out);
  if (cycle) problems.push(`image dependencies form a cycle: ${cycle.map((s) => s.template.node.path).join(' -> ')}`);
  if (problems.length) throw new SynthError(problems);
  return out;
}

function findCycle(templates: readonly SynthesizedTemplate[]): SynthesizedTemplate[] | undefined {
  const byName = new Map(templates.map((t) => [t.name, t]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: SynthesizedTemplate[] = [];
  const visit = (t: SynthesizedTemplate): SynthesizedTemplate[] | undefined => {
    if (state.get(t.name) === 'done') return undefined;
    if (state.get(t.name) === 'visiting') return [...stack.slice(stack.indexOf(t)), t];
    state.set(t.name, 'visiting');
    stack.push(t);
    for (const d of t.dependencies) {
      const dep = byName.get(d);
      const found = dep && visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(t.name, 'done');
    return undefined;
  };
  for (const t of templates) {
    const found = visit(t);
    if (found) return found;
  }
  return undefined;
}

/** The synth output's table of contents. */
export interface SynthManifest {
  readonly version: string;
  readonly templates: readonly {
    readonly name: string;
    readonly file: string;
    readonly constructPath: string;
    readonly addr: string;
    readonly fingerprint: string;
    readonly dependencies: readonly string[];
  }[];
}

export const MANIFEST_VERSION = '1';

/**
 * `<name>.json`. Not `.pkr.json`: Packer 1.6 reads files with that suffix as
 * HCL2 JSON and would reject a legacy JSON template under that name.
 */
export function templateFileName(name: string): string {
  return `${name}.json`;
}

/** Writes templates, assets and manifest.json to `outdir`, replacing an earlier synth output there. */
export function writeOutput(outdir: string, templates: readonly SynthesizedTemplate[]): SynthManifest {
  fs.mkdirSync(outdir, { recursive: true });
  // Remove what an earlier synth wrote (its manifest lists it), and only that.
  try {
    const old = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as SynthManifest;
    for (const t of old.templates ?? []) fs.rmSync(path.join(outdir, path.basename(t.file)), { force: true });
  } catch {
    // No earlier output.
  }
  for (const name of ['manifest.json', 'assets']) fs.rmSync(path.join(outdir, name), { recursive: true, force: true });
  for (const t of templates) {
    for (const a of t.assets) {
      const dst = path.join(outdir, a.staged);
      if (fs.existsSync(dst)) continue;
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.cpSync(a.source, dst, { recursive: true, preserveTimestamps: false });
    }
    fs.writeFileSync(path.join(outdir, templateFileName(t.name)), stableJson(t.json));
  }
  const manifest: SynthManifest = {
    version: MANIFEST_VERSION,
    templates: [...templates].sort((a, b) => a.name.localeCompare(b.name)).map((t) => ({
      name: t.name,
      file: templateFileName(t.name),
      constructPath: t.template.node.path,
      addr: t.template.node.addr,
      fingerprint: t.fingerprint,
      dependencies: [...t.dependencies].sort(),
    })),
  };
  fs.writeFileSync(path.join(outdir, 'manifest.json'), stableJson(manifest));
  return manifest;
}
