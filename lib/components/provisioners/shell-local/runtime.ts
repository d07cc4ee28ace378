import type { ShellLocalConfig } from './fields';
import { runShellLocal } from './run-local';
import type { ProvisionerRuntime } from '../../../engine/types';

/**
 * Runs commands or scripts on the machine running Kiln, between the other
 * provisioners. It needs no communicator; `{{ build `...` }}` values come
 * from the builder's generated data.
 */
export const provisioner: ProvisionerRuntime = {
  async provision(env, config, _communicator, data) {
    await runShellLocal({ env, config: config as ShellLocalConfig, data: data ?? {}, stage: 'provisioner' });
  },
};
