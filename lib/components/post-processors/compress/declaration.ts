import { declareComponent } from '../../../template/component';

/** How the compress post-processor packs its input: an archive, a compression, or both. */
export interface CompressFormat {
  /** Files are put in one archive first; absent: the single input file is compressed as it is. */
  readonly archive?: 'tar' | 'zip';
  /** Compression applied to the archive (or to the single file); absent: none. */
  readonly algorithm?: 'gzip' | 'lz4' | 'bgzf' | 'xz';
  /** The extension that named no known format, so the default (tar + gzip) was used. */
  readonly unknown?: string;
}

const ALGORITHMS: Readonly<Record<string, CompressFormat['algorithm']>> = { gz: 'gzip', lz4: 'lz4', bgzf: 'bgzf', xz: 'xz' };

/**
 * Packer's format detection. It reads the last two `.ext` parts (lower-case
 * letters and digits only) of `output`, or of `output + "." + format` when
 * `format` is set, in the unrendered `output` template. The file name itself is
 * never changed. Anything unrecognised, and a name without extensions, gives a
 * gzip-compressed tar, so every value is accepted, as by Packer.
 *
 * Kiln writes tar, zip, gzip (also `.tgz`, which Packer too treats as tar +
 * gzip), lz4, bgzf and xz. lz4 and xz use native libraries loaded only when
 * used; where they cannot load, the build fails with a clear message.
 */
export function compressFormatOf(output: string, format?: string): CompressFormat {
  const name = format ? `${output}.${format}` : output;
  const exts = [...name.matchAll(/\.([a-z0-9]+)/g)].map((m) => m[1]);
  if (exts.length === 0) return { archive: 'tar', algorithm: 'gzip', ...(format ? { unknown: `.${format}` } : {}) };
  const last = exts[exts.length - 1];
  const before = exts.length > 1 ? exts[exts.length - 2] : undefined;
  if (last === 'tar' || last === 'zip') return { archive: last };
  const algorithm = ALGORITHMS[last];
  if (algorithm) return before === 'tar' ? { archive: 'tar', algorithm } : { algorithm };
  return { archive: 'tar', algorithm: 'gzip', ...(last === 'tgz' ? {} : { unknown: `.${last}` }) };
}

const DEFAULT_OUTPUT = 'packer_{{.BuildName}}_{{.BuilderType}}';

/** Packs the artifact's files into one archive, compressed or not. */
export const compressPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'compress',
  summary: 'Packs the artifact\'s files into a tar or zip archive, or compresses a single file (gzip, lz4, bgzf, xz).',
  fields: {
    output: {
      kind: 'string',
      doc: 'Path of the archive. Its extension picks the format (`.tar.gz`/`.tgz`, `.tar`, `.zip`, `.gz`, `.lz4`, `.bgzf`, `.tar.lz4`...); `{{.BuildName}}` and `{{.BuilderType}}` are available.',
      default: `"${DEFAULT_OUTPUT}" (a gzip-compressed tar)`,
      renderAtRuntime: true,
    },
    format: {
      kind: 'string',
      doc: 'Extension(s) used to pick the format instead of those of `output`, e.g. `tar.gz`; the file name is not changed.',
      default: '- taken from "output"',
    },
    compression_level: {
      kind: 'integer',
      doc: 'Compression level from 1 (fastest) to 9 (smallest), used by gzip, bgzf and xz (lz4 has a single level). Values above 9 count as 9; values below -1 may fail at run time.',
      default: '- the library default (0 and -1 also mean the default)',
    },
    archive: {
      kind: 'string',
      doc: 'Internal to Packer, which derives it from `output` and `format`; a value given here can change the archive in odd ways.',
      default: '- derived from "output"',
      deprecated: 'set the format through the extension of "output", or "format"',
    },
    algorithm: {
      kind: 'string',
      doc: 'Internal to Packer, which derives it from `output` and `format`; a value given here can change the compression in odd ways.',
      default: '- derived from "output"',
      deprecated: 'set the format through the extension of "output", or "format"',
    },
  },
  check(config, ctx) {
    // Every name is valid (unknown extensions fall back to tar + gzip), but an
    // extension that was probably meant as a format deserves a word.
    const detected = compressFormatOf(config.output || DEFAULT_OUTPUT, config.format);
    if (detected.unknown) {
      const where = config.format ? `"format" ${JSON.stringify(config.format)}` : `"output" ${JSON.stringify(config.output)}`;
      ctx.warn(`${where}: the last extension, ${JSON.stringify(detected.unknown)}, is not a format Kiln knows (tar, zip, gz, tgz, lz4, bgzf, xz), so the archive will be a gzip-compressed tar`);
    }
    return [];
  },
});
