import { declareComponent } from '../../../template/component';
import { checkCommunicator } from '../../communicators/check';
import { communicatorFields, sshFields, winrmFields } from '../../communicators/fields';

/**
 * The null builder creates nothing: it connects to a machine that already
 * exists and runs the provisioners there. Its only settings are the
 * communicator's.
 */
export const nullBuilder = declareComponent({
  kind: 'builder',
  type: 'null',
  summary: 'Connects to an existing machine (or to none) and runs the provisioners; produces no image.',
  fields: {
    ...communicatorFields,
    ...sshFields,
    ...winrmFields,
  },
  check(config, ctx) {
    // The null builder has no container, so the docker communicators can never
    // find a host: Packer rejects them with "a Host must be specified".
    return checkCommunicator(config, 'ssh', {
      requireHost: true,
      allowed: ['ssh', 'winrm', 'none'],
      cwd: ctx.cwd,
      warn: (m) => ctx.warn(m),
    });
  },
});
