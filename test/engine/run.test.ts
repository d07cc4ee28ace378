import { build, nullBuilder, read, sh, workdir } from './helpers';

/*
 * runPlan: several builds side by side, Packer's closing summary, exit codes
 * and machine-readable records, with real shell-local commands.
 */

/** A shell-local step that notes when it started and ended (ns) and sleeps in between. */
const timed = sh(['date +%s%N > {{build_name}}.start', 'sleep 0.4', 'date +%s%N > {{build_name}}.end']);

function interval(dir: string, name: string): [bigint, bigint] {
  return [BigInt(read(dir, `${name}.start`)!.trim()), BigInt(read(dir, `${name}.end`)!.trim())];
}

describe('parallel builds', () => {
  const template = { builders: [nullBuilder('a'), nullBuilder('b')], provisioners: [timed] };

  test('-parallel-builds=0 runs every build at once: their provisioners overlap', async () => {
    const dir = workdir();
    const { result } = await build(dir, template, { parallelBuilds: 0 });
    expect(result.exitCode).toBe(0);
    const [aStart, aEnd] = interval(dir, 'a');
    const [bStart, bEnd] = interval(dir, 'b');
    expect(aStart < bEnd && bStart < aEnd).toBe(true);
  });

  test('-parallel-builds=1 runs them one after the other, in name order', async () => {
    const dir = workdir();
    const { result } = await build(dir, template, { parallelBuilds: 1 });
    expect(result.exitCode).toBe(0);
    const [, aEnd] = interval(dir, 'a');
    const [bStart] = interval(dir, 'b');
    expect(bStart >= aEnd).toBe(true);
  });
});

describe('the closing summary', () => {
  test('lists each finished build and its artifacts after the wait line, and exits 0', async () => {
    const dir = workdir();
    const { result, lines, output } = await build(dir, { builders: [{ type: 'file', name: 'f', target: 'out/f.txt', content: 'hi' }, nullBuilder('n')] });
    expect(result.exitCode).toBe(0);
    // The two builds run side by side, so either may finish first.
    const finished = lines.filter((l) => l.startsWith('Build ')).sort();
    expect(finished[0]).toMatch(/^Build 'f' finished after \d+ (milli|micro)?seconds?( \d+ \w+)?\.$/);
    expect(finished[1]).toMatch(/^Build 'n' finished after .*\.$/);
    const afterBuilds = output.slice(output.lastIndexOf('\nBuild ')).split('\n').slice(2);
    expect(afterBuilds.map((l) => l.replace(/after .*$/, 'after T'))).toEqual([
      '',
      '==> Wait completed after T',
      '',
      '==> Builds finished. The artifacts of successful builds are:',
      '--> f: Stored file: out/f.txt',
      '--> n: Did not export anything. This is the null builder',
      '',
    ]);
  });

  test('lists the builds that errored with their errors, still lists the artifacts of the others, and exits 1', async () => {
    const dir = workdir();
    const { result, output } = await build(dir, {
      builders: [nullBuilder('bad'), nullBuilder('good')],
      provisioners: [sh(['exit 7'], { only: ['bad'] })],
    });
    expect(result.exitCode).toBe(1);
    const status = 'Script exited with non-zero exit status: 7.Allowed exit codes are: [0]';
    expect(output).toMatch(new RegExp(`^Build 'bad' errored after [^:]+: ${status.replace(/[.[\]]/g, '\\$&')}$`, 'm'));
    expect(output).toContain([
      '',
      '==> Some builds didn\'t complete successfully and had errors:',
      `--> bad: ${status}`,
      '',
      '==> Builds finished. The artifacts of successful builds are:',
      '--> good: Did not export anything. This is the null builder',
      '',
    ].join('\n'));
  });

  test('an -only that matches no build runs nothing, says no artifacts were created and exits 0', async () => {
    const dir = workdir();
    const { result, output } = await build(dir, { builders: [nullBuilder()], provisioners: [sh(['touch ran'])] }, { only: ['nope'] });
    expect(result.exitCode).toBe(0);
    expect(read(dir, 'ran')).toBeUndefined();
    expect(output).toMatch(/^\n==> Wait completed after .*\n\n==> Builds finished but no artifacts were created\.\n$/);
  });
});

describe('sensitive values', () => {
  const template = {
    'variables': { secret: 'hunter2' },
    'sensitive-variables': ['secret'],
    'builders': [{ type: 'file', name: 'f', target: 'out-{{user `secret`}}.txt', content: '' }],
    'provisioners': [sh(['echo "the secret is {{user `secret`}}, with a comma"', 'echo "again-$SECRET" >&2'], { environment_vars: ['SECRET={{user `secret`}}'] })],
  };

  test('are masked in the human output, in a provisioner\'s output and in the artifact list', async () => {
    const dir = workdir();
    const { output, lines } = await build(dir, template);
    expect(read(dir, 'out-hunter2.txt')).toBe('');
    expect(output).not.toContain('hunter2');
    expect(lines).toEqual(expect.arrayContaining([
      '    f: the secret is <sensitive>, with a comma',
      '==> f: again-<sensitive>',
      '--> f: Stored file: out-<sensitive>.txt',
    ]));
  });

  test('are masked in machine-readable output too, where Packer 1.6.6 leaks them; commas are escaped', async () => {
    const dir = workdir();
    const { output, lines } = await build(dir, template, { machineReadable: true });
    expect(output).not.toContain('hunter2');
    const records = lines.map((l) => l.replace(/^\d+,/, 'T,'));
    expect(records).toEqual(expect.arrayContaining([
      'T,,ui,message,    f: the secret is <sensitive>%!(PACKER_COMMA) with a comma',
      'T,,ui,error,==> f: again-<sensitive>',
    ]));
    // As in Packer: no error-count without errors, and each artifact's records come just before its line.
    expect(records.slice(records.findIndex((r) => r.startsWith('T,,ui,say,Build \'f\' finished')) + 1)).toEqual([
      expect.stringMatching(/^T,,ui,say,\\n==> Wait completed after /),
      'T,,ui,say,\\n==> Builds finished. The artifacts of successful builds are:',
      'T,f,artifact-count,1',
      'T,f,artifact,0,builder-id,packer.file',
      'T,f,artifact,0,id,File',
      'T,f,artifact,0,string,Stored file: out-<sensitive>.txt',
      'T,f,artifact,0,files-count,1',
      'T,f,artifact,0,file,0,out-<sensitive>.txt',
      'T,f,artifact,0,end',
      'T,,ui,say,--> f: Stored file: out-<sensitive>.txt',
    ]);
    expect(lines.every((l) => /^\d+,/.test(l))).toBe(true);
  });
});
