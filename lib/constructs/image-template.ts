import { Construct, IConstruct } from 'constructs';
import { Builder } from './builder';
import { PostProcessor, PostProcessorChain } from './post-processor';
import { Provisioner } from './provisioner';

const TEMPLATE = Symbol.for('kiln.ImageTemplate');

export interface ImageTemplateProps {
  /**
   * What the template builds; shown by `kiln inspect`.
   * @default - no description
   */
  readonly description?: string;
  /**
   * The oldest Packer whose templates this one needs.
   * @default - any
   */
  readonly minPackerVersion?: string;
  /**
   * The file name in the synth output: `<templateName>.json`. Unique in the app.
   * @default - the construct id
   */
  readonly templateName?: string;
}

export interface VariableOptions {
  /**
   * The value when none is given with `-var` or `-var-file`. May hold `{{ }}` expressions, e.g. `{{env `HOME`}}`.
   * @default - no default: the variable is required
   */
  readonly default?: string;
  /**
   * Mask the value in every output, logs and machine-readable output included.
   * @default false
   */
  readonly sensitive?: boolean;
  /**
   * The build fails unless a value is given with `-var` or `-var-file`.
   * @default - true when there is no default
   */
  readonly required?: boolean;
}

/** A template variable. Use `value` (or the object itself in a string) wherever a prop takes a string. */
export class Variable {
  /** `{{user `name`}}`: renders to the variable's value at build time. */
  public readonly value: string;

  constructor(public readonly name: string, public readonly options: VariableOptions) {
    this.value = `{{user \`${name}\`}}`;
  }

  /** True when a value must be given on the command line. */
  public get required(): boolean {
    return this.options.required ?? this.options.default === undefined;
  }

  public toString(): string {
    return this.value;
  }
}

/**
 * One Packer template: its variables, builders (one build each), provisioners
 * in the order they were added, and post-processors. Synth writes it as
 * `<templateName>.json`.
 */
export class ImageTemplate extends Construct {
  public static isImageTemplate(x: unknown): x is ImageTemplate {
    return typeof x === 'object' && x !== null && TEMPLATE in x;
  }

  /** The template a construct belongs to. */
  public static of(c: IConstruct): ImageTemplate {
    for (const s of c.node.scopes.slice().reverse()) if (ImageTemplate.isImageTemplate(s)) return s;
    throw new Error(`${c.node.path} is not inside an ImageTemplate`);
  }

  public readonly templateName: string;
  public readonly description?: string;
  public readonly minPackerVersion?: string;
  private readonly vars = new Map<string, Variable>();

  constructor(scope: Construct, id: string, props: ImageTemplateProps = {}) {
    super(scope, id);
    Object.defineProperty(this, TEMPLATE, { value: true });
    this.templateName = props.templateName ?? id;
    this.description = props.description;
    this.minPackerVersion = props.minPackerVersion;
    this.node.addValidation({
      validate: () => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(this.templateName) ? []
        : [`template name ${JSON.stringify(this.templateName)} must be a file name: letters, digits, ".", "_" and "-"`]),
    });
  }

  /** Declares a variable and returns it, to use in props. */
  public addVariable(name: string, options: VariableOptions = {}): Variable {
    if (this.vars.has(name)) throw new Error(`${this.node.path}: variable ${JSON.stringify(name)} is declared twice`);
    if (options.required && options.default !== undefined) {
      throw new Error(`${this.node.path}: variable ${JSON.stringify(name)} cannot be required and have a default`);
    }
    const v = new Variable(name, options);
    this.vars.set(name, v);
    return v;
  }

  public get variables(): Variable[] {
    return [...this.vars.values()];
  }

  /** The components of this template (not of templates nested in it), in the order they were added. */
  private own<T extends IConstruct>(guard: (x: unknown) => x is T): T[] {
    return this.node.findAll().filter((c): c is T => guard(c) && ImageTemplate.of(c) === this);
  }

  public get builders(): Builder[] {
    return this.own(Builder.isBuilder);
  }

  public get provisioners(): Provisioner[] {
    return this.own(Provisioner.isProvisioner);
  }

  /** Each chain's steps: a post-processor added directly to the template is a chain of one. */
  public get postProcessorChains(): PostProcessor[][] {
    const chains: PostProcessor[][] = [];
    for (const c of this.node.findAll()) {
      if (c === this || ImageTemplate.isImageTemplate(c) || ImageTemplate.of(c) !== this) continue;
      if (PostProcessorChain.isPostProcessorChain(c)) {
        chains.push(c.steps);
      } else if (PostProcessor.isPostProcessor(c) && !PostProcessorChain.isPostProcessorChain(c.node.scope)) {
        chains.push([c]);
      }
    }
    return chains.filter((c) => c.length);
  }
}
