import type { Readable } from 'stream';
import { abortError } from '../../engine/build';

/**
 * Small stream helpers for the Engine API: JSON progress streams (pull, push,
 * load, import), the multiplexed stdout/stderr of exec, and output split into
 * lines the way Packer shows remote output.
 */

/** One message of a JSON progress stream. */
export interface ProgressMessage {
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly progressDetail?: { current?: number; total?: number };
  readonly stream?: string;
  readonly error?: string;
  readonly errorDetail?: { message?: string; code?: number };
  readonly aux?: Record<string, unknown>;
}

/**
 * Reads a stream of JSON messages (one per line) to its end. Errors arrive
 * inside the stream with an HTTP 200, not as a status: the first one rejects.
 * Aborting `signal` destroys the stream (the engine then cancels the work).
 */
export function readProgress(stream: Readable, onMessage: (m: ProgressMessage) => void, signal?: AbortSignal): Promise<ProgressMessage[]> {
  return new Promise((resolve, reject) => {
    const all: ProgressMessage[] = [];
    let buf = '';
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        stream.destroy();
        reject(err);
      } else {
        resolve(all);
      }
    };
    const onAbort = () => finish(abortError(signal!));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const line = (text: string) => {
      const t = text.trim();
      if (!t) return;
      let m: ProgressMessage;
      try {
        m = JSON.parse(t) as ProgressMessage;
      } catch {
        m = { stream: t };
      }
      all.push(m);
      if (m.error || m.errorDetail?.message) {
        finish(new Error((m.errorDetail?.message || m.error || '').trim()));
        return;
      }
      onMessage(m);
    };
    stream.setEncoding?.('utf8');
    stream.on('data', (chunk: string | Buffer) => {
      if (done) return;
      buf += chunk.toString();
      let nl: number;
      while (!done && (nl = buf.indexOf('\n')) >= 0) {
        line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    let ended = false;
    stream.on('end', () => {
      ended = true;
      if (!done && buf) line(buf);
      finish();
    });
    stream.on('close', () => {
      if (!ended) finish(new Error('the Docker engine closed the connection before the operation finished'));
    });
    stream.on('error', (e: Error) => finish(e));
  });
}

/**
 * Cuts text into lines as Packer shows remote output: split on `\n`,
 * trailing whitespace removed, and only what follows the last `\r` kept
 * (progress bars redraw the line). A last line without `\n` is flushed at the end.
 */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly emit: (line: string) => void) {}

  public write(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.emit(cleanLine(this.pending.slice(0, nl)));
      this.pending = this.pending.slice(nl + 1);
    }
  }

  public end(): void {
    this.pending += this.decoder.decode();
    if (this.pending) this.emit(cleanLine(this.pending));
    this.pending = '';
  }
}

/** Packer's cleanOutputLine. */
export function cleanLine(line: string): string {
  const trimmed = line.replace(/\s+$/u, '');
  const cr = trimmed.lastIndexOf('\r');
  return cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
}

/**
 * Splits the multiplexed output of a non-TTY attach or exec into stdout and
 * stderr: 8-byte frame headers (stream type, 3 zero bytes, big-endian
 * length) each followed by that many bytes.
 */
export class Demultiplexer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly stdout: (b: Buffer) => void, private readonly stderr: (b: Buffer) => void) {}

  public write(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const type = this.buf[0];
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) return;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      if (type === 2) this.stderr(payload);
      else this.stdout(payload);
    }
  }
}

/** The lines of a pull or push progress stream worth showing, as `docker pull` prints them without a terminal. */
export function progressLine(m: ProgressMessage): string | undefined {
  if (m.stream) return m.stream.replace(/\s+$/, '') || undefined;
  if (!m.status) return undefined;
  if (m.progressDetail && m.progressDetail.current !== undefined) return undefined;
  return m.id ? `${m.id}: ${m.status}` : m.status;
}
