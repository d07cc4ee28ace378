import { declareComponent } from '../../../template/component';

/** Turns the tar file of an exported container (docker builder with `export_path`) into an image. */
export const dockerImportPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'docker-import',
  summary: 'Imports an exported container filesystem (or an artifice tar) as a Docker image.',
  fields: {
    repository: { kind: 'string', doc: 'Repository of the new image.', default: '- none' },
    tag: { kind: 'string', doc: 'Tag of the new image in `repository`.', default: '- none (Docker uses `latest`)' },
    changes: {
      kind: 'string-list',
      doc: 'Dockerfile instructions applied on import (ENV, LABEL, EXPOSE, WORKDIR, USER, CMD, ENTRYPOINT, VOLUME, ONBUILD).',
      default: '- none',
    },
  },
});
