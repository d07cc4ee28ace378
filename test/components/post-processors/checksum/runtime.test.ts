import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { postProcessor } from '../../../../lib/components/post-processors/checksum/runtime';
import { FilesArtifact } from '../../../../lib/components/post-processors/files-artifact';
import { scratch, testEnvironment } from '../../runtime-env';

const artifact = (files: string[], state: Record<string, unknown> = {}) => ({
  builderId: 'x', id: '', files, state, describe: () => '', destroy: async () => {},
});

describe('checksum runtime', () => {
  test('one line per file and type, base names, appended; artifact lists the new checksum files once', async () => {
    const big = randomBytes(3 << 20);
    const dir = scratch({ 'a/one.txt': 'one', 'two.bin': '' });
    fs.writeFileSync(path.join(dir, 'a/big.bin'), big);
    fs.writeFileSync(path.join(dir, 'existing.md5'), 'old\tline\n');
    const { env, lines } = testEnvironment({ cwd: dir, buildName: 'b', buildType: 'file' });
    const files = ['a/one.txt', 'two.bin', 'a/big.bin'];
    const result = await postProcessor.postProcess(env, { checksum_types: ['md5', 'sha512'], output: 'sums/{{.BuildName}}-{{.BuilderType}}.{{.ChecksumType}}' }, artifact(files));
    const sum = (t: string, d: string | Buffer) => createHash(t).update(d).digest('hex');
    expect(fs.readFileSync(path.join(dir, 'sums/b-file.md5'), 'utf8'))
      .toBe(`${sum('md5', 'one')}\tone.txt\n${sum('md5', '')}\ttwo.bin\n${sum('md5', big)}\tbig.bin\n`);
    expect(fs.readFileSync(path.join(dir, 'sums/b-file.sha512'), 'utf8').split('\n')[2]).toBe(`${sum('sha512', big)}\tbig.bin`);
    expect(result.keep).toBe(true);
    expect(result.forceKeep).toBe(true);
    const a = result.artifact as FilesArtifact;
    expect(a.builderId).toBe('packer.post-processor.checksum');
    expect(a.files).toEqual([...files, 'sums/b-file.md5', 'sums/b-file.sha512']);
    expect(a.describe()).toBe(`Created artifact from files: ${[...files, 'sums/b-file.md5', 'sums/b-file.sha512'].join(', ')}`);
    expect(lines).toEqual([]);

    // Appended, never truncated; a file that already existed is not part of the artifact.
    const again = await postProcessor.postProcess(env, { output: 'existing.{{.ChecksumType}}' }, artifact(['a/one.txt']));
    expect(fs.readFileSync(path.join(dir, 'existing.md5'), 'utf8')).toBe(`old\tline\n${sum('md5', 'one')}\tone.txt\n`);
    expect(again.artifact!.files).toEqual(['a/one.txt']);
  });

  test('default output, generated data in the name, no types at all', async () => {
    const dir = scratch({ f: 'x' });
    const { env } = testEnvironment({ cwd: dir, buildName: 'n', buildType: 'null' });
    await postProcessor.postProcess(env, {}, artifact(['f']));
    expect(fs.existsSync(path.join(dir, 'packer_n_null_md5.checksum'))).toBe(true);
    await postProcessor.postProcess(env, { checksum_types: ['sha1'], output: '{{.ID}}-{{.Nope}}.sum' }, artifact(['f'], { generated_data: { ID: 'Null' } }));
    expect(fs.existsSync(path.join(dir, 'Null-<no value>.sum'))).toBe(true);
    const none = await postProcessor.postProcess(env, { checksum_types: [] }, artifact(['f']));
    expect(none.artifact!.files).toEqual(['f']);
  });

  test('errors: a missing input file, an unknown type; destroy removes every file', async () => {
    const dir = scratch({ f: 'x' });
    const { env } = testEnvironment({ cwd: dir });
    await expect(postProcessor.postProcess(env, { output: 'o.sum' }, artifact(['missing'])))
      .rejects.toThrow('unable to open file missing: open missing: no such file or directory');
    await expect(postProcessor.postProcess(env, { checksum_types: ['crc32'] }, artifact(['f']))).rejects.toThrow('Unrecognized checksum type: crc32');
    const r = await postProcessor.postProcess(env, { output: 'o.sum' }, artifact(['f']));
    await r.artifact!.destroy();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('cancellation stops the hashing', async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(64 << 20));
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const { env } = testEnvironment({ cwd: dir, signal: ac.signal });
    await expect(postProcessor.postProcess(env, { output: 'o.sum' }, artifact(['big']))).rejects.toThrow('stop');
    expect(fs.readdirSync(dir)).toEqual(['big']);
  });
});
