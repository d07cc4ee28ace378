import { createHash, Hash } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { checksumPostProcessor } from './declaration';
import { abortError } from '../../../engine/build';
import type { BuildEnvironment, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { goPathError } from '../compress/go-errors';
import { generatedDataOf } from '../compress/runtime';
import { FilesArtifact } from '../files-artifact';

/**
 * checksum: for each checksum type and each file of the artifact, appends
 * `<hex digest>\t<base name>\n` to the file named by `output`, rendered with
 * `{{.BuildName}}`, `{{.BuilderType}}`, `{{.ChecksumType}}` and the
 * artifact's generated data. Files are appended to, never truncated, as in
 * Packer. Returns the input files plus the checksum files it created, and
 * forces its input to be kept.
 *
 * Each input file is read once for all the requested types (Packer reads it
 * once per type); the digests and the order of the lines are the same. Each
 * line goes out in one append, so builds writing to one checksum file at the
 * same time do not mix their lines.
 */

export const CHECKSUM_BUILDER_ID = 'packer.post-processor.checksum';

const DEFAULT_OUTPUT = 'packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum';

/** Node's names for Packer's checksum types. */
const ALGORITHMS: Readonly<Record<string, string>> = {
  md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512',
};

type ChecksumConfig = ConfigOf<typeof checksumPostProcessor.fields>;

/** Reads `file` once and returns its digest (hex) for each of `types`. */
async function digests(env: BuildEnvironment, given: string, abs: string, types: readonly string[]): Promise<Map<string, string>> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(abs, 'r');
  } catch (e) {
    throw new Error(`unable to open file ${given}: ${goPathError('open', given, e)}`);
  }
  const hashes = new Map<string, Hash>(types.map((t) => [t, createHash(ALGORITHMS[t])]));
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) {
      if (env.signal.aborted) throw abortError(env.signal);
      for (const h of hashes.values()) h.update(chunk as Buffer);
    }
  } catch (e) {
    if (env.signal.aborted) throw abortError(env.signal);
    throw new Error(`unable to compute ${types[0]} hash for ${given}`);
  } finally {
    await handle.close();
  }
  return new Map([...hashes].map(([t, h]) => [t, h.digest('hex')]));
}

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env, rawConfig, input) {
    const config = rawConfig as ChecksumConfig;
    const cwd = env.interpolation.cwd ?? process.cwd();
    const types = config.checksum_types ?? ['md5'];
    for (const t of types) if (!ALGORITHMS[t]) throw new Error(`Unrecognized checksum type: ${t}`);
    const baseData = {
      ...generatedDataOf(input),
      BuildName: env.interpolation.buildName ?? env.build.name,
      BuilderType: env.interpolation.buildType ?? env.build.type,
    };

    const computed = new Map<string, Map<string, string>>();
    const files = [...input.files];
    for (const type of types) {
      for (const file of input.files) {
        const output = renderRepeatedly(config.output || DEFAULT_OUTPUT, { ...env.interpolation, stage: 'post-processor', data: { ...baseData, ChecksumType: type } });
        const absOutput = path.resolve(cwd, output);
        let sums = computed.get(file);
        if (!sums) {
          sums = await digests(env, file, path.resolve(cwd, file), types);
          computed.set(file, sums);
        }
        if (!fs.existsSync(absOutput)) files.push(output);
        try {
          await fsp.mkdir(path.dirname(absOutput), { recursive: true, mode: 0o755 });
        } catch (e) {
          throw new Error(`unable to create dir: ${goPathError('mkdir', path.dirname(output), e)}`);
        }
        try {
          await fsp.appendFile(absOutput, `${sums.get(type)}\t${path.basename(file)}\n`, { mode: 0o644 });
        } catch (e) {
          throw new Error(`unable to create file ${output}: ${goPathError('open', output, e)}`);
        }
      }
    }
    return { artifact: new FilesArtifact(CHECKSUM_BUILDER_ID, files, cwd), keep: true, forceKeep: true };
  },
};
