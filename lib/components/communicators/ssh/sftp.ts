import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { Readable, Writable } from 'stream';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { writeTo } from './channel-io';
import { localPath, safeEntryName } from './paths';

/**
 * File transfers over the SFTP subsystem (`ssh_file_transfer_method:
 * sftp`), with Packer's rules for where things land. Reads and writes are
 * pipelined (many requests in flight, a bounded number of bytes), so a large
 * file moves at the speed of the link rather than one round trip per chunk,
 * and memory stays flat.
 */

/** Bytes of one read or write request: what OpenSSH's sftp-server accepts comfortably. */
const CHUNK = 64 * 1024;
/** At most this many bytes in flight per file. */
const WINDOW = 4 * 1024 * 1024;
/** Files of a directory copied at the same time. */
const PARALLEL_FILES = 16;
/** Files up to this size are read whole rather than streamed. */
const SMALL_FILE = 256 * 1024;

/** SFTP status codes as Go's sftp package names them (Packer's messages). */
const STATUS_NAMES: Record<number, string> = {
  1: 'SSH_FX_EOF',
  2: 'SSH_FX_NO_SUCH_FILE',
  3: 'SSH_FX_PERMISSION_DENIED',
  4: 'SSH_FX_FAILURE',
  5: 'SSH_FX_BAD_MESSAGE',
  6: 'SSH_FX_NO_CONNECTION',
  7: 'SSH_FX_CONNECTION_LOST',
  8: 'SSH_FX_OP_UNSUPPORTED',
};

/** An SFTP error with the path it concerns: `sftp: "Failure" (SSH_FX_FAILURE): /d`. */
function sftpError(e: unknown, what: string): Error {
  const err = e as Error & { code?: number };
  const name = typeof err.code === 'number' ? STATUS_NAMES[err.code] : undefined;
  return new Error(name ? `sftp: ${JSON.stringify(err.message)} (${name}): ${what}` : `sftp: ${err.message}: ${what}`);
}

function call<T>(fn: (cb: (err: Error | undefined | null, value: T) => void) => void, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(sftpError(err, what)) : resolve(value)));
  });
}

const open = (sftp: SFTPWrapper, p: string, flags: 'r' | 'w'): Promise<Buffer> => call((cb) => sftp.open(p, flags, cb), p);
const close = (sftp: SFTPWrapper, h: Buffer, p: string): Promise<void> => call<void>((cb) => sftp.close(h, (e) => cb(e, undefined)), p);
const fstat = (sftp: SFTPWrapper, h: Buffer, p: string): Promise<Stats> => call((cb) => sftp.fstat(h, cb), p);
const stat = (sftp: SFTPWrapper, p: string): Promise<Stats> => call((cb) => sftp.stat(p, cb), p);
const fchmod = (sftp: SFTPWrapper, h: Buffer, mode: number, p: string): Promise<void> =>
  call<void>((cb) => sftp.fchmod(h, mode, (e) => cb(e, undefined)), p);
const chmod = (sftp: SFTPWrapper, p: string, mode: number): Promise<void> => call<void>((cb) => sftp.chmod(p, mode, (e) => cb(e, undefined)), p);

/** Writes a stream to an open remote file with many writes in flight. */
async function writeStream(sftp: SFTPWrapper, handle: Buffer, src: Readable, what: string): Promise<void> {
  let position = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const settle = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitBelow = async (limit: number) => {
    while (inFlight > limit && !failure) await new Promise<void>((r) => { wake = r; });
    if (failure) throw failure;
  };
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    for (let off = 0; off < b.length; off += CHUNK) {
      const len = Math.min(CHUNK, b.length - off);
      inFlight += len;
      sftp.write(handle, b, off, len, position, (err) => {
        inFlight -= len;
        if (err && !failure) failure = sftpError(err, what);
        settle();
      });
      position += len;
      await waitBelow(WINDOW);
    }
  }
  await waitBelow(0);
}

/**
 * Uploads a stream (or a buffer) to `dst`, then gives it `mode` when one is
 * known (Packer chmods regular files after copying them; streamed content
 * keeps the server's default). After the open, everything is sent without
 * waiting: the server handles requests in order.
 */
export async function sftpUpload(sftp: SFTPWrapper, dst: string, src: Readable | Buffer, mode?: number): Promise<void> {
  const handle = await open(sftp, dst, 'w');
  if (Buffer.isBuffer(src)) {
    const requests: Promise<void>[] = [];
    for (let off = 0; off < src.length; off += CHUNK) {
      const len = Math.min(CHUNK, src.length - off);
      requests.push(call<void>((cb) => sftp.write(handle, src, off, len, off, (e) => cb(e, undefined)), dst));
    }
    if (mode !== undefined) requests.push(fchmod(sftp, handle, mode & 0o7777, dst));
    requests.push(close(sftp, handle, dst));
    const results = await Promise.allSettled(requests);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return;
  }
  try {
    await writeStream(sftp, handle, src, dst);
    if (mode !== undefined) await fchmod(sftp, handle, mode & 0o7777, dst);
  } finally {
    await close(sftp, handle, dst).catch(() => undefined);
  }
}

/** Reads a remote file into `dst` in order, with many reads in flight. */
export async function sftpDownload(sftp: SFTPWrapper, src: string, dst: Writable): Promise<void> {
  const handle = await open(sftp, src, 'r');
  try {
    const size = (await fstat(sftp, handle, src)).size;
    await readInto(sftp, handle, size, src, (b) => writeTo(dst, b));
  } finally {
    await close(sftp, handle, src).catch(() => undefined);
  }
}

interface Slot {
  readonly position: number;
  readonly length: number;
  data?: Buffer;
  error?: Error;
  done: boolean;
}

async function readInto(sftp: SFTPWrapper, handle: Buffer, size: number, what: string, sink: (b: Buffer) => void | Promise<void>): Promise<void> {
  const read = (position: number, length: number): Promise<Buffer> => new Promise((resolve, reject) => {
    sftp.read(handle, Buffer.allocUnsafe(length), 0, length, position, (err, n, buf) => {
      if (err) reject(sftpError(err, what));
      else resolve(buf.subarray(0, n));
    });
  });
  const slots: Slot[] = [];
  let next = 0;
  let wake: (() => void) | undefined;
  const issue = () => {
    while (next < size && (slots.length * CHUNK) < WINDOW) {
      const slot: Slot = { position: next, length: Math.min(CHUNK, size - next), done: false };
      next += slot.length;
      slots.push(slot);
      read(slot.position, slot.length).then((b) => { slot.data = b; }, (e: Error) => { slot.error = e; }).finally(() => {
        slot.done = true;
        const w = wake;
        wake = undefined;
        w?.();
      });
    }
  };
  let position = 0;
  issue();
  while (slots.length) {
    const slot = slots[0];
    while (!slot.done) await new Promise<void>((r) => { wake = r; });
    slots.shift();
    if (slot.error) throw slot.error;
    let data = slot.data!;
    // A short answer that is not the end of the file: fetch the rest of this slot before going on.
    while (data.length < slot.length) {
      const more = await read(slot.position + data.length, slot.length - data.length);
      if (!more.length) break;
      data = Buffer.concat([data, more]);
    }
    if (data.length) {
      const wait = sink(data);
      if (wait) await wait;
    }
    position = slot.position + data.length;
    if (data.length < slot.length) {
      slots.length = 0; // the file shrank: stop at its new end
      break;
    }
    issue();
  }
  // The file may have grown since it was measured: read on to its end.
  for (;;) {
    const more = await read(position, CHUNK);
    if (!more.length) return;
    position += more.length;
    const wait = sink(more);
    if (wait) await wait;
  }
}

/** Creates a remote directory (an existing one is fine) and gives it `mode`. */
async function mkdirMode(sftp: SFTPWrapper, p: string, mode: number): Promise<void> {
  try {
    await call<void>((cb) => sftp.mkdir(p, (e) => cb(e, undefined)), p);
  } catch (e) {
    const st = await stat(sftp, p).catch(() => undefined);
    if (!st?.isDirectory()) throw e;
  }
  await chmod(sftp, p, mode & 0o7777);
}

/** Runs `fn` over `items`, `limit` at a time; the first failure stops new work and is thrown once the rest settle. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failure: unknown;
  const worker = async () => {
    while (i < items.length && failure === undefined) {
      const item = items[i++];
      try {
        await fn(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/**
 * Uploads a local directory with Packer's sftp rules: into `dst/<name>`, or
 * its contents into `dst` when `src` ends with `/`. `dst` itself is not
 * created (it should exist). Links are followed.
 */
export async function sftpUploadDir(sftp: SFTPWrapper, dst: string, src: string): Promise<void> {
  const root = localPath(src);
  const rootStat = await fsp.stat(root);
  if (!rootStat.isDirectory()) throw new Error(`${src} is not a directory`);
  const rootDst = src.endsWith('/') ? dst : path.posix.join(dst, path.basename(root));
  const dirs: { remote: string; mode: number }[] = [];
  const files: { local: string; remote: string; mode: number; size: number }[] = [];
  if (path.posix.normalize(rootDst) !== path.posix.normalize(dst)) dirs.push({ remote: rootDst, mode: rootStat.mode });
  const walk = async (local: string, remote: string) => {
    for (const name of (await fsp.readdir(local)).sort()) {
      const full = path.join(local, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(full);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const target = path.posix.join(remote, name);
      if (st.isDirectory()) {
        dirs.push({ remote: target, mode: st.mode });
        await walk(full, target);
      } else if (st.isFile()) {
        files.push({ local: full, remote: target, mode: st.mode, size: st.size });
      }
    }
  };
  await walk(root, rootDst);
  // Parents before children (a level at a time); then the files, several at a time.
  const depth = (p: string) => p.split('/').length;
  for (const level of [...new Set(dirs.map((d) => depth(d.remote)))].sort((a, b) => a - b)) {
    await eachLimited(dirs.filter((d) => depth(d.remote) === level), PARALLEL_FILES * 4, (d) => mkdirMode(sftp, d.remote, d.mode));
  }
  await eachLimited(files, PARALLEL_FILES, async (f) => {
    if (f.size <= SMALL_FILE) {
      await sftpUpload(sftp, f.remote, fs.readFileSync(f.local), f.mode);
      return;
    }
    const stream = fs.createReadStream(f.local, { highWaterMark: 256 * 1024 });
    try {
      await sftpUpload(sftp, f.remote, stream, f.mode);
    } finally {
      stream.destroy();
    }
  });
}

/** Downloads one remote file to a local path, keeping its mode. */
async function downloadTo(sftp: SFTPWrapper, remote: string, local: string, mode: number): Promise<void> {
  const out = fs.createWriteStream(local, { mode: mode & 0o7777 });
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  try {
    await sftpDownload(sftp, remote, out);
    out.end();
    await closed;
  } catch (e) {
    out.destroy();
    await closed.catch(() => undefined);
    throw e;
  }
  await fsp.chmod(local, mode & 0o7777);
}

/**
 * Downloads a remote file or directory into the local directory `dst`, as
 * scp does: `/x/d/` arrives as `dst/d/...`. Wildcards are not expanded here
 * (the caller uses scp for them).
 */
export async function sftpDownloadDir(sftp: SFTPWrapper, src: string, dst: string): Promise<void> {
  const remoteRoot = src.length > 1 ? src.replace(/\/+$/, '') : src;
  const localRoot = path.resolve(dst);
  await fsp.mkdir(localRoot, { recursive: true });
  const st = await stat(sftp, remoteRoot);
  const name = safeEntryName(path.posix.basename(remoteRoot) || 'root');
  if (!st.isDirectory()) {
    await downloadTo(sftp, remoteRoot, path.join(localRoot, name), st.mode);
    return;
  }
  const files: { remote: string; local: string; mode: number }[] = [];
  const walk = async (remote: string, local: string, mode: number) => {
    await fsp.mkdir(local, { recursive: true });
    await fsp.chmod(local, mode & 0o7777);
    const entries = await call<FileEntryWithStats[]>((cb) => sftp.readdir(remote, cb), remote);
    for (const e of entries.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0))) {
      if (e.filename === '.' || e.filename === '..') continue;
      const r = path.posix.join(remote, e.filename);
      const l = path.join(local, safeEntryName(e.filename));
      // Follow links as scp does.
      const attrs = e.attrs.isSymbolicLink() ? await stat(sftp, r).catch(() => undefined) : e.attrs;
      if (!attrs) continue;
      if (attrs.isDirectory()) await walk(r, l, attrs.mode);
      else if (attrs.isFile()) files.push({ remote: r, local: l, mode: attrs.mode });
    }
  };
  await walk(remoteRoot, path.join(localRoot, name), st.mode);
  await eachLimited(files, PARALLEL_FILES, (f) => downloadTo(sftp, f.remote, f.local, f.mode));
}
