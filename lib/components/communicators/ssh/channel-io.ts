import type { Readable, Writable } from 'stream';

/**
 * Reading a protocol (scp) from an SSH channel's output and writing to its
 * input with back-pressure. The reader keeps at most a few chunks: it pauses
 * the channel when its buffer is full, so a 200 MB download never sits in
 * memory.
 */

const HIGH_WATER = 1024 * 1024;

export class ChannelReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered >= HIGH_WATER) stream.pause();
      this.notify();
    });
    stream.on('end', () => {
      this.ended = true;
      this.notify();
    });
    stream.on('close', () => {
      this.ended = true;
      this.notify();
    });
    stream.on('error', (e: Error) => {
      this.failure = e;
      this.notify();
    });
  }

  /** True once the other side has closed its output and everything was read. */
  public get atEnd(): boolean {
    return this.ended && this.buffered === 0;
  }

  /** True when at least one byte can be read without waiting. */
  public get hasData(): boolean {
    return this.buffered > 0;
  }

  /** Reads one byte; undefined at the end of the stream. */
  public async byte(): Promise<number | undefined> {
    if (!(await this.fill())) return undefined;
    const b = this.chunks[0][0];
    this.consume(1);
    return b;
  }

  /** Reads up to and without the next `\n`; undefined at the end of the stream (a partial last line is returned). */
  public async line(): Promise<string | undefined> {
    const parts: Buffer[] = [];
    for (;;) {
      if (!(await this.fill())) return parts.length ? Buffer.concat(parts).toString('utf8') : undefined;
      const head = this.chunks[0];
      const nl = head.indexOf(0x0a);
      if (nl >= 0) {
        parts.push(head.subarray(0, nl));
        this.consume(nl + 1);
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(head);
      this.consume(head.length);
    }
  }

  /**
   * Passes exactly `size` bytes to `sink` as they arrive; `sink` may return a
   * promise to slow the reader down. Fails if the stream ends first.
   */
  public async copy(size: number, sink: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    let left = size;
    while (left > 0) {
      if (!(await this.fill())) throw new Error(`the connection closed with ${left} bytes of the file still to come`);
      const head = this.chunks[0];
      const take = Math.min(left, head.length);
      const piece = take === head.length ? head : head.subarray(0, take);
      this.consume(take);
      left -= take;
      const wait = sink(piece);
      if (wait) await wait;
    }
  }

  /** Everything that is left, as text (for error messages). */
  public async rest(limit = 4096): Promise<string> {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < limit && (await this.fill())) {
      const head = this.chunks[0];
      parts.push(head);
      n += head.length;
      this.consume(head.length);
    }
    return Buffer.concat(parts).toString('utf8').slice(0, limit);
  }

  /** Waits for at least one buffered byte; false at the end of the stream. */
  private async fill(): Promise<boolean> {
    while (!this.buffered) {
      if (this.failure) throw this.failure;
      if (this.ended) return false;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    return true;
  }

  private consume(n: number): void {
    const head = this.chunks[0];
    if (n === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.buffered -= n;
    if (this.buffered < HIGH_WATER / 2 && this.stream.isPaused()) this.stream.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** The other end went away while we were still sending. */
export class ClosedWhileSending extends Error {
  constructor() {
    super('the connection closed while sending');
  }
}

/** Writes to a stream, waiting for it to drain when its buffer is full; fails if it closes first. */
export function writeTo(stream: Writable, data: Buffer | string): Promise<void> | undefined {
  if (stream.destroyed || stream.writableEnded) return Promise.reject(new ClosedWhileSending());
  if (stream.write(data)) return undefined;
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', onError);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new ClosedWhileSending());
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', onError);
  });
}
