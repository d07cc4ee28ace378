import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../../lib/cli/main';
import { Output } from '../../lib/cli/output';

let work: string;
let cwd: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-'));
  cwd = process.cwd();
  process.chdir(work);
});
afterEach(() => {
  process.chdir(cwd);
  fs.rmSync(work, { recursive: true, force: true });
});

async function kiln(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, new Output((t) => { stdout += t; }, (t) => { stderr += t; }));
  return { code, stdout, stderr };
}

function write(name: string, value: unknown): string {
  fs.writeFileSync(name, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return name;
}

const web = {
  builders: [
    { type: 'null', communicator: 'none' },
    { type: 'docker', name: 'web', imagee: 'kiln/busybox', pull: false, commit: true },
  ],
};

describe('kiln validate', () => {
  test('a mistake names the file, the JSON path, the component and a suggestion', async () => {
    const r = await kiln('validate', write('web.json', web));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('web.json: builders[1] (docker "web"): unknown key "imagee" — did you mean "image"?\n');
    expect(r.stderr).toContain('web.json: builders[1] (docker "web"): "image" is required');
  });

  test('every problem in the template is reported, not only the first', async () => {
    const r = await kiln('validate', write('t.json', {
      builders: [{ type: 'docker', image: 'x', commit: 'yes' }],
      provisioners: [{ type: 'shell', inline: ['a'], script: 's.sh' }, { type: 'file', destination: '/x', direction: 'sideways' }],
    }));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      't.json: builders[0] (docker): "commit" must be a boolean (true, false, "true", "false", "1" or "0"), got "yes"',
      't.json: provisioners[0] (shell): only one of "inline", "script" and "scripts" may be set',
      `t.json: provisioners[0] (shell): script "s.sh" does not exist (resolved to ${path.join(work, 's.sh')})`,
      't.json: provisioners[1] (file): "direction" must be "upload" or "download", got "sideways"',
      't.json: provisioners[1] (file): "source" or "sources" must be set: the files to copy',
    ]);
  });

  test('a valid template exits 0 and names its builds', async () => {
    const r = await kiln('validate', write('ok.json', { builders: [{ type: 'null', communicator: 'none' }] }));
    expect(r).toEqual({ code: 0, stdout: 'ok.json: valid (1 build: null)\n', stderr: '' });
  });

  test('-var beats -var-file whatever their order', async () => {
    write('vars.json', { commit: 'nope' });
    const t = write('t.json', { variables: { commit: 'nope' }, builders: [{ type: 'docker', image: 'x', pull: false, commit: '{{user `commit`}}' }] });
    expect((await kiln('validate', '-var', 'commit=true', '-var-file', 'vars.json', t)).code).toBe(0);
    expect((await kiln('validate', '-var-file=vars.json', t)).stderr).toContain('"commit" must be a boolean');
  });

  test('a required variable that is not set is named, with how to set it', async () => {
    const r = await kiln('validate', write('t.json', '{"variables": {"region": null}, "builders": [{"type": "null", "communicator": "none"}]}'));
    expect(r.stderr).toBe('t.json:1:26: variables.region: required variable "region" is not set: pass -var \'region=...\' or a -var-file\n');
  });

  test('a sensitive value never appears in an error', async () => {
    const r = await kiln('validate', '-var', 'pw=hunter2', write('t.json', {
      'variables': { pw: null },
      'sensitive-variables': ['pw'],
      'builders': [{ type: 'docker', image: 'x', commit: '{{user `pw`}}' }],
    }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('got "<sensitive>"');
    expect(r.stderr).not.toContain('hunter2');
  });

  test('the template can come from stdin as -', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'kiln'), 'validate', '-'], {
      input: JSON.stringify({ builders: [{ type: 'null', communicator: 'none' }] }),
      encoding: 'utf8',
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '<stdin>: valid (1 build: null)\n', '']);
  });

  test('-syntax-only checks structure but not components', async () => {
    const t = write('t.json', { builders: [{ type: 'docker' }] });
    expect(await kiln('validate', '-syntax-only', t)).toEqual({ code: 0, stdout: 't.json: syntax is valid\n', stderr: '' });
  });
});

describe('kiln inspect', () => {
  test('lists description, variables with sensitive ones masked, builds, provisioners and post-processors', async () => {
    const t = write('t.json', {
      'description': 'Two images',
      'variables': { region: 'eu', token: 'abc', key: null },
      'sensitive-variables': ['token'],
      'builders': [{ type: 'null', communicator: 'none' }, { type: 'file', name: 'f', target: 'x', content: 'y' }],
      'provisioners': [{ type: 'shell-local', inline: ['true'], only: ['f'] }],
      'post-processors': ['compress', [{ type: 'checksum' }, { type: 'manifest', name: 'm' }]],
    });
    const r = await kiln('inspect', t);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      'Template: t.json',
      '',
      'Description:',
      '',
      '  Two images',
      '',
      'Required variables:',
      '',
      '  key',
      '',
      'Optional variables and their defaults:',
      '',
      '  region  = eu',
      '  token   = <sensitive>',
      '',
      'Builds:',
      '',
      '  f     (file)',
      '  null',
      '',
      'Provisioners:',
      '',
      '  1. shell-local  (only: f)',
      '',
      'Post-processors:',
      '',
      '  1. compress',
      '  2. checksum -> manifest "m"',
      '',
      'Build names and defaults are shown as written; {{ }} expressions are rendered at build time.',
      '',
    ].join('\n'));
  });

  test('-machine-readable prints Packer\'s template lines, sensitive defaults masked', async () => {
    const t = write('t.json', { 'variables': { a: 'x,y', s: 'secret' }, 'sensitive-variables': ['s'], 'builders': [{ type: 'null', communicator: 'none' }] });
    const lines = (await kiln('inspect', '-machine-readable', t)).stdout.trim().split('\n').map((l) => l.replace(/^\d+,/, ''));
    expect(lines).toEqual([
      ',template-variable,a,x%!(PACKER_COMMA)y,0',
      ',template-variable,s,<sensitive>,0',
      ',template-builder,null,null',
    ]);
  });
});

describe('the kiln command line', () => {
  test('--help lists the commands; a command\'s --help lists its flags', async () => {
    const top = await kiln('--help');
    expect(top.code).toBe(0);
    for (const c of ['build', 'validate', 'inspect', 'synth', 'cleanup']) expect(top.stdout).toContain(`  ${c}`);
    const v = await kiln('validate', '--help');
    expect(v.stdout).toContain('Usage: kiln validate [flags] TEMPLATE');
    expect(v.stdout).toContain('-var-file=path');
  });

  test('--version prints the version', async () => {
    const r = await kiln('--version');
    expect(r.stdout).toMatch(/^kiln \d+\.\d+\.\d+\n$/);
  });

  test('an unknown command or flag is a clear error with exit code 1', async () => {
    expect(await kiln('bake')).toEqual({ code: 1, stdout: '', stderr: 'kiln: unknown command "bake"; commands: synth, validate, build, cleanup, inspect. Run "kiln --help".\n' });
    const r = await kiln('validate', '-vars', 'a=b', 't.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kiln: unknown flag -vars in "kiln validate -vars a=b t\.json" \(flags: -syntax-only, -var, -var-file, -only, -except\)\n/);
  });
});
