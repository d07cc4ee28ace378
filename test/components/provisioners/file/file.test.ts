import * as fs from 'fs';
import * as path from 'path';
import { build, dockerBuilder, errorOf, said, workdir } from '../../docker/harness';

/** One discarded docker build running the given provisioners. */
function template(...provisioners: object[]) {
  return { builders: [dockerBuilder({ discard: true })], provisioners };
}

/** A shell provisioner that lists what is under a remote directory, one path per line. */
function listing(dir: string) {
  return { type: 'shell', inline: [`cd ${dir} && find . -mindepth 1 | sort | sed 's#^./#listed: #'`] };
}

const listed = (lines: string[]) => lines.filter((l) => l.startsWith('listed: ')).map((l) => l.slice('listed: '.length));

describe('the file provisioner uploading', () => {
  it('uploads a file under a new name, or into a directory when the destination ends with "/"', async () => {
    const dir = workdir({ 'app.conf': 'setting=1\n', 'extra/two.txt': '2' });
    fs.chmodSync(path.join(dir, 'app.conf'), 0o640);
    const run = await build(template(
      { type: 'file', source: 'app.conf', destination: '/etc/app.conf' },
      { type: 'file', sources: ['app.conf', 'extra/two.txt'], destination: '/tmp/' },
      { type: 'shell', inline: ['cat /etc/app.conf', 'stat -c "%a %U" /etc/app.conf', 'cat /tmp/two.txt; echo', 'ls /tmp/app.conf'] },
    ), { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(said(run)).toEqual(expect.arrayContaining([
      'Uploading app.conf => /etc/app.conf',
      'Uploading app.conf => /tmp/',
      'Uploading extra/two.txt => /tmp/',
      'setting=1',
      '640 root',
      '2',
      '/tmp/app.conf',
    ]));
  });

  it('copies a directory itself, or its contents when the source ends with "/"', async () => {
    const dir = workdir({ 'site/index.html': '<html>', 'site/css/main.css': 'body{}' });
    const run = await build(template(
      { type: 'shell', inline: ['mkdir -p /srv/existing'] },
      { type: 'file', source: 'site', destination: '/srv/existing' },
      { type: 'file', source: 'site/', destination: '/srv/contents' },
      { type: 'file', source: 'site', destination: '/srv/new' },
      listing('/srv'),
    ), { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(listed(said(run))).toEqual([
      'contents', 'contents/css', 'contents/css/main.css', 'contents/index.html',
      'existing', 'existing/site', 'existing/site/css', 'existing/site/css/main.css', 'existing/site/index.html',
      'new', 'new/css', 'new/css/main.css', 'new/index.html',
    ]);
  });

  it('fails with "Upload failed" when the destination directory does not exist', async () => {
    const dir = workdir({ 'a.txt': 'a' });
    const run = await build(template({ type: 'file', source: 'a.txt', destination: '/missing/dir/' }), { dir });
    expect(errorOf(run)).toMatch(/^Failed to upload to '\/missing\/dir\/a\.txt' in container: Could not find the file \/missing\/dir in container/);
    expect(said(run)).toContain(`Upload failed: ${errorOf(run)}`);
  });

  it('fails like Packer when a generated source is still missing at run time', async () => {
    const run = await build(template({ type: 'file', source: 'not-made.txt', destination: '/tmp/', generated: true }));
    expect(errorOf(run)).toBe('stat not-made.txt: no such file or directory');
  });
});

describe('the file provisioner downloading', () => {
  it('downloads a file to a path whose directories it creates, or into a directory ending with "/"', async () => {
    const dir = workdir();
    const run = await build(template(
      { type: 'shell', inline: ['echo "remote 1" > /tmp/one.txt', 'echo "remote 2" > /tmp/two.txt'] },
      { type: 'file', direction: 'download', source: '/tmp/one.txt', destination: 'out/deep/renamed.txt' },
      { type: 'file', direction: 'download', source: '/tmp/two.txt', destination: 'into/' },
    ), { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(said(run)).toEqual(expect.arrayContaining([
      'Downloading /tmp/one.txt => out/deep/renamed.txt',
      'Downloading /tmp/two.txt => into/',
    ]));
    expect(fs.readFileSync(path.join(dir, 'out/deep/renamed.txt'), 'utf8')).toBe('remote 1\n');
    expect(fs.readFileSync(path.join(dir, 'into/two.txt'), 'utf8')).toBe('remote 2\n');
  });

  it('keeps Packer\'s quirk: with several sources and a "/" destination, each lands on the first one\'s name', async () => {
    const dir = workdir();
    const run = await build(template(
      { type: 'shell', inline: ['echo A > /tmp/a.txt', 'echo B > /tmp/b.txt'] },
      { type: 'file', direction: 'download', sources: ['/tmp/a.txt', '/tmp/b.txt'], destination: 'got/' },
    ), { dir });
    expect(said(run)).toEqual(expect.arrayContaining(['Downloading /tmp/a.txt => got/', 'Downloading /tmp/b.txt => got/a.txt']));
    expect(fs.readdirSync(path.join(dir, 'got'))).toEqual(['a.txt']);
    expect(fs.readFileSync(path.join(dir, 'got/a.txt'), 'utf8')).toBe('B\n');
  });

  it('downloads a directory when the source ends with "/"', async () => {
    const dir = workdir();
    const run = await build(template(
      { type: 'shell', inline: ['mkdir -p /tmp/logs/sub', 'echo x > /tmp/logs/sub/x.log'] },
      { type: 'file', direction: 'download', source: '/tmp/logs/', destination: 'collected/' },
    ), { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, 'collected/logs/sub/x.log'), 'utf8')).toBe('x\n');
  });

  it('leaves neither the file nor a partial one when the download fails', async () => {
    const dir = workdir({ 'keep/existing.txt': 'old' });
    const run = await build(template({ type: 'file', direction: 'download', source: '/tmp/absent.txt', destination: 'keep/existing.txt' }), { dir });
    expect(errorOf(run)).toMatch(/^Error downloading file: Could not find the file \/tmp\/absent\.txt in container/);
    expect(said(run)).toContain(`Download failed: ${errorOf(run)}`);
    expect(fs.readdirSync(path.join(dir, 'keep'))).toEqual(['existing.txt']);
    expect(fs.readFileSync(path.join(dir, 'keep/existing.txt'), 'utf8')).toBe('old');
  });
});
