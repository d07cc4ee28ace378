import { declareComponent } from '../../../template/component';

/** Records each build's artifact in a JSON file that later runs append to. */
export const manifestPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'manifest',
  summary: 'Appends the build\'s name, type, time, files and artifact ID to a JSON manifest; passes the artifact on unchanged.',
  fields: {
    output: { kind: 'string', doc: 'Path of the manifest file; entries are appended to an existing one.', default: '"packer-manifest.json"' },
    strip_path: { kind: 'boolean', doc: 'Record only the base name of each file, without its directory.', default: 'false' },
    strip_time: { kind: 'boolean', doc: 'Leave the `build_time` field out of the entry.', default: 'false' },
    custom_data: {
      kind: 'string-map',
      doc: 'Extra key/value pairs stored in the entry; values may use `{{build ...}}` data, rendered at run time.',
      default: '- none',
    },
  },
});
