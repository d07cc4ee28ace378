import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { Readable, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import type Docker from 'dockerode';
import type * as TarStream from 'tar-stream';
import { EngineUnreachableError, engineMessage, isEngineUnreachable, statusOf, unreachableCause } from './client';
import { ShellSession } from './shell-session';
import { Demultiplexer, LineSplitter } from './streams';
import { LocalEntry, listTree, tarOf } from './tar-tree';
import { abortError } from '../../engine/build';
import type { Communicator, ExecIo } from '../../engine/types';
import { spool } from '../communicators/spool';
import { shellQuote } from '../shell-quote';

/** tar-stream, loaded on first use: it is not needed before the container runs, so start-up does not wait for it. */
function tarStream(): typeof TarStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('tar-stream') as typeof TarStream;
}

/**
 * Packer's docker communicator over the Engine API. Commands run as
 * `/bin/sh -c "(<command>)"`, one at a time: through a long-lived shell in
 * the container when they need no stdin and no terminal (see
 * shell-session.ts), else each through its own exec. Files move as tar
 * streams straight through the archive API: nothing is staged in a shared
 * host directory, and a file is read from disk exactly once. Small text
 * files written as root (scripts) go through the shell session instead,
 * with the same owner, mode and replace rules, when it is running.
 */

/** The exit status Packer gives a command whose connection dropped before it reported one. */
export const CMD_DISCONNECT = 2300218;

export interface DockerCommunicatorOptions {
  /** `exec_user`: who commands run as (the container's user when empty). */
  readonly execUser?: string;
  /** `pty`: run commands with a terminal. */
  readonly pty?: boolean;
  /** `fix_upload_owner` (default true): give uploads to the container's user afterwards. */
  readonly fixUploadOwner?: boolean;
  /** The container's `Config.User`; uploads are chowned to it, or to root when empty. */
  readonly containerUser?: string;
  /** The container's `Config.Env`, which every exec starts with; inspected when not given. */
  readonly containerEnv?: readonly string[];
  /** Cancels transfers in flight (the build's signal). */
  readonly signal?: AbortSignal;
  /** A private scratch directory, used only to measure uploads whose size is unknown and large. */
  readonly tempDir?: () => Promise<string>;
  /**
   * Told once, with the one-line cause, when the Docker engine cannot be
   * reached any more (the builder says it at once); the call then fails with
   * an unrecoverable `EngineUnreachableError`.
   */
  readonly onEngineLost?: (cause: string) => void;
}

/** What the archive API says about a path in the container. */
interface PathStat {
  readonly name: string;
  readonly size: number;
  readonly mode: number;
  readonly linkTarget: string;
}

/** The permission bits (and setuid, setgid, sticky) of a file mode. */
export function permissionBits(mode: number): number {
  return mode % 0o10000;
}

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const isGoDir = (mode: number): boolean => Math.floor(mode / GO_MODE_DIR) % 2 === 1;
const isGoSymlink = (mode: number): boolean => Math.floor(mode / GO_MODE_SYMLINK) % 2 === 1;

export { shellQuote };

/** Owners that mean uid 0 (and, with a group, gid 0): what the archive API writes uploads as. */
const ROOT_OWNERS: ReadonlySet<string> = new Set(['root', '0', 'root:root', '0:0', 'root:0', '0:root']);

/** Files up to this size may be written through the shell session; larger ones always go through the archive API. */
const SESSION_FILE_LIMIT = 64 * 1024;

export class DockerCommunicator implements Communicator {
  /** The archive API writes each file with exactly the mode of its tar entry. */
  public readonly uploadSetsMode = true;
  private queue: Promise<unknown> = Promise.resolve();
  private lostReported = false;
  private session?: ShellSession;
  /** Sessions dropped by a cancelled command; they may still be starting. */
  private readonly abandoned = new Set<ShellSession>();
  /** Set when a session never came up (no /bin/sh, say): every command then gets its own exec. */
  private sessionsUnavailable = false;

  constructor(private readonly container: Docker.Container, private readonly opts: DockerCommunicatorOptions = {}) {}

  /** Commands run as `exec_user`, else as the container's user, else as root. */
  public get commandsRunAsRoot(): boolean {
    return ROOT_OWNERS.has(this.opts.execUser || this.opts.containerUser || 'root');
  }

  /** The container this communicator talks to. */
  public get id(): string {
    return this.container.id;
  }

  /** Runs `command` with `/bin/sh -c "(command)"`; one command at a time, as Packer does. */
  public exec(command: string, io: ExecIo): Promise<number> {
    return this.serially(async () => {
      if (!io.stdin) {
        const code = await this.runInSession(command, io);
        if (code !== undefined) return code;
      }
      return this.run(['/bin/sh', '-c', `(${command})`], {
        user: this.opts.execUser || undefined,
        tty: this.opts.pty ?? false,
        io,
      });
    });
  }

  /**
   * Starts the shell session now, so that it is ready by the time the first
   * command or script comes. Optional: it is started on first use otherwise.
   */
  public openSession(): void {
    this.commandSession();
  }

  /**
   * Ends the shell session, if one is running, and waits until it has
   * exited: call it before pausing the container (a commit). A later
   * command starts another session.
   */
  public async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await Promise.all([session?.close(), ...[...this.abandoned].map((s) => s.settled())]);
    this.abandoned.clear();
  }

  /** Drops the shell session without waiting (the build failed; the container is removed next). */
  public abandonSession(): void {
    if (this.session) this.abandon(this.session);
    this.session = undefined;
  }

  private abandon(session: ShellSession): void {
    session.abandon();
    this.abandoned.add(session);
  }

  public async upload(dst: string, src: Readable, info: { size?: number; mode?: number }): Promise<void> {
    const signal = this.opts.signal;
    let size = info.size;
    let body: Readable = src;
    let scratch: string | undefined;
    let written = false;
    // Packer streams uploads without file info through a fresh temporary file: mode 0600.
    const mode = permissionBits(info.mode ?? 0o600);
    try {
      if (size === undefined) {
        const spooled = await spool(src, this.opts.tempDir);
        size = spooled.size;
        body = spooled.open();
        scratch = spooled.file;
      } else if (size <= SESSION_FILE_LIMIT && this.canWriteInSession(dst)) {
        const content = await readAll(src);
        written = content.length === size && await this.writeInSession(dst, content, mode);
        body = Readable.from([content]);
      }
      if (!written) {
        const pack = tarStream().pack();
        const fill = addEntry(pack, {
          name: path.posix.basename(dst),
          size,
          mode,
          mtime: new Date(),
          uid: 0,
          gid: 0,
          type: 'file',
        }, body).then(() => pack.finalize(), (err: Error) => {
          pack.destroy(err);
          throw err;
        });
        await Promise.all([
          this.putArchive(pack, path.posix.dirname(dst)).catch((e) => {
            body.destroy();
            throw e;
          }),
          fill,
        ]);
      }
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw await this.lostOr(e, () => new Error(`Failed to upload to '${dst}' in container: ${engineMessage(e)}`));
    } finally {
      if (scratch) await fsp.rm(scratch, { force: true });
    }
    await this.fixOwnerIfNeeded(dst, mode);
  }

  /** fix_upload_owner for a file just written as 0:0 with `mode`. */
  private async fixOwnerIfNeeded(dst: string, mode: number): Promise<void> {
    // Giving it to root again would change nothing (it would only clear setuid and setgid
    // bits, as any chown does), so that command is saved when it would.
    if (ROOT_OWNERS.has(this.owner) && (mode & 0o6000) === 0) return;
    await this.fixOwner(dst);
  }

  /**
   * Copies a local directory with Packer's (`docker cp`'s) rules: into an
   * existing `dst` the directory itself lands as `dst/<name>`, or only its
   * contents when `src` ends with `/`; a `dst` that does not exist yet is
   * created and receives the contents. The parent of `dst` must exist.
   */
  public async uploadDir(dst: string, src: string): Promise<void> {
    const signal = this.opts.signal;
    const contentsOnly = src.endsWith('/');
    const local = path.resolve(src);
    let target: string;
    let prefix: string;
    let withRoot: boolean;
    try {
      const st = await this.statPath(dst);
      if (st && isGoDir(st.mode)) {
        target = dst;
        prefix = contentsOnly ? '' : `${path.basename(local)}/`;
        withRoot = !contentsOnly;
      } else if (st) {
        throw new Error(`cannot copy the directory ${src} onto the file ${dst}`);
      } else {
        target = path.posix.dirname(dst);
        prefix = `${path.posix.basename(dst)}/`;
        withRoot = true;
      }
      const entries = await listTree(local, prefix, withRoot);
      const parts = splitForUpload(entries);
      if (parts.length === 1) {
        await this.putEntries(entries, target, signal);
      } else {
        // The engine unpacks each request on one thread: several at once go faster. Every
        // directory is made first, so that no two requests race to create one; and set
        // again last, because files added later changed their mtimes.
        const directories = entries.filter((e) => e.type === 'directory');
        if (directories.length) await this.putEntries(directories, target, signal);
        const together = new AbortController();
        const both = signal ? AbortSignal.any([signal, together.signal]) : together.signal;
        // The first failure is the cause; it stops the other requests, and all are waited for.
        let failure: { cause: unknown } | undefined;
        await Promise.all(parts.map((part) => this.putEntries(part, target, both).catch((e) => {
          failure ??= { cause: e };
          together.abort();
        })));
        if (failure) throw failure.cause;
        if (directories.length) await this.putEntries(directories, target, signal);
      }
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw await this.lostOr(e, () => new Error(`Failed to upload to '${dst}' in container: ${engineMessage(e)}`));
    }
    await this.fixOwner(dst);
  }

  /** Streams the remote file `src` into `dst` (which is left open: the caller closes it). */
  public async download(src: string, dst: Writable): Promise<void> {
    const signal = this.opts.signal;
    let archive: NodeJS.ReadableStream;
    try {
      archive = await this.container.getArchive({ path: src, abortSignal: signal });
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw await this.lostOr(e, () => new Error(`Error downloading file: ${engineMessage(e)}`));
    }
    const stream = archive as unknown as Readable;
    const extract = tarStream().extract();
    const entries = extract[Symbol.asyncIterator]();
    const feeding = feed(stream, extract as unknown as Sink).catch((e: Error) => extract.destroy(e));
    try {
      const first = await entries.next();
      if (first.done) throw new Error(`Failed to read header from tar stream: ${src} came back empty`);
      for await (const chunk of first.value as AsyncIterable<Buffer>) {
        if (!dst.write(chunk)) {
          await new Promise<void>((resolve, reject) => {
            const onDrain = () => {
              dst.off('error', onError);
              resolve();
            };
            const onError = (err: Error) => {
              dst.off('drain', onDrain);
              reject(err);
            };
            dst.once('drain', onDrain);
            dst.once('error', onError);
          });
        }
      }
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw await this.lostOr(e, () => new Error(`Failed to download '${src}' from container: ${(e as Error).message}`));
    } finally {
      // Only the first entry is wanted, as with Packer; drop the rest.
      stream.destroy();
      extract.destroy();
      await feeding;
    }
  }

  /**
   * Copies a remote file or directory to the local directory `dst`
   * (`/x/d/` arrives as `dst/d/...`, as with scp). Packer 1.6.6 does not
   * implement this for docker ("DownloadDir is not implemented for docker");
   * Kiln does, through the archive API. Wildcards are not expanded.
   */
  public async downloadDir(src: string, dst: string): Promise<void> {
    const signal = this.opts.signal;
    if (/[*?[]/.test(src)) {
      throw new Error(`Downloading with wildcards (${src}) is not supported by the docker communicator; name a file or a directory`);
    }
    const remote = src.length > 1 ? src.replace(/\/+$/, '') : src;
    let archive: NodeJS.ReadableStream;
    try {
      archive = await this.container.getArchive({ path: remote, abortSignal: signal });
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw await this.lostOr(e, () => new Error(`Error downloading directory: ${engineMessage(e)}`));
    }
    try {
      await extractInto(archive as unknown as Readable, path.resolve(dst));
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw await this.lostOr(e, () => new Error(`Failed to download '${src}' from container: ${(e as Error).message}`));
    }
  }

  /** Sends some entries of a local tree as one archive request, unpacked in `dir`. */
  private async putEntries(entries: readonly LocalEntry[], dir: string, signal: AbortSignal | undefined): Promise<void> {
    // A local problem (a file unreadable or changed) fails the request; it, not the engine's view of it, is the cause.
    let localError: Error | undefined;
    const tree = tarOf(entries);
    const body = Readable.from((async function* guarded() {
      try {
        yield* tree;
      } catch (err) {
        localError = err as Error;
        throw err;
      }
    })(), { objectMode: false, highWaterMark: 4 * 1024 * 1024 });
    try {
      await this.putArchive(body, dir, signal);
    } catch (e) {
      throw localError ?? e;
    } finally {
      // Stops reading ahead and closes any file still open.
      body.destroy();
    }
  }

  /** Runs `fn` after every command and session write before it has finished. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn, fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The running shell session for commands (started when needed), or undefined when commands need their own execs. */
  private commandSession(): ShellSession | undefined {
    if (this.opts.pty || this.sessionsUnavailable) return undefined;
    if (!this.session?.alive) {
      const env = this.opts.containerEnv
        ? Promise.resolve(this.opts.containerEnv)
        : this.container.inspect().then((i) => i.Config?.Env ?? [], () => [] as string[]);
      const shlvl = env.then((vars) => {
        const found = [...vars].reverse().find((v) => v.startsWith('SHLVL='));
        return found === undefined ? undefined : found.slice('SHLVL='.length);
      });
      this.session = ShellSession.start(this.container, this.opts.execUser || undefined, shlvl);
    }
    return this.session;
  }

  /**
   * Runs a command through the shell session: its exit status, or undefined
   * when no session could run it (it did not run; the caller gives it an exec).
   */
  private async runInSession(command: string, io: ExecIo): Promise<number | undefined> {
    const signal = io.signal ?? this.opts.signal;
    if (signal?.aborted) throw abortError(signal);
    const session = this.commandSession();
    if (!session) return undefined;
    const outcome = await this.inSession(session, signal, () => session.run(command, io));
    if (outcome.kind === 'exited') return outcome.code;
    if (outcome.kind === 'unavailable') {
      if (!session.wasReady) this.sessionsUnavailable = true;
      return undefined;
    }
    // The session ended under the command: say what a one-off exec would have said.
    return this.statusAfterStream(session.execution!, signal, outcome.error);
  }

  /** Waits for a session call; an abort closes the session (whatever runs in it is left, as with an exec). */
  private async inSession<T>(session: ShellSession, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    if (!signal) return call();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.abandon(session);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call().then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * True when an upload to `dst` may go through the shell session: commands
   * run as root, so a file the session writes is owned by 0:0 as one the
   * archive API writes is; and `dst` is an absolute path to a file.
   */
  private canWriteInSession(dst: string): boolean {
    return Boolean(this.commandsRunAsRoot && !this.opts.pty && !this.sessionsUnavailable
      && dst.startsWith('/') && !dst.endsWith('/') && path.posix.basename(dst) !== '');
  }

  /** Writes a small file through the session; false when it could not (the archive API then writes it). */
  private writeInSession(dst: string, content: Buffer, mode: number): Promise<boolean> {
    return this.serially(async () => {
      const signal = this.opts.signal;
      if (signal?.aborted) throw abortError(signal);
      const session = this.commandSession();
      if (!session) return false;
      return this.inSession(session, signal, () => session.writeFile(dst, content, mode));
    });
  }

  /** Runs a command in the container; resolves to its exit status. */
  private async run(cmd: string[], o: { user?: string; tty: boolean; io: ExecIo }): Promise<number> {
    const signal = o.io.signal ?? this.opts.signal;
    if (signal?.aborted) throw abortError(signal);
    const stdoutLines = new LineSplitter((l) => o.io.stdout?.(l));
    const stderrLines = new LineSplitter((l) => o.io.stderr?.(l));
    let exec: Docker.Exec;
    let stream: NodeJS.ReadWriteStream;
    const withStdin = Boolean(o.io.stdin);
    try {
      exec = await this.container.exec({
        Cmd: cmd,
        AttachStdin: withStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: o.tty,
        User: o.user,
        abortSignal: signal,
      });
      stream = await exec.start({ hijack: withStdin, stdin: withStdin, Detach: false, Tty: o.tty, abortSignal: signal });
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      if (isEngineUnreachable(e)) throw this.lost(e);
      // `docker exec` prints the engine's refusal and exits 1; do the same.
      o.io.stderr?.(`Error response from daemon: ${engineMessage(e)}`);
      return 1;
    }

    const duplex = stream as unknown as NodeJS.ReadWriteStream & Readable;
    const demux = new Demultiplexer((b) => stdoutLines.write(b), (b) => stderrLines.write(b));
    let streamError: Error | undefined;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => {
        duplex.destroy();
        done(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      duplex.on('data', (chunk: Buffer) => (o.tty ? stdoutLines.write(chunk) : demux.write(chunk)));
      duplex.on('end', () => done());
      duplex.on('close', () => done());
      // A cut connection may mean the engine died: the status query below tells.
      duplex.on('error', (e: Error) => {
        streamError = e;
        done();
      });
      if (o.io.stdin) {
        o.io.stdin.on('error', () => duplex.end());
        o.io.stdin.pipe(duplex as unknown as Writable);
      }
    });
    stdoutLines.end();
    stderrLines.end();
    return this.statusAfterStream(exec, signal, streamError);
  }

  /** The exit status of an exec whose stream has ended (`streamError` when it failed). */
  private async statusAfterStream(exec: Docker.Exec, signal: AbortSignal | undefined, streamError: Error | undefined): Promise<number> {
    // The stream ends when the process does; its status may take a moment to be recorded.
    for (let i = 0; ; i++) {
      let info: Docker.ExecInspectInfo;
      try {
        info = await exec.inspect({ abortSignal: signal });
      } catch (e) {
        if (signal?.aborted) throw abortError(signal);
        if (statusOf(e) === 404) return CMD_DISCONNECT;
        throw await this.lostOr(e, () => streamError ?? e as Error);
      }
      if (streamError) throw streamError;
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
      if (!info.Running || i >= 100) {
        // The process went away without a status (the container stopped under it).
        return CMD_DISCONNECT;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The error for an engine that cannot be reached; says the cause once through `onEngineLost`. */
  private lost(e: unknown): EngineUnreachableError {
    const err = e instanceof EngineUnreachableError ? e : new EngineUnreachableError(e);
    if (!this.lostReported && !this.opts.signal?.aborted) {
      this.lostReported = true;
      this.opts.onEngineLost?.(err.message);
    }
    return err;
  }

  /**
   * `lost(e)` when the engine cannot be reached (a cut connection is checked
   * with a ping), else the error `otherwise` makes.
   */
  private async lostOr(e: unknown, otherwise: () => Error): Promise<Error> {
    if (isEngineUnreachable(e)) return this.lost(e);
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (statusOf(e) === undefined && (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up|closed the connection/i.test(String((e as Error)?.message)))) {
      const cause = await unreachableCause((this.container as unknown as { modem: Parameters<typeof unreachableCause>[0] }).modem);
      if (cause) return this.lost(cause);
    }
    return otherwise();
  }

  /** Who uploads belong to: the container's user, or root. */
  private get owner(): string {
    return this.opts.containerUser || 'root';
  }

  /** Packer's fix_upload_owner: `chown -R <container user or root> <dst>`, as root. */
  private async fixOwner(dst: string): Promise<void> {
    if (this.opts.fixUploadOwner === false) return;
    const owner = this.owner;
    const output: string[] = [];
    const command = `chown -R ${shellQuote(owner)} ${shellQuote(dst)}`;
    const io = { stdout: (l: string) => output.push(l), stderr: (l: string) => output.push(l) };
    // As root: the session will do when commands run as root anyway.
    const inSession = this.commandsRunAsRoot ? await this.serially(() => this.runInSession(command, io)) : undefined;
    const code = inSession ?? await this.run(['/bin/sh', '-c', command], { user: 'root', tty: false, io });
    if (code !== 0) throw new Error(`Failed to set owner of the uploaded file: exit status ${code}, ${output.join('\n')}`);
  }

  /**
   * Extracts a tar into `dir` in the container. Like `docker cp`, it refuses
   * to replace a directory with a file or the other way round.
   */
  private putArchive(archive: TarStream.Pack | Readable, dir: string, signal = this.opts.signal): Promise<unknown> {
    const body = archive instanceof Readable ? archive : Readable.from(archive);
    return this.container.putArchive(body, { path: dir, noOverwriteDirNonDir: true, abortSignal: signal } as object);
  }

  /** Stat of a path in the container (symlinks followed once), or undefined when it does not exist. */
  private async statPath(p: string): Promise<PathStat | undefined> {
    const stat = async (q: string): Promise<PathStat | undefined> => {
      try {
        type Response = Readable & { headers: Record<string, string | undefined> };
        const res = await this.container.infoArchive({ path: q, abortSignal: this.opts.signal }) as unknown as Response;
        res.resume();
        const raw = res.headers['x-docker-container-path-stat'];
        return raw ? JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as PathStat : undefined;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    };
    const st = await stat(p);
    if (st && isGoSymlink(st.mode) && st.linkTarget) return (await stat(st.linkTarget)) ?? st;
    return st;
  }

}

type HeaderArgument = Partial<TarStream.Header> & Pick<TarStream.Header, 'name'>;

/** The writable side of a tar-stream (streamx) object, as far as `feed` needs it. */
interface Sink {
  write(chunk: Buffer): boolean;
  end(data?: unknown): unknown;
  once(event: 'drain', fn: () => void): unknown;
}

/** Copies a Node stream into a streamx writable, honouring back-pressure; does not wait for the sink to finish. */
async function feed(src: AsyncIterable<unknown>, sink: Sink): Promise<void> {
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (!sink.write(b)) await new Promise<void>((resolve) => sink.once('drain', resolve));
  }
  sink.end();
}

/** Adds one entry to a tar pack: a directory or link (no body), or a file streamed from `body`. */
function addEntry(pack: TarStream.Pack, header: HeaderArgument, body?: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    if (!body) {
      entry.end(undefined);
      return;
    }
    feed(body, entry as unknown as Sink).catch((err: Error) => {
      entry.destroy(err);
      reject(err);
    });
  });
}

/** Trees smaller than this go in one archive request: the extra requests would cost more than they save. */
const PARALLEL_UPLOAD_MIN_BYTES = 32 * 1024 * 1024;
/** How many archive requests a large tree is split into. */
const PARALLEL_UPLOADS = 3;

/**
 * The files and links of a tree split into runs of about equal size, in
 * order, for parallel requests; or the whole tree as one part when it is
 * small (then its directories go with it, as usual).
 */
function splitForUpload(entries: readonly LocalEntry[]): LocalEntry[][] {
  const weight = (e: LocalEntry) => 512 + e.size;
  const leaves = entries.filter((e) => e.type !== 'directory');
  const total = leaves.reduce((n, e) => n + weight(e), 0);
  if (total < PARALLEL_UPLOAD_MIN_BYTES || leaves.length < PARALLEL_UPLOADS) return [[...entries]];
  const parts: LocalEntry[][] = Array.from({ length: PARALLEL_UPLOADS }, () => []);
  let before = 0;
  for (const e of leaves) {
    parts[Math.min(PARALLEL_UPLOADS - 1, Math.floor((before * PARALLEL_UPLOADS) / total))].push(e);
    before += weight(e);
  }
  return parts.filter((p) => p.length);
}

/** Reads a stream whole. */
async function readAll(src: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of src) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** Reads an entry to its end without keeping it (the extractor waits for each entry to be consumed). */
async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of entry) void chunk;
}

/** Extracts a tar stream under `dst`, refusing entries that would land outside it. */
async function extractInto(stream: Readable, dst: string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  // The extractor hands each entry to whoever listens at that moment: iterate before feeding.
  const extract = tarStream().extract();
  const entries = extract[Symbol.asyncIterator]();
  const feeding = feed(stream, extract as unknown as Sink).catch((e: Error) => extract.destroy(e));
  for await (const entry of { [Symbol.asyncIterator]: () => entries }) {
    const h = entry.header;
    const target = path.resolve(dst, h.name);
    if (target !== dst && !target.startsWith(dst + path.sep)) {
      await drain(entry);
      throw new Error(`refusing to write ${h.name} outside ${dst}`);
    }
    const mode = permissionBits(h.mode ?? 0o644);
    if (h.type === 'directory') {
      await fsp.mkdir(target, { recursive: true, mode });
      await drain(entry);
    } else if (h.type === 'symlink') {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.rm(target, { force: true });
      await fsp.symlink(h.linkname ?? '', target);
      await drain(entry);
    } else if (h.type === 'file' || h.type === 'contiguous-file' || h.type === 'link') {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      if (h.type === 'link') {
        const from = path.resolve(dst, h.linkname ?? '');
        await drain(entry);
        if (from.startsWith(dst + path.sep)) await fsp.copyFile(from, target);
        continue;
      }
      await pipeline(Readable.from(entry), fs.createWriteStream(target, { mode }));
      await fsp.chmod(target, mode);
    } else {
      await drain(entry);
    }
  }
  await feeding;
}

/** Packer's `none` communicator: commands "succeed" without running, transfers fail. */
export const noneCommunicator: Communicator = {
  exec: async () => 0,
  upload: async () => { throw new Error('Upload is not implemented when communicator = \'none\''); },
  uploadDir: async () => { throw new Error('UploadDir is not implemented when communicator = \'none\''); },
  download: async () => { throw new Error('Download is not implemented when communicator = \'none\''); },
  downloadDir: async () => { throw new Error('DownloadDir is not implemented when communicator = \'none\''); },
};
