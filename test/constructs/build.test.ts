import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  App, DockerBuilder, DockerTagPostProcessor, FileProvisioner, ImageTemplate, ShellLocalProvisioner, ShellProvisioner, SourceImage,
} from '../../lib';

/*
 * Synthesized apps built with `kiln build <outdir>`: dependency order,
 * parallelism, skipped dependents and relocatable output. Real Docker builds
 * from the local busybox image; every image a test tags is removed afterwards.
 */

const root = path.resolve(__dirname, '..', '..');
const repoPrefix = `kiln-test-${randomBytes(4).toString('hex')}`;
const tagged: string[] = [];

let work: string;
beforeEach(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-deps-')));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));
afterAll(() => {
  if (tagged.length) spawnSync('docker', ['image', 'rm', '-f', ...tagged], { stdio: 'ignore' });
});

function kilnBuild(target: string, ...flags: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'kiln'), 'build', '-color=false', ...flags, target], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, KILN_STATE_DIR: path.join(work, 'state') },
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A template whose image is `<prefix>/<id>:1`, FROM `from` (or busybox), marking start and end on the host. */
function imageTemplate(app: App, id: string, from?: ImageTemplate, extra: string[] = []): ImageTemplate {
  const t = new ImageTemplate(app, id);
  new DockerBuilder(t, 'docker', { image: from ? SourceImage.fromTemplate(from) : 'kiln/busybox:latest', pull: false, commit: true });
  new ShellLocalProvisioner(t, 'Start', { inline: [`date +%s.%N > ${path.join(work, `${id}.start`)}`] });
  new ShellProvisioner(t, 'Work', { inline: [`echo ${id} >> /layers`, ...extra] });
  new ShellLocalProvisioner(t, 'End', { inline: [`sleep 1; date +%s.%N > ${path.join(work, `${id}.end`)}`] });
  new DockerTagPostProcessor(t, 'Tag', { repository: `${repoPrefix}/${id}`, tags: ['1'] });
  tagged.push(`${repoPrefix}/${id}:1`);
  return t;
}

function time(id: string, what: 'start' | 'end'): number {
  return Number(fs.readFileSync(path.join(work, `${id}.${what}`), 'utf8'));
}

function fileInImage(image: string, file: string): string {
  return spawnSync('docker', ['run', '--rm', '--entrypoint', '/bin/cat', image, file], { encoding: 'utf8' }).stdout;
}

describe('building a synth output', () => {
  test('a 3-level diamond builds in dependency order, independent templates side by side', () => {
    const app = new App({ outdir: path.join(work, 'out') });
    const a = imageTemplate(app, 'a');
    const b = imageTemplate(app, 'b', a);
    const c = imageTemplate(app, 'c', a);
    // d has two builds: one from b, one from c.
    const d = new ImageTemplate(app, 'd');
    new DockerBuilder(d, 'fromB', { image: SourceImage.fromTemplate(b), pull: false, commit: true });
    new DockerBuilder(d, 'fromC', { image: SourceImage.fromTemplate(c), pull: false, commit: true });
    new ShellLocalProvisioner(d, 'Start', { inline: [`date +%s.%N > ${path.join(work, 'd.start')}`] });
    app.synth();

    const r = kilnBuild(path.join(work, 'out'));
    expect(r.output).toContain("Build 'd/fromC' finished");
    expect(r.code).toBe(0);
    expect(time('a', 'end')).toBeLessThan(time('b', 'start'));
    expect(time('a', 'end')).toBeLessThan(time('c', 'start'));
    expect(time('b', 'end')).toBeLessThan(time('d', 'start'));
    expect(time('c', 'end')).toBeLessThan(time('d', 'start'));
    // b and c overlap: each started before the other ended.
    expect(time('b', 'start')).toBeLessThan(time('c', 'end'));
    expect(time('c', 'start')).toBeLessThan(time('b', 'end'));
    // The dependent images contain their bases' changes.
    expect(fileInImage(`${repoPrefix}/b:1`, '/layers')).toBe('a\nb\n');
    expect(fileInImage(`${repoPrefix}/c:1`, '/layers')).toBe('a\nc\n');
  });

  test('when a base fails, its dependents are skipped with the reason and the run fails', () => {
    const app = new App({ outdir: path.join(work, 'out') });
    const base = imageTemplate(app, 'base', undefined, ['exit 3']);
    imageTemplate(app, 'app', base);
    imageTemplate(app, 'other');
    app.synth();

    const r = kilnBuild(path.join(work, 'out'));
    expect(r.code).toBe(1);
    expect(r.output).toContain('==> app/docker: skipped: it starts from the image of template "base", which did not build');
    expect(r.output).toContain('--> app/docker: skipped: it starts from the image of template "base", which did not build');
    expect(r.output).toContain("Build 'other/docker' finished");
    expect(fs.existsSync(path.join(work, 'app.start'))).toBe(false);
  });

  test('a synth output moved elsewhere still builds: assets travel with it', () => {
    fs.mkdirSync(path.join(work, 'site'));
    fs.writeFileSync(path.join(work, 'site', 'index.html'), '<h1>moved</h1>\n');
    const cwd = process.cwd();
    process.chdir(work);
    try {
      const app = new App({ outdir: path.join(work, 'out') });
      const t = new ImageTemplate(app, 'site');
      new DockerBuilder(t, 'docker', { image: 'kiln/busybox:latest', pull: false, commit: true });
      new ShellProvisioner(t, 'Dir', { inline: ['mkdir -p /srv'] });
      new FileProvisioner(t, 'Site', { source: 'site/', destination: '/srv' });
      new DockerTagPostProcessor(t, 'Tag', { repository: `${repoPrefix}/site`, tags: ['1'] });
      tagged.push(`${repoPrefix}/site:1`);
      app.synth();
    } finally {
      process.chdir(cwd);
    }
    const moved = path.join(work, 'elsewhere', 'kiln.out');
    fs.mkdirSync(path.dirname(moved));
    fs.renameSync(path.join(work, 'out'), moved);
    fs.rmSync(path.join(work, 'site'), { recursive: true });

    const r = kilnBuild(moved);
    expect(r.code).toBe(0);
    expect(fileInImage(`${repoPrefix}/site:1`, '/srv/index.html')).toBe('<h1>moved</h1>\n');
  });

  test('-only takes template names: only that template is built', () => {
    const app = new App({ outdir: path.join(work, 'out') });
    imageTemplate(app, 'one');
    imageTemplate(app, 'two');
    app.synth();
    const r = kilnBuild(path.join(work, 'out'), '-only', 'two');
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(work, 'two.end'))).toBe(true);
    expect(fs.existsSync(path.join(work, 'one.start'))).toBe(false);
  });
});
