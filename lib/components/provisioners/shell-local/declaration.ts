import { checkShellLocal, shellLocalFields } from './fields';
import { declareComponent } from '../../../template/component';

/** Runs commands or scripts on the machine running Kiln, in the middle of provisioning. */
export const shellLocalProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'shell-local',
  summary: 'Runs commands or scripts on the machine running Kiln, between the other provisioners.',
  fields: shellLocalFields,
  check: checkShellLocal,
});
