/**
 * The one declaration of a component type (builder, provisioner or
 * post-processor). From it Kiln derives the JSON Schema that `kiln validate`
 * checks with ajv, the TypeScript types of the template config and of the
 * construct props, and the reference docs. Nothing else lists a component's
 * fields, so the three cannot drift apart.
 *
 * This module is pure data and types: it must stay cheap to import, because
 * the CLI loads it on every start.
 */

export type ComponentKind = 'builder' | 'provisioner' | 'post-processor';

/**
 * How a field's value is read. Packer decodes configs "weakly", and so does
 * Kiln: a string is accepted for a boolean ("true", "1", "false"...), for an
 * integer ("42"), a comma-separated string for a list, and a number or a
 * boolean for a string.
 */
export type FieldKind =
  | 'string'
  | 'boolean'
  | 'integer'
  /** A Go duration: "30s", "5m", "1h2m"; a bare number means nanoseconds, as in Packer. */
  | 'duration'
  | 'string-list'
  | 'integer-list'
  | 'string-map'
  /** Any JSON value; the component checks it itself. */
  | 'json';

export interface FieldSpec {
  readonly kind: FieldKind;
  /** One or two sentences for users: what the field does. */
  readonly doc: string;
  /** What happens when the field is left out, as written after `@default` in the docs. */
  readonly default?: string;
  readonly required?: boolean;
  /** The only values allowed (for string fields). */
  readonly allowed?: readonly string[];
  /**
   * Rendered later, with run-time data (Packer's "excluded" keys, e.g. shell
   * `execute_command`, compress `output`): at validate only its syntax is checked.
   */
  readonly renderAtRuntime?: boolean;
  /**
   * Names a local file or directory that the build reads. Constructs copy it into
   * the synth output (`assets/<hash>/`), so the output can move to another machine.
   */
  readonly localPath?: boolean;
  /** Holds a secret: its value is masked in every output Kiln prints. */
  readonly secret?: boolean;
  /** An old name or option kept so existing templates still work; the text says what to use instead. */
  readonly deprecated?: string;
  /**
   * An option of Kiln's engine that Packer 1.6.6 does not know (it rejects the
   * template). `kiln validate` warns; `kiln synth` refuses it, so that what it
   * writes stays a template Packer accepts.
   */
  readonly notInPacker?: boolean;
  /**
   * The TypeScript type of the construct prop, for a `json` field whose shape
   * is known (nested keys as in the template). Otherwise derived from `kind`.
   */
  readonly propType?: string;
}

export type Fields = Readonly<Record<string, FieldSpec>>;

/** What a component's own cross-field rules may use. */
export interface CheckContext {
  /** Directory that relative paths are resolved against (Packer uses the working directory). */
  readonly cwd: string;
  /** Name of the build this component belongs to. */
  readonly buildName: string;
  /** Records a warning: printed by validate, does not fail it. */
  warn(message: string): void;
}

export interface ComponentDeclaration<F extends Fields = Fields> {
  readonly kind: ComponentKind;
  /** The `type` in templates, e.g. `docker`. */
  readonly type: string;
  /** One line for listings and docs. */
  readonly summary: string;
  readonly fields: F;
  /**
   * Builders only: keys of the data the builder hands to provisioners and
   * post-processors beyond the common ones (`{{ build `ImageSha256` }}`).
   */
  readonly generatedData?: readonly string[];
  /**
   * Builders only: the builder adds `clean_resource_name` to the template
   * functions of its own config, with this cloud's cleaning rule. Packer has
   * no such function elsewhere.
   */
  readonly cleanResourceName?: 'generic' | 'amazon';
  /**
   * Packer's prepare-time rules that a schema cannot say (exactly one of a set,
   * files that must exist...). Receives the decoded config; returns messages.
   */
  check?(config: ConfigOf<F>, ctx: CheckContext): string[];
}

/** Declares a component; the `const` type parameter keeps field kinds literal for the derived types. */
export function declareComponent<const F extends Fields>(decl: ComponentDeclaration<F>): ComponentDeclaration<F> {
  return decl;
}

interface KindTypes {
  'string': string;
  'boolean': boolean;
  'integer': number;
  'duration': string;
  'string-list': string[];
  'integer-list': number[];
  'string-map': Record<string, string>;
  'json': unknown;
}

type RequiredKeys<F extends Fields> = { [K in keyof F]: F[K]['required'] extends true ? K : never }[keyof F];
type OptionalKeys<F extends Fields> = Exclude<keyof F, RequiredKeys<F>>;

/** The decoded config of a component, keyed as in Packer JSON (`export_path`). */
export type ConfigOf<F extends Fields> = { [K in RequiredKeys<F>]: KindTypes[F[K]['kind']] } & {
  [K in OptionalKeys<F>]?: KindTypes[F[K]['kind']];
};

/** `export_path` → `exportPath`. */
export type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** The same config as construct props: camelCase keys, same types. */
export type PropsOf<F extends Fields> = { [K in RequiredKeys<F> & string as CamelCase<K>]: KindTypes[F[K]['kind']] } & {
  [K in OptionalKeys<F> & string as CamelCase<K>]?: KindTypes[F[K]['kind']];
};

/** The runtime twin of `CamelCase`, used when constructs render props to JSON keys. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
