import type { Artifact, GeneratedData, PostProcessorRuntime } from '../../../engine/types';
import type { ShellLocalConfig } from '../../provisioners/shell-local/fields';
import { runShellLocal } from '../../provisioners/shell-local/run-local';

/** The builder's generated data carried by an artifact (Packer's `generated_data` state). */
export function generatedDataOf(artifact: Artifact): GeneratedData {
  const data = artifact.state.generated_data;
  return data && typeof data === 'object' && !Array.isArray(data) ? data as GeneratedData : {};
}

/**
 * Runs commands or scripts on the machine running Kiln after the build. As in
 * Packer 1.6.6, it sets no artifact variables of its own (`{{ build `ID` }}`
 * and the rest come from the artifact's generated data), and it hands its
 * input on with keep forced: removing the input needs `artifice`.
 */
export const postProcessor: PostProcessorRuntime = {
  async postProcess(env, config, input) {
    await runShellLocal({ env, config: config as ShellLocalConfig, data: generatedDataOf(input), stage: 'post-processor' });
    return { artifact: input, keep: true, forceKeep: true };
  },
};
