import * as os from 'os';
import { Transform, TransformCallback } from 'stream';
import * as zlib from 'zlib';
import { Holder, Piece } from './pieces';

/**
 * Parallel DEFLATE, the way pgzip does it: the input is cut into blocks, each
 * block is compressed on its own (on libuv's thread pool, so several at once)
 * with the previous block's last 32 KiB as its dictionary, and ends with a
 * sync flush so that the compressed blocks, laid end to end and closed by an
 * empty final block, form one valid DEFLATE stream. Memory stays bounded: at
 * most `concurrency` blocks are in flight.
 *
 * Two shortcuts keep time down without changing what a decompressor sees: a
 * block of zeros (sparse disk images are full of them) reuses one compressed
 * copy, and a block whose byte statistics say it is already compressed or
 * random is stored, which is what DEFLATE would end up emitting for it anyway
 * after a costly search for matches that are not there.
 */

const { Z_SYNC_FLUSH } = zlib.constants;

/** DEFLATE's window: how much of the previous block is useful as a dictionary. */
const WINDOW = 32 * 1024;

/** Bytes per block; each block is one job on the thread pool. */
export const DEFAULT_BLOCK_SIZE = 256 * 1024;

/** An empty final block (BFINAL=1, fixed Huffman, end of block), byte-aligned after a sync flush. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** Above this many bits per byte (out of 8), a block is taken as incompressible. */
const INCOMPRESSIBLE_ENTROPY = 7.9;

/** CRC-32 (IEEE), from zlib where Node has it (20.15 and later), else computed here. */
export const crc32: (data: Uint8Array, value?: number) => number =
  (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32 ?? jsCrc32;

let table: Uint32Array | undefined;
function jsCrc32(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~value;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/**
 * The CRC-32 of A followed by B, from crc(A), crc(B) and B's length, without
 * reading the data again (zlib's crc32_combine: multiplying by x^(8*len2) in
 * GF(2) with repeated squaring of the "one zero bit" operator).
 */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const times = (mat: Uint32Array, vec: number): number => {
    let sum = 0;
    for (let i = 0; vec; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i];
    return sum >>> 0;
  };
  const square = (out: Uint32Array, mat: Uint32Array): void => {
    for (let n = 0; n < 32; n++) out[n] = times(mat, mat[n]);
  };
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let c1 = crc1 >>> 0;
  let len = len2;
  // Each round squares the operator (one zero byte, two, four, ...) and applies it where len has a bit set.
  do {
    square(even, odd);
    if (len % 2) c1 = times(even, c1);
    len = Math.floor(len / 2);
    if (!len) break;
    square(odd, even);
    if (len % 2) c1 = times(odd, c1);
    len = Math.floor(len / 2);
  } while (len);
  return (c1 ^ crc2) >>> 0;
}

/** Per length of zeros: the operator that appends them to a CRC, and their own CRC. */
const zeroCrcs = new Map<number, { op: Uint32Array; crc: number }>();

/** CRC-32 update for `length` zero bytes, without reading them. */
export function crc32Zeros(crc: number, length: number): number {
  let z = zeroCrcs.get(length);
  if (!z) {
    // Column i of the operator is where bit i of a CRC goes once `length` zero bytes follow.
    const op = new Uint32Array(32);
    for (let i = 0; i < 32; i++) op[i] = crc32Combine((1 << i) >>> 0, 0, length);
    z = { op, crc: crc32(Buffer.alloc(length)) };
    if (zeroCrcs.size > 16) zeroCrcs.clear();
    zeroCrcs.set(length, z);
  }
  let sum = 0;
  for (let i = 0, v = crc >>> 0; v; i++, v >>>= 1) if (v & 1) sum ^= z.op[i];
  return (sum ^ z.crc) >>> 0;
}

/** How many blocks to compress at once: one per core, plus one so the pool never waits for the reader. */
export function defaultConcurrency(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cores) + 1;
}

const ZEROS = Buffer.alloc(DEFAULT_BLOCK_SIZE);

/** True when every byte of `block` is zero; runs at memory speed. */
export function isZeroBlock(block: Buffer): boolean {
  for (let off = 0; off < block.length; off += ZEROS.length) {
    const part = block.subarray(off, off + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

/**
 * Order-0 entropy (bits per byte) of a few samples spread over `block`: cheap,
 * and enough to tell random or already-compressed data from the rest.
 */
export function sampledEntropy(block: Buffer, samples = 4, sampleSize = 2048): number {
  const counts = new Uint32Array(256);
  let total = 0;
  if (block.length <= samples * sampleSize) {
    for (let i = 0; i < block.length; i++) counts[block[i]]++;
    total = block.length;
  } else {
    const step = Math.floor((block.length - sampleSize) / (samples - 1));
    for (let s = 0; s < samples; s++) {
      const start = s * step;
      for (let i = start; i < start + sampleSize; i++) counts[block[i]]++;
    }
    total = samples * sampleSize;
  }
  let h = 0;
  for (let i = 0; i < 256; i++) {
    if (counts[i]) {
      const p = counts[i] / total;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

/**
 * `block` as DEFLATE stored blocks (not final), byte-aligned at both ends:
 * 5-byte headers between slices of the block itself, so nothing is copied.
 */
export function storedBlocks(block: Buffer): Buffer[] {
  const MAX = 0xffff;
  const pieces = Math.max(1, Math.ceil(block.length / MAX));
  const headers = Buffer.allocUnsafe(5 * pieces);
  const out: Buffer[] = [];
  for (let i = 0; i < pieces; i++) {
    const part = block.subarray(i * MAX, Math.min(block.length, (i + 1) * MAX));
    const h = headers.subarray(i * 5, i * 5 + 5);
    h[0] = 0x00; // BFINAL=0, BTYPE=00 (stored), padding to the byte boundary
    h.writeUInt16LE(part.length, 1);
    h.writeUInt16LE(~part.length & 0xffff, 3);
    out.push(h, part);
  }
  return out;
}

function deflateRawAsync(data: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.deflateRaw(data, options, (e, out) => (e ? reject(e) : resolve(out))));
}

const zeroCache = new Map<string, Buffer>();

/** The compressed form of `length` zero bytes, sync-flushed; computed once per level and strategy. */
function compressedZeros(length: number, level: number, strategy: number): Buffer {
  const key = `${level}:${strategy}:${length}`;
  let out = zeroCache.get(key);
  if (!out) {
    out = zlib.deflateRawSync(Buffer.alloc(length), { level, strategy, finishFlush: Z_SYNC_FLUSH });
    if (zeroCache.size > 16) zeroCache.clear();
    zeroCache.set(key, out);
  }
  return out;
}

/** The window after a block of zeros at least a window long. */
const ZERO_WINDOW = Buffer.alloc(WINDOW);

export interface RawDeflateOptions {
  /** zlib level, -1 (default) to 9. */
  readonly level: number;
  /** Huffman coding only, no matches (Packer's level -2). */
  readonly huffmanOnly?: boolean;
  readonly blockSize?: number;
  readonly concurrency?: number;
}

/** Pending input: a piece's bytes not yet in a block, and the count of its users. */
interface Pending {
  data: Buffer;
  readonly holder: Holder;
}

/**
 * The core of the parallel compressor: takes pieces in order (`write`, then
 * `end`) and hands the raw DEFLATE stream to `emit` as pieces, in order.
 * An input piece is released once nothing needs its bytes any more: at once
 * for zeros and copied blocks, when its compression finishes, or, for stored
 * blocks (whose output is the input itself), when the output is released.
 */
export class ParallelDeflater {
  /** CRC-32 of the input so far. */
  public crc = 0;
  /** Bytes of input so far. */
  public size = 0;
  /** Bytes of DEFLATE data produced. */
  public compressedSize = 0;

  private readonly level: number;
  private readonly strategy: number;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private pending: Pending[] = [];
  private pendingLength = 0;
  private window?: Buffer;
  private readonly inflight: Promise<Piece[]>[] = [];

  constructor(options: RawDeflateOptions, private readonly emit: (piece: Piece) => void) {
    this.level = options.level;
    this.strategy = options.huffmanOnly ? zlib.constants.Z_HUFFMAN_ONLY : zlib.constants.Z_DEFAULT_STRATEGY;
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.concurrency = options.concurrency ?? defaultConcurrency();
  }

  /** Takes a piece; resolves when the compressor is ready for the next. */
  public async write(piece: Piece): Promise<void> {
    this.size += piece.data.length;
    if (piece.data.length === 0) {
      piece.release?.();
      return;
    }
    this.pending.push({ data: piece.data, holder: new Holder(piece.release) });
    this.pendingLength += piece.data.length;
    await this.pump(false);
  }

  /** Compresses what is left and emits the final empty block. */
  public async end(): Promise<void> {
    await this.pump(true);
    this.output([{ data: FINAL_BLOCK }]);
  }

  /** After a failure: releases what is pending and lets running jobs release theirs. */
  public abandon(): void {
    for (const p of this.pending.splice(0)) p.holder.drop();
    this.pendingLength = 0;
    for (const job of this.inflight.splice(0)) job.then((pieces) => pieces.forEach((p) => p.release?.()), () => undefined);
  }

  private output(pieces: Piece[]): void {
    for (const p of pieces) {
      this.compressedSize += p.data.length;
      this.emit(p);
    }
  }

  private async pump(final: boolean): Promise<void> {
    while (this.pendingLength >= this.blockSize || (final && this.pendingLength > 0)) {
      // Blocks need not all be the same size. A large enough chunk is used as it came, saving a copy;
      // a small one before a large one (a tar header before file data) goes alone, so that the
      // blocks of the data stay aligned with it and its runs of zeros are seen as such.
      const head = this.pending[0].data;
      let size: number;
      if (head.length >= this.blockSize / 2) size = head.length <= this.blockSize * 2 ? head.length : this.blockSize;
      else if (this.pending.length > 1 && this.pending[1].data.length >= this.blockSize / 2) size = head.length;
      else size = Math.min(this.blockSize, this.pendingLength);
      const { block, holders } = this.takePending(size);
      const done = (): void => holders.forEach((h) => h.drop());
      const zero = isZeroBlock(block);
      this.crc = zero ? crc32Zeros(this.crc, block.length) : crc32(block, this.crc);
      let job: Promise<Piece[]>;
      const shared = zero && this.level !== 0; // output is the one compressed copy of zeros: the input is no longer needed
      if (shared) {
        job = Promise.resolve([{ data: compressedZeros(block.length, this.level, this.strategy) }]);
      } else if (this.level === 0 || sampledEntropy(block) > INCOMPRESSIBLE_ENTROPY) {
        const stored = storedBlocks(block);
        job = Promise.resolve(stored.map((data, i) => (i === stored.length - 1 ? { data, release: done } : { data })));
      } else {
        // One output chunk rather than many 16 KiB ones that would have to be joined.
        const chunkSize = Math.max(64 * 1024, block.length + (block.length >>> 3) + 1024);
        const options: zlib.ZlibOptions = {
          level: this.level,
          strategy: this.strategy,
          memLevel: 9,
          chunkSize,
          finishFlush: Z_SYNC_FLUSH,
          ...(this.window ? { dictionary: this.window } : {}),
        };
        job = deflateRawAsync(block, options).then((data) => [{ data }]).finally(done);
        job.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
      }
      // The next block's dictionary: copied, so that this block's buffer can go back to its pool.
      if (block.length >= WINDOW) this.window = zero ? ZERO_WINDOW : Buffer.from(block.subarray(block.length - WINDOW));
      else this.window = Buffer.concat([this.window ?? Buffer.alloc(0), block]).subarray(-WINDOW);
      if (shared) done();
      this.inflight.push(job);
      while (this.inflight.length >= this.concurrency) this.output(await this.inflight.shift()!);
    }
    if (final) while (this.inflight.length) this.output(await this.inflight.shift()!);
  }

  /**
   * Removes the first `n` pending bytes: a part of one piece (holding it), or
   * a copy of several (which need not be held).
   */
  private takePending(n: number): { block: Buffer; holders: Holder[] } {
    const parts: Buffer[] = [];
    const holders: Holder[] = [];
    let need = n;
    while (need > 0) {
      const head = this.pending[0];
      if (head.data.length <= need) {
        parts.push(head.data);
        holders.push(head.holder); // the queue's hold passes to the block
        this.pending.shift();
        need -= head.data.length;
      } else {
        parts.push(head.data.subarray(0, need));
        holders.push(head.holder.hold());
        head.data = head.data.subarray(need);
        need = 0;
      }
    }
    this.pendingLength -= n;
    if (parts.length === 1) return { block: parts[0], holders };
    const block = Buffer.concat(parts, n);
    holders.forEach((h) => h.drop());
    return { block, holders: [] };
  }
}

/**
 * A stream that turns its input into one raw DEFLATE stream, compressing
 * blocks in parallel (for zip entries, and the stream form of gzip).
 * Subclasses add a container around it through `header` and `trailer`.
 * After the end, `crc`, `size` and `compressedSize` describe what went through.
 */
export class RawDeflateStream extends Transform {
  private readonly core: ParallelDeflater;
  private started = false;

  constructor(options: RawDeflateOptions) {
    super({ highWaterMark: 1 << 20 });
    this.core = new ParallelDeflater(options, (piece) => {
      this.push(piece.data);
      piece.release?.();
    });
  }

  /** CRC-32 of the input so far. */
  public get crc(): number {
    return this.core.crc;
  }

  /** Bytes of input so far. */
  public get size(): number {
    return this.core.size;
  }

  /** Bytes of DEFLATE data produced (without header and trailer). */
  public get compressedSize(): number {
    return this.core.compressedSize;
  }

  /** Bytes written before the DEFLATE data. */
  protected header(): Buffer | undefined {
    return undefined;
  }

  /** Bytes written after the DEFLATE data, once `crc` and `size` are final. */
  protected trailer(): Buffer | undefined {
    return undefined;
  }

  public _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start();
    this.core.write({ data: chunk }).then(() => callback(), callback);
  }

  public _flush(callback: TransformCallback): void {
    this.start();
    this.core.end().then(() => {
      const t = this.trailer();
      if (t) this.push(t);
      callback();
    }, callback);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const h = this.header();
    if (h) this.push(h);
  }
}

/** Go's gzip header byte XFL for a level: 2 for the best compression, 4 for the fastest. */
function extraFlags(level: number): number {
  if (level === 9) return 2;
  if (level === 1) return 4;
  return 0;
}

/** The gzip header Go writes: no name, no time, OS "unknown". */
export function gzipHeader(level: number): Buffer {
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, extraFlags(level), 0xff]);
}

/** The gzip trailer: CRC-32 and size (modulo 2^32) of the input. */
export function gzipTrailer(crc: number, size: number): Buffer {
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(size % 0x1_0000_0000, 4);
  return t;
}

/** A gzip stream (one member) of the input, compressed in parallel. */
export class GzipStream extends RawDeflateStream {
  constructor(private readonly gzipLevel: number, options: Omit<RawDeflateOptions, 'level'> = {}) {
    super({ ...options, level: gzipLevel });
  }

  protected header(): Buffer {
    return gzipHeader(this.gzipLevel);
  }

  protected trailer(): Buffer {
    return gzipTrailer(this.crc, this.size);
  }
}
