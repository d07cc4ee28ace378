import type * as fsp from 'fs/promises';

/**
 * The pieces an archive is written from, and the two ends that move them
 * without copying: reads into a fixed set of reused buffers, and ordered
 * gathered writes that hand each buffer back once its bytes are on their way
 * to the disk.
 *
 * Fresh buffers for every read cost more than the read itself on a big input
 * (each new megabyte is new memory the kernel must map and clear), and a
 * stream pipeline cannot tell when the last user of a buffer is done with it;
 * so a piece says so itself, through `release`.
 */

/** Bytes on their way to the output, and what to call once they have been written. */
export interface Piece {
  readonly data: Buffer;
  /** Called exactly once, after `data` has been written (or dropped on failure). */
  readonly release?: () => void;
}

/**
 * A count of the users of one piece's buffer: `release` runs when the last
 * one lets go. Starts with one user, the one that made it.
 */
export class Holder {
  private users = 1;

  constructor(private readonly done?: () => void) {}

  public hold(): this {
    this.users++;
    return this;
  }

  public drop(): void {
    if (--this.users === 0) this.done?.();
  }
}

/** Buffers of one size, reused; `acquire` waits while all are in use. */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((b: Buffer) => void)[] = [];
  private made = 0;

  constructor(public readonly bufferSize: number, private readonly count: number) {}

  public acquire(): Promise<Buffer> {
    const b = this.free.pop();
    if (b) return Promise.resolve(b);
    if (this.made < this.count) {
      this.made++;
      return Promise.resolve(Buffer.allocUnsafeSlow(this.bufferSize));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Buffers not in use now (made or still to be made). */
  public get available(): number {
    return this.free.length + this.count - this.made;
  }

  public release(b: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }
}

/** Where file data is read into: reused buffers from a pool, or a new buffer for each read. */
export interface ReadBuffers {
  readonly chunkSize: number;
  acquire(): Promise<Buffer>;
  /** Makes the piece for `data` (part of `buffer`), whose release gives `buffer` back. */
  piece(buffer: Buffer, data: Buffer): Piece;
}

/** Reused buffers: for consumers that release every piece (compress writing straight to its file). */
export function pooledBuffers(pool: BufferPool): ReadBuffers {
  return {
    chunkSize: pool.bufferSize,
    acquire: () => pool.acquire(),
    piece: (buffer, data) => ({ data, release: () => pool.release(buffer) }),
  };
}

/** A new buffer per read: for consumers that keep data without saying when they are done (Node streams). */
export function freshBuffers(chunkSize = 1 << 20): ReadBuffers {
  return {
    chunkSize,
    acquire: () => Promise.resolve(Buffer.allocUnsafeSlow(chunkSize)),
    piece: (_buffer, data) => ({ data }),
  };
}

/** How many reads of a file are under way at once. */
const READ_AHEAD = 3;

/**
 * An open file's bytes as pieces, with the next reads already under way
 * while the consumer works on the current one: the first `size` bytes,
 * failing with `shrank(copied)` when the file ends sooner; or, without a
 * size, all of it up to its end. When the consumer stops early, the reads
 * under way are waited for; with pooled buffers, that needs the pieces it
 * was given to be released sooner or later (written or dropped), as they
 * are by PieceWriter and ParallelDeflater.
 */
export async function* readPieces(
  handle: fsp.FileHandle, buffers: ReadBuffers, size?: number, shrank?: (copied: number) => Error,
): AsyncGenerator<Piece> {
  const limit = size ?? Infinity;
  const giveBack = (buffer: Buffer): void => buffers.piece(buffer, buffer).release?.();
  interface Read { readonly at: number; readonly want: number; readonly done: Promise<{ buffer: Buffer; bytes: number }> }
  const readAt = async (at: number, want: number): Promise<{ buffer: Buffer; bytes: number }> => {
    const buffer = await buffers.acquire();
    try {
      const { bytesRead } = await handle.read(buffer, 0, want, at);
      return { buffer, bytes: bytesRead };
    } catch (e) {
      giveBack(buffer);
      throw e;
    }
  };
  const queue: Read[] = [];
  let issued = 0;
  const fill = (): void => {
    while (queue.length < READ_AHEAD && issued < limit) {
      const want = Math.min(buffers.chunkSize, limit - issued);
      const done = readAt(issued, want);
      done.catch(() => undefined); // awaited in turn; this only keeps a later read's failure from being "unhandled"
      queue.push({ at: issued, want, done });
      issued += want;
    }
  };
  /** Waits for the reads under way and gives their buffers back. */
  const dropQueued = async (): Promise<void> => {
    for (const r of queue.splice(0)) await r.done.then(({ buffer }) => giveBack(buffer), () => undefined);
  };
  try {
    fill();
    while (queue.length) {
      const { at, want, done } = queue.shift()!;
      const { buffer, bytes } = await done;
      if (bytes === 0) {
        giveBack(buffer);
        if (size !== undefined) throw shrank?.(at) ?? new Error(`file shrank from ${size} to ${at} bytes while it was read`);
        return;
      }
      if (bytes < want) {
        // The file ends here (or the read was short): the reads after it start again from here.
        await dropQueued();
        issued = at + bytes;
      }
      fill();
      yield buffers.piece(buffer, buffer.subarray(0, bytes));
    }
  } finally {
    // Reads started for a consumer that stopped: wait for them, then give their buffers back.
    await dropQueued();
  }
}

/** Most slices one writev takes (Linux's IOV_MAX is 1024). */
const MAX_SLICES = 1000;
/** Bytes queued for writing above which the producer waits. */
const QUEUE_LIMIT = 16 << 20;

/**
 * Writes pieces in order at the end of an open file with gathered writes,
 * one at a time, each taking everything queued so far; releases each piece
 * once written. The producer calls `room()` to wait while too much is queued.
 */
export class PieceWriter {
  /** The error of a write that failed; nothing more is written after it. */
  public failure?: unknown;
  private queue: Piece[] = [];
  private queued = 0;
  private writing?: Promise<void>;
  private readonly roomWaiters: (() => void)[] = [];

  constructor(private readonly handle: fsp.FileHandle) {}

  public add(piece: Piece): void {
    if (this.failure !== undefined) {
      piece.release?.();
      return;
    }
    if (piece.data.length === 0) {
      piece.release?.();
      return;
    }
    this.queue.push(piece);
    this.queued += piece.data.length;
    // Started after the current run of code, so that the pieces it adds go out in one write.
    this.writing ??= Promise.resolve().then(() => this.drain());
  }

  /** Resolves when there is room for more (at once if there is); throws the write's error if one failed. */
  public async room(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.queued <= QUEUE_LIMIT) return;
    await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits until everything added has been written; throws the write's error if one failed. */
  public async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length && this.failure === undefined) {
        const batch = this.queue.splice(0, MAX_SLICES);
        try {
          await this.writeAll(batch.map((p) => p.data));
        } catch (e) {
          this.failure = e;
        }
        for (const p of batch) {
          this.queued -= p.data.length;
          p.release?.();
        }
        if (this.queued <= QUEUE_LIMIT || this.failure !== undefined) this.roomWaiters.splice(0).forEach((w) => w());
      }
      if (this.failure !== undefined) {
        for (const p of this.queue.splice(0)) p.release?.();
        this.queued = 0;
        this.roomWaiters.splice(0).forEach((w) => w());
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** One writev, and more for what a short write left. */
  private async writeAll(buffers: Buffer[]): Promise<void> {
    let rest = buffers;
    while (rest.length) {
      const { bytesWritten } = await this.handle.writev(rest);
      let skip = bytesWritten;
      let i = 0;
      while (i < rest.length && skip >= rest[i].length) skip -= rest[i++].length;
      rest = rest.slice(i);
      if (skip > 0) rest[0] = rest[0].subarray(skip);
      if (bytesWritten === 0 && rest.length) throw Object.assign(new Error('short write'), { code: 'EIO' });
    }
  }
}
