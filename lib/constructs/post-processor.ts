import { Construct } from 'constructs';
import { Builder } from './builder';
import { TemplateComponent } from './component';
import { ComponentDeclaration } from '../template/component';

const POST_PROCESSOR = Symbol.for('kiln.PostProcessor');
const CHAIN = Symbol.for('kiln.PostProcessorChain');

/** Options every post-processor construct takes besides its own config. */
export interface PostProcessorOptions {
  /**
   * A name for `-except` on the command line.
   * @default - the type
   */
  readonly name?: string;
  /**
   * Run only for these builds.
   * @default - every build
   */
  readonly only?: Builder[];
  /**
   * Run for every build but these.
   * @default - no build is skipped
   */
  readonly except?: Builder[];
  /**
   * Keep the artifact this post-processor consumed.
   * @default - the post-processor's own default (most discard it)
   */
  readonly keepInputArtifact?: boolean;
}

export const POST_PROCESSOR_OPTIONS = ['name', 'only', 'except', 'keepInputArtifact'];

/**
 * A post-processor: turns an artifact into another. Added to a template it is
 * a chain of its own; added to a `PostProcessorChain` it is the next step.
 */
export abstract class PostProcessor extends TemplateComponent {
  public static isPostProcessor(x: unknown): x is PostProcessor {
    return typeof x === 'object' && x !== null && POST_PROCESSOR in x;
  }

  public readonly options: PostProcessorOptions;

  protected constructor(
    scope: Construct, id: string, type: string, config: Record<string, unknown>,
    declaration: ComponentDeclaration | undefined, options: PostProcessorOptions = {},
  ) {
    super(scope, id, 'post-processor', type, config, declaration);
    Object.defineProperty(this, POST_PROCESSOR, { value: true });
    this.options = options;
  }
}

/**
 * A sequence of post-processors: each step receives the artifact of the one
 * before it. Steps run in the order they were added.
 */
export class PostProcessorChain extends Construct {
  public static isPostProcessorChain(x: unknown): x is PostProcessorChain {
    return typeof x === 'object' && x !== null && CHAIN in x;
  }

  constructor(scope: Construct, id: string) {
    super(scope, id);
    Object.defineProperty(this, CHAIN, { value: true });
  }

  /** The steps, in order. */
  public get steps(): PostProcessor[] {
    return this.node.children.filter(PostProcessor.isPostProcessor);
  }
}

export interface RawPostProcessorProps extends PostProcessorOptions {
  /** The post-processor type, e.g. `vagrant`. */
  readonly type: string;
  /** The config, keyed as in Packer JSON. */
  readonly config?: Record<string, unknown>;
}

/** Escape hatch: a post-processor of any type, config written as in Packer JSON. */
export class RawPostProcessor extends PostProcessor {
  constructor(scope: Construct, id: string, props: RawPostProcessorProps) {
    super(scope, id, props.type, { ...props.config }, undefined, props);
  }
}
