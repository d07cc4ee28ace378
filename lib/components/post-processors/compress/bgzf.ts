import { Transform, TransformCallback } from 'stream';
import * as zlib from 'zlib';
import { defaultConcurrency, isZeroBlock, sampledEntropy } from './deflate';

/**
 * BGZF, the blocked gzip of samtools/htslib (and of Packer's biogo/bgzf): a
 * series of complete gzip members, each holding at most 65280 bytes of input
 * and announcing its own compressed size in a `BC` extra field, followed by
 * the standard empty end-of-file block. Any gzip reader decompresses it;
 * BGZF readers can seek in it.
 *
 * Node's zlib makes each member (off the main thread, several at once); the
 * header is rewritten to carry the extra field.
 */

/** Input bytes per block: what htslib and biogo use, so a block never exceeds 64 KiB compressed. */
const BLOCK_DATA = 0xff00;

/** The empty block every BGZF file ends with. */
export const BGZF_EOF = Buffer.from('1f8b08040000000000ff0600424302001b0003000000000000000000', 'hex');

/** Node's gzip header, which the BGZF header replaces. */
const NODE_GZIP_HEADER = 10;

/** Go's gzip XFL for a level: 2 for the best compression, 4 for the fastest. */
function extraFlags(level: number): number {
  if (level === 9) return 2;
  if (level === 1) return 4;
  return 0;
}

function gzipAsync(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.gzip(data, { level, chunkSize: 80 * 1024 }, (e, out) => (e ? reject(e) : resolve(out))));
}

/** One BGZF block: the gzip member of `data` with the `BC` extra field. */
async function bgzfBlock(data: Buffer, level: number): Promise<Buffer> {
  // Random or already compressed data is stored: searching it for matches is slow and finds none.
  const effective = sampledEntropy(data) > 7.9 ? 0 : level;
  const gz = await gzipAsync(data, effective);
  const body = gz.subarray(NODE_GZIP_HEADER); // deflate data, CRC-32, input size
  const block = Buffer.allocUnsafe(18 + body.length);
  block.set([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, extraFlags(level), 0xff, 6, 0, 0x42, 0x43, 2, 0], 0);
  block.writeUInt16LE(block.length - 1, 16);
  body.copy(block, 18);
  return block;
}

const zeroBlocks = new Map<string, Buffer>();

/** A BGZF stream of the input. `level` is zlib's, -1 for the default. */
export class BgzfStream extends Transform {
  private readonly concurrency = defaultConcurrency();
  private readonly inflight: Promise<Buffer>[] = [];
  private pending: Buffer[] = [];
  private pendingLength = 0;

  constructor(private readonly level: number) {
    super({ highWaterMark: 1 << 20 });
  }

  public _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    this.pump(false).then(() => callback(), callback);
  }

  public _flush(callback: TransformCallback): void {
    this.pump(true).then(() => {
      this.push(BGZF_EOF);
      callback();
    }, callback);
  }

  private async pump(final: boolean): Promise<void> {
    if (this.pendingLength >= BLOCK_DATA || final) {
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLength);
      let at = 0;
      while (all.length - at >= BLOCK_DATA || (final && at < all.length)) {
        const data = all.subarray(at, at + BLOCK_DATA);
        at += data.length;
        const job = this.block(data);
        job.catch(() => undefined); // awaited below
        this.inflight.push(job);
        while (this.inflight.length >= this.concurrency * 4) this.push(await this.inflight.shift()!);
      }
      const rest = all.subarray(at);
      this.pending = rest.length ? [rest] : [];
      this.pendingLength = rest.length;
    }
    if (final) while (this.inflight.length) this.push(await this.inflight.shift()!);
  }

  private block(data: Buffer): Promise<Buffer> {
    if (!isZeroBlock(data)) return bgzfBlock(data, this.level);
    const key = `${this.level}:${data.length}`;
    const cached = zeroBlocks.get(key);
    if (cached) return Promise.resolve(cached);
    return bgzfBlock(Buffer.from(data), this.level).then((b) => {
      zeroBlocks.set(key, b);
      return b;
    });
  }
}
