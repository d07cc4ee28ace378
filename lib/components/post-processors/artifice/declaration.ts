import { declareComponent } from '../../../template/component';

/** Replaces the artifact with files named in the template, so later post-processors work on them. */
export const artificePostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'artifice',
  summary: 'Makes a new artifact from the given files (for example ones a provisioner downloaded); later post-processors use it.',
  fields: {
    files: {
      kind: 'string-list',
      required: true,
      doc: 'Files (glob patterns allowed) that form the new artifact. Destroying the artifact deletes them.',
    },
  },
});
