import { declareComponent } from '../../../template/component';

/** The hash functions the checksum post-processor offers. */
export const CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

/** Writes checksums of the artifact's files. */
export const checksumPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'checksum',
  summary: 'Computes checksums of the artifact\'s files and appends them to checksum files; passes the files on with them.',
  fields: {
    checksum_types: {
      kind: 'string-list',
      doc: 'Hash functions to use, each giving its own file: `md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`. An empty list writes nothing.',
      default: '["md5"]',
    },
    output: {
      kind: 'string',
      doc: 'Path of each checksum file, rendered per file and type with `{{.BuildName}}`, `{{.BuilderType}}` and `{{.ChecksumType}}`; lines are appended to an existing file.',
      default: '"packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum"',
      renderAtRuntime: true,
    },
  },
  check(config) {
    const allowed: readonly string[] = CHECKSUM_TYPES;
    return (config.checksum_types ?? [])
      .filter((t) => !allowed.includes(t))
      .map((t) => `"checksum_types" entries must be one of ${CHECKSUM_TYPES.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(t)}`);
  },
});
