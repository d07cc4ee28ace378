import { declareComponent } from '../../../template/component';

/** Tags the image made by the docker builder (with `commit`) or by docker-import. */
export const dockerTagPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'docker-tag',
  summary: 'Tags a committed or imported Docker image; passes the tagged image on.',
  fields: {
    repository: { kind: 'string', doc: 'Repository to tag the image into, e.g. `registry.example.com/team/app`.', default: '- none (tagging then fails at run time)' },
    tags: { kind: 'string-list', doc: 'Tags to give the image in `repository`; with none the image is tagged `latest`.', default: '- none' },
    tag: {
      kind: 'string-list',
      doc: 'Old name of `tags`. Its tags are still applied, after those of `tags`.',
      default: '- none',
      deprecated: 'use tags',
    },
    force: {
      kind: 'boolean',
      doc: 'Passed `-f` to `docker tag` on Docker older than 1.12, which Kiln does not support.',
      default: 'false',
      deprecated: 'Docker 1.12 and later always move an existing tag; remove it',
    },
  },
  check(config, ctx) {
    if (!config.repository) ctx.warn('"repository" is not set: tagging will fail at run time');
    return [];
  },
});
