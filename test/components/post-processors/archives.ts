import { createHash } from 'crypto';
import * as fs from 'fs';
import * as zlib from 'zlib';

/**
 * Reads what compress writes, independently of Kiln's writers: gzip, BGZF,
 * LZ4 frames and xz are decompressed with other code (Node's zlib, lz4-napi's
 * frame decoder, liblzma), tar and zip are parsed here from their specs.
 */

export interface Member {
  readonly name: string;
  readonly size: number;
  /** sha256 of the content. */
  readonly sha256: string;
  /** Header fields that Packer fills in (tar only). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly mtime?: number;
  readonly typeflag?: string;
  readonly magic?: string;
}

export interface ArchiveContents {
  /** The outer compression, if any: gzip, bgzf, lz4, xz. */
  readonly compression?: string;
  /** tar or zip, or undefined for one compressed file. */
  readonly archive?: 'tar' | 'zip';
  readonly members: Member[];
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function decompress(data: Buffer): Promise<{ compression?: string; data: Buffer }> {
  if (data.length >= 4 && data[0] === 0x1f && data[1] === 0x8b) {
    const bgzf = (data[3] & 4) !== 0 && data[12] === 0x42 && data[13] === 0x43;
    return Promise.resolve({ compression: bgzf ? 'bgzf' : 'gzip', data: zlib.gunzipSync(data) });
  }
  if (data.length >= 4 && data.readUInt32LE(0) === 0x184d2204) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lz4 = require('lz4-napi') as { decompressFrameSync(b: Buffer): Buffer };
    return Promise.resolve({ compression: 'lz4', data: lz4.decompressFrameSync(data) });
  }
  if (data.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lzma = require('lzma-native') as { decompress(b: Buffer): Promise<Buffer> };
    return lzma.decompress(data).then((d) => ({ compression: 'xz', data: d }));
  }
  return Promise.resolve({ data });
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

function octal(b: Buffer): number {
  if (b[0] & 0x80) {
    let v = 0n;
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]);
    return Number(v);
  }
  const s = cString(b).trim();
  return s ? parseInt(s, 8) : 0;
}

export function isTar(data: Buffer): boolean {
  return data.length >= 512 && data.subarray(257, 262).toString('latin1') === 'ustar';
}

export function readTar(data: Buffer): Member[] {
  const members: Member[] = [];
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= data.length) {
    const h = data.subarray(at, at + 512);
    if (h.every((x) => x === 0)) break;
    const size = octal(h.subarray(124, 136));
    const typeflag = String.fromCharCode(h[156]);
    const body = data.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'L') {
      longName = cString(body);
      continue;
    }
    members.push({
      name: longName ?? cString(h.subarray(0, 100)),
      size,
      sha256: sha(body),
      mode: octal(h.subarray(100, 108)),
      uid: octal(h.subarray(108, 116)),
      gid: octal(h.subarray(116, 124)),
      mtime: octal(h.subarray(136, 148)),
      typeflag,
      magic: h.subarray(257, 265).toString('latin1'),
      uname: cString(h.subarray(265, 297)),
      gname: cString(h.subarray(297, 329)),
    });
    longName = undefined;
  }
  return members;
}

export function isZip(data: Buffer): boolean {
  return data.length >= 4 && data.readUInt32LE(0) === 0x04034b50;
}

/** Reads a zip through its central directory (ZIP64 included). */
export function readZip(data: Buffer): Member[] {
  let eocd = data.length - 22;
  while (eocd >= 0 && data.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('no end of central directory');
  let count = data.readUInt16LE(eocd + 10);
  let dirOffset = data.readUInt32LE(eocd + 16);
  if (dirOffset === 0xffffffff || count === 0xffff) {
    const locator = eocd - 20;
    const end64 = Number(data.readBigUInt64LE(locator + 8));
    count = Number(data.readBigUInt64LE(end64 + 32));
    dirOffset = Number(data.readBigUInt64LE(end64 + 48));
  }
  const members: Member[] = [];
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    let compressed = data.readUInt32LE(at + 20);
    let size = data.readUInt32LE(at + 24);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    let local = data.readUInt32LE(at + 42);
    const name = data.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const extra = data.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length;) {
      const id = extra.readUInt16LE(e);
      const len = extra.readUInt16LE(e + 2);
      if (id === 1) {
        let f = e + 4;
        if (size === 0xffffffff) { size = Number(extra.readBigUInt64LE(f)); f += 8; }
        if (compressed === 0xffffffff) { compressed = Number(extra.readBigUInt64LE(f)); f += 8; }
        if (local === 0xffffffff) local = Number(extra.readBigUInt64LE(f));
      }
      e += 4 + len;
    }
    const method = data.readUInt16LE(at + 10);
    const localNameLength = data.readUInt16LE(local + 26);
    const localExtraLength = data.readUInt16LE(local + 28);
    const start = local + 30 + localNameLength + localExtraLength;
    const raw = data.subarray(start, start + compressed);
    const content = method === 8 ? zlib.inflateRawSync(raw) : raw;
    if (content.length !== size) throw new Error(`zip entry ${name}: ${content.length} bytes, directory says ${size}`);
    members.push({ name, size, sha256: sha(content) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

/** What a compress output holds. */
export async function readArchive(file: string): Promise<ArchiveContents> {
  const { compression, data } = await decompress(fs.readFileSync(file));
  if (isZip(data)) return { compression, archive: 'zip', members: readZip(data) };
  if (isTar(data)) return { compression, archive: 'tar', members: readTar(data) };
  // A tar of no files is just its two zero end blocks.
  if (data.length === 1024 && data.every((b) => b === 0)) return { compression, archive: 'tar', members: [] };
  return { compression, members: [{ name: '', size: data.length, sha256: sha(data) }] };
}
