import * as fsp from 'fs/promises';
import { pipeline } from 'stream';
import { RawDeflateStream } from './deflate';
import { goPathError } from './go-errors';
import { ArchiveInput, openArchiveInput } from './tar';

/**
 * The zip archive Packer's compress post-processor writes (Go's archive/zip
 * with `Create`): each entry is named by the path exactly as the artifact
 * lists it, deflated, with no time stamp and no file attributes, its sizes
 * and CRC in a data descriptor after the data, and ZIP64 records only where
 * a size or offset does not fit 32 bits.
 *
 * Zip libraries refuse absolute names and `..` and add times and Unix
 * attributes, so the records are laid out here; the compressed data comes
 * from the same parallel DEFLATE as gzip.
 */

const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;
const VERSION_20 = 20;
const VERSION_45 = 45;
const FLAG_DATA_DESCRIPTOR = 0x8;
const FLAG_UTF8 = 0x800;
const METHOD_DEFLATE = 8;
/** Go's archive/zip compresses entries with flate level 5. */
const ZIP_LEVEL = 5;

interface Entry {
  readonly name: Buffer;
  readonly flags: number;
  readonly offset: number;
  crc: number;
  compressed: number;
  uncompressed: number;
}

/** Go sets the UTF-8 flag when a name has a character outside the part of ASCII that every code page agrees on. */
function needsUtf8Flag(name: string): boolean {
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c > 0x7d || c === 0x5c) return true;
  }
  return false;
}

function isZip64(e: Entry): boolean {
  return e.compressed >= UINT32_MAX || e.uncompressed >= UINT32_MAX;
}

class Writer {
  private readonly buf: Buffer;
  private at = 0;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  public u16(v: number): this {
    this.buf.writeUInt16LE(v, this.at);
    this.at += 2;
    return this;
  }
  public u32(v: number): this {
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
    return this;
  }
  public u64(v: number): this {
    this.buf.writeBigUInt64LE(BigInt(v), this.at);
    this.at += 8;
    return this;
  }
  public bytes(b: Buffer): this {
    b.copy(this.buf, this.at);
    this.at += b.length;
    return this;
  }
  public done(): Buffer {
    return this.buf;
  }
}

function localHeader(e: Entry): Buffer {
  return new Writer(30 + e.name.length)
    .u32(0x04034b50)
    .u16(VERSION_20)
    .u16(e.flags)
    .u16(METHOD_DEFLATE)
    .u16(0) // time
    .u16(0) // date
    .u32(0) // CRC, sizes: in the data descriptor
    .u32(0)
    .u32(0)
    .u16(e.name.length)
    .u16(0)
    .bytes(e.name)
    .done();
}

function dataDescriptor(e: Entry): Buffer {
  if (isZip64(e)) {
    return new Writer(24).u32(0x08074b50).u32(e.crc).u64(e.compressed).u64(e.uncompressed).done();
  }
  return new Writer(16).u32(0x08074b50).u32(e.crc).u32(e.compressed).u32(e.uncompressed).done();
}

function centralHeader(e: Entry): Buffer {
  const wide = isZip64(e) || e.offset >= UINT32_MAX;
  const extra = wide ? new Writer(28).u16(0x0001).u16(24).u64(e.uncompressed).u64(e.compressed).u64(e.offset).done() : Buffer.alloc(0);
  return new Writer(46 + e.name.length + extra.length)
    .u32(0x02014b50)
    .u16(VERSION_20) // made by: version 2.0, "MS-DOS" (Go leaves the host byte at zero)
    .u16(isZip64(e) ? VERSION_45 : VERSION_20)
    .u16(e.flags)
    .u16(METHOD_DEFLATE)
    .u16(0)
    .u16(0)
    .u32(e.crc)
    .u32(wide ? UINT32_MAX : e.compressed)
    .u32(wide ? UINT32_MAX : e.uncompressed)
    .u16(e.name.length)
    .u16(extra.length)
    .u16(0) // comment
    .u16(0) // disk
    .u16(0) // internal attributes
    .u32(0) // external attributes
    .u32(e.offset >= UINT32_MAX ? UINT32_MAX : e.offset)
    .bytes(e.name)
    .bytes(extra)
    .done();
}

function endRecords(count: number, size: number, offset: number): Buffer {
  const parts: Buffer[] = [];
  let records = count;
  let dirSize = size;
  let dirOffset = offset;
  if (count >= UINT16_MAX || size >= UINT32_MAX || offset >= UINT32_MAX) {
    const end64At = offset + size;
    parts.push(new Writer(56)
      .u32(0x06064b50)
      .u64(56 - 12)
      .u16(VERSION_45)
      .u16(VERSION_45)
      .u32(0)
      .u32(0)
      .u64(count)
      .u64(count)
      .u64(size)
      .u64(offset)
      .done());
    parts.push(new Writer(20).u32(0x07064b50).u32(0).u64(end64At).u32(1).done());
    records = UINT16_MAX;
    dirSize = UINT32_MAX;
    dirOffset = UINT32_MAX;
  }
  parts.push(new Writer(22).u32(0x06054b50).u16(0).u16(0).u16(records).u16(records).u32(dirSize).u32(dirOffset).u16(0).done());
  return Buffer.concat(parts);
}

/** The compressed data of one open file, with its CRC and sizes recorded in `entry` at the end. */
async function* deflatedData(handle: fsp.FileHandle, entry: Entry, given: string): AsyncGenerator<Buffer> {
  const deflate = new RawDeflateStream({ level: ZIP_LEVEL });
  const source = handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 });
  let readError: unknown;
  const out = pipeline(source, deflate, (e) => {
    readError = e;
  });
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } catch (e) {
    throw new Error(`Failed to copy ${given} data to archive: ${goPathError('read', given, readError ?? e)}`);
  } finally {
    source.destroy();
    deflate.destroy();
  }
  entry.crc = deflate.crc;
  entry.uncompressed = deflate.size;
  entry.compressed = deflate.compressedSize;
}

/** The zip archive of `files`, as a sequence of buffers; files are read as the archive is consumed. */
export async function* zipArchive(files: readonly ArchiveInput[]): AsyncGenerator<Buffer> {
  const entries: Entry[] = [];
  let offset = 0;
  for (const file of files) {
    const handle = await openArchiveInput(file);
    try {
      const entry: Entry = {
        name: Buffer.from(file.given, 'utf8'),
        flags: FLAG_DATA_DESCRIPTOR | (needsUtf8Flag(file.given) ? FLAG_UTF8 : 0),
        offset,
        crc: 0,
        compressed: 0,
        uncompressed: 0,
      };
      const head = localHeader(entry);
      yield head;
      offset += head.length;
      for await (const chunk of deflatedData(handle, entry, file.given)) {
        offset += chunk.length;
        yield chunk;
      }
      const tail = dataDescriptor(entry);
      yield tail;
      offset += tail.length;
      entries.push(entry);
    } finally {
      await handle.close();
    }
  }
  const start = offset;
  for (const e of entries) {
    const h = centralHeader(e);
    offset += h.length;
    yield h;
  }
  yield endRecords(entries.length, offset - start, start);
}
