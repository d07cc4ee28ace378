import * as fs from 'fs';
import * as path from 'path';
import { clean, glob, match } from '../../../../lib/components/post-processors/artifice/glob';
import { postProcessor } from '../../../../lib/components/post-processors/artifice/runtime';
import { FilesArtifact } from '../../../../lib/components/post-processors/files-artifact';
import { scratch, testEnvironment } from '../../runtime-env';

describe('Go filepath.Match', () => {
  // Cases from the behaviour of Go's path/filepath (Unix).
  test.each([
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abe', true],
    ['ab[!c]', 'ab!', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a?b', 'a/b', false],
    ['*', '.hidden', true],
    ['[\\-]', '-', true],
    ['{a,b}', 'a', false],
  ])('%s ~ %s: %s', (pattern, name, expected) => {
    expect(match(pattern, name)).toBe(expected);
  });

  test.each(['[', '[^', '[^bc', 'a[', 'ab[-c]', 'ab[x-]', '\\', 'a\\', '[]a]', '[a-]'])('%s is a bad pattern', (pattern) => {
    expect(() => match(pattern, 'x')).toThrow('syntax error in pattern');
  });

  test('Clean', () => {
    expect(['./a/b', 'a//b/', '/../a', 'a/../..', '', '/'].map(clean)).toEqual(['a/b', 'a/b', '/a', '..', '.', '/']);
  });
});

describe('Go filepath.Glob', () => {
  const dir = scratch({ 'out/b.txt': '', 'out/a.txt': '', 'out/.h': '', 'out/sub/x.log': '', 'out-2/a.txt': '', 'top.txt': '' });

  test('sorted per directory, cleaned, dot-files included, plain paths kept as written', () => {
    expect(glob('out/*', dir)).toEqual(['out/.h', 'out/a.txt', 'out/b.txt', 'out/sub']);
    expect(glob('./out/*.txt', dir)).toEqual(['out/a.txt', 'out/b.txt']);
    expect(glob('out*/a.txt', dir)).toEqual(['out/a.txt', 'out-2/a.txt']);
    expect(glob('*/*/*.log', dir)).toEqual(['out/sub/x.log']);
    expect(glob('./top.txt', dir)).toEqual(['./top.txt']);
    expect(glob('missing.txt', dir)).toEqual([]);
    expect(glob('nothing*', dir)).toEqual([]);
    expect(glob(`${dir}/out/a*`, '/')).toEqual([`${dir}/out/a.txt`]);
    expect(() => glob('out/[', dir)).toThrow('syntax error in pattern');
  });
});

describe('artifice runtime', () => {
  test('Packer\'s lines, files in pattern order, kept by default but not by force; destroy deletes them', async () => {
    const dir = scratch({ 'gen/a.txt': 'a', 'gen/b.txt': 'b', 'gen/dir/x': 'x' });
    const { env, lines } = testEnvironment({ cwd: dir, buildName: 'b' });
    const input = { builderId: 'x', id: '', files: ['one', 'two'], state: {}, describe: () => '', destroy: async () => {} };
    const result = await postProcessor.postProcess(env, { files: ['gen/b*', 'gen/*'] }, input);
    expect(lines).toEqual([
      '==> b: Discarding files from artifact: one, two',
      '==> b: Using these artifact files: gen/b.txt, gen/a.txt, gen/b.txt, gen/dir',
    ]);
    expect(result.keep).toBe(true);
    expect(result.forceKeep).toBe(false);
    const a = result.artifact as FilesArtifact;
    expect(a.builderId).toBe('packer.post-processor.artifice');
    expect(a.id).toBe('');
    expect(a.describe()).toBe('Created artifact from files: gen/b.txt, gen/a.txt, gen/b.txt, gen/dir');
    await a.destroy();
    expect(fs.readdirSync(path.join(dir, 'gen'))).toEqual([]);
  });

  test('no match gives an empty artifact; a dangling link fails as Go\'s stat does', async () => {
    const dir = scratch();
    fs.symlinkSync('nowhere', path.join(dir, 'dangling'));
    const { env, lines } = testEnvironment({ cwd: dir, buildName: 'b' });
    const input = { builderId: 'x', id: '', files: [], state: {}, describe: () => '', destroy: async () => {} };
    const empty = await postProcessor.postProcess(env, { files: ['none*'] }, input);
    expect(empty.artifact!.files).toEqual([]);
    expect(lines).toEqual(['==> b: Using these artifact files:']);
    await expect(postProcessor.postProcess(env, { files: ['dang*'] }, input)).rejects.toThrow('stat dangling: no such file or directory');
  });
});
