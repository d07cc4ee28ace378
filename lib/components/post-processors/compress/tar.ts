import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { goPathError } from './go-errors';
import { freshBuffers, Piece, ReadBuffers, readPieces } from './pieces';

/**
 * The tar archive Packer's compress post-processor writes, byte for byte: GNU
 * format, one entry per file named by its base name, owner and group by id
 * and by name, permission bits kept, times left at zero (Packer clears them),
 * and two zero blocks at the end with no padding to a record size.
 *
 * tar-stream writes ustar/PAX headers with real times, so the headers are
 * made here; the format is a few fixed-width fields.
 */

const BLOCK = 512;
const TYPE_REGULAR = '0';
const TYPE_GNU_LONGNAME = 'L';

/** A file to archive: the path as the artifact lists it, and where it is. */
export interface ArchiveInput {
  readonly given: string;
  readonly abs: string;
}

interface HeaderFields {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly typeflag: string;
  readonly uname: string;
  readonly gname: string;
  /** Go fills in the device numbers for files, not for its GNU long-name records. */
  readonly noDeviceFields?: boolean;
}

/** Writes `s` into `field`, cut to its width, NUL-terminated when shorter. */
function putString(block: Buffer, offset: number, width: number, s: string | Buffer): void {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  bytes.copy(block, offset, 0, Math.min(bytes.length, width));
  if (bytes.length < width) block[offset + bytes.length] = 0;
}

/**
 * Go's numeric fields in GNU format: zero-padded octal and a NUL when the
 * value fits, otherwise base-256 (a 0x80 marker and big-endian bytes), which
 * is how sizes of 8 GiB and more are recorded.
 */
function putNumber(block: Buffer, offset: number, width: number, n: number): void {
  if (n >= 0 && n < 8 ** (width - 1)) {
    putString(block, offset, width, n.toString(8).padStart(width - 1, '0'));
    return;
  }
  let v = BigInt(n);
  for (let i = width - 1; i > 0; i--) {
    block[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[offset] = 0x80;
}

function header(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  putString(b, 0, 100, f.name);
  putNumber(b, 100, 8, f.mode);
  putNumber(b, 108, 8, f.uid);
  putNumber(b, 116, 8, f.gid);
  putNumber(b, 124, 12, f.size);
  putNumber(b, 136, 12, 0); // mtime: Packer sets every time to zero
  b.write(f.typeflag, 156, 'latin1');
  b.write('ustar  \0', 257, 'latin1'); // GNU magic and version
  putString(b, 265, 32, f.uname);
  putString(b, 297, 32, f.gname);
  if (!f.noDeviceFields) {
    putNumber(b, 329, 8, 0); // device major
    putNumber(b, 337, 8, 0); // device minor
  }
  // The checksum counts its own field as eight spaces; it is six octal digits, a NUL and a space.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  putString(b, 148, 7, sum.toString(8).padStart(6, '0'));
  b[155] = 0x20;
  return b;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest ? BLOCK - rest : 0);
}

/** The blocks that announce `name` when it does not fit the 100-byte field (GNU `././@LongLink`). */
function longNameEntry(name: string): Buffer[] {
  const data = Buffer.from(`${name}\0`, 'utf8');
  const h = header({ name: '././@LongLink', mode: 0, uid: 0, gid: 0, size: data.length, typeflag: TYPE_GNU_LONGNAME, uname: '', gname: '', noDeviceFields: true });
  return [h, data, padding(data.length)].filter((b) => b.length > 0);
}

/** name by id from a passwd or group file; the first entry for an id wins. */
function readIds(file: string): Map<number, string> {
  const map = new Map<number, string>();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return map;
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.trim().split(':');
    if (!name || name.startsWith('#') || id === undefined || !/^\d+$/.test(id)) continue;
    if (!map.has(Number(id))) map.set(Number(id), name);
  }
  return map;
}

/** User and group names by id, from /etc/passwd and /etc/group, as Go's os/user reads them. */
class NameDb {
  private users?: Map<number, string>;
  private groups?: Map<number, string>;

  public user(uid: number): string {
    this.users ??= readIds('/etc/passwd');
    return this.users.get(uid) ?? '';
  }

  public group(gid: number): string {
    this.groups ??= readIds('/etc/group');
    return this.groups.get(gid) ?? '';
  }
}

/** `size` bytes of an open file, failing if it turns out shorter. */
async function* fileData(handle: fsp.FileHandle, size: number, given: string, buffers: ReadBuffers): AsyncGenerator<Piece> {
  const shrank = (copied: number): Error => new Error(`Failed to copy ${given} data to archive: ${given} shrank from ${size} to ${copied} bytes while it was being archived`);
  const pieces = readPieces(handle, buffers, size, shrank);
  try {
    for (;;) {
      let next: IteratorResult<Piece>;
      try {
        next = await pieces.next();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === undefined) throw e;
        throw new Error(`Failed to copy ${given} data to archive: ${goPathError('read', given, e)}`);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // When the archive is abandoned here: the reads under way finish and give their buffers back.
    await pieces.return(undefined);
  }
}

/** Opens an input of an archive, failing with Packer's message. */
export async function openArchiveInput(file: ArchiveInput): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(file.abs, 'r');
  } catch (e) {
    throw new Error(`Unable to read file ${file.given}: ${goPathError('open', file.given, e)}`);
  }
}

/**
 * The tar archive of `files`, as a sequence of pieces; files are read (into
 * `buffers`) as the archive is consumed.
 */
export async function* tarArchive(files: readonly ArchiveInput[], buffers: ReadBuffers = freshBuffers()): AsyncGenerator<Piece> {
  const names = new NameDb();
  for (const file of files) {
    const handle = await openArchiveInput(file);
    try {
      let st: fs.Stats;
      try {
        st = await handle.stat();
      } catch (e) {
        throw new Error(`Unable to get fileinfo for ${file.given}: ${goPathError('stat', file.given, e)}`);
      }
      if (st.isDirectory()) throw new Error(`Failed to copy ${file.given} data to archive: read ${file.given}: is a directory`);
      if (!st.isFile()) throw new Error(`Unable to archive ${file.given}: only regular files can be archived`);
      const name = path.basename(file.given);
      if (Buffer.byteLength(name) > 100) for (const data of longNameEntry(name)) yield { data };
      yield {
        data: header({
          name,
          mode: st.mode & 0o7777,
          uid: st.uid,
          gid: st.gid,
          size: st.size,
          typeflag: TYPE_REGULAR,
          uname: names.user(st.uid),
          gname: names.group(st.gid),
        }),
      };
      yield* fileData(handle, st.size, file.given, buffers);
      const pad = padding(st.size);
      if (pad.length) yield { data: pad };
    } finally {
      await handle.close();
    }
  }
  yield { data: Buffer.alloc(2 * BLOCK) };
}
