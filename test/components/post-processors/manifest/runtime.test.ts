import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileArtifact } from '../../../../lib/components/builders/file/runtime';
import { withFileLock } from '../../../../lib/components/post-processors/manifest/lock';
import { decodeManifest, encodeManifest, postProcessor } from '../../../../lib/components/post-processors/manifest/runtime';
import { kiln, sandbox } from '../../../cli/kiln';
import { RUN_ID, scratch, testEnvironment } from '../../runtime-env';

/*
 * The manifest post-processor: Packer's layout and escaping, appending, and
 * -force; several builds (and several processes) writing one manifest at
 * once, which must never lose an entry or leave a half-written file.
 */

interface Manifest {
  builds: { name: string; packer_run_uuid: string; files: { name: string; size: number }[] | null }[];
  last_run_uuid: string;
}

const fourBuilds = (output = 'packer-manifest.json') => ({
  'builders': ['a', 'b', 'c', 'd'].map((n) => ({ type: 'file', name: n, target: `${n}.txt`, content: n.repeat(3) })),
  'post-processors': [{ type: 'manifest', output }],
});

function readManifest(file: string): Manifest {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
}

describe('several builds and runs writing one manifest', () => {
  test('4 parallel builds give 4 entries; a second run appends; -force on a new run starts again', async () => {
    const box = sandbox(fourBuilds());
    const file = path.join(box.dir, 'packer-manifest.json');

    const first = await kiln(box, ['build', '-color=false', 'template.json']);
    expect(first.code).toBe(0);
    const m1 = readManifest(file);
    expect(m1.builds.map((b) => b.name).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(new Set(m1.builds.map((b) => b.packer_run_uuid))).toEqual(new Set([m1.last_run_uuid]));

    expect((await kiln(box, ['build', '-color=false', 'template.json'])).code).toBe(0);
    const m2 = readManifest(file);
    expect(m2.builds).toHaveLength(8);
    expect(m2.builds.slice(0, 4)).toEqual(m1.builds);
    expect(m2.last_run_uuid).not.toBe(m1.last_run_uuid);

    expect((await kiln(box, ['build', '-color=false', '-force', 'template.json'])).code).toBe(0);
    const m3 = readManifest(file);
    expect(m3.builds).toHaveLength(4);
    expect(m3.builds.every((b) => b.packer_run_uuid === m3.last_run_uuid)).toBe(true);
    expect(m3.last_run_uuid).not.toBe(m2.last_run_uuid);
    expect(fs.readdirSync(box.dir).filter((f) => f.includes('.lock') || f.includes('.kiln-partial-'))).toEqual([]);
  });

  test('three processes with 4 builds each, at the same time: 12 entries, valid JSON', async () => {
    const box = sandbox(fourBuilds('shared/manifest.json'));
    fs.mkdirSync(path.join(box.dir, 'shared'));
    const results = await Promise.all([1, 2, 3].map(() => kiln(box, ['build', '-color=false', 'template.json'])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const m = readManifest(path.join(box.dir, 'shared', 'manifest.json'));
    expect(m.builds).toHaveLength(12);
    expect(new Set(m.builds.map((b) => b.packer_run_uuid)).size).toBe(3);
    expect(fs.readdirSync(path.join(box.dir, 'shared'))).toEqual(['manifest.json']);
  });
});

describe('manifest runtime', () => {
  test('20 builds of one process at once: every entry is there', async () => {
    const dir = scratch({ 'f.txt': 'data' });
    const { env } = testEnvironment({ cwd: dir });
    const input = new FileArtifact('f.txt', path.join(dir, 'f.txt'));
    await Promise.all(Array.from({ length: 20 }, (_, i) =>
      postProcessor.postProcess({ ...env, interpolation: { ...env.interpolation, buildName: `b${i}` } }, { output: 'm.json' }, input)));
    const m = readManifest(path.join(dir, 'm.json'));
    expect(m.builds.map((b) => b.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`).sort());
    expect(m.builds[0].files).toEqual([{ name: 'f.txt', size: 4 }]);
    expect(m.last_run_uuid).toBe(RUN_ID);
  });

  test('returns its input, kept by force; custom_data rendered with generated data; strip_path, strip_time', async () => {
    const dir = scratch({ 'sub/f.txt': 'data' });
    const { env } = testEnvironment({ cwd: dir, buildName: 'web', buildType: 'docker' });
    const input = {
      builderId: 'x',
      id: 'sha256:abc',
      files: ['sub/f.txt', 'missing.bin'],
      state: { generated_data: { ImageSha256: 'sha256:abc' } },
      describe: () => 'x',
      destroy: async () => {},
    };
    const result = await postProcessor.postProcess(env, {
      output: 'm.json', strip_path: true, strip_time: true, custom_data: { image: '{{ .ImageSha256 }}', none: '{{ .Nope }}' },
    }, input);
    expect(result).toEqual({ artifact: input, keep: true, forceKeep: true });
    const text = fs.readFileSync(path.join(dir, 'm.json'), 'utf8');
    expect(text).toBe([
      '{',
      '  "builds": [',
      '    {',
      '      "name": "web",',
      '      "builder_type": "docker",',
      '      "files": [',
      '        {',
      '          "name": "f.txt",',
      '          "size": 4',
      '        },',
      '        {',
      '          "name": "missing.bin",',
      '          "size": 0',
      '        }',
      '      ],',
      '      "artifact_id": "sha256:abc",',
      `      "packer_run_uuid": "${RUN_ID}",`,
      '      "custom_data": {',
      '        "image": "sha256:abc",',
      '        "none": "\\u003cno value\\u003e"',
      '      }',
      '    }',
      '  ],',
      `  "last_run_uuid": "${RUN_ID}"`,
      '}',
    ].join('\n'));
  });

  test('an unreadable manifest fails with Packer\'s message and is left alone', async () => {
    const dir = scratch({ 'm.json': '{"builds": "nope"}' });
    const { env } = testEnvironment({ cwd: dir });
    await expect(postProcessor.postProcess(env, { output: 'm.json' }, new FileArtifact('m.json', path.join(dir, 'm.json'))))
      .rejects.toThrow('Unable to parse content from m.json: json: cannot unmarshal string into Go struct field ManifestFile.builds of type []manifest.Artifact');
    expect(fs.readFileSync(path.join(dir, 'm.json'), 'utf8')).toBe('{"builds": "nope"}');
  });

  test('a missing directory fails as Packer\'s write does', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    await expect(postProcessor.postProcess(env, { output: 'no/such/m.json' }, new FileArtifact('x', path.join(dir, 'x'))))
      .rejects.toThrow('Unable to write no/such/m.json: open no/such/m.json: no such file or directory');
  });

  test('decode and encode: unknown keys dropped, keys matched case-insensitively, Go escaping, no final newline', () => {
    const m = decodeManifest(JSON.stringify({
      BUILDS: [{ Name: 'n', extra: 1, build_time: 0, files: null, custom_data: { z: '1', a: '<&>\u2028' } }],
      last_run_uuid: 'u',
      other: true,
    }));
    expect(encodeManifest(m)).toBe('{\n  "builds": [\n    {\n      "name": "n",\n      "builder_type": "",\n      "files": null,\n      "artifact_id": "",\n'
      + '      "packer_run_uuid": "",\n      "custom_data": {\n        "a": "\\u003c\\u0026\\u003e\\u2028",\n        "z": "1"\n      }\n    }\n  ],\n  "last_run_uuid": "u"\n}');
    expect(encodeManifest({ builds: null, last_run_uuid: '' })).toBe('{\n  "builds": null,\n  "last_run_uuid": ""\n}');
    expect(encodeManifest(decodeManifest('{"builds":[{"name":"\\b\\f\\\\b"}]}'))).toContain('"name": "\\u0008\\u000c\\\\b"');
  });
});

describe('manifest lock', () => {
  const signal = new AbortController().signal;

  test('a lock left by a dead process is broken', async () => {
    const dir = scratch({ 'm.json.lock': '999999999 ' + os.hostname() + ' deadbeef 2020-01-01\n' });
    const lock = path.join(dir, 'm.json.lock');
    expect(await withFileLock(lock, { signal }, async () => fs.readFileSync(lock, 'utf8').split(' ')[0])).toBe(String(process.pid));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a live lock is waited for; an empty one (Packer\'s) only until it is stale', async () => {
    const dir = scratch({ 'live.lock': `${process.pid} ${os.hostname()} cafe x\n`, 'empty.lock': '' });
    await expect(withFileLock(path.join(dir, 'live.lock'), { signal, timeoutMs: 300 }, async () => 1))
      .rejects.toThrow(/timed out after 0s waiting for the lock .*live.lock, held by process \d+ on/);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, 'empty.lock'), old, old);
    expect(await withFileLock(path.join(dir, 'empty.lock'), { signal, staleMs: 30_000 }, async () => 'taken')).toBe('taken');
    expect(fs.readFileSync(path.join(dir, 'live.lock'), 'utf8')).toContain('cafe');
  });

  test('waiting stops when the build is cancelled', async () => {
    const dir = scratch({ 'held.lock': `${process.pid} ${os.hostname()} beef x\n` });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 100);
    await expect(withFileLock(path.join(dir, 'held.lock'), { signal: ac.signal }, async () => 1)).rejects.toThrow('cancelled');
  });
});
