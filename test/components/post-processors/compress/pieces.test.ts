import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import * as zlib from 'zlib';
import { FileArtifact } from '../../../../lib/components/builders/file/runtime';
import { gzipHeader, gzipTrailer, ParallelDeflater } from '../../../../lib/components/post-processors/compress/deflate';
import { BufferPool, freshBuffers, Piece, PieceWriter, pooledBuffers, readPieces } from '../../../../lib/components/post-processors/compress/pieces';
import { postProcessor } from '../../../../lib/components/post-processors/compress/runtime';
import { tarArchive } from '../../../../lib/components/post-processors/compress/tar';
import { scratch, testEnvironment } from '../../runtime-env';

/*
 * The direct path of compress (tar and gzip): file data read into a few
 * reused buffers, compressed in parallel blocks, written with gathered writes.
 * A buffer handed back too early would show as wrong bytes in the archive;
 * one never handed back would stall the next archive.
 */

async function collect(source: AsyncIterable<Piece>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of source) {
    out.push(Buffer.from(p.data));
    p.release?.();
  }
  return Buffer.concat(out);
}

/** Files whose data gives every kind of block: random (stored), zeros (shared), text (compressed), odd sizes. */
function inputs(dir: string): { given: string; abs: string }[] {
  const files: Record<string, Buffer> = {
    'random.bin': randomBytes(700_001),
    'zeros.img': Buffer.concat([Buffer.alloc(300_000), randomBytes(5), Buffer.alloc(200_000)]),
    'text.txt': Buffer.from('a line of text that repeats\n'.repeat(40_000)),
    'empty': Buffer.alloc(0),
    'mixed': Buffer.concat([Buffer.from(randomBytes(90_000).toString('base64')), randomBytes(65_537), Buffer.alloc(3)]),
  };
  return Object.entries(files).map(([name, data]) => {
    fs.writeFileSync(path.join(dir, name), data);
    return { given: name, abs: path.join(dir, name) };
  });
}

test('tar.gz through two reused 64 KiB buffers is the same archive as through fresh ones, and every buffer comes back', async () => {
  const dir = scratch();
  const files = inputs(dir);
  const expected = await collect(tarArchive(files, freshBuffers()));

  const pool = new BufferPool(64 * 1024, 2);
  const out = path.join(dir, 'out.tar.gz');
  const handle = await fsp.open(out, 'wx');
  const writer = new PieceWriter(handle);
  const deflater = new ParallelDeflater({ level: 6, blockSize: 16 * 1024, concurrency: 3 }, (p) => writer.add(p));
  writer.add({ data: gzipHeader(6) });
  for await (const piece of tarArchive(files, pooledBuffers(pool))) {
    await deflater.write(piece);
    await writer.room();
  }
  await deflater.end();
  writer.add({ data: gzipTrailer(deflater.crc, deflater.size) });
  await writer.flush();
  await handle.close();

  const gz = fs.readFileSync(out);
  expect(zlib.gunzipSync(gz).equals(expected)).toBe(true);
  expect(gz.readUInt32LE(gz.length - 8)).toBe(zlib.crc32(expected));
  // The system's gzip agrees that the file is whole.
  expect(execFileSync('gzip', ['-t', out]).length).toBe(0);
  expect(pool.available).toBe(2);
});

test('reading stops early: the read under way finishes and its buffer comes back', async () => {
  const dir = scratch();
  fs.writeFileSync(path.join(dir, 'f'), randomBytes(300_000));
  const pool = new BufferPool(64 * 1024, 3);
  const handle = await fsp.open(path.join(dir, 'f'), 'r');
  try {
    for await (const piece of readPieces(handle, pooledBuffers(pool))) {
      piece.release?.();
      break;
    }
  } finally {
    await handle.close();
  }
  expect(pool.available).toBe(3);
});

test('an archive abandoned half-way (a failure further on) gives every read buffer back', async () => {
  const dir = scratch();
  const pool = new BufferPool(64 * 1024, 4);
  let seen = 0;
  for await (const piece of tarArchive(inputs(dir), pooledBuffers(pool))) {
    piece.release?.();
    if (++seen === 3) break;
  }
  expect(pool.available).toBe(4);
});

test('a file that ends before its recorded size fails with how much was read', async () => {
  const dir = scratch();
  fs.writeFileSync(path.join(dir, 'f'), randomBytes(100_000));
  const handle = await fsp.open(path.join(dir, 'f'), 'r');
  try {
    await expect(collect(readPieces(handle, freshBuffers(32 * 1024), 150_000, (n) => new Error(`shrank to ${n}`)))).rejects.toThrow('shrank to 100000');
  } finally {
    await handle.close();
  }
});

test('a write that fails (the device is full) is reported, and every piece is released, written or not', async () => {
  const handle = await fsp.open('/dev/full', 'w');
  const released: number[] = [];
  const writer = new PieceWriter(handle);
  try {
    for (let i = 0; i < 5; i++) writer.add({ data: Buffer.alloc(1000, i), release: () => released.push(i) });
    await expect(writer.flush()).rejects.toMatchObject({ code: 'ENOSPC' });
    writer.add({ data: Buffer.alloc(10), release: () => released.push(5) });
    await expect(writer.room()).rejects.toMatchObject({ code: 'ENOSPC' });
  } finally {
    await handle.close();
  }
  expect(released.sort()).toEqual([0, 1, 2, 3, 4, 5]);
});

/** A 1 MiB tmpfs (needs root, as CI and the set-up have) for a real "disk full". */
function tinyDisk(): string {
  const dir = scratch();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'kiln-test-full', dir]);
  return dir;
}

test('disk full while compressing: Packer\'s error naming the archive, nothing left on the full disk', async () => {
  const src = scratch();
  fs.writeFileSync(path.join(src, 'image.raw'), randomBytes(3 << 20));
  const full = tinyDisk();
  try {
    const { env } = testEnvironment({ cwd: src });
    const input = new FileArtifact('image.raw', path.join(src, 'image.raw'));
    const output = path.join(full, 'image.tar.gz');
    await expect(postProcessor.postProcess(env, { output }, input))
      .rejects.toThrow(`Error creating tar: write ${output}: no space left on device`);
    expect(fs.readdirSync(full)).toEqual([]);
  } finally {
    execFileSync('umount', [full]);
  }
});
