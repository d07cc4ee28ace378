import * as fsp from 'fs/promises';
import * as path from 'path';
import type { manifestPostProcessor } from './declaration';
import { withFileLock } from './lock';
import type { Artifact, BuildEnvironment, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { goPathError } from '../compress/go-errors';
import { PartialFile } from '../compress/partial-file';
import { generatedDataOf } from '../compress/runtime';

/**
 * manifest: appends an entry for the build's artifact to a JSON file, in
 * Packer 1.6.6's layout (2-space indentation, Go's escaping of `<`, `>` and
 * `&`, no final newline), keeping the entries of earlier runs unless `-force`
 * is given and the file was last written by another run. Passes its input on
 * and forces it to be kept.
 *
 * Safer than Packer: the read-modify-write happens under `<output>.lock`,
 * waited for as long as needed (Packer gives up after three tries and writes
 * anyway, and then deletes the other writer's lock), and the new content is
 * written to a temporary file that replaces the manifest in one rename, so a
 * reader never sees half a file.
 */

type ManifestConfig = ConfigOf<typeof manifestPostProcessor.fields>;

interface ManifestFileEntry {
  readonly name: string;
  readonly size: number;
}

/** One build, with its keys in Packer's order. */
export interface ManifestBuild {
  readonly name: string;
  readonly builder_type: string;
  readonly build_time?: number;
  readonly files: ManifestFileEntry[] | null;
  readonly artifact_id: string;
  readonly packer_run_uuid: string;
  readonly custom_data: Record<string, string> | null;
}

export interface Manifest {
  builds: ManifestBuild[] | null;
  last_run_uuid: string;
}

/** Go's encoding/json decodes keys case-insensitively when there is no exact match. */
function field(obj: Record<string, unknown>, key: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return obj[key];
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key);
  return k === undefined ? undefined : obj[k];
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function mismatch(v: unknown, where: string, goType: string): Error {
  return new Error(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${where} of type ${goType}`);
}

function str(v: unknown, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw mismatch(v, where, 'string');
  return v;
}

function int(v: unknown, where: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw mismatch(v, where, 'int64');
  return v;
}

/** Reads an existing manifest the way Packer's struct decoding does: unknown keys dropped, missing ones zero. */
export function decodeManifest(text: string): Manifest {
  const raw: unknown = JSON.parse(text);
  if (raw === null) return { builds: null, last_run_uuid: '' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`json: cannot unmarshal ${jsonType(raw)} into Go value of type manifest.ManifestFile`);
  const top = raw as Record<string, unknown>;
  const buildsRaw = field(top, 'builds');
  let builds: ManifestBuild[] | null = null;
  if (buildsRaw !== undefined && buildsRaw !== null) {
    if (!Array.isArray(buildsRaw)) throw mismatch(buildsRaw, 'ManifestFile.builds', '[]manifest.Artifact');
    builds = buildsRaw.map((b) => {
      if (b === null) return decodeBuild({});
      if (typeof b !== 'object' || Array.isArray(b)) throw mismatch(b, 'ManifestFile.builds', 'manifest.Artifact');
      return decodeBuild(b as Record<string, unknown>);
    });
  }
  return { builds, last_run_uuid: str(field(top, 'last_run_uuid'), 'ManifestFile.last_run_uuid') };
}

function decodeBuild(b: Record<string, unknown>): ManifestBuild {
  const filesRaw = field(b, 'files');
  let files: ManifestFileEntry[] | null = null;
  if (filesRaw !== undefined && filesRaw !== null) {
    if (!Array.isArray(filesRaw)) throw mismatch(filesRaw, 'Artifact.files', '[]manifest.ArtifactFile');
    files = filesRaw.map((f) => {
      if (f !== null && (typeof f !== 'object' || Array.isArray(f))) throw mismatch(f, 'Artifact.files', 'manifest.ArtifactFile');
      const o = (f ?? {}) as Record<string, unknown>;
      return { name: str(field(o, 'name'), 'ArtifactFile.files.name'), size: int(field(o, 'size'), 'ArtifactFile.files.size') };
    });
  }
  const customRaw = field(b, 'custom_data');
  let custom: Record<string, string> | null = null;
  if (customRaw !== undefined && customRaw !== null) {
    if (typeof customRaw !== 'object' || Array.isArray(customRaw)) throw mismatch(customRaw, 'Artifact.custom_data', 'map[string]string');
    custom = {};
    for (const [k, v] of Object.entries(customRaw as Record<string, unknown>)) custom[k] = str(v, 'Artifact.custom_data');
  }
  const time = int(field(b, 'build_time'), 'Artifact.build_time');
  return {
    name: str(field(b, 'name'), 'Artifact.name'),
    builder_type: str(field(b, 'builder_type'), 'Artifact.builder_type'),
    ...(time ? { build_time: time } : {}),
    files,
    artifact_id: str(field(b, 'artifact_id'), 'Artifact.artifact_id'),
    packer_run_uuid: str(field(b, 'packer_run_uuid'), 'Artifact.packer_run_uuid'),
    custom_data: custom,
  };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Go's `json.MarshalIndent(m, "", "  ")`: fixed key order, sorted map keys, HTML characters escaped. */
export function encodeManifest(m: Manifest): string {
  const builds = m.builds?.map((b) => ({
    name: b.name,
    builder_type: b.builder_type,
    ...(b.build_time ? { build_time: b.build_time } : {}),
    files: b.files ? b.files.map((f) => ({ name: f.name, size: f.size })) : null,
    artifact_id: b.artifact_id,
    packer_run_uuid: b.packer_run_uuid,
    custom_data: b.custom_data ? Object.fromEntries(Object.entries(b.custom_data).sort(([x], [y]) => byteOrder(x, y))) : null,
  })) ?? null;
  const text = JSON.stringify({ builds, last_run_uuid: m.last_run_uuid }, null, 2);
  return text
    .replace(/\\(.)/g, (all, c: string) => (c === 'b' ? '\\u0008' : c === 'f' ? '\\u000c' : all))
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function statSize(cwd: string, file: string): Promise<number> {
  try {
    return (await fsp.stat(path.resolve(cwd, file))).size;
  } catch {
    return 0;
  }
}

/** The entry for this build. */
async function entryFor(env: BuildEnvironment, config: ManifestConfig, input: Artifact, cwd: string): Promise<ManifestBuild> {
  let custom: Record<string, string> | null = null;
  if (config.custom_data) {
    custom = {};
    const data = generatedDataOf(input);
    for (const [k, v] of Object.entries(config.custom_data)) {
      try {
        custom[k] = renderRepeatedly(v, { ...env.interpolation, stage: 'post-processor', data });
      } catch (e) {
        throw new Error(`Error interpolating custom data: ${(e as Error).message}`);
      }
    }
  }
  const files: ManifestFileEntry[] = [];
  for (const f of input.files) files.push({ name: config.strip_path ? path.basename(f) : f, size: await statSize(cwd, f) });
  const time = config.strip_time ? 0 : Math.floor(Date.now() / 1000);
  return {
    name: env.interpolation.buildName ?? env.build.name,
    builder_type: env.interpolation.buildType ?? env.build.type,
    ...(time ? { build_time: time } : {}),
    files: files.length ? files : null,
    artifact_id: input.id,
    packer_run_uuid: env.runId,
    custom_data: custom,
  };
}

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env, rawConfig, input) {
    const config = rawConfig as ManifestConfig;
    const cwd = env.interpolation.cwd ?? process.cwd();
    const output = config.output || 'packer-manifest.json';
    const entry = await entryFor(env, config, input, cwd);
    const absOutput = path.resolve(cwd, output);

    await withFileLock(`${absOutput}.lock`, { signal: env.signal }, async () => {
      let text = '';
      try {
        text = await fsp.readFile(absOutput, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Unable to open ${output} for reading: ${goPathError('open', output, e)}`);
      }
      let manifest: Manifest = { builds: null, last_run_uuid: '' };
      if (text.length > 0) {
        try {
          manifest = decodeManifest(text);
        } catch (e) {
          throw new Error(`Unable to parse content from ${output}: ${(e as Error).message}`);
        }
      }
      if (env.force && manifest.last_run_uuid !== env.runId) manifest = { builds: null, last_run_uuid: '' };
      manifest.builds = [...(manifest.builds ?? []), entry];
      manifest.last_run_uuid = env.runId;

      // Written beside the real file (through a symlink, if the manifest is one) and renamed over it.
      const real = await fsp.realpath(absOutput).catch(() => absOutput);
      let file: PartialFile | undefined;
      try {
        file = await PartialFile.create(env, real, 0o664);
        await file.writeAll(encodeManifest(manifest));
        await file.commit();
      } catch (e) {
        await file?.discard();
        throw new Error(`Unable to write ${output}: ${goPathError('open', output, e)}`);
      }
    }).catch((e: NodeJS.ErrnoException) => {
      // The lock file cannot be made where the manifest cannot: report it as Packer reports the write.
      if (e.code && e.syscall === 'open') throw new Error(`Unable to write ${output}: ${goPathError('open', output, e)}`);
      throw e;
    });
    return { artifact: input, keep: true, forceKeep: true };
  },
};
