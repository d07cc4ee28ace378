import { Construct, IConstruct } from 'constructs';
import { TemplateComponent } from './component';
import { ComponentDeclaration } from '../template/component';

const BUILDER = Symbol.for('kiln.Builder');

/** Options every builder construct takes besides its own config. */
export interface BuilderOptions {
  /**
   * The build's name: the prefix of its output, what `-only`/`-except` select,
   * `{{build_name}}`. Unique within a template.
   * @default - the construct id
   */
  readonly name?: string;
}

/** A builder: one build of the template, producing one artifact. */
export abstract class Builder extends TemplateComponent {
  public static isBuilder(x: unknown): x is Builder {
    return typeof x === 'object' && x !== null && BUILDER in x;
  }

  /** The build's name (see `BuilderOptions.name`). */
  public readonly buildName: string;

  protected constructor(
    scope: Construct, id: string, type: string, config: Record<string, unknown>,
    declaration: ComponentDeclaration | undefined, options: BuilderOptions = {},
  ) {
    super(scope, id, 'builder', type, config, declaration);
    Object.defineProperty(this, BUILDER, { value: true });
    this.buildName = options.name ?? id;
  }
}

export interface RawBuilderProps extends BuilderOptions {
  /** The builder type, e.g. `amazon-ebs`. */
  readonly type: string;
  /** The config, keyed as in Packer JSON. */
  readonly config?: Record<string, unknown>;
}

/**
 * Escape hatch: a builder of any type, with its config written as in Packer
 * JSON. Still validated at synth if Kiln knows the type.
 */
export class RawBuilder extends Builder {
  constructor(scope: Construct, id: string, props: RawBuilderProps) {
    super(scope, id, props.type, { ...props.config }, undefined, props);
  }
}

export function isBuilderConstruct(x: IConstruct): x is Builder {
  return Builder.isBuilder(x);
}
