import * as fs from 'fs';
import * as path from 'path';
import { declareComponent } from '../../../template/component';

/**
 * Copies files and directories between the machine running Kiln and the
 * machine being built. Packer 1.6.6 has no `content` key: it came later.
 */
export const fileProvisioner = declareComponent({
  kind: 'provisioner',
  type: 'file',
  summary: 'Uploads local files or directories to the machine being built, or downloads them from it.',
  fields: {
    source: {
      kind: 'string',
      localPath: true,
      doc: 'File or directory to copy; added after `sources`. For a directory, a trailing `/` copies its contents rather than the directory itself.',
      default: '- none; "source" or "sources" must be set',
    },
    sources: {
      kind: 'string-list',
      localPath: true,
      doc: 'Several files or directories to copy to the same destination, which should then end with `/`.',
      default: '- none; "source" or "sources" must be set',
    },
    destination: {
      kind: 'string',
      required: true,
      doc: 'Where the copy goes. A trailing `/` means "into this directory, keeping the name"; parent directories must already exist on the machine.',
    },
    direction: {
      kind: 'string',
      doc: '`upload` copies from the machine running Kiln to the machine being built; `download` copies the other way.',
      default: '"upload"',
    },
    generated: {
      kind: 'boolean',
      doc: 'The sources are created by an earlier step: check that they exist when they are copied, not when the template is validated.',
      default: 'false',
    },
  },
  check(config, ctx) {
    const errors: string[] = [];
    const direction = config.direction || 'upload';
    if (direction !== 'upload' && direction !== 'download') {
      errors.push(`"direction" must be "upload" or "download", got ${JSON.stringify(config.direction)}`);
    }
    const sources = [...(config.sources ?? []), ...(config.source ? [config.source] : [])];
    if (sources.length === 0) errors.push('"source" or "sources" must be set: the files to copy');
    if (direction === 'upload' && !config.generated) {
      for (const source of sources) {
        const abs = path.resolve(ctx.cwd, source);
        if (!fs.existsSync(abs)) {
          errors.push(`source ${JSON.stringify(source)} does not exist (resolved to ${abs}); set "generated": true if an earlier step creates it`);
        }
      }
    }
    return errors;
  },
});
