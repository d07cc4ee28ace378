import { Construct, IConstruct } from 'constructs';
import { ComponentDeclaration, ComponentKind, camelCase } from '../template/component';

const COMPONENT = Symbol.for('kiln.TemplateComponent');

/** A value in a component's config, as rendered into the template JSON. */
export type ConfigValue = unknown;

/**
 * What every builder, provisioner and post-processor construct has in common:
 * a type, a config in Packer's keys, and escape hatches. Synth turns it into
 * one entry of a template.
 */
export abstract class TemplateComponent extends Construct {
  /**
   * True for any Kiln component construct, also one made by another copy of
   * this library (a symbol, not `instanceof`).
   */
  public static isTemplateComponent(x: unknown): x is TemplateComponent {
    return typeof x === 'object' && x !== null && COMPONENT in x;
  }

  /** `builder`, `provisioner` or `post-processor`. */
  public readonly kind: ComponentKind;
  /** The component type, e.g. `docker`. */
  public readonly type: string;
  /** The declaration the props were typed from; undefined for raw components. */
  public readonly declaration?: ComponentDeclaration;

  private readonly config: Record<string, ConfigValue>;
  private readonly overrides: { path: string[]; value: unknown }[] = [];

  protected constructor(
    scope: Construct, id: string, kind: ComponentKind, type: string,
    config: Record<string, ConfigValue>, declaration?: ComponentDeclaration,
  ) {
    super(scope, id);
    Object.defineProperty(this, COMPONENT, { value: true });
    this.kind = kind;
    this.type = type;
    this.declaration = declaration;
    this.config = config;
  }

  /**
   * Sets a key of the rendered config directly, for options Kiln's types do
   * not cover yet. `path` is dot-separated (`volumes./data`); the result is
   * still validated at synth.
   */
  public addOverride(path: string, value: unknown): void {
    this.overrides.push({ path: path.split('.'), value });
  }

  /** The config as Packer keys, overrides applied. @internal */
  public _renderConfig(): Record<string, unknown> {
    const out: Record<string, unknown> = structuredClone(this.config);
    for (const { path, value } of this.overrides) {
      let node: Record<string, unknown> = out;
      for (const seg of path.slice(0, -1)) {
        if (typeof node[seg] !== 'object' || node[seg] === null) node[seg] = {};
        node = node[seg] as Record<string, unknown>;
      }
      const last = path[path.length - 1];
      if (value === undefined) delete node[last];
      else node[last] = value;
    }
    return out;
  }
}

/**
 * Converts typed camelCase props to a config keyed as in Packer JSON, using the
 * declaration's own field names, so nothing lists the keys twice.
 */
export function propsToConfig(declaration: ComponentDeclaration, props: object, meta: readonly string[] = []): Record<string, unknown> {
  const byCamel = new Map(Object.keys(declaration.fields).map((k) => [camelCase(k), k]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || meta.includes(key)) continue;
    const field = byCamel.get(key);
    if (!field) {
      // Typed props cannot get here; plain JavaScript callers can.
      throw new Error(`${declaration.kind} "${declaration.type}" has no option ${JSON.stringify(key)}`);
    }
    out[field] = isSourceImage(value) ? value.imageName : value;
  }
  return out;
}

function isSourceImage(v: unknown): v is { imageName: string } {
  return typeof v === 'object' && v !== null && typeof (v as { imageName?: unknown }).imageName === 'string' && 'template' in v;
}

/** The nearest ancestor (or self) that satisfies the guard. */
export function findAncestor<T extends IConstruct>(c: IConstruct, guard: (x: IConstruct) => x is T): T | undefined {
  for (const s of c.node.scopes.slice().reverse()) if (guard(s)) return s;
  return undefined;
}
