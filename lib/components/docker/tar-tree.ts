import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { promisify } from 'util';

/**
 * A local directory tree as a tar stream, for the archive API: what
 * `docker cp` sends, made fast. Headers are written directly (ustar, with a
 * PAX record for names and link targets that do not fit), small files are
 * read straight into blocks of about a megabyte, several at a time, and
 * large files are streamed in chunks. Memory stays bounded whatever the
 * tree's size.
 *
 * Entries: directories, regular files and symlinks, depth first in name
 * order, owned by 0:0, with the local permission bits and mtimes. Sockets,
 * fifos and devices are skipped: they cannot be copied meaningfully.
 */

/** Files up to this size are read whole, into a block; larger ones are streamed. */
const WHOLE_FILE_LIMIT = 1024 * 1024;
/** Output is handed on in blocks of about this size... */
const BLOCK = 1024 * 1024;
/** ...holding at most this many files (each read keeps a file descriptor open). */
const MAX_FILES_PER_BLOCK = 64;

type EntryType = 'file' | 'directory' | 'symlink';

/** One entry of a local tree, as it goes into the tar. */
export interface LocalEntry {
  readonly name: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly size: number;
  readonly file?: string;
  readonly linkname?: string;
}

const TYPEFLAG: Readonly<Record<EntryType | 'pax', number>> = { file: 0x30, symlink: 0x32, directory: 0x35, pax: 0x78 };

function octal(value: number, width: number): string {
  const s = Math.max(0, Math.floor(value)).toString(8);
  return s.length > width ? `${'7'.repeat(width)} ` : `${s.padStart(width, '0')} `;
}

/** One 512-byte ustar header; undefined when the name or link target does not fit (a PAX record is needed). */
function ustarHeader(h: { name: string; type: EntryType | 'pax'; mode: number; mtimeMs: number; size: number; linkname?: string }): Buffer | undefined {
  let name = h.name;
  let prefix = '';
  if (Buffer.byteLength(name) !== name.length) return undefined; // not ASCII
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (name.length > 100 || prefix.length > 155) return undefined;
  if (h.linkname && (h.linkname.length > 100 || Buffer.byteLength(h.linkname) !== h.linkname.length)) return undefined;
  const b = Buffer.alloc(512);
  b.write(name, 0, 'latin1');
  b.write(octal(h.mode % 0o10000, 6), 100, 'latin1');
  b.write(octal(0, 6), 108, 'latin1');
  b.write(octal(0, 6), 116, 'latin1');
  if (h.size.toString(8).length > 11) {
    // Base-256 for sizes of 8 GiB and more, as GNU tar and Go's archive/tar read them.
    b[124] = 0x80;
    let n = h.size;
    for (let i = 11; i > 0; i--) {
      b[124 + i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else {
    b.write(octal(h.size, 11), 124, 'latin1');
  }
  b.write(octal(Math.trunc(h.mtimeMs / 1000), 11), 136, 'latin1');
  b[156] = TYPEFLAG[h.type];
  if (h.linkname) b.write(h.linkname, 157, 'latin1');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  b.write(octal(0, 6), 329, 'latin1');
  b.write(octal(0, 6), 337, 'latin1');
  if (prefix) b.write(prefix, 345, 'latin1');
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[i];
  for (let i = 156; i < 512; i++) sum += b[i];
  b.write(octal(sum, 6), 148, 'latin1');
  return b;
}

/** A PAX record `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const len = Buffer.byteLength(body);
  let digits = String(len).length;
  if (len + digits >= 10 ** digits) digits++;
  return `${len + digits}${body}`;
}

const zeros = Buffer.alloc(1024);
const padding = (size: number): Buffer => zeros.subarray(0, (512 - (size % 512)) % 512);

/** The header blocks of an entry: a ustar header, or a PAX header with the full name, then the ustar header. */
function headerBlocks(e: LocalEntry): Buffer[] {
  const plain = ustarHeader(e);
  if (plain) return [plain];
  const pax = Buffer.from(paxRecord('path', e.name) + (e.linkname ? paxRecord('linkpath', e.linkname) : ''), 'utf8');
  const paxHeader = ustarHeader({ name: 'PaxHeader', type: 'pax', mode: e.mode, mtimeMs: e.mtimeMs, size: pax.length })!;
  const header = ustarHeader({ name: 'PaxHeader', type: e.type, mode: e.mode, mtimeMs: e.mtimeMs, size: e.size, linkname: e.linkname ? 'PaxHeader' : undefined })!;
  return [paxHeader, pax, padding(pax.length), header];
}

/** The entries of the tree, depth first in name order (of UTF-16 code units, as JavaScript sorts). */
async function* walk(root: string, prefix: string, withRoot: boolean): AsyncGenerator<LocalEntry> {
  const rootStat = await fsp.stat(root);
  if (!rootStat.isDirectory()) throw new Error(`${root} is not a directory`);
  if (withRoot && prefix) {
    yield { name: prefix, type: 'directory', mode: rootStat.mode, mtimeMs: rootStat.mtimeMs, size: 0 };
  }
  async function* dir(local: string, rel: string): AsyncGenerator<LocalEntry> {
    const names = (await fsp.readdir(local)).sort();
    const stats = await Promise.all(names.map((n) => fsp.lstat(path.join(local, n))));
    for (let i = 0; i < names.length; i++) {
      const full = path.join(local, names[i]);
      const st = stats[i];
      const name = `${prefix}${rel}${names[i]}`;
      if (st.isDirectory()) {
        yield { name: `${name}/`, type: 'directory', mode: st.mode, mtimeMs: st.mtimeMs, size: 0 };
        yield* dir(full, `${rel}${names[i]}/`);
      } else if (st.isSymbolicLink()) {
        yield { name, type: 'symlink', mode: st.mode, mtimeMs: st.mtimeMs, size: 0, linkname: await fsp.readlink(full) };
      } else if (st.isFile()) {
        yield { name, type: 'file', mode: st.mode, mtimeMs: st.mtimeMs, size: st.size, file: full };
      }
    }
  }
  yield* dir(root, '');
}

function changed(file: string): Error {
  return new Error(`${file} changed while it was being uploaded (it is shorter than when it was listed)`);
}

const open = promisify(fs.open);
const read = promisify(fs.read);
const close = promisify(fs.close);

/** Reads exactly `size` bytes of a file into `buf` at `offset`. */
async function readInto(file: string, buf: Buffer, offset: number, size: number): Promise<void> {
  if (!size) return;
  const fd = await open(file, 'r');
  try {
    let at = 0;
    while (at < size) {
      const { bytesRead } = await read(fd, buf, offset + at, size - at, at);
      if (!bytesRead) throw changed(file);
      at += bytesRead;
    }
  } finally {
    await close(fd);
  }
}

/** Reads exactly `size` bytes of a large file, a chunk at a time. */
async function* readChunks(file: string, size: number): AsyncGenerator<Buffer> {
  let at = 0;
  while (at < size) {
    const buf = Buffer.allocUnsafe(Math.min(BLOCK, size - at));
    await readIntoAt(file, buf, at);
    at += buf.length;
    yield buf;
  }
}

/** Fills `buf` from the file's bytes at `position`. */
async function readIntoAt(file: string, buf: Buffer, position: number): Promise<void> {
  const fd = await open(file, 'r');
  try {
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await read(fd, buf, filled, buf.length - filled, position + filled);
      if (!bytesRead) throw changed(file);
      filled += bytesRead;
    }
  } finally {
    await close(fd);
  }
}

/** Waits for every promise; rejects with the first error once all have settled (no read is left running). */
async function allSettled(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const paddingLength = (size: number): number => (512 - (size % 512)) % 512;

/**
 * The tar of the directory `root`: its entries named `prefix` + their path
 * below `root`, preceded by `prefix` itself as a directory when `withRoot`.
 *
 * Small entries go out in blocks of about a megabyte, laid out in advance:
 * headers are written in place and the files of a block are read straight
 * into their slots, several at once, so that file data is copied once. The
 * consumer's buffer (the caller's stream) holds the next blocks while the
 * engine takes this one. Large files are streamed in chunks.
 */
export function tarTree(root: string, prefix: string, withRoot: boolean): AsyncGenerator<Buffer> {
  return tarOf(walk(root, prefix, withRoot));
}

/** The entries `tarTree` would hold, listed up front (files are not read). */
export async function listTree(root: string, prefix: string, withRoot: boolean): Promise<LocalEntry[]> {
  const all: LocalEntry[] = [];
  for await (const e of walk(root, prefix, withRoot)) all.push(e);
  return all;
}

/** The tar of some entries of a tree, in the order given: what `tarTree` makes of them. */
export async function* tarOf(source: AsyncIterable<LocalEntry> | Iterable<LocalEntry>): AsyncGenerator<Buffer> {
  const entries: AsyncIterator<LocalEntry> = Symbol.asyncIterator in source
    ? (source as AsyncIterable<LocalEntry>)[Symbol.asyncIterator]()
    : (async function* list() { yield* source as Iterable<LocalEntry>; })();
  let next: LocalEntry | null | undefined; // undefined: not fetched yet; null: no more
  const peek = async (): Promise<LocalEntry | null> => {
    if (next === undefined) {
      const r = await entries.next();
      next = r.done ? null : r.value;
    }
    return next;
  };
  const isLarge = (e: LocalEntry) => e.type === 'file' && e.size > WHOLE_FILE_LIMIT;
  try {
    for (let first = await peek(); first; first = await peek()) {
      next = undefined;
      if (isLarge(first)) {
        yield Buffer.concat(headerBlocks(first));
        for await (const chunk of readChunks(first.file!, first.size)) yield chunk;
        if (paddingLength(first.size)) yield padding(first.size);
        continue;
      }
      // A block of small entries: where each header and file goes.
      const layout: { entry: LocalEntry; headers: Buffer[]; at: number }[] = [];
      let size = 0;
      let files = 0;
      for (let e: LocalEntry | null = first; e; ) {
        const headers = headerBlocks(e);
        const length = headers.reduce((n, h) => n + h.length, 0) + (e.type === 'file' ? e.size + paddingLength(e.size) : 0);
        layout.push({ entry: e, headers, at: size });
        size += length;
        if (e.type === 'file') files++;
        e = await peek();
        if (!e || isLarge(e) || files >= MAX_FILES_PER_BLOCK || size + 512 + (e.type === 'file' ? e.size : 0) > BLOCK) break;
        next = undefined;
      }
      const out = Buffer.allocUnsafe(size);
      const reads: Promise<void>[] = [];
      for (const { entry, headers, at } of layout) {
        let pos = at;
        for (const h of headers) pos += h.copy(out, pos);
        if (entry.type === 'file') {
          reads.push(readInto(entry.file!, out, pos, entry.size));
          out.fill(0, pos + entry.size, pos + entry.size + paddingLength(entry.size));
        }
      }
      await allSettled(reads);
      yield out;
    }
    yield zeros;
  } finally {
    await entries.return?.(undefined);
  }
}
