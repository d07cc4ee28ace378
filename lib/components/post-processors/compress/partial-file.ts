import { randomBytes } from 'crypto';
import { once } from 'events';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { PieceWriter } from './pieces';
import type { BuildEnvironment } from '../../../engine/types';

/**
 * A file written under a temporary name in its final directory and renamed
 * into place only once complete, so the final path never holds half a file:
 * it holds the old content (or nothing) until `commit`, and the new, whole
 * content after it.
 *
 * The temporary file is registered with the build's cleanups and with the
 * run's journal from the moment it exists, so it goes away when the build
 * fails or is cancelled, and `kiln cleanup` removes it if the process is
 * killed outright.
 */
export class PartialFile {
  /**
   * Creates `<target>.kiln-partial-<random>` next to `target` (an absolute
   * path) and opens it for writing. If `target` already exists its mode is
   * kept, as when a program truncates and rewrites it in place.
   * Throws the error of `open` (with its `code`) when the file cannot be made.
   */
  public static async create(env: Pick<BuildEnvironment, 'cleanups' | 'journal'>, target: string, mode = 0o666): Promise<PartialFile> {
    const existing = await fsp.stat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw Object.assign(new Error(`EISDIR: is a directory, open '${target}'`), { code: 'EISDIR' });
    const temp = `${target}.kiln-partial-${randomBytes(4).toString('hex')}`;
    const handle = await fsp.open(temp, 'wx', mode);
    const file = new PartialFile(env, target, temp, handle, existing?.isFile() ? existing.mode & 0o7777 : undefined);
    env.journal?.add('file', temp);
    env.cleanups.defer(`partial file ${temp}`, () => file.discard());
    return file;
  }

  private state: 'open' | 'committed' | 'discarded' = 'open';
  private stream?: fs.WriteStream;
  private pieces?: PieceWriter;

  private constructor(
    private readonly env: Pick<BuildEnvironment, 'cleanups' | 'journal'>,
    public readonly target: string,
    public readonly tempPath: string,
    private readonly handle: fsp.FileHandle,
    private readonly keepMode: number | undefined,
  ) {}

  /** A write stream on the temporary file; it closes the file when it ends. */
  public writable(): fs.WriteStream {
    this.stream ??= this.handle.createWriteStream({ highWaterMark: 1 << 20 });
    return this.stream;
  }

  /** A writer of pieces at the end of the temporary file (instead of `writable`). */
  public pieceWriter(): PieceWriter {
    this.pieces ??= new PieceWriter(this.handle);
    return this.pieces;
  }

  /** Writes all of `data` (instead of using `writable`). */
  public async writeAll(data: string | Uint8Array): Promise<void> {
    await this.handle.writeFile(data);
  }

  /** Closes the file and renames it to its final name. */
  public async commit(): Promise<void> {
    if (this.state !== 'open') throw new Error(`${this.tempPath} was already ${this.state}`);
    if (this.stream) {
      if (!this.stream.closed) await once(this.stream, 'close');
    } else {
      await this.handle.close();
    }
    if (this.keepMode !== undefined) await fsp.chmod(this.tempPath, this.keepMode);
    await fsp.rename(this.tempPath, this.target);
    this.state = 'committed';
    this.env.journal?.remove('file', this.tempPath);
  }

  /** Removes the temporary file; harmless after commit or a previous discard. */
  public async discard(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    this.stream?.destroy();
    await this.pieces?.flush().catch(() => undefined); // a write under way finishes before the file goes
    await this.handle.close().catch(() => undefined);
    await fsp.rm(this.tempPath, { force: true });
    this.env.journal?.remove('file', this.tempPath);
  }
}

/** Resolves a path from the template against the build's working directory. */
export function resolveFrom(cwd: string | undefined, p: string): string {
  return path.resolve(cwd ?? process.cwd(), p);
}
