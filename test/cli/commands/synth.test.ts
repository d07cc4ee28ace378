import * as fs from 'fs';
import * as path from 'path';
import { ROOT, kiln, sandbox } from '../kiln';

/** An app script using the compiled library, as a user's app would. */
function writeApp(dir: string, body: string): void {
  fs.writeFileSync(path.join(dir, 'app.js'), `const k = require(${JSON.stringify(path.join(ROOT, 'lib'))});\n${body}\n`);
  fs.writeFileSync(path.join(dir, 'kiln.json'), JSON.stringify({ app: 'node app.js' }));
}

describe('kiln synth', () => {
  test('runs the app from kiln.json and writes templates and manifest.json to kiln.out', async () => {
    const box = sandbox();
    writeApp(box.dir, `
      const app = new k.App();
      const t = new k.ImageTemplate(app, 'hello');
      new k.NullBuilder(t, 'null', { communicator: 'none' });
      new k.ShellLocalProvisioner(t, 'Say', { inline: ['echo hi'] });
      app.synth();`);
    const r = await kiln(box, ['synth']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'Synthesized 1 template to kiln.out/: hello.json\n', '']);
    expect(JSON.parse(fs.readFileSync(path.join(box.dir, 'kiln.out', 'hello.json'), 'utf8'))).toEqual({
      builders: [{ communicator: 'none', type: 'null' }],
      provisioners: [{ inline: ['echo hi'], type: 'shell-local' }],
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(box.dir, 'kiln.out', 'manifest.json'), 'utf8'));
    expect(manifest.templates).toEqual([expect.objectContaining({ name: 'hello', file: 'hello.json', constructPath: 'hello', dependencies: [] })]);
  });

  test('an app that fails shows its own error, and the previous output is kept', async () => {
    const box = sandbox();
    writeApp(box.dir, `
      const app = new k.App();
      const t = new k.ImageTemplate(app, 'one');
      new k.NullBuilder(t, 'null', { communicator: 'none' });
      app.synth();`);
    expect((await kiln(box, ['synth'])).code).toBe(0);
    writeApp(box.dir, `
      const app = new k.App();
      const t = new k.ImageTemplate(app, 'two');
      new k.DockerBuilder(t, 'Web', { image: 'x', commit: true, discard: true });
      app.synth();`);
    const r = await kiln(box, ['synth']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('synth found 1 problem:\n  two/Web (docker): only one of "commit", "discard" and "export_path" may be set');
    expect(r.stderr).toContain('kiln: the app failed (exit code 1): node app.js');
    expect(fs.readdirSync(path.join(box.dir, 'kiln.out')).sort()).toEqual(['manifest.json', 'one.json']);
    expect(fs.readdirSync(box.dir).filter((n) => n.includes('staging'))).toEqual([]);
  });

  test('an app that never calls synth() gets a clear message', async () => {
    const box = sandbox();
    writeApp(box.dir, 'const app = new k.App(); new k.ImageTemplate(app, \'x\');');
    const r = await kiln(box, ['synth']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kiln: the app finished without synthesizing anything: call app.synth() at the end of it (command: node app.js)\n');
  });

  test('without kiln.json it says how to write one', async () => {
    const box = sandbox();
    const r = await kiln(box, ['synth']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no kiln.json in ${box.dir}: create one such as {"app": "npx ts-node main.ts"}`);
  });
});
