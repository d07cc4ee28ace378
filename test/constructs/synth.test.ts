import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import {
  App, Aspects, DockerBuilder, DockerTagPostProcessor, FileBuilder, FileProvisioner, ImageTemplate, NullBuilder,
  PostProcessorChain, CompressPostProcessor, ChecksumPostProcessor, RawBuilder, RawProvisioner, ShellLocalProvisioner,
  ShellProvisioner, SourceImage, SynthError, Testing, setupJest,
} from '../../lib';
import { sortKeys } from '../../lib/constructs/synth';

setupJest();

let work: string;
let cwd: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-synth-'));
  cwd = process.cwd();
  process.chdir(work);
});
afterEach(() => {
  process.chdir(cwd);
  fs.rmSync(work, { recursive: true, force: true });
});

function synthErrors(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SynthError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a SynthError');
}

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const abs = path.join(d, name);
      if (fs.statSync(abs).isDirectory()) walk(abs);
      else out[path.relative(dir, abs)] = fs.readFileSync(abs, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('synthesizing templates', () => {
  test('the seed 003 template written as constructs synthesizes to the hand-written JSON', () => {
    const app = new App({ outdir: path.join(work, 'out') });
    const t = new ImageTemplate(app, 'express');
    const repository = t.addVariable('repository', { default: 'la/express' });
    const tag = t.addVariable('tag', { default: '0.1.0' });
    new DockerBuilder(t, 'docker', { author: 'Travis Thomsen', image: 'node', commit: true, changes: ['EXPOSE 3000'] });
    new ShellProvisioner(t, 'Install', {
      inline: [
        'apt-get update -y && apt-get install curl -y',
        'mkdir -p /var/code',
        'cd /root',
        'curl -L https://github.com/linuxacademy/content-nodejs-hello-world/archive/v1.0.tar.gz -o code.tar.gz',
        'tar zxvf code.tar.gz -C /var/code --strip-components=1',
        'cd /var/code',
        'npm install',
      ],
    });
    new DockerTagPostProcessor(t, 'Tag', { repository: repository.value, tag: `${tag}` });

    const handWritten = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'seed-003.json'), 'utf8'));
    expect(Testing.synth(t)).toEqual(sortKeys(handWritten));
  });

  test('provisioners appear in the order they were added, also from nested constructs', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    new NullBuilder(t, 'null', { communicator: 'none' });
    new ShellLocalProvisioner(t, 'First', { inline: ['echo 1'] });
    const group = new Construct(t, 'Group');
    new ShellLocalProvisioner(group, 'Second', { inline: ['echo 2'] });
    new ShellLocalProvisioner(t, 'Third', { inline: ['echo 3'] });
    const json = Testing.synth(t) as { provisioners: { inline: string[] }[] };
    expect(json.provisioners.map((p) => p.inline[0])).toEqual(['echo 1', 'echo 2', 'echo 3']);
  });

  test('only, except and override take builder constructs and render their build names', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    const a = new NullBuilder(t, 'a', { communicator: 'none' });
    const b = new FileBuilder(t, 'b', { target: 'out.txt', content: 'x' });
    const p = new ShellLocalProvisioner(t, 'P', { inline: ['echo base', 'echo two'], only: [a] });
    p.overrideFor(a, { inline: ['echo override'] });
    new ShellLocalProvisioner(t, 'Q', { inline: ['true'], except: [b], pauseBefore: '1s', maxRetries: 2 });
    expect(Testing.synth(t)).toHaveProvisioner('shell-local', { only: ['a'], override: { a: { inline: ['echo override'] } } });
    expect(Testing.synth(t)).toHaveProvisioner('shell-local', { except: ['b'], pause_before: '1s', max_retries: 2 });
    expect(Testing.synth(t)).toHaveBuilder('null', { name: 'a' });
  });

  test('a post-processor on the template is a chain of one; a PostProcessorChain is a sequence', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    const f = new FileBuilder(t, 'file', { target: 'out.txt', content: 'x' });
    new CompressPostProcessor(t, 'Zip', { output: 'out.zip', only: [f] });
    const chain = new PostProcessorChain(t, 'Ship');
    new CompressPostProcessor(chain, 'Tar', { output: 'out.tar.gz' });
    new ChecksumPostProcessor(chain, 'Sum', { checksumTypes: ['sha256'], keepInputArtifact: true });
    expect(Testing.synth(t)['post-processors']).toEqual([
      { type: 'compress', output: 'out.zip', only: ['file'] },
      [{ type: 'compress', output: 'out.tar.gz' }, { type: 'checksum', checksum_types: ['sha256'], keep_input_artifact: true }],
    ]);
  });

  test('every problem in every template is reported at once, each with its construct path', () => {
    const app = new App({ outdir: path.join(work, 'out') });
    const t = new ImageTemplate(app, 'web');
    new DockerBuilder(t, 'Docker', { image: 'x', commit: true, discard: true });
    new ShellProvisioner(t, 'Setup', { inline: ['true'], script: 'setup.sh' });
    const u = new ImageTemplate(app, 'db');
    const raw = new RawBuilder(u, 'Raw', { type: 'dokcer' });
    new RawProvisioner(u, 'Raw2', { type: 'shell', config: { inlin: ['x'] }, only: [raw] });
    const problems = synthErrors(() => app.synth());
    expect(problems).toEqual([
      `web/Setup: local path "setup.sh" does not exist (resolved to ${path.join(work, 'setup.sh')})`,
      'web/Docker (docker): only one of "commit", "discard" and "export_path" may be set',
      'web/Setup (shell): only one of "inline", "script" and "scripts" may be set',
      `web/Setup (shell): script "setup.sh" does not exist (resolved to ${path.join(work, 'setup.sh')})`,
      'db/Raw (dokcer): unknown builder type "dokcer" — did you mean "docker"?; Kiln supports "docker", "null", "file", "amazon-ebs"',
      'db/Raw2 (shell): unknown key "inlin" — did you mean "inline"?',
    ]);
    // Nothing was written.
    expect(fs.existsSync(path.join(work, 'out'))).toBe(false);
  });

  test('aspects visit every construct before synth: one adds a label to every docker image', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    new DockerBuilder(t, 'a', { image: 'kiln/busybox', pull: false, commit: true });
    new DockerBuilder(t, 'b', { image: 'kiln/busybox', pull: false, commit: true, changes: ['EXPOSE 80'] });
    Aspects.of(app).add({
      visit(node: IConstruct) {
        if (node instanceof DockerBuilder) {
          const changes = (node._renderConfig().changes as string[] | undefined) ?? [];
          node.addOverride('changes', [...changes, 'LABEL team=images']);
        }
      },
    });
    const json = Testing.synth(t) as { builders: { changes: string[] }[] };
    expect(json.builders.map((b) => b.changes)).toEqual([['LABEL team=images'], ['EXPOSE 80', 'LABEL team=images']]);
  });

  test('an aspect can forbid privileged containers, with the construct path in the error', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    new DockerBuilder(t, 'Risky', { image: 'x', commit: true, privileged: true });
    Aspects.of(app).add({
      visit(node: IConstruct) {
        if (node instanceof DockerBuilder && node._renderConfig().privileged) {
          node.node.addValidation({ validate: () => ['privileged containers are not allowed here'] });
        }
      },
    });
    expect(synthErrors(() => Testing.synth(t))).toEqual(['t/Risky: privileged containers are not allowed here']);
  });

  test('the escape hatch writes any component type and any key, still validated when Kiln knows the type', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    const b = new NullBuilder(t, 'null', { communicator: 'none' });
    b.addOverride('pause_before_connecting', '1s');
    new RawProvisioner(t, 'Custom', { type: 'shell-local', config: { inline: ['echo raw'] } });
    expect(Testing.synth(t)).toHaveBuilder('null', { pause_before_connecting: '1s' });
    expect(Testing.synth(t)).toHaveProvisioner('shell-local', { inline: ['echo raw'] });
    b.addOverride('bogus_key', true);
    expect(synthErrors(() => Testing.synth(t))).toEqual(['t/null (null): unknown key "bogus_key"']);
  });

  test('variables render as {{user}} references; required ones have no default', () => {
    const app = new App();
    const t = new ImageTemplate(app, 't');
    const token = t.addVariable('token', { sensitive: true });
    const region = t.addVariable('region', { default: 'eu' });
    new ShellLocalProvisioner(t, 'P', { inline: [`echo ${region} ${token}`] });
    new NullBuilder(t, 'null', { communicator: 'none' });
    const json = Testing.synth(t);
    expect(json.variables).toEqual({ region: 'eu', token: null });
    expect(json['sensitive-variables']).toEqual(['token']);
    expect(json).toHaveProvisioner('shell-local', { inline: ['echo {{user `region`}} {{user `token`}}'] });
  });
});

describe('image dependencies', () => {
  function base(app: Construct, id: string, image: string | SourceImage = 'kiln/busybox:latest') {
    const t = new ImageTemplate(app, id);
    new DockerBuilder(t, 'docker', { image, pull: false, commit: true });
    new DockerTagPostProcessor(t, 'Tag', { repository: `kiln-test/${id}`, tags: ['1'] });
    return t;
  }

  test('a docker builder can start from another template\'s image; synth records the edge', () => {
    const app = new App({ outdir: path.join(work, 'out') });
    const b = base(app, 'base');
    const web = base(app, 'web', SourceImage.fromTemplate(b));
    expect(Testing.synth(web)).toHaveBuilder('docker', { image: 'kiln-test/base:1' });
    const manifest = app.synth();
    expect(manifest.templates.map((t) => [t.name, t.dependencies])).toEqual([['base', []], ['web', ['base']]]);
  });

  test('a cycle is rejected at synth with the construct paths of the cycle', () => {
    const app = new App();
    const a = new ImageTemplate(app, 'a');
    const b = new ImageTemplate(app, 'b');
    new DockerBuilder(a, 'docker', { image: SourceImage.fromTemplate(b), pull: false, commit: true });
    new DockerTagPostProcessor(a, 'Tag', { repository: 'kiln-test/a', tags: ['1'] });
    new DockerBuilder(b, 'docker', { image: SourceImage.fromTemplate(a), pull: false, commit: true });
    new DockerTagPostProcessor(b, 'Tag', { repository: 'kiln-test/b', tags: ['1'] });
    expect(synthErrors(() => (app as App).synth())).toEqual(['image dependencies form a cycle: a -> b -> a']);
  });

  test('a source template that does not tag its image is an error naming both constructs', () => {
    const app = new App();
    const a = new ImageTemplate(app, 'a');
    new DockerBuilder(a, 'docker', { image: 'x', pull: false, commit: true });
    const b = new ImageTemplate(app, 'b');
    new DockerBuilder(b, 'docker', { image: SourceImage.fromTemplate(a), pull: false, commit: true });
    expect(synthErrors(() => app.synth())).toContain('b/docker: SourceImage.fromTemplate(a): that template must tag its image with a DockerTagPostProcessor');
  });
});

describe('synth output', () => {
  function exampleApp(outdir: string, script = '#!/bin/sh\necho setup\n') {
    fs.mkdirSync(path.join(work, 'files', 'conf'), { recursive: true });
    fs.writeFileSync(path.join(work, 'files', 'setup.sh'), script);
    fs.writeFileSync(path.join(work, 'files', 'conf', 'app.conf'), 'port=80\n');
    const app = new App({ outdir });
    const t = new ImageTemplate(app, 'web', { description: 'web image' });
    new DockerBuilder(t, 'docker', { image: 'kiln/busybox:latest', pull: false, commit: true });
    new ShellProvisioner(t, 'Setup', { script: 'files/setup.sh' });
    new FileProvisioner(t, 'Conf', { source: 'files/conf/', destination: '/etc/app' });
    new DockerTagPostProcessor(t, 'Tag', { repository: 'kiln-test/web', tags: ['1'] });
    return app;
  }

  test('the whole kiln.out tree is stable (snapshot)', () => {
    exampleApp(path.join(work, 'kiln.out')).synth();
    const tree = readTree(path.join(work, 'kiln.out'));
    // The addr is a hash of the construct path: stable as well.
    expect(tree).toMatchSnapshot();
  });

  test('local files are staged under assets/<content hash>/ and referenced through template_dir', () => {
    exampleApp(path.join(work, 'kiln.out')).synth();
    const json = JSON.parse(fs.readFileSync(path.join(work, 'kiln.out', 'web.json'), 'utf8'));
    expect(json.provisioners[0].script).toMatch(/^\{\{template_dir\}\}\/assets\/[0-9a-f]{64}\/setup\.sh$/);
    expect(json.provisioners[1].source).toMatch(/^\{\{template_dir\}\}\/assets\/[0-9a-f]{64}\/conf\/$/);
    const staged = json.provisioners[0].script.replace('{{template_dir}}', path.join(work, 'kiln.out'));
    expect(fs.readFileSync(staged, 'utf8')).toBe('#!/bin/sh\necho setup\n');
  });

  test('synth is deterministic: the same app gives byte-identical output', () => {
    exampleApp(path.join(work, 'a')).synth();
    exampleApp(path.join(work, 'b')).synth();
    expect(readTree(path.join(work, 'a'))).toEqual(readTree(path.join(work, 'b')));
  });

  test('changing a staged file changes the fingerprint; changing nothing keeps it', () => {
    const first = exampleApp(path.join(work, 'a')).synth().templates[0].fingerprint;
    const again = exampleApp(path.join(work, 'b')).synth().templates[0].fingerprint;
    const changed = exampleApp(path.join(work, 'c'), '#!/bin/sh\necho changed\n').synth().templates[0].fingerprint;
    expect(again).toBe(first);
    expect(changed).not.toBe(first);
  });
});
