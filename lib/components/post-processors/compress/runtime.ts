import * as fsp from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { Readable, Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { BgzfStream } from './bgzf';
import type { compressPostProcessor } from './declaration';
import { GzipStream, gzipHeader, gzipTrailer, ParallelDeflater } from './deflate';
import { goList, goPathError } from './go-errors';
import { Lz4FrameStream } from './lz4';
import { PartialFile, resolveFrom } from './partial-file';
import { BufferPool, freshBuffers, Piece, PieceWriter, pooledBuffers, readPieces } from './pieces';
import { ArchiveInput, tarArchive } from './tar';
import { createXzStream, xzThreads } from './xz';
import { zipArchive } from './zip';
import { abortError } from '../../../engine/build';
import type { Artifact, BuildEnvironment, GeneratedData, PostProcessResult, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';

/**
 * compress: packs the input artifact's files into one archive (tar or zip),
 * compressed or not, or compresses its single file, as Packer 1.6.6 does:
 * same format detection, same archive layout, same UI lines and errors.
 *
 * Differences, all on the side of safety: the archive is written under a
 * temporary name next to `output` and renamed when complete, so a failed or
 * cancelled run leaves nothing at `output` (Packer leaves a partial or empty
 * file there); and an artifact with the wrong number of files for a
 * single-file format is refused before anything is created.
 */

export const COMPRESS_BUILDER_ID = 'packer.post-processor.compress';

const DEFAULT_OUTPUT = 'packer_{{.BuildName}}_{{.BuilderType}}';

type CompressConfig = ConfigOf<typeof compressPostProcessor.fields>;

type Algorithm = 'pgzip' | 'lz4' | 'bgzf' | 'xz';
const EXTENSIONS: Readonly<Record<string, Algorithm | 'tar' | 'zip'>> = { tar: 'tar', zip: 'zip', gz: 'pgzip', lz4: 'lz4', bgzf: 'bgzf', xz: 'xz' };

/** What the post-processor will do: Packer's `Archive` and `Algorithm`. */
export interface CompressPlan {
  readonly archive?: 'tar' | 'zip';
  readonly algorithm?: Algorithm;
}

/**
 * Packer's `detectFromFilename`, run on the unrendered `output` (or on
 * `output + "." + format`), starting from the internal `archive` and
 * `algorithm` keys when a template sets them.
 */
export function planOf(config: Pick<CompressConfig, 'output' | 'format' | 'archive' | 'algorithm'>): CompressPlan {
  const output = config.output || DEFAULT_OUTPUT;
  const name = config.format ? `${output}.${config.format}` : output;
  const exts = [...name.matchAll(/\.([a-z0-9]+)/g)].map((m) => m[1]);
  let archive: string | undefined = config.archive;
  let algorithm: string | undefined = config.algorithm;
  const finish = (): CompressPlan => ({
    ...(archive === 'tar' || archive === 'zip' ? { archive } : {}),
    ...(algorithm === 'pgzip' || algorithm === 'lz4' || algorithm === 'bgzf' || algorithm === 'xz' ? { algorithm } : {}),
  });
  if (exts.length === 0) return { archive: 'tar', algorithm: 'pgzip' };
  const last = exts[exts.length - 1];
  if (exts.length > 1 && exts[exts.length - 2] === 'tar') archive = 'tar';
  if (last === 'zip' || last === 'tar') {
    archive = last;
    return finish();
  }
  const known = EXTENSIONS[last];
  if (known) {
    algorithm = known;
    return finish();
  }
  return { archive: 'tar', algorithm: 'pgzip' };
}

/**
 * Packer's level rules: above 9 counts as 9, 0 and -1 mean the default;
 * pgzip also takes -2 (Huffman coding only), bgzf does not.
 */
export function levelFor(algorithm: Algorithm, configured: number | undefined): number {
  let level = configured ?? 0;
  if (level > 9) level = 9;
  if (level === 0) level = -1;
  const lowest = algorithm === 'pgzip' ? -2 : -1;
  if ((algorithm === 'pgzip' || algorithm === 'bgzf') && level < lowest) {
    throw new Error(`error creating ${algorithm} writer: Invalid compression level. Expected an integer from -1 to 9.`);
  }
  return level;
}

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function compressor(algorithm: Algorithm, level: number): Transform | NodeJS.ReadWriteStream {
  switch (algorithm) {
    case 'pgzip':
      return level === -2 ? new GzipStream(-1, { huffmanOnly: true }) : new GzipStream(level);
    case 'bgzf':
      return new BgzfStream(level);
    case 'lz4':
      return new Lz4FrameStream();
    case 'xz':
      return createXzStream();
  }
}

/** The archive (or compressed file) that compress made. */
export class CompressArtifact implements Artifact {
  public readonly builderId = COMPRESS_BUILDER_ID;
  public readonly id = '';
  public readonly files: readonly string[];
  public readonly state = {};

  constructor(private readonly output: string, private readonly absPath: string) {
    this.files = [output];
  }

  public describe(): string {
    return `compressed artifacts in: ${this.output}`;
  }

  /** Removes the archive; fails if it is gone, as Packer's `os.Remove` does. */
  public async destroy(): Promise<void> {
    await fsp.unlink(this.absPath);
  }
}

/** The builder's generated data carried by an artifact (`generated_data` state). */
export function generatedDataOf(artifact: Artifact): GeneratedData {
  const data = artifact.state.generated_data;
  return data && typeof data === 'object' && !Array.isArray(data) ? data as GeneratedData : {};
}

/**
 * Creates the parent directories of `target` (0755); on failure, Go's
 * MkdirAll message, which names the path where it stopped.
 */
async function makeParents(cwd: string | undefined, target: string): Promise<void> {
  const dir = path.dirname(target);
  try {
    await fsp.mkdir(resolveFrom(cwd, dir), { recursive: true, mode: 0o755 });
  } catch (e) {
    // Find the deepest ancestor that exists: MkdirAll fails there (not a directory) or just below it.
    let failing = dir;
    let reason = e;
    for (let d = dir; ; d = path.dirname(d)) {
      const st = await fsp.stat(resolveFrom(cwd, d)).catch(() => undefined);
      if (st) {
        if (!st.isDirectory()) {
          failing = d;
          reason = Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
        }
        break;
      }
      failing = d;
      if (path.dirname(d) === d) break;
    }
    throw new Error(`Unable to create dir for archive ${target}: ${goPathError('mkdir', failing, reason)}`);
  }
}

/** Read buffers for the direct path: 4 MiB each, and enough of them to keep reads, compression and writes all busy. */
const READ_SIZE = 4 << 20;
const READ_BUFFERS = 8;

async function* pieces(buffers: AsyncIterable<Buffer>): AsyncGenerator<Piece> {
  for await (const data of buffers) yield { data };
}

async function* dataOf(source: AsyncIterable<Piece>): AsyncGenerator<Buffer> {
  for await (const piece of source) yield piece.data;
}

/**
 * Writes `source` to `writer`, gzipped (in parallel blocks) when `level` is
 * set, else as it comes; input buffers are reused as soon as their bytes are
 * written. On failure or cancellation, waits for the write under way.
 */
async function writeDirect(source: AsyncIterable<Piece>, writer: PieceWriter, level: number | undefined, signal: AbortSignal): Promise<void> {
  const huffmanOnly = level === -2;
  const gzipLevel = huffmanOnly ? -1 : level;
  const deflater = gzipLevel === undefined ? undefined : new ParallelDeflater({ level: gzipLevel, huffmanOnly }, (p) => writer.add(p));
  try {
    if (gzipLevel !== undefined) writer.add({ data: gzipHeader(gzipLevel) });
    for await (const piece of source) {
      if (signal.aborted) {
        piece.release?.();
        throw abortError(signal);
      }
      if (deflater) await deflater.write(piece);
      else writer.add(piece);
      await writer.room();
    }
    if (deflater) {
      await deflater.end();
      writer.add({ data: gzipTrailer(deflater.crc, deflater.size) });
    }
    await writer.flush();
  } catch (e) {
    deflater?.abandon();
    await writer.flush().catch(() => undefined);
    throw e;
  }
}

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, input: Artifact): Promise<PostProcessResult> {
    const config = rawConfig as CompressConfig;
    const { ui, signal } = env;
    const cwd = env.interpolation.cwd;
    const plan = planOf(config);

    let target: string;
    try {
      target = renderRepeatedly(config.output || DEFAULT_OUTPUT, {
        ...env.interpolation,
        stage: 'post-processor',
        data: {
          ...generatedDataOf(input),
          BuildName: env.interpolation.buildName ?? env.build.name,
          BuilderType: env.interpolation.buildType ?? env.build.type,
        },
      });
    } catch (e) {
      throw new Error(`Error interpolating output value: ${(e as Error).message}`);
    }
    const absTarget = resolveFrom(cwd, target);
    await makeParents(cwd, target);

    let out: PartialFile;
    try {
      out = await PartialFile.create(env, absTarget);
    } catch (e) {
      throw new Error(`Unable to create archive ${target}: ${goPathError('open', target, e)}`);
    }

    try {
      let level: number | undefined;
      if (plan.algorithm) {
        const note = plan.algorithm === 'xz' ? `${xzThreads()} core${xzThreads() === 1 ? '' : 's'}` : `${cores()} cores`;
        ui.say(`Using ${plan.algorithm} compression with ${note} for ${target}`);
        level = levelFor(plan.algorithm, config.compression_level); // a bad level fails after that line, as in Packer
      }
      const compression = plan.algorithm ?? 'no compression';
      const inputs: ArchiveInput[] = input.files.map((f) => ({ given: f, abs: resolveFrom(cwd, f) }));
      // tar and gzip (the common case) go through reused buffers straight to the file; the other
      // formats through Node streams.
      const direct = plan.archive !== 'zip' && (plan.algorithm === undefined || plan.algorithm === 'pgzip');
      const buffers = direct ? pooledBuffers(new BufferPool(READ_SIZE, READ_BUFFERS)) : freshBuffers();

      let source: AsyncIterable<Piece>;
      let prefix: string;
      let readPath: string | undefined;
      let handle: fsp.FileHandle | undefined;
      if (plan.archive === 'tar') {
        ui.say(`Tarring ${target} with ${compression}`);
        source = tarArchive(inputs, buffers);
        prefix = 'Error creating tar: ';
      } else if (plan.archive === 'zip') {
        ui.say(`Zipping ${target}`);
        source = pieces(zipArchive(inputs));
        prefix = 'Error creating zip: ';
      } else {
        if (inputs.length !== 1) {
          throw new Error(`Can only have 1 input file when not using tar/zip. Found ${inputs.length} files: ${goList(input.files)}`);
        }
        const only = inputs[0];
        ui.say(`Archiving ${only.given} with ${compression}`);
        try {
          handle = await fsp.open(only.abs, 'r');
        } catch (e) {
          throw new Error(`Failed to open source file ${only.given} for reading: ${goPathError('open', only.given, e)}`);
        }
        source = readPieces(handle, buffers);
        prefix = `Failed to compress ${only.given}: `;
        readPath = only.given;
      }

      let writeError: unknown;
      try {
        if (direct) {
          const writer = out.pieceWriter();
          try {
            await writeDirect(source, writer, level, signal);
          } finally {
            writeError = writer.failure;
          }
        } else {
          const sink = out.writable();
          sink.once('error', (e) => {
            writeError = e;
          });
          const stages = plan.algorithm ? [compressor(plan.algorithm, level!)] : [];
          await pipeline([Readable.from(dataOf(source), { objectMode: false }), ...stages, sink] as NodeJS.ReadWriteStream[], { signal });
        }
      } catch (e) {
        if (signal.aborted) throw abortError(signal);
        let inner: string;
        if (writeError) inner = goPathError('write', target, writeError);
        else if (readPath && (e as NodeJS.ErrnoException).code) inner = goPathError('read', readPath, e);
        else inner = (e as Error).message;
        throw new Error(prefix + inner);
      } finally {
        await handle?.close().catch(() => undefined);
      }
      await out.commit();
    } catch (e) {
      await out.discard();
      if (signal.aborted) throw abortError(signal);
      throw e;
    }
    ui.say(`Archive ${target} completed`);
    return { artifact: new CompressArtifact(target, absTarget), keep: false, forceKeep: false };
  },
};
