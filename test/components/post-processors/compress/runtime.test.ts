import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Readable, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import { FileArtifact } from '../../../../lib/components/builders/file/runtime';
import { BGZF_EOF, BgzfStream } from '../../../../lib/components/post-processors/compress/bgzf';
import { crc32Combine, crc32Zeros, GzipStream, RawDeflateStream, sampledEntropy } from '../../../../lib/components/post-processors/compress/deflate';
import { Lz4FrameStream, xxh32 } from '../../../../lib/components/post-processors/compress/lz4';
import { CompressArtifact, levelFor, planOf, postProcessor } from '../../../../lib/components/post-processors/compress/runtime';
import { scratch, testEnvironment } from '../../runtime-env';
import { readArchive } from '../archives';

/** Runs `data` (in pieces of `piece` bytes) through a stream and returns what came out. */
async function through(stream: NodeJS.ReadWriteStream, data: Buffer, piece = 100_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += piece) parts.push(data.subarray(i, i + piece));
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), stream, new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
  return Buffer.concat(out);
}

/** Random, zero and text runs, so every kind of block (stored, cached zeros, compressed) appears. */
function mixture(): Buffer {
  return Buffer.concat([
    randomBytes(400_000), Buffer.alloc(700_000), Buffer.from('the quick brown fox '.repeat(30_000)),
    Buffer.from(randomBytes(300_000).toString('base64')),
    Buffer.alloc(3), randomBytes(17),
  ]);
}

describe('format detection (Packer\'s detectFromFilename)', () => {
  test.each([
    ['packer_{{.BuildName}}_{{.BuilderType}}', undefined, { archive: 'tar', algorithm: 'pgzip' }],
    ['x.tar.gz', undefined, { archive: 'tar', algorithm: 'pgzip' }],
    ['x.tgz', undefined, { archive: 'tar', algorithm: 'pgzip' }],
    ['x.gz', undefined, { algorithm: 'pgzip' }],
    ['x.zip', undefined, { archive: 'zip' }],
    ['x.tar', undefined, { archive: 'tar' }],
    ['x.tar.zip', undefined, { archive: 'zip' }],
    ['x.lz4', undefined, { algorithm: 'lz4' }],
    ['x.tar.bgzf', undefined, { archive: 'tar', algorithm: 'bgzf' }],
    ['x.tar.xz', undefined, { archive: 'tar', algorithm: 'xz' }],
    ['x.TAR', undefined, { archive: 'tar', algorithm: 'pgzip' }],
    ['x.7z', undefined, { archive: 'tar', algorithm: 'pgzip' }],
    ['d', 'zip', { archive: 'zip' }],
    ['d.zip', 'gz', { algorithm: 'pgzip' }],
  ])('%s (format %s)', (output, format, plan) => {
    expect(planOf({ output, format })).toEqual(plan);
  });

  test('the internal archive and algorithm keys are starting values, as in Packer', () => {
    expect(planOf({ output: 'x.gz', archive: 'zip' })).toEqual({ archive: 'zip', algorithm: 'pgzip' });
    expect(planOf({ output: 'x.tar', algorithm: 'xz' })).toEqual({ archive: 'tar', algorithm: 'xz' });
    expect(planOf({ output: 'x.tar', algorithm: 'gzip' })).toEqual({ archive: 'tar' });
  });

  test('levels: above 9 is 9, 0 is the default, pgzip takes -2, lower fails', () => {
    expect(levelFor('pgzip', undefined)).toBe(-1);
    expect(levelFor('pgzip', 12)).toBe(9);
    expect(levelFor('pgzip', -2)).toBe(-2);
    expect(() => levelFor('bgzf', -2)).toThrow('error creating bgzf writer: Invalid compression level. Expected an integer from -1 to 9.');
    expect(() => levelFor('pgzip', -3)).toThrow('error creating pgzip writer');
    expect(levelFor('lz4', -7)).toBe(-7);
  });
});

describe('parallel DEFLATE', () => {
  test('crc32 combination and zero runs agree with zlib', () => {
    for (let i = 0; i < 50; i++) {
      const a = randomBytes(i * 37);
      const b = randomBytes(i * 1001 + 1);
      expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length)).toBe(zlib.crc32(Buffer.concat([a, b])));
    }
    expect(crc32Zeros(12345, 262_144)).toBe(zlib.crc32(Buffer.alloc(262_144), 12345));
  });

  test('entropy tells random data from text and zeros', () => {
    expect(sampledEntropy(randomBytes(300_000))).toBeGreaterThan(7.9);
    expect(sampledEntropy(Buffer.from(randomBytes(300_000).toString('base64')))).toBeLessThan(6.1);
    expect(sampledEntropy(Buffer.alloc(1000))).toBe(0);
  });

  test.each([-1, 1, 6, 9])('gzip at level %d decompresses to the input, in one member with a correct trailer', async (level) => {
    const data = mixture();
    const gz = await through(new GzipStream(level, { concurrency: 3 }), data);
    expect(gz.subarray(0, 4)).toEqual(Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(zlib.gunzipSync(gz).equals(data)).toBe(true);
    expect(gz.readUInt32LE(gz.length - 8)).toBe(zlib.crc32(data));
    expect(gz.readUInt32LE(gz.length - 4)).toBe(data.length);
    // One member: zlib's inflate stops at the end of the first member.
    expect(zlib.inflateRawSync(gz.subarray(10, gz.length - 8)).length).toBe(data.length);
  });

  test('Huffman-only, empty input, odd piece sizes', async () => {
    const data = Buffer.from('abcabcabc'.repeat(50_000));
    expect(zlib.gunzipSync(await through(new GzipStream(-1, { huffmanOnly: true }), data, 7777)).equals(data)).toBe(true);
    expect(zlib.gunzipSync(await through(new GzipStream(-1), Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
    const raw = new RawDeflateStream({ level: 5, blockSize: 4096 });
    const small = randomBytes(50_000);
    expect(zlib.inflateRawSync(await through(raw, small, 1000)).equals(small)).toBe(true);
    expect(raw.size).toBe(small.length);
    expect(raw.crc).toBe(zlib.crc32(small));
  });

  test('BGZF: gzip members of at most 64 KiB with their size in the BC field, then the EOF block', async () => {
    const data = mixture();
    const out = await through(new BgzfStream(-1), data);
    expect(zlib.gunzipSync(out).equals(data)).toBe(true);
    let at = 0;
    let blocks = 0;
    while (at < out.length) {
      expect(out.subarray(at, at + 4)).toEqual(Buffer.from([0x1f, 0x8b, 0x08, 0x04]));
      expect(out.subarray(at + 12, at + 14).toString()).toBe('BC');
      const size = out.readUInt16LE(at + 16) + 1;
      expect(size).toBeLessThanOrEqual(65536);
      at += size;
      blocks++;
    }
    expect(at).toBe(out.length);
    expect(blocks).toBe(Math.ceil(data.length / 0xff00) + 1);
    expect(out.subarray(out.length - 28)).toEqual(BGZF_EOF);
  });

  test('LZ4 frames: xxh32 test vectors, and a frame any decoder reads', async () => {
    expect(xxh32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxh32(Buffer.from('abc'))).toBe(0x32d153ff);
    const data = Buffer.concat([mixture(), mixture(), Buffer.alloc(5 << 20)]);
    const frame = await through(new Lz4FrameStream(), data, 333_333);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lz4 = require('lz4-napi') as { decompressFrameSync(b: Buffer): Buffer };
    expect(lz4.decompressFrameSync(frame).equals(data)).toBe(true);
    expect(frame.readUInt32LE(frame.length - 4)).toBe(xxh32(data));
  });
});

describe('compress runtime', () => {
  test('writes the archive, says what Packer says, returns its artifact', async () => {
    const dir = scratch({ 'in/a.txt': 'alpha', 'in/b.txt': 'beta' });
    const { env, lines } = testEnvironment({ cwd: dir, buildName: 'web', buildType: 'file' });
    const input = { builderId: 'x', id: '', files: ['in/a.txt', 'in/b.txt'], state: {}, describe: () => '', destroy: async () => {} };
    const result = await postProcessor.postProcess(env, { output: 'out/{{.BuildName}}-{{.BuilderType}}.tar.gz' }, input);
    expect(lines).toEqual([
      '==> web: Using pgzip compression with ' + lines[0].match(/with (\d+) cores/)![1] + ' cores for out/web-file.tar.gz',
      '==> web: Tarring out/web-file.tar.gz with pgzip',
      '==> web: Archive out/web-file.tar.gz completed',
    ]);
    expect(result.keep).toBe(false);
    expect(result.forceKeep).toBe(false);
    const a = result.artifact as CompressArtifact;
    expect(a.builderId).toBe('packer.post-processor.compress');
    expect(a.files).toEqual(['out/web-file.tar.gz']);
    expect(a.describe()).toBe('compressed artifacts in: out/web-file.tar.gz');
    const contents = await readArchive(path.join(dir, 'out/web-file.tar.gz'));
    expect(contents.members.map((m) => [m.name, m.size, m.mtime])).toEqual([['a.txt', 5, 0], ['b.txt', 4, 0]]);
    await a.destroy();
    expect(fs.existsSync(path.join(dir, 'out/web-file.tar.gz'))).toBe(false);
  });

  test('cancelled half-way: the partial file is removed and nothing is at the output path', async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'big.txt'), randomBytes(24 << 20).toString('base64'));
    const ac = new AbortController();
    const { env } = testEnvironment({ cwd: dir, signal: ac.signal });
    const input = new FileArtifact('big.txt', path.join(dir, 'big.txt'));
    const watcher = setInterval(() => {
      if (fs.readdirSync(dir).some((f) => f.includes('.kiln-partial-') && fs.statSync(path.join(dir, f)).size > 0)) ac.abort(new Error('interrupted'));
    }, 5);
    try {
      await expect(postProcessor.postProcess(env, { output: 'big.tar.gz', compression_level: 9 }, input)).rejects.toThrow('interrupted');
    } finally {
      clearInterval(watcher);
    }
    expect(fs.readdirSync(dir)).toEqual(['big.txt']);
  });

  test('single-file formats need exactly one file; nothing is created otherwise', async () => {
    const dir = scratch({ a: '1', b: '2' });
    const { env } = testEnvironment({ cwd: dir });
    const input = { builderId: 'x', id: '', files: ['a', 'b'], state: {}, describe: () => '', destroy: async () => {} };
    await expect(postProcessor.postProcess(env, { output: 'x.lz4' }, input))
      .rejects.toThrow('Can only have 1 input file when not using tar/zip. Found 2 files: [a b]');
    await expect(postProcessor.postProcess(env, { output: 'y.gz' }, { ...input, files: ['nope'] }))
      .rejects.toThrow('Failed to open source file nope for reading: open nope: no such file or directory');
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  test('a tar of a missing file fails with Packer\'s message', async () => {
    const dir = scratch({ a: '1' });
    const { env } = testEnvironment({ cwd: dir });
    const input = { builderId: 'x', id: '', files: ['a', 'gone'], state: {}, describe: () => '', destroy: async () => {} };
    await expect(postProcessor.postProcess(env, { output: 'x.tar' }, input))
      .rejects.toThrow('Error creating tar: Unable to read file gone: open gone: no such file or directory');
    await expect(postProcessor.postProcess(env, { output: 'x.zip' }, input))
      .rejects.toThrow('Error creating zip: Unable to read file gone: open gone: no such file or directory');
    expect(fs.readdirSync(dir)).toEqual(['a']);
  });

  test('zip entries keep the path as given, absolute ones included; long tar names use GNU long-name entries', async () => {
    const long = `${'n'.repeat(120)}.txt`;
    const dir = scratch({ [`sub/${long}`]: 'long', 'rel.txt': 'rel' });
    const { env } = testEnvironment({ cwd: dir });
    const files = [`sub/${long}`, path.join(dir, 'rel.txt')];
    const input = { builderId: 'x', id: '', files, state: {}, describe: () => '', destroy: async () => {} };
    await postProcessor.postProcess(env, { output: 'z.zip' }, input);
    expect((await readArchive(path.join(dir, 'z.zip'))).members.map((m) => m.name)).toEqual(files);
    await postProcessor.postProcess(env, { output: 't.tar' }, input);
    expect((await readArchive(path.join(dir, 't.tar'))).members.map((m) => m.name)).toEqual([long, 'rel.txt']);
  });
});
