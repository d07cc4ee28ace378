import { declareComponent } from '../../../template/component';

/** Stops the build until the user presses Enter, to inspect the machine half-way. */
export const breakpointProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'breakpoint',
  summary: 'Pauses the build until Enter is pressed; needs a terminal.',
  fields: {
    note: { kind: 'string', doc: 'Text shown with the pause, to tell breakpoints apart.', default: '- none' },
    disable: { kind: 'boolean', doc: 'Skip this breakpoint (a message still says it was reached).', default: 'false' },
  },
});
