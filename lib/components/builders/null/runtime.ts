import type { Artifact, BuilderRuntime, GeneratedData } from '../../../engine/types';

/** Packer's id for artifacts of the null builder. */
export const NULL_BUILDER_ID = 'fnoeding.null';

/** What Packer 1.6.6's StepProvision hands provisioners when the builder serves no HTTP. */
const NO_HTTP = {
  PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER',
} as const;

/** The null builder's artifact: nothing was made, so there is nothing to remove. */
export class NullArtifact implements Artifact {
  public readonly builderId = NULL_BUILDER_ID;
  public readonly id = 'Null';
  public readonly files: readonly string[] = [];
  /** As in Packer, post-processors see only the id, not the provisioners' data. */
  public readonly state = { generated_data: { ID: 'Null' } };

  public describe(): string {
    return 'Did not export anything. This is the null builder';
  }

  public async destroy(): Promise<void> {
    // Nothing to remove.
  }
}

/**
 * The data provisioners get with `communicator: none`. Packer stores no
 * communicator settings then, so `{{ build `Host` }}` and the other
 * connection keys are absent and render as `<no value>`.
 */
export function noneGeneratedData(runId: string): GeneratedData {
  return { ID: 'Null', PackerRunUUID: runId, ...NO_HTTP };
}

/**
 * Runs the provisioners against a machine that already exists, or against
 * none at all (`communicator: none`, for provisioners that run locally such
 * as shell-local and breakpoint). Creates nothing, so it registers no cleanup.
 */
export const builder: BuilderRuntime = {
  async run(env, config, provision) {
    const communicator = typeof config.communicator === 'string' && config.communicator ? config.communicator : 'ssh';
    if (communicator !== 'none') {
      throw new Error(`the ${communicator} communicator is not available yet in this version of Kiln; `
        + 'the null builder can only run with "communicator": "none" (provisioners that run locally, such as shell-local)');
    }
    // Packer installs a "none" communicator here; Kiln passes none, so a
    // provisioner that needs a connection says so instead of failing to upload.
    await provision(undefined, noneGeneratedData(env.runId));
    return new NullArtifact();
  },
};
