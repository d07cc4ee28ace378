import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import * as tar from 'tar-stream';
import { tarTree } from '../../../lib/components/docker/tar-tree';

/*
 * The tar of a local directory that uploads send to the archive API: read
 * back with tar-stream and with GNU tar, it must hold every directory, file
 * and symlink with its name, type, permission bits, mtime, owner 0:0 and
 * content, long and non-ASCII names included.
 */

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

interface Member {
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size: number;
  readonly linkname?: string | null;
  readonly content: Buffer;
}

async function members(chunks: AsyncIterable<Buffer>): Promise<Map<string, Member>> {
  const extract = tar.extract();
  const out = new Map<string, Member>();
  const feeding = (async () => {
    for await (const chunk of Readable.from(chunks)) {
      if (!extract.write(chunk as Buffer)) await new Promise<void>((r) => extract.once('drain', () => r()));
    }
    extract.end(undefined);
  })();
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    const h = entry.header;
    out.set(h.name, {
      type: h.type!,
      mode: h.mode! % 0o10000,
      uid: h.uid!,
      gid: h.gid!,
      mtime: Math.floor(h.mtime!.getTime() / 1000),
      size: h.size!,
      linkname: h.linkname,
      content: Buffer.concat(parts),
    });
  }
  await feeding;
  return out;
}

async function bytes(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

function tree(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tar-tree-')));
  made.push(dir);
  const file = (rel: string, content: Buffer | string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
    fs.chmodSync(path.join(dir, rel), mode);
  };
  file('empty', '');
  file('one', 'x');
  file('b/511', Buffer.alloc(511, 1));
  file('b/512', Buffer.alloc(512, 2));
  file('b/513', Buffer.alloc(513, 3), 0o600);
  file('b/c/big', Buffer.alloc(3 * 1024 * 1024 + 17, 4), 0o755);
  file('setuid', '#!/bin/sh\n', 0o4755);
  file(`${'long-directory-name-'.repeat(4)}/${'nested-'.repeat(10)}/file`, 'deep');
  file(`${'x'.repeat(120)}`, 'one long component');
  file('ünïcödé/名前.txt', 'utf-8 names');
  fs.symlinkSync('one', path.join(dir, 'link'));
  fs.symlinkSync(`/${'target/'.repeat(20)}end`, path.join(dir, 'long-link'));
  fs.chmodSync(path.join(dir, 'b'), 0o750);
  const when = new Date('2024-02-03T04:05:06Z');
  fs.utimesSync(path.join(dir, 'one'), when, when);
  return dir;
}

describe('tarTree', () => {
  test('holds every entry with its type, mode, mtime, owner 0:0 and content, in name order', async () => {
    const dir = tree();
    const got = await members(tarTree(dir, '', false));
    const walk = (rel: string): string[] => fs.readdirSync(path.join(dir, rel)).sort().flatMap((n) => {
      const p = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(path.join(dir, p));
      return st.isDirectory() ? [`${p}/`, ...walk(p)] : [p];
    });
    expect([...got.keys()]).toEqual(walk(''));
    for (const [name, m] of got) {
      const local = path.join(dir, name);
      const st = fs.lstatSync(local);
      expect([name, m.uid, m.gid]).toEqual([name, 0, 0]);
      expect([name, m.mode]).toEqual([name, st.mode % 0o10000]);
      expect([name, m.mtime]).toEqual([name, Math.floor(st.mtimeMs / 1000)]);
      if (st.isSymbolicLink()) {
        expect([name, m.type, m.linkname]).toEqual([name, 'symlink', fs.readlinkSync(local)]);
      } else if (st.isDirectory()) {
        expect([name, m.type]).toEqual([name, 'directory']);
      } else {
        expect([name, m.type, m.size]).toEqual([name, 'file', st.size]);
        expect(m.content.equals(fs.readFileSync(local))).toBe(true);
      }
    }
    expect(got.get('setuid')!.mode).toBe(0o4755);
    expect(got.get('one')!.mtime).toBe(Date.parse('2024-02-03T04:05:06Z') / 1000);
  });

  test('puts the prefix before every name, and the root itself first when asked', async () => {
    const dir = tree();
    const names = [...(await members(tarTree(dir, 'up/', true))).keys()];
    expect(names[0]).toBe('up/');
    expect(names.slice(1).every((n) => n.startsWith('up/'))).toBe(true);
    expect(names).toContain('up/b/c/big');
    expect([...(await members(tarTree(dir, 'up/', false))).keys()][0]).toBe('up/b/');
  });

  test('is a valid archive for GNU tar, long and non-ASCII names included', async () => {
    const dir = tree();
    const archive = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tar-tree-out-')), 'a.tar');
    made.push(path.dirname(archive));
    const data = await bytes(tarTree(dir, '', false));
    expect(data.length % 512).toBe(0);
    fs.writeFileSync(archive, data);
    const out = path.join(path.dirname(archive), 'x');
    fs.mkdirSync(out);
    const r = spawnSync('tar', ['-xpf', archive, '-C', out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const diff = spawnSync('diff', ['-r', '--no-dereference', dir, out], { encoding: 'utf8' });
    expect(diff.stdout + diff.stderr).toBe('');
    expect(fs.readFileSync(path.join(out, 'ünïcödé/名前.txt'), 'utf8')).toBe('utf-8 names');
  });

  test('keeps every byte across blocks: many files of many sizes, around the 1 MiB limit included', async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tar-tree-many-')));
    made.push(dir);
    const sizes = [0, 1, 511, 512, 513, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 2 * 1024 * 1024];
    for (let i = 0; i < 300; i++) sizes.push((i * 7919) % (300 * 1024));
    sizes.forEach((size, i) => {
      const content = Buffer.alloc(size);
      for (let j = 0; j < size; j += 4096) content[j] = (i + j) % 251;
      fs.mkdirSync(path.join(dir, `d${i % 7}`), { recursive: true });
      fs.writeFileSync(path.join(dir, `d${i % 7}`, `f${String(i).padStart(3, '0')}`), content);
    });
    const got = await members(tarTree(dir, 'p/', true));
    const files = [...got].filter(([, m]) => m.type === 'file');
    expect(files).toHaveLength(sizes.length);
    for (const [name, m] of files) {
      const local = fs.readFileSync(path.join(dir, name.slice('p/'.length)));
      expect([name, m.size, m.content.equals(local)]).toEqual([name, local.length, true]);
    }
  });

  test('fails when a file is shorter than when it was listed', async () => {
    const dir = tree();
    const gen = tarTree(dir, '', false);
    const first = await gen.next(); // lists and reads ahead
    expect(first.done).toBe(false);
    fs.truncateSync(path.join(dir, 'b/c/big'), 10);
    await expect((async () => {
      for await (const chunk of gen) void chunk;
    })()).rejects.toThrow(/big changed while it was being uploaded/);
  });

  test('refuses a root that is not a directory', async () => {
    const dir = tree();
    await expect(bytes(tarTree(path.join(dir, 'one'), '', false))).rejects.toThrow(/is not a directory/);
  });
});
