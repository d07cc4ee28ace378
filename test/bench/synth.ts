import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * `kiln synth` of an app with 1,000 templates (docker builder, shell and file
 * provisioners, docker-tag each): the whole command, app start-up included.
 * Packer has no equivalent, so this one is measured against its target alone.
 */
export interface SoloResult {
  readonly name: string;
  readonly medianMs: number;
  readonly targetMs: number;
}

export function synthThousandTemplates(runs = 5): SoloResult {
  const root = path.resolve(__dirname, '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-synth-'));
  try {
    fs.writeFileSync(path.join(dir, 'app.js'), `
const k = require(${JSON.stringify(path.join(root, 'lib'))});
const app = new k.App();
for (let i = 0; i < 1000; i++) {
  const t = new k.ImageTemplate(app, 'image-' + i, { description: 'image ' + i });
  const tag = t.addVariable('tag', { default: String(i) });
  new k.DockerBuilder(t, 'docker', { image: 'kiln/busybox:latest', pull: false, commit: true, changes: ['EXPOSE 80', 'LABEL n=' + i] });
  new k.ShellProvisioner(t, 'Setup', { inline: ['echo one', 'echo ' + tag], environmentVars: ['A=1'] });
  new k.FileProvisioner(t, 'Fetch', { source: '/etc/hostname', destination: 'out/', direction: 'download' });
  new k.DockerTagPostProcessor(t, 'Tag', { repository: 'bench/image-' + i, tags: [tag.value] });
}
app.synth();
`);
    fs.writeFileSync(path.join(dir, 'kiln.json'), JSON.stringify({ app: 'node app.js' }));
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'kiln'), 'synth'], { cwd: dir, encoding: 'utf8' });
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (r.status !== 0) throw new Error(`kiln synth failed:\n${r.stdout}${r.stderr}`);
    }
    times.sort((a, b) => a - b);
    return { name: 'synth an app of 1,000 templates', medianMs: times[Math.floor(times.length / 2)], targetMs: 2000 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
