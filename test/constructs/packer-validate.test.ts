import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  App, ChecksumPostProcessor, CompressPostProcessor, DockerBuilder, DockerTagPostProcessor, FileBuilder, FileProvisioner,
  ImageTemplate, ManifestPostProcessor, NullBuilder, PostProcessorChain, ShellLocalProvisioner, ShellProvisioner, SourceImage,
} from '../../lib';

const root = path.resolve(__dirname, '..', '..');

function packerValidate(file: string): { status: number | null; output: string } {
  const r = spawnSync('packer', ['validate', file], { cwd: path.dirname(file), env: { ...process.env, CHECKPOINT_DISABLE: '1' }, encoding: 'utf8' });
  if (r.error) throw new Error(`packer is not installed (scripts/setup.sh installs it): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function expectPackerAcceptsAll(outdir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as { templates: { file: string }[] };
  expect(manifest.templates.length).toBeGreaterThan(0);
  for (const t of manifest.templates) {
    const result = packerValidate(path.join(outdir, t.file));
    expect({ file: t.file, ...result }).toEqual({ file: t.file, status: 0, output: '' });
  }
  return manifest.templates.map((t) => t.file);
}

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-pv-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe('synthesized templates pass the real packer validate', () => {
  test('the cdk-app-example, synthesized with kiln synth', () => {
    const out = path.join(work, 'out');
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'kiln'), 'synth', '-output', out], { cwd: path.join(root, 'cdk-app-example'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(expectPackerAcceptsAll(out)).toEqual(['aws-web.json', 'base.json', 'web.json']);
  });

  test('a template using every kind of component, assets and a source image', () => {
    fs.mkdirSync(path.join(work, 'files'));
    fs.writeFileSync(path.join(work, 'files', 'setup.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const app = new App({ outdir: path.join(work, 'out') });
    const base = new ImageTemplate(app, 'base');
    new DockerBuilder(base, 'docker', { image: 'kiln/busybox:latest', pull: false, commit: true, changes: ['ENV A=1'] });
    new DockerTagPostProcessor(base, 'Tag', { repository: 'kiln-test/base', tags: ['1'] });

    const t = new ImageTemplate(app, 'all', { description: 'everything', minPackerVersion: '1.5.0' });
    const greeting = t.addVariable('greeting', { default: 'hello' });
    t.addVariable('secret', { sensitive: true, default: 's3cret' });
    const d = new DockerBuilder(t, 'docker', { image: SourceImage.fromTemplate(base), pull: false, exportPath: path.join(work, 'image.tar') });
    const f = new FileBuilder(t, 'file', { target: path.join(work, 'out.txt'), content: `${greeting}` });
    new NullBuilder(t, 'null', { communicator: 'none' });
    new ShellProvisioner(t, 'Script', { script: path.join(work, 'files', 'setup.sh'), only: [d] });
    new FileProvisioner(t, 'Files', { source: path.join(work, 'files') + '/', destination: '/tmp', only: [d] });
    new ShellLocalProvisioner(t, 'Local', { inline: [`echo ${greeting}`], except: [d], pauseBefore: '0s' });
    const chain = new PostProcessorChain(t, 'Ship');
    new CompressPostProcessor(chain, 'Gz', { output: path.join(work, '{{.BuildName}}.tar.gz') });
    new ChecksumPostProcessor(chain, 'Sum', { checksumTypes: ['sha256', 'md5'], only: [f] });
    new ManifestPostProcessor(t, 'Manifest', { output: path.join(work, 'manifest.json'), stripPath: true });
    app.synth();
    // The output is relocatable: validate it from another directory.
    fs.renameSync(path.join(work, 'out'), path.join(work, 'moved'));
    fs.rmSync(path.join(work, 'files'), { recursive: true });
    expect(expectPackerAcceptsAll(path.join(work, 'moved'))).toEqual(['all.json', 'base.json']);
  });
});
