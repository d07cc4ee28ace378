import { Construct } from 'constructs';
import { Builder } from './builder';
import { TemplateComponent, propsToConfig } from './component';
import { ComponentDeclaration } from '../template/component';

const PROVISIONER = Symbol.for('kiln.Provisioner');

/** Options every provisioner construct takes besides its own config. */
export interface ProvisionerOptions {
  /**
   * Run only in these builds.
   * @default - every build
   */
  readonly only?: Builder[];
  /**
   * Run in every build but these.
   * @default - no build is skipped
   */
  readonly except?: Builder[];
  /**
   * Wait this long before running (a Go duration such as "10s").
   * @default - no pause
   */
  readonly pauseBefore?: string;
  /**
   * Run again this many times if it fails.
   * @default 0
   */
  readonly maxRetries?: number;
  /**
   * Cancel the provisioner after this long (a Go duration). Ignored when `pauseBefore` is set, as in Packer.
   * @default - no timeout
   */
  readonly timeout?: string;
  /**
   * Run this provisioner only when provisioning fails (the template's `error-cleanup-provisioner`).
   * @default false
   */
  readonly onErrorCleanup?: boolean;
}

export const PROVISIONER_OPTIONS = ['only', 'except', 'pauseBefore', 'maxRetries', 'timeout', 'onErrorCleanup'];

/**
 * A provisioner: runs against the machine while it is being built. They run in
 * the order they were added to the template.
 */
export abstract class Provisioner<P extends object = Record<string, unknown>> extends TemplateComponent {
  public static isProvisioner(x: unknown): x is Provisioner {
    return typeof x === 'object' && x !== null && PROVISIONER in x;
  }

  public readonly options: ProvisionerOptions;
  private readonly perBuild: { builder: Builder; props: Partial<P> }[] = [];

  protected constructor(
    scope: Construct, id: string, type: string, config: Record<string, unknown>,
    declaration: ComponentDeclaration | undefined, options: ProvisionerOptions = {},
  ) {
    super(scope, id, 'provisioner', type, config, declaration);
    Object.defineProperty(this, PROVISIONER, { value: true });
    this.options = options;
  }

  /**
   * Different settings for one build. Lists are merged element by element with
   * the base settings (Packer's `override`): the first item replaces the first.
   */
  public overrideFor(builder: Builder, props: Partial<P>): void {
    this.perBuild.push({ builder, props });
  }

  /** @internal */
  public _renderOverrides(): { builder: Builder; config: Record<string, unknown> }[] {
    return this.perBuild.map(({ builder, props }) => ({
      builder,
      config: this.declaration ? propsToConfig(this.declaration, props) : { ...(props as Record<string, unknown>) },
    }));
  }
}

export interface RawProvisionerProps extends ProvisionerOptions {
  /** The provisioner type, e.g. `ansible`. */
  readonly type: string;
  /** The config, keyed as in Packer JSON. */
  readonly config?: Record<string, unknown>;
}

/** Escape hatch: a provisioner of any type, config written as in Packer JSON. */
export class RawProvisioner extends Provisioner {
  constructor(scope: Construct, id: string, props: RawProvisionerProps) {
    super(scope, id, props.type, { ...props.config }, undefined, props);
  }
}
