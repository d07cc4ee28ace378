import { randomBytes } from 'crypto';
import type { Readable, Writable } from 'stream';
import type Docker from 'dockerode';
import { Demultiplexer, LineSplitter } from './streams';
import { shellQuote as quote } from '../shell-quote';

/**
 * One long-lived `/bin/sh` in the container, fed commands on its stdin, so
 * that running a command costs a fork in the container instead of a new exec
 * (an exec is about 50 ms on the engine: the runtime sets up a process each
 * time; a fork in the shell is a millisecond or two).
 *
 * Each command still runs exactly as a one-off exec runs it: as the child
 * `/bin/sh -c "(<command>)"`, with stdin from /dev/null, in the same working
 * directory, as the same user and with the same environment. The one thing
 * the session's own shell changes in what its children inherit, SHLVL, is
 * put back to what the exec was given. After the child ends the session
 * prints a marker with its exit status on stdout and a marker on stderr;
 * everything before the markers is the command's output, delivered by line
 * as it comes.
 *
 * A session that cannot start, or ends before it said it was ready, has run
 * nothing: the caller then runs the command as a one-off exec, which reports
 * whatever stops it exactly as before. A session that ends under a running
 * command (the container stopped, the engine went away) reports that as the
 * one-off exec would, through the session exec's own status.
 */

/** How long closing waits for the session's shell to exit. */
const CLOSE_TIMEOUT_MS = 5000;

/** How a finished session command ended. */
export type SessionOutcome =
  | { readonly kind: 'exited'; readonly code: number }
  /** The session ended before it was ready: nothing ran. */
  | { readonly kind: 'unavailable' }
  /** The session's stream ended or failed while the command ran. */
  | { readonly kind: 'ended'; readonly error?: Error };

interface Pending {
  readonly out: LineSplitter;
  readonly err: LineSplitter;
  outDone: boolean;
  errDone: boolean;
  code: number;
  readonly resolve: (o: SessionOutcome) => void;
}

export interface SessionIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
}


/** The length of the longest suffix of `buf` that is a proper prefix of `token`: bytes that may start a marker. */
function partialMarker(buf: Buffer, token: Buffer): number {
  for (let n = Math.min(token.length - 1, buf.length); n > 0; n--) {
    if (buf.subarray(buf.length - n).equals(token.subarray(0, n))) return n;
  }
  return 0;
}

/**
 * One output stream of the session (stdout or stderr): passes a command's
 * bytes on until the marker, then reports the text after the marker up to
 * the end of its line.
 */
class MarkedStream {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly token: Buffer,
    private readonly sink: () => ((b: Buffer) => void) | undefined,
    private readonly onMarker: (text: string) => void,
  ) {}

  public write(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const at = this.buf.indexOf(this.token);
      if (at < 0) {
        const keep = partialMarker(this.buf, this.token);
        this.pass(this.buf.subarray(0, this.buf.length - keep));
        this.buf = this.buf.subarray(this.buf.length - keep);
        return;
      }
      const nl = this.buf.indexOf(10, at + this.token.length);
      this.pass(this.buf.subarray(0, at));
      if (nl < 0) {
        this.buf = this.buf.subarray(at);
        return;
      }
      const text = this.buf.subarray(at + this.token.length, nl).toString('latin1').trim();
      this.buf = this.buf.subarray(nl + 1);
      this.onMarker(text);
    }
  }

  private pass(b: Buffer): void {
    // Output outside a command (a background process's) belongs to no one.
    if (b.length) this.sink()?.(b);
  }
}

export class ShellSession {
  /**
   * Starts a session as `user` (the container's user when undefined).
   * `shlvl` is SHLVL in the container's environment (undefined when unset):
   * the value every one-off exec starts with.
   */
  public static start(container: Docker.Container, user: string | undefined, shlvl: Promise<string | undefined>): ShellSession {
    return new ShellSession(container, user, shlvl);
  }

  private readonly token = `kiln-${randomBytes(12).toString('hex')}`;
  private exec?: Docker.Exec;
  private stream?: Readable & Writable;
  private ready = false;
  private ended = false;
  private closed = false;
  private closing?: Promise<void>;
  private current?: Pending;
  private readonly started: Promise<boolean>;

  private constructor(container: Docker.Container, user: string | undefined, shlvl: Promise<string | undefined>) {
    const token = Buffer.from(this.token);
    const demux = new Demultiplexer(
      (b) => out.write(b),
      (b) => err.write(b),
    );
    const out = new MarkedStream(token, () => (this.current && !this.current.outDone ? (b) => this.current!.out.write(b) : undefined), (text) => {
      if (text === 'ready') {
        this.ready = true;
        return;
      }
      const p = this.current;
      if (!p || p.outDone) return;
      p.outDone = true;
      p.code = Number(text);
      this.settle();
    });
    const err = new MarkedStream(token, () => (this.current && !this.current.errDone ? (b) => this.current!.err.write(b) : undefined), () => {
      const p = this.current;
      if (!p || p.errDone) return;
      p.errDone = true;
      this.settle();
    });
    this.started = (async () => {
      try {
        const level = await shlvl;
        const setShlvl = level === undefined ? 'unset SHLVL' : `SHLVL=${quote(level)}; export SHLVL`;
        const bootstrap = `${setShlvl}\necho "${this.token} ready"\n`;
        this.exec = await container.exec({
          Cmd: ['/bin/sh'],
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          User: user,
        });
        const stream = await this.exec.start({ hijack: true, stdin: true, Detach: false, Tty: false }) as unknown as Readable & Writable;
        this.stream = stream;
        stream.on('data', (chunk: Buffer) => demux.write(chunk));
        const end = (e?: Error) => {
          if (this.ended) return;
          this.ended = true;
          const p = this.current;
          if (p) {
            this.current = undefined;
            p.out.end();
            p.err.end();
            p.resolve(this.ready ? { kind: 'ended', error: e } : { kind: 'unavailable' });
          }
        };
        stream.on('end', () => end());
        stream.on('close', () => end());
        stream.on('error', (e: Error) => end(e));
        stream.write(bootstrap);
        return true;
      } catch {
        this.ended = true;
        return false;
      }
    })();
  }

  /** The session's exec, for its status once its stream has ended. */
  public get execution(): Docker.Exec | undefined {
    return this.exec;
  }

  /** False once the session has ended or been closed: a new one is needed. */
  public get alive(): boolean {
    return !this.ended && !this.closed;
  }

  /** True once the shell has said it is ready; a session that never was cannot start in this container. */
  public get wasReady(): boolean {
    return this.ready;
  }

  /** Runs `command` as `/bin/sh -c "(command)"`; one at a time (the caller queues). */
  public async run(command: string, io: SessionIo): Promise<SessionOutcome> {
    return this.send(`/bin/sh -c ${quote(`(${command})`)} </dev/null`, io);
  }

  /**
   * Writes `content` (text ending with a newline, or nothing, without NUL
   * bytes) at the absolute path `file` with `mode`, replacing a file or link
   * there, as the session's user. Resolves to true when it was written.
   */
  public async writeFile(file: string, content: Buffer, mode: number): Promise<boolean> {
    const eof = `${this.token}-eof`;
    if (content.includes(0) || (content.length && content[content.length - 1] !== 10) || content.includes(`\n${eof}\n`) || content.subarray(0, eof.length + 1).equals(Buffer.from(`${eof}\n`))) return false;
    const q = quote(file);
    const script = Buffer.concat([
      // What is there (a file, a link) is replaced, not written through; `test` is a builtin, rm is not.
      Buffer.from(`{ { ! [ -e ${q} ] && ! [ -h ${q} ] || rm -f ${q}; } && cat > ${q} && chmod ${mode.toString(8).padStart(4, '0')} ${q}; } 2>/dev/null <<'${eof}'\n`),
      content,
      Buffer.from(`${eof}\n`),
    ]);
    const outcome = await this.send(script, {});
    return outcome.kind === 'exited' && outcome.code === 0;
  }

  /**
   * Ends the session and waits until its shell has exited. The container
   * may be paused next (a commit), and pausing it while the engine is still
   * starting an exec process deadlocks the engine: that process cannot
   * finish starting in a frozen container, and the container cannot be
   * resumed until it has.
   */
  public close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (!(await this.started) || !this.stream || !this.exec) return;
      const stream = this.stream;
      const exec = this.exec;
      const ended = new Promise<void>((resolve) => {
        if (this.ended) return resolve();
        stream.once('end', () => resolve());
        stream.once('close', () => resolve());
        stream.once('error', () => resolve());
      });
      // The shell reads the end of its input and exits. Its output may stay open (a
      // background process holding it), so the engine is asked too whether it has exited.
      stream.end();
      let waiting = true;
      const exited = (async () => {
        const deadline = Date.now() + CLOSE_TIMEOUT_MS;
        while (waiting && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
          const info = await exec.inspect().catch(() => undefined);
          if (!info || (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined)) return;
        }
      })();
      await Promise.race([ended, exited]);
      waiting = false;
      stream.destroy();
    })();
    return this.closing;
  }

  /**
   * Resolves once the engine is no longer starting the session's process:
   * it said it was ready, or it ended, or it never started (or after a while).
   */
  public async settled(): Promise<void> {
    if (!(await this.started) || !this.stream) return;
    const deadline = Date.now() + CLOSE_TIMEOUT_MS;
    while (!this.ready && !this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** Drops the session at once (a cancelled command): whatever runs in it is left, as with an exec. */
  public abandon(): void {
    this.closed = true;
    this.stream?.destroy();
  }

  private async send(script: string | Buffer, io: SessionIo): Promise<SessionOutcome> {
    // Not started, or gone before this command was sent: it did not run.
    if (!(await this.started) || !this.alive || !this.stream) return { kind: 'unavailable' };
    return new Promise<SessionOutcome>((resolve) => {
      this.current = {
        out: new LineSplitter((l) => io.stdout?.(l)),
        err: new LineSplitter((l) => io.stderr?.(l)),
        outDone: false,
        errDone: false,
        code: 0,
        resolve,
      };
      this.stream!.write(script);
      this.stream!.write(`\necho "${this.token} $?"; echo "${this.token}" >&2\n`);
    });
  }

  private settle(): void {
    const p = this.current;
    if (!p || !p.outDone || !p.errDone) return;
    this.current = undefined;
    p.out.end();
    p.err.end();
    p.resolve({ kind: 'exited', code: p.code });
  }
}
