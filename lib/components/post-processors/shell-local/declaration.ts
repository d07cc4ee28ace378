import { declareComponent } from '../../../template/component';
import { checkShellLocal, shellLocalFields } from '../../provisioners/shell-local/fields';

/**
 * Runs commands or scripts on the machine running Kiln after a build. It
 * always passes its input artifact on, whatever `keep_input_artifact` says.
 */
export const shellLocalPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'shell-local',
  summary: 'Runs commands or scripts on the machine running Kiln after the build; passes the artifact on unchanged.',
  fields: {
    ...shellLocalFields,
    execute_command: {
      ...shellLocalFields.execute_command,
      doc: 'Program and arguments that run each script, without a shell in between; `{{.Vars}}` is the variables, `{{.Script}}` the script\'s path. A one-element list, or a string without commas, gets `sh -c` put in front, as in older versions.',
    },
  },
  check: checkShellLocal,
});
