import type { Artifact, BuilderRuntime, GeneratedData } from '../../../engine/types';
import { parseDuration } from '../../../template/schema';
import { connectSsh, SshConfig, SshPlan, sshPlan } from '../../communicators/ssh';
import { NO_HTTP } from '../generated-data';

/** Packer's id for artifacts of the null builder. */
export const NULL_BUILDER_ID = 'fnoeding.null';

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
 * The data provisioners get with the ssh communicator: the connection
 * settings as the template gave them (Packer's `communicator_config`).
 */
export function sshGeneratedData(runId: string, config: Readonly<Record<string, unknown>>): GeneratedData {
  return {
    ID: 'Null',
    Host: config.ssh_host ?? '',
    Port: config.ssh_port || 22,
    User: config.ssh_username ?? '',
    Password: config.ssh_password ?? '',
    ConnType: 'ssh',
    PackerRunUUID: runId,
    ...NO_HTTP,
    SSHPublicKey: '',
    SSHPrivateKey: '',
    SSHAgentAuth: config.ssh_agent_auth ?? false,
    WinRMPassword: config.winrm_password ?? '',
  };
}

/**
 * Runs the provisioners against a machine that already exists (over ssh,
 * the default communicator), or against none at all (`communicator: none`,
 * for provisioners that run locally such as shell-local and breakpoint).
 * Creates nothing; the only thing it opens, the SSH connection, is closed
 * by the build's cleanups.
 */
export const builder: BuilderRuntime = {
  async run(env, config, provision) {
    const communicator = typeof config.communicator === 'string' && config.communicator ? config.communicator : 'ssh';
    if (communicator === 'none') {
      // Packer installs a "none" communicator here; Kiln passes none, so a
      // provisioner that needs a connection says so instead of failing to upload.
      await provision(undefined, noneGeneratedData(env.runId));
      return new NullArtifact();
    }
    if (communicator !== 'ssh') {
      throw new Error(`the ${communicator} communicator is not supported by Kiln; the null builder can connect with "ssh" (the default) or use "none"`);
    }
    const cwd = env.interpolation.cwd ?? process.cwd();
    let plan: SshPlan;
    try {
      plan = sshPlan(config as Partial<SshConfig>, cwd);
    } catch (e) {
      env.ui.error(`Error waiting for SSH: ${(e as Error).message}`);
      throw e;
    }
    const pause = typeof config.pause_before_connecting === 'string' && config.pause_before_connecting
      ? parseDuration(config.pause_before_connecting) : 0;
    const comm = await connectSsh(env, plan, pause);
    await provision(comm, sshGeneratedData(env.runId, config));
    return new NullArtifact();
  },
};
