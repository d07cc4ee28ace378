import * as os from 'os';
import { Transform, TransformCallback } from 'stream';
import { defaultConcurrency } from './deflate';

/**
 * LZ4 frame format (the `.lz4` files of the `lz4` tool and of Packer's
 * pierrec/lz4): a frame header, independent blocks of up to 4 MiB, an end
 * mark and an xxHash32 of the content. The blocks are compressed by lz4-napi
 * (prebuilt lz4_flex, off the main thread, several at once); the framing is
 * done here because that library frames only whole buffers.
 */

const MAGIC = 0x184d2204;
const BLOCK_SIZE = 4 * 1024 * 1024;
/** FLG: version 01, independent blocks, content checksum. */
const FLG = 0b0110_0100;
/** BD: maximum block size 4 MiB. */
const BD = 0b0111_0000;
const UNCOMPRESSED_BIT = 0x80000000;
const LITTLE_ENDIAN = os.endianness() === 'LE';

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0;

/** Streaming xxHash32 (seed 0 unless given). */
export class Xxh32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private total = 0;
  private readonly tail = Buffer.alloc(16);
  private tailLength = 0;

  constructor(private readonly seed = 0) {
    this.v1 = (seed + P1 + P2) >>> 0;
    this.v2 = (seed + P2) >>> 0;
    this.v3 = seed >>> 0;
    this.v4 = (seed - P1) >>> 0;
  }

  public update(data: Uint8Array): this {
    let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.total += buf.length;
    if (this.tailLength) {
      const need = 16 - this.tailLength;
      if (buf.length < need) {
        buf.copy(this.tail, this.tailLength);
        this.tailLength += buf.length;
        return this;
      }
      buf.copy(this.tail, this.tailLength, 0, need);
      this.stripes(this.tail, 16);
      this.tailLength = 0;
      buf = buf.subarray(need);
    }
    const whole = buf.length - (buf.length % 16);
    this.stripes(buf, whole);
    buf.copy(this.tail, 0, whole);
    this.tailLength = buf.length - whole;
    return this;
  }

  public digest(): number {
    let h = this.total >= 16
      ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) >>> 0
      : (this.seed + P5) >>> 0;
    h = (h + this.total) >>> 0;
    let i = 0;
    for (; i + 4 <= this.tailLength; i += 4) {
      h = Math.imul(rotl((h + Math.imul(this.tail.readUInt32LE(i), P3)) >>> 0, 17), P4) >>> 0;
    }
    for (; i < this.tailLength; i++) {
      h = Math.imul(rotl((h + Math.imul(this.tail[i], P5)) >>> 0, 11), P1) >>> 0;
    }
    h ^= h >>> 15;
    h = Math.imul(h, P2) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, P3) >>> 0;
    h ^= h >>> 16;
    return h >>> 0;
  }

  /** Consumes `length` bytes (a multiple of 16) of `buf`. */
  private stripes(buf: Buffer, length: number): void {
    let { v1, v2, v3, v4 } = this;
    if (LITTLE_ENDIAN && buf.byteOffset % 4 === 0) {
      const words = new Uint32Array(buf.buffer, buf.byteOffset, length / 4);
      for (let i = 0; i < words.length; i += 4) {
        v1 = round(v1, words[i]);
        v2 = round(v2, words[i + 1]);
        v3 = round(v3, words[i + 2]);
        v4 = round(v4, words[i + 3]);
      }
    } else {
      for (let i = 0; i < length; i += 16) {
        v1 = round(v1, buf.readUInt32LE(i));
        v2 = round(v2, buf.readUInt32LE(i + 4));
        v3 = round(v3, buf.readUInt32LE(i + 8));
        v4 = round(v4, buf.readUInt32LE(i + 12));
      }
    }
    Object.assign(this, { v1, v2, v3, v4 });
  }
}

/** The hash of a whole buffer. */
export function xxh32(data: Uint8Array, seed = 0): number {
  return new Xxh32(seed).update(data).digest();
}

type BlockCompressor = (data: Buffer) => Promise<Buffer>;

/** lz4-napi's block compressor (its output starts with the 4-byte uncompressed size, which the frame does not want). */
function loadCompressor(): BlockCompressor {
  let lib: { compress(data: Buffer): Promise<Buffer> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = require('lz4-napi');
  } catch (e) {
    throw new Error(`lz4 compression needs the lz4-napi package, which is not installed for this platform (${process.platform}-${process.arch}): ${(e as Error).message}`);
  }
  return async (data) => (await lib.compress(data)).subarray(4);
}

/** An LZ4 frame of the input. */
export class Lz4FrameStream extends Transform {
  private readonly compress: BlockCompressor;
  private readonly hash = new Xxh32();
  private readonly concurrency = defaultConcurrency();
  private readonly inflight: Promise<Buffer>[] = [];
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private started = false;

  constructor() {
    super({ highWaterMark: 1 << 20 });
    this.compress = loadCompressor();
  }

  public _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start();
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    this.pump(false).then(() => callback(), callback);
  }

  public _flush(callback: TransformCallback): void {
    this.start();
    this.pump(true).then(() => {
      const end = Buffer.alloc(8);
      end.writeUInt32LE(0, 0); // end mark
      end.writeUInt32LE(this.hash.digest(), 4);
      this.push(end);
      callback();
    }, callback);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const descriptor = Buffer.from([FLG, BD]);
    const head = Buffer.alloc(7);
    head.writeUInt32LE(MAGIC, 0);
    descriptor.copy(head, 4);
    head[6] = (xxh32(descriptor) >>> 8) & 0xff;
    this.push(head);
  }

  private async pump(final: boolean): Promise<void> {
    while (this.pendingLength >= BLOCK_SIZE || (final && this.pendingLength > 0)) {
      const all = Buffer.concat(this.pending, this.pendingLength);
      const block = all.subarray(0, Math.min(BLOCK_SIZE, all.length));
      const rest = all.subarray(block.length);
      this.pending = rest.length ? [rest] : [];
      this.pendingLength = rest.length;
      const job = this.frameBlock(block);
      job.catch(() => undefined); // awaited below
      this.inflight.push(job);
      while (this.inflight.length >= this.concurrency) this.push(await this.inflight.shift()!);
    }
    if (final) while (this.inflight.length) this.push(await this.inflight.shift()!);
  }

  /** One block with its size word; stored as is when compression would not make it smaller. */
  private async frameBlock(block: Buffer): Promise<Buffer> {
    const packed = await this.compress(block);
    const stored = packed.length >= block.length;
    const data = stored ? block : packed;
    const out = Buffer.allocUnsafe(4 + data.length);
    out.writeUInt32LE((data.length | (stored ? UNCOMPRESSED_BIT : 0)) >>> 0, 0);
    data.copy(out, 4);
    return out;
  }
}
