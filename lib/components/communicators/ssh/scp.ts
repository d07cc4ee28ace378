import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { Readable, Writable } from 'stream';
import type { ClientChannel } from 'ssh2';
import { ChannelReader, ClosedWhileSending, writeTo } from './channel-io';
import { localPath, modeString, quoteRemote, safeEntryName } from './paths';

/**
 * The scp protocol, spoken over an exec channel to the machine's own `scp`
 * in sink (`-t`) or source (`-f`) mode, as Packer does. Kiln is one end of
 * the protocol and the real `scp` the other, so where files land (trailing
 * slashes, missing directories, "Is a directory") is decided by the remote
 * scp exactly as with Packer. Every file is streamed: from disk into the
 * channel, or from the channel onto disk, a window at a time.
 */

/** Opens a command channel (no terminal) on the current connection. */
export type OpenChannel = (command: string) => Promise<ClientChannel>;

/** Packer's explanation when the remote shell cannot find `scp` (exit status 127). */
export const SCP_MISSING = 'SCP failed to start. This usually means that SCP is not\nproperly installed on the remote system.';

/** A running scp: its protocol reader, the channel, its stderr and exit status. */
class ScpSession {
  public readonly reader: ChannelReader;
  private stderr = '';
  private pending = 0;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private readonly exited: Promise<number | undefined>;

  constructor(public readonly channel: ClientChannel) {
    this.reader = new ChannelReader(channel);
    channel.stderr.on('data', (c: Buffer) => {
      if (this.stderr.length < 8192) this.stderr += c.toString('utf8');
    });
    // ssh2 hands the exit status to 'close' (its 'exit' event may fire before anyone listens).
    this.exited = new Promise((resolve) => {
      channel.on('close', (code?: number | null, signalName?: string) => {
        resolve(typeof code === 'number' ? code : code === null && signalName ? 255 : undefined);
      });
    });
  }

  /**
   * Sends protocol bytes, waiting when the channel's window is full. With
   * `batch`, small pieces are gathered and go together (the records and
   * bytes of many small files in one write); they are flushed before any wait
   * for an answer.
   */
  public async send(data: Buffer | string, batch = false): Promise<void> {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!batch || b.length >= BATCH) {
      await this.flush();
      await writeTo(this.channel, b);
      return;
    }
    this.queued.push(b);
    this.queuedBytes += b.length;
    if (this.queuedBytes >= BATCH) await this.flush();
  }

  /** Sends what `send(…, true)` gathered. */
  public async flush(): Promise<void> {
    if (!this.queuedBytes && !this.queued.length) return;
    const b = this.queued.length === 1 ? this.queued[0] : Buffer.concat(this.queued);
    this.queued = [];
    this.queuedBytes = 0;
    await writeTo(this.channel, b);
  }

  /** Notes that the record just sent will be answered. */
  public expect(): void {
    this.pending++;
  }

  /**
   * Reads the answers still owed, in order: one byte each, 0 when fine, 1 or
   * 2 followed by scp's message. Answers that need not be awaited (the one
   * after a file's bytes, after `E`) are read later, just before the next
   * answer that must be: one round trip per file instead of two.
   */
  public async settle(onlyArrived = false): Promise<void> {
    if (!onlyArrived) await this.flush();
    while (this.pending > 0 && (!onlyArrived || this.reader.hasData)) {
      this.pending--;
      const b = await this.reader.byte();
      if (b === undefined) throw await this.failure();
      if (b === 0) continue;
      const message = (await this.reader.line()) ?? '';
      throw new Error(message || `scp answered ${b}`);
    }
  }

  /** Ends our side and waits for scp to exit; fails with its message when it did not exit 0. */
  public async finish(): Promise<void> {
    await this.flush();
    this.channel.end();
    const code = await this.exited;
    if (code === 0) return;
    throw await this.failure(code);
  }

  /**
   * Why the session ended early: the first message scp sent back (answers
   * not read yet may hold it: a sink's messages go through the protocol, not
   * stderr), else what it wrote on stderr, else its exit status.
   */
  public async failure(code?: number): Promise<Error> {
    if (code === undefined) {
      this.channel.end();
      code = await this.exited;
    }
    if (code === 127) return new Error(SCP_MISSING);
    const rest = await this.reader.rest();
    const said = /[\x01\x02]([^\n]+)/.exec(rest)?.[1].trim() || this.stderr.trim() || rest.trim();
    if (code === undefined) return new Error(`the SSH connection closed during the copy${said ? `: ${said}` : ''}`);
    return new Error(said || `scp exited with status ${code}`);
  }

  /** Stops the remote scp at once (after an error on our side). */
  public abort(): void {
    this.channel.close();
  }
}

async function withSession(open: OpenChannel, command: string, body: (s: ScpSession) => Promise<void>): Promise<void> {
  const session = new ScpSession(await open(command));
  try {
    await body(session);
  } catch (e) {
    // scp stopped reading (it gave up on a record): its own message says why.
    if (e instanceof ClosedWhileSending) throw await session.failure();
    session.abort();
    throw e;
  }
  await session.finish();
}

/** Sends exactly `size` bytes of `src` into the channel; fails if the source is shorter or longer. */
async function sendBody(session: ScpSession, src: Readable, size: number): Promise<void> {
  let sent = 0;
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (sent + b.length > size) throw new Error(`the file grew while it was being copied (expected ${size} bytes)`);
    sent += b.length;
    await session.send(b);
  }
  if (sent !== size) throw new Error(`the file shrank while it was being copied (expected ${size} bytes, read ${sent})`);
}

/** Pieces gathered before a write (see `ScpSession.send`). */
const BATCH = 64 * 1024;

/** Files up to this size are read whole and sent with their end byte in one write. */
const SMALL_FILE = 256 * 1024;

/**
 * The first bytes of content that a sink which refused the header (it could
 * not create the file) would take for a record and act on. Any other first
 * byte makes it stop at once with "expected control record".
 */
const RECORD_STARTS = new Set([...'CDET\x01\x02'].map((c) => c.charCodeAt(0)));

/**
 * One `C` record. A sink that refuses the header reads the bytes that follow
 * as records, so the header's answer is awaited first unless the content
 * cannot be mistaken for one (the usual case: then the file costs no round
 * trip). Answers are otherwise read as they arrive and at the end.
 */
async function sendFile(session: ScpSession, name: string, mode: number, size: number, src: Readable | Buffer): Promise<void> {
  await session.send(`C${modeString(mode)} ${size} ${name}\n`, true);
  session.expect();
  if (Buffer.isBuffer(src)) {
    if (src.length !== size) throw new Error(`the file changed size while it was being copied (expected ${size} bytes)`);
    if (size > 0 && RECORD_STARTS.has(src[0])) await session.settle();
    else await session.settle(true);
    await session.send(src, true);
    await session.send(ZERO, true);
  } else {
    await session.settle();
    await sendBody(session, src, size);
    await session.send(ZERO, true);
  }
  session.expect();
}

const ZERO = Buffer.alloc(1);

/**
 * Uploads one file: `scp -t <dirname(dst)>`, then a record named
 * `basename(dst)`. A missing directory, or a `dst` that is a directory,
 * fails with scp's own message (`scp: /d: Is a directory`).
 */
export async function scpUpload(open: OpenChannel, dst: string, src: Readable, size: number, mode: number): Promise<void> {
  const dir = path.posix.dirname(dst);
  const name = path.posix.basename(dst);
  await withSession(open, `scp -t ${quoteRemote(dir)}`, async (s) => {
    s.expect(); // scp greets with one answer as it starts; the header can go at once
    if (size <= SMALL_FILE) {
      // Scripts and the like: read whole, so that the file costs no round trip of its own.
      const chunks: Buffer[] = [];
      for await (const chunk of src) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      await sendFile(s, name, mode, size, Buffer.concat(chunks));
    } else {
      await sendFile(s, name, mode, size, src);
    }
    await s.settle();
  });
}

/**
 * Uploads a local directory with `scp -r -t <dst>`: the directory itself
 * (wrapped in a `D` record named after it) or, when `src` ends with `/`,
 * only its contents. Symbolic links are followed, as with Packer.
 */
export async function scpUploadDir(open: OpenChannel, dst: string, src: string): Promise<void> {
  const contentsOnly = src.endsWith('/');
  const root = localPath(src);
  const rootStat = await fsp.stat(root);
  if (!rootStat.isDirectory()) throw new Error(`${src} is not a directory`);
  await withSession(open, `scp -r -t ${quoteRemote(dst)}`, async (s) => {
    s.expect(); // the greeting
    if (contentsOnly) {
      await sendEntries(s, root);
    } else {
      await sendDirectory(s, path.basename(root), rootStat.mode, root);
    }
    await s.settle();
  });
}

/** A `D` record (which must be accepted before anything goes into it), the entries, then `E`. */
async function sendDirectory(s: ScpSession, name: string, mode: number, dir: string): Promise<void> {
  await s.send(`D${modeString(mode)} 0 ${name}\n`, true);
  s.expect();
  await s.settle();
  await sendEntries(s, dir);
  await s.send('E\n', true);
  s.expect();
}

async function sendEntries(s: ScpSession, dir: string): Promise<void> {
  const names = (await fsp.readdir(dir)).sort();
  for (const name of names) {
    const full = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(full); // follows links, as Packer does; cheap enough to do in line
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // a dangling link
      throw e;
    }
    if (st.isDirectory()) {
      await sendDirectory(s, name, st.mode, full);
    } else if (st.isFile()) {
      if (st.size <= SMALL_FILE) {
        // Small files (the common case in a tree) are read in one go, without a stream per file.
        await sendFile(s, name, st.mode, st.size, fs.readFileSync(full));
        continue;
      }
      const stream = fs.createReadStream(full, { highWaterMark: 256 * 1024 });
      try {
        await sendFile(s, name, st.mode, st.size, stream);
      } finally {
        stream.destroy();
      }
    }
    // Sockets, fifos and devices cannot be copied meaningfully: skipped.
  }
}

/** A `C` or `D` header: `C0644 12 name`. */
function parseHeader(line: string): { kind: 'C' | 'D'; mode: number; size: number; name: string } {
  const m = /^([CD])([0-7]{3,4}) (\d+) (.+)$/.exec(line);
  if (!m) throw new Error(`can't parse server response (${JSON.stringify(line)})`);
  return { kind: m[1] as 'C' | 'D', mode: parseInt(m[2], 8), size: Number(m[3]), name: m[4] };
}

/** The `\x01`/`\x02` records carry scp's messages; anything else unexpected is reported as is. */
function unexpected(line: string): Error {
  if (line.startsWith('\x01') || line.startsWith('\x02')) return new Error(line.slice(1));
  return new Error(`unexpected server response (${JSON.stringify(line.slice(0, 80))})`);
}

/** Downloads one remote file into `dst` with `scp -f`; a directory is refused ("remote file is directory"). */
export async function scpDownload(open: OpenChannel, src: string, dst: Writable): Promise<void> {
  await withSession(open, `scp -f ${quoteRemote(src)}`, async (s) => {
    await s.send('\0');
    for (;;) {
      const line = await s.reader.line();
      if (line === undefined) throw await s.failure();
      if (line.startsWith('T')) {
        await s.send('\0');
        continue;
      }
      if (line.startsWith('D')) throw new Error('remote file is directory');
      if (!line.startsWith('C')) throw unexpected(line);
      const h = parseHeader(line);
      await s.send('\0');
      await s.reader.copy(h.size, (chunk) => writeTo(dst, chunk));
      s.expect();
      await s.settle();
      await s.send('\0');
      return;
    }
  });
}

/**
 * Downloads with `scp -r -f <src>` into the local directory `dst`: a remote
 * directory arrives as `dst/<its name>/...`; wildcards in `src` are expanded
 * by the remote shell. Modes are kept.
 */
export async function scpDownloadDir(open: OpenChannel, src: string, dst: string): Promise<void> {
  const root = path.resolve(dst);
  await fsp.mkdir(root, { recursive: true });
  await withSession(open, `scp -r -f ${quoteRemote(src, true)}`, async (s) => {
    const stack = [root];
    await s.send('\0');
    for (;;) {
      const line = await s.reader.line();
      if (line === undefined) {
        if (stack.length > 1) throw await s.failure();
        return;
      }
      if (line.startsWith('T')) {
        await s.send('\0');
        continue;
      }
      if (line === 'E') {
        if (stack.length > 1) stack.pop();
        await s.send('\0');
        continue;
      }
      if (!line.startsWith('C') && !line.startsWith('D')) throw unexpected(line);
      const h = parseHeader(line);
      const target = path.join(stack[stack.length - 1], safeEntryName(h.name));
      if (h.kind === 'D') {
        await fsp.mkdir(target, { recursive: true });
        await fsp.chmod(target, h.mode);
        stack.push(target);
        await s.send('\0');
        continue;
      }
      await s.send('\0');
      const out = fs.createWriteStream(target, { mode: h.mode });
      const closed = new Promise<void>((resolve, reject) => {
        out.on('close', resolve);
        out.on('error', reject);
      });
      try {
        await s.reader.copy(h.size, (chunk) => writeTo(out, chunk));
        out.end();
        await closed;
      } catch (e) {
        out.destroy();
        await closed.catch(() => undefined);
        throw e;
      }
      await fsp.chmod(target, h.mode);
      s.expect();
      await s.settle();
      await s.send('\0');
    }
  });
}
