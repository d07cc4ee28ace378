import * as fs from 'fs';
import * as path from 'path';
import { Readable, Writable } from 'stream';
import { Communicator } from '../../../../lib/components/builders/file/communicator';
import { builder } from '../../../../lib/components/builders/file/runtime';
import { Communicator as CommunicatorContract, GeneratedData } from '../../../../lib/engine/types';
import { read, scratch, testEnvironment } from '../../runtime-env';

/* The file builder: real files written, copied and removed. */

/** The permission bits, in octal. */
const mode = (file: string) => fs.statSync(file).mode.toString(8).slice(-3);

describe('the file builder', () => {
  let umask: number;
  beforeAll(() => { umask = process.umask(0o022); });
  afterAll(() => { process.umask(umask); });

  test('writes content with mode 0600, creating missing parents with 0755, and says nothing', async () => {
    const dir = scratch();
    const { env, lines, cleanups } = testEnvironment({ cwd: dir });
    const artifact = await builder.run(env, { target: 'a/b/out.txt', content: 'hello' }, async () => undefined);
    await cleanups.unwind();
    expect(read(dir, 'a/b/out.txt')).toBe('hello');
    expect(mode(path.join(dir, 'a/b/out.txt'))).toBe('600');
    expect(mode(path.join(dir, 'a'))).toBe('755');
    expect(mode(path.join(dir, 'a/b'))).toBe('755');
    expect(lines).toEqual([]);
    expect(artifact).toMatchObject({ builderId: 'packer.file', id: 'File', files: ['a/b/out.txt'], state: {} });
    expect(artifact!.describe()).toBe('Stored file: a/b/out.txt');
  });

  test('writes an empty file when there is neither source nor content', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    await builder.run(env, { target: 'empty' }, async () => undefined);
    expect(read(dir, 'empty')).toBe('');
  });

  test('copies a source file, saying what it copies and how many bytes', async () => {
    const dir = scratch({ 'src.txt': 'twelve bytes' });
    const { env, lines } = testEnvironment({ cwd: dir, buildName: 'f' });
    await builder.run(env, { target: 'copy.txt', source: 'src.txt' }, async () => undefined);
    expect(read(dir, 'copy.txt')).toBe('twelve bytes');
    expect(mode(path.join(dir, 'copy.txt'))).toBe('644');
    expect(lines).toEqual(['==> f: Copying src.txt to copy.txt', '==> f: Copied 12 bytes']);
  });

  test('fails on a missing source without touching the target or making its directory', async () => {
    const dir = scratch({ 'target.txt': 'old' });
    const { env, cleanups } = testEnvironment({ cwd: dir });
    await expect(builder.run(env, { target: 'target.txt', source: 'missing.txt' }, async () => undefined)).rejects.toThrow(/ENOENT/);
    await expect(builder.run(env, { target: 'new/target.txt', source: 'missing.txt' }, async () => undefined)).rejects.toThrow(/ENOENT/);
    expect(cleanups.size).toBe(0);
    expect(read(dir, 'target.txt')).toBe('old');
    expect(fs.existsSync(path.join(dir, 'new'))).toBe(false);
  });

  test('provisions against a stand-in where commands succeed silently and uploads vanish, with no generated data', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    let seen: { communicator?: CommunicatorContract; data?: GeneratedData } = {};
    await builder.run(env, { target: 'out' }, async (communicator, data) => { seen = { communicator, data }; });
    expect(seen.data).toEqual({});
    const comm = seen.communicator!;
    const output: string[] = [];
    expect(await comm.exec('exit 3', { stdout: (l) => output.push(l), stderr: (l) => output.push(l), stdin: Readable.from(['input']) })).toBe(0);
    expect(output).toEqual([]);
    await comm.upload('/etc/x', Readable.from(['data']), {});
    await comm.uploadDir('/etc', dir);
    await comm.downloadDir('/etc', dir);
    const received: Buffer[] = [];
    await comm.download('/etc/hostname', new Writable({ write(c, _e, cb) { received.push(c); cb(); } }));
    expect(received).toEqual([]);
    expect(comm).toBeInstanceOf(Communicator);
  });

  test('destroying the artifact deletes the file; a second destroy fails as in Packer', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    const artifact = await builder.run(env, { target: 'out.txt', content: 'x' }, async () => undefined);
    await artifact!.destroy();
    expect(read(dir, 'out.txt')).toBeUndefined();
    await expect(artifact!.destroy()).rejects.toThrow(/ENOENT/);
  });

  test('when provisioning fails, the cleanups remove the target and the directories made for it, not the ones that were there', async () => {
    const dir = scratch({ 'existing/keep.txt': 'keep' });
    const { env, cleanups } = testEnvironment({ cwd: dir });
    await expect(builder.run(env, { target: 'existing/new/deeper/out.txt', content: 'x' }, async () => { throw new Error('provisioning failed'); }))
      .rejects.toThrow('provisioning failed');
    expect(read(dir, 'existing/new/deeper/out.txt')).toBe('x');
    await cleanups.unwind();
    expect(fs.existsSync(path.join(dir, 'existing/new'))).toBe(false);
    expect(read(dir, 'existing/keep.txt')).toBe('keep');
  });

  test('fails on a target that is a directory, and leaves the directory alone', async () => {
    const dir = scratch({ 'taken/inside.txt': 'mine' });
    const { env, cleanups } = testEnvironment({ cwd: dir });
    await expect(builder.run(env, { target: 'taken', content: 'x' }, async () => undefined)).rejects.toThrow(/EISDIR/);
    expect(await cleanups.unwind()).toEqual([]);
    expect(read(dir, 'taken/inside.txt')).toBe('mine');
  });

  test('after a successful build the cleanups leave the target alone', async () => {
    const dir = scratch();
    const { env, cleanups } = testEnvironment({ cwd: dir });
    await builder.run(env, { target: 'made/out.txt', content: 'x' }, async () => undefined);
    await cleanups.unwind();
    expect(read(dir, 'made/out.txt')).toBe('x');
  });
});
