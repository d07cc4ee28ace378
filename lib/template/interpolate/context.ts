/**
 * Where a string is being rendered. Packer gives each pass a different
 * interpolation context, and several functions only work in some of them.
 */
export type Stage = 'variables' | 'build-name' | 'builder' | 'provisioner' | 'post-processor';

/** Which cloud's `clean_resource_name` a builder adds: they clean names differently. */
export type CleanResourceNameRule = 'generic' | 'amazon';

/** Everything a render needs to know about the pass it runs in. */
export interface InterpolateContext {
  readonly stage: Stage;
  /** rendered user variables (name -> value) */
  readonly userVariables?: Readonly<Record<string, string>>;
  /** absolute path of the template file, for template_dir */
  readonly templatePath?: string;
  readonly buildName?: string;
  readonly buildType?: string;
  /** the `{{.X}}` data; undefined/null means "no data context" */
  readonly data?: Readonly<Record<string, unknown>> | null;
  /**
   * Cloud builders add clean_resource_name to their own configs: `true` with
   * the generic cloud rule, `'amazon'` with the amazon builders' AMI-name rule.
   */
  readonly enableCleanResourceName?: boolean | CleanResourceNameRule;
  /** fixed clock for tests; defaults to the time of the call */
  readonly now?: Date;
  /** env lookup (defaults to process.env) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** working directory for pwd (defaults to process.cwd()) */
  readonly cwd?: string;
}

/** Kiln mimics this Packer release; `packer_version` reports it. */
export const PACKER_COMPATIBILITY_VERSION = '1.6.6';

/** The stages in which a component (and so a build) exists. */
export function isComponentStage(stage: Stage): boolean {
  return stage === 'builder' || stage === 'provisioner' || stage === 'post-processor';
}
