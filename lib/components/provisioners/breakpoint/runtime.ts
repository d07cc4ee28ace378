import { abortError } from '../../../engine/build';
import type { ProvisionerRuntime } from '../../../engine/types';

interface BreakpointConfig {
  readonly note?: string;
  readonly disable?: boolean;
}

/**
 * Stops the build until Enter is pressed, to look at the machine half-way.
 *
 * Difference from Packer 1.6.6: without a terminal (CI, `-machine-readable`)
 * Packer fails the build with `Error asking for input: no available tty`.
 * Kiln says the breakpoint is skipped and carries on, so a template with
 * breakpoints left in it still builds unattended.
 */
export const provisioner: ProvisionerRuntime = {
  async provision(env, raw) {
    const { ui, signal } = env;
    const config = raw as BreakpointConfig;
    const withNote = config.note ? ` with note "${config.note}"` : '';
    if (config.disable) {
      ui.say(`Breakpoint provisioner${withNote} disabled; continuing...`);
      return;
    }
    ui.say(`Pausing at breakpoint provisioner${withNote}.`);
    let answered: Promise<string>;
    try {
      answered = ui.ask('Press enter to continue.', signal);
    } catch (e) {
      answered = Promise.reject(e);
    }
    try {
      await answered;
    } catch {
      if (signal.aborted) throw abortError(signal);
      ui.say('No terminal to wait on: skipping the breakpoint and continuing...');
    }
  },
};
