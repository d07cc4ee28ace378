import { declareComponent } from '../../../template/component';

/** Writes the image to a tar file with `docker save`. */
export const dockerSavePostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'docker-save',
  summary: 'Saves a committed, imported or tagged Docker image to a tar file; passes the image on unchanged.',
  fields: {
    path: { kind: 'string', doc: 'Local path of the tar file to write.', default: '- none (saving then fails at run time)' },
  },
  check(config, ctx) {
    if (!config.path) ctx.warn('"path" is not set: saving will fail at run time');
    return [];
  },
});
