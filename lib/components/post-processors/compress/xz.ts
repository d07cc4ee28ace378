import type { Duplex } from 'stream';
import { defaultConcurrency } from './deflate';

/**
 * xz compression through lzma-native (liblzma, prebuilt binaries shipped in
 * the package). Preset 6 with a CRC-64 check, like the xz tool's default and
 * close to what Packer's pure-Go encoder writes; several threads when the
 * machine has them (liblzma's multi-threaded encoder still writes one
 * ordinary .xz stream).
 */

/** Threads at most: each one holds a few times the 8 MiB dictionary. */
const MAX_THREADS = 4;

interface LzmaNative {
  readonly CHECK_CRC64: number;
  createCompressor(options: { preset: number; check: number; threads?: number }): Duplex;
}

export function xzThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, defaultConcurrency() - 1));
}

export function createXzStream(): Duplex {
  let lzma: LzmaNative;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lzma = require('lzma-native');
  } catch (e) {
    throw new Error(`xz compression needs the lzma-native package, which is not available for this platform (${process.platform}-${process.arch}): ${(e as Error).message}`);
  }
  const threads = xzThreads();
  return lzma.createCompressor({ preset: 6, check: lzma.CHECK_CRC64, ...(threads > 1 ? { threads } : {}) });
}
