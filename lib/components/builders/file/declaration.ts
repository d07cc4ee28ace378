import { declareComponent } from '../../../template/component';

/** Writes one local file, copied from another file or from inline content; no machine is involved. */
export const fileBuilder = declareComponent({
  kind: 'builder',
  type: 'file',
  summary: 'Creates a local file from another file or from inline content; provisioners run against a stand-in that does nothing.',
  fields: {
    target: { kind: 'string', required: true, doc: 'Path of the file to create; missing parent directories are created.' },
    source: { kind: 'string', localPath: true, doc: 'Local file whose bytes are copied to `target`.', default: '- none' },
    content: { kind: 'string', doc: 'Text written to `target` (mode 0600); template expressions in it are rendered.', default: '- none' },
  },
  check(config, ctx) {
    const errors: string[] = [];
    if (config.source && config.content) errors.push('only one of "source" and "content" may be set');
    if (!config.source && !config.content) ctx.warn('neither "source" nor "content" is set: "target" will be an empty file');
    return errors;
  },
});
