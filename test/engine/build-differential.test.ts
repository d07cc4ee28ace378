import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { build, workdir } from './helpers';

/*
 * The same templates, built by the real Packer 1.6.6 (/usr/bin/packer, or
 * $PACKER_BIN) and by Kiln's engine, each in its own directory: the files the
 * shell-local steps write, the build output and the artifact lists must
 * match once values that differ from run to run (run UUIDs, temporary script
 * paths, durations) are normalised. Skipped when Packer is not installed.
 */

const PACKER = process.env.PACKER_BIN ?? '/usr/bin/packer';
const havePacker = fs.existsSync(PACKER);
const differential = havePacker ? describe : describe.skip;

interface Outcome {
  readonly code: number;
  readonly output: string;
  /** Every file the build left in its directory (template excluded), normalised. */
  readonly files: Record<string, string>;
}

/** Replaces what legitimately differs between two runs. */
function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\/[^\s'"]*\/packer-shell\d+/g, '<inline script>')
    .replace(/\/[^\s'"]*\/kiln-shell-local-[^/\s'"]+\/inline-[0-9a-f]{8}/g, '<inline script>')
    .replace(/after (\d+ \w+)( \d+ \w+)?/g, 'after <duration>');
}

function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (rel !== 'template.json') out[rel] = normalise(fs.readFileSync(path.join(dir, rel), 'utf8'));
    }
  };
  walk('');
  return out;
}

function setUp(template: object, files: Record<string, [string, number]>): string {
  const dir = workdir('kiln-differential-');
  for (const [name, [content, mode]] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content, { mode });
  fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify(template, null, 2));
  return dir;
}

function runPacker(template: object, files: Record<string, [string, number]>, args: string[] = []): Outcome {
  const dir = setUp(template, files);
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1' };
  const result = spawnSync(PACKER, ['build', ...args, 'template.json'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, output: normalise(result.stdout + result.stderr), files: filesOf(dir) };
}

async function runKiln(template: object, files: Record<string, [string, number]>, opts: { machineReadable?: boolean } = {}): Promise<Outcome> {
  const dir = setUp(template, files);
  const { output, result } = await build(dir, template, opts);
  return { code: result.exitCode, output: normalise(output), files: filesOf(dir) };
}

/** The lines a build printed with its own prefix (`==> n: `, `    n (shell-local): `), in order. */
function buildLines(output: string, name: string): string[] {
  const own = new RegExp(`^(==> | {4})${name}( \\([\\w-]+\\))?:`);
  return output.split('\n').filter((l) => own.test(l));
}

/** The closing artifact lines, sorted (Packer lists builds in random order). */
function artifactLines(output: string): string[] {
  return output.split('\n').filter((l) => /^--> [\w-]+: /.test(l)).sort();
}

/** Machine-readable artifact records without their timestamps, sorted by build. */
function artifactRecords(output: string): string[] {
  return output.split('\n').map((l) => l.replace(/^\d+,/, '')).filter((l) => /^[\w-]+,artifact(-count)?,/.test(l))
    .sort((a, b) => a.split(',')[0].localeCompare(b.split(',')[0]));
}

const SCRIPTS: Record<string, [string, number]> = {
  'report.sh': ['#!/bin/sh\necho "script $PACKER_BUILD_NAME: $GREETING" >> "$PACKER_BUILD_NAME-script.txt"\necho "report for $PACKER_BUILD_NAME"\n', 0o755],
};

differential('Kiln and Packer 1.6.6 agree', () => {
  const template = {
    'variables': { greeting: 'hello, it\'s me' },
    'builders': [
      { type: 'null', name: 'n', communicator: 'none' },
      { type: 'file', name: 'f', target: 'out/{{build_name}}.txt', content: 'made by {{build_name}} ({{build_type}})' },
      { type: 'file', name: 'copy', source: 'report.sh', target: 'copied/report.sh' },
    ],
    'provisioners': [
      {
        type: 'shell-local',
        inline: [
          'echo "ID={{build `ID`}} Host={{build `Host`}} ConnType={{build `ConnType`}} Run={{build `PackerRunUUID`}} HTTP={{build `PackerHTTPIP`}}" > {{build_name}}-data.txt',
          'echo "$GREETING|$QUOTE|$PACKER_BUILD_NAME|$PACKER_BUILDER_TYPE|$PACKER_RUN_UUID" > {{build_name}}-env.txt',
          'echo \'raw .ID: {{.ID}}\' >> {{build_name}}-data.txt',
          'echo out-line; echo err-line >&2; echo; printf "a\\r\\nb\\n"; echo "with, comma"',
        ],
        environment_vars: ['GREETING={{user `greeting`}}', 'QUOTE=it\'s "quoted"'],
      },
      {
        type: 'shell-local',
        inline: ['true'],
        execute_command: ['/bin/sh', '-c', 'echo "{{.Vars}}" > {{build_name}}-vars.txt; {{.Vars}} {{.Script}}'],
        environment_vars: ['B=2', 'A=1'],
      },
      { type: 'shell-local', script: 'report.sh', environment_vars: ['GREETING=from a script'], only: ['n'] },
      { type: 'shell-local', inline: ['echo base-1 >> {{build_name}}-order.txt', 'echo base-2 >> {{build_name}}-order.txt'], override: { f: { inline: ['echo override-1 >> {{build_name}}-order.txt'] } } },
      { type: 'breakpoint', disable: true, note: 'half-way' },
    ],
    'post-processors': [
      { type: 'shell-local', inline: ['echo \'pp ID={{build `ID`}} raw={{.ID}}\' > {{build_name}}-pp.txt'] },
      [
        { type: 'shell-local', inline: ['echo chained >> {{build_name}}-pp.txt'] },
        { type: 'shell-local', inline: ['true'], execute_command: 'echo "string command {{.Script}}" >> {{build_name}}-pp.txt' },
      ],
    ],
  };
  let packer: Outcome;
  let kiln: Outcome;
  beforeAll(async () => {
    packer = runPacker(template, SCRIPTS);
    kiln = await runKiln(template, SCRIPTS);
  });

  test('both succeed', () => {
    expect(packer.code).toBe(0);
    expect(kiln.code).toBe(0);
  });

  test('the shell-local steps write the same files with the same contents', () => {
    expect(Object.keys(kiln.files).sort()).toEqual(Object.keys(packer.files).sort());
    expect(kiln.files).toEqual(packer.files);
    // What the comparison covers, spelled out once:
    expect(packer.files['n-data.txt']).toBe('ID=Null Host=<no value> ConnType=<no value> Run=<uuid> HTTP=ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER\n'
      + 'raw .ID: Build_ID. To set this dynamically in the Packer template, you must use the `build` function\n');
    expect(packer.files['f-data.txt']).toMatch(/^ID=<no value> Host=<no value> /);
    expect(packer.files['f-order.txt']).toBe('override-1\nbase-2\n');
    expect(packer.files['out/f.txt']).toBe('made by f (file)');
    expect(packer.files['n-pp.txt']).toBe('pp ID=Null raw=Build_ID. To set this dynamically in the Packer template, you must use the `build` function\nchained\nstring command <inline script>\n');
  });

  test('each build prints the same lines', () => {
    // A script's stdout and stderr come through two pipes, so how their lines
    // interleave varies from run to run (in Packer too): each is compared on its own.
    for (const name of ['n', 'f', 'copy']) {
      for (const lead of ['==> ', '    ']) {
        const of = (out: string) => buildLines(out, name).filter((l) => l.startsWith(lead));
        expect(of(kiln.output)).toEqual(of(packer.output));
      }
    }
    expect(buildLines(packer.output, 'n')).toEqual(expect.arrayContaining(['    n: out-line', '==> n: err-line', '    n:', '    n: a', '    n: b', '    n: with, comma']));
    expect(buildLines(packer.output, 'copy').slice(0, 2)).toEqual(['==> copy: Copying report.sh to copied/report.sh', `==> copy: Copied ${SCRIPTS['report.sh'][0].length} bytes`]);
  });

  test('the artifact lists match, duplicates from shell-local\'s pass-through included', () => {
    expect(artifactLines(kiln.output)).toEqual(artifactLines(packer.output));
    expect(artifactLines(packer.output)).toEqual([
      // The builder's, the first chain's, then the second chain's two: shell-local keeps its input.
      ...Array(4).fill('--> copy: Stored file: copied/report.sh'),
      ...Array(4).fill('--> f: Stored file: out/f.txt'),
      ...Array(4).fill('--> n: Did not export anything. This is the null builder'),
    ]);
  });

  test('the machine-readable artifact records match', async () => {
    const packerRecords = artifactRecords(runPacker(template, SCRIPTS, ['-machine-readable']).output);
    const kilnRecords = artifactRecords((await runKiln(template, SCRIPTS, { machineReadable: true })).output);
    expect(kilnRecords).toEqual(packerRecords);
    expect(packerRecords).toContain('f,artifact,0,file,0,out/f.txt');
  });
});

differential('Kiln and Packer 1.6.6 fail the same way', () => {
  const template = {
    'builders': [{ type: 'null', name: 'n', communicator: 'none' }, { type: 'null', name: 'ok', communicator: 'none' }],
    'provisioners': [
      { type: 'shell-local', inline: ['echo attempt >> {{build_name}}-tries.txt', 'exit 3'], max_retries: 1, only: ['n'] },
      { type: 'shell-local', inline: ['echo never >> {{build_name}}-never.txt'] },
    ],
    'error-cleanup-provisioner': { type: 'shell-local', inline: ['echo cleanup >> {{build_name}}-cleanup.txt', 'exit 4'] },
  };
  let packer: Outcome;
  let kiln: Outcome;
  beforeAll(async () => {
    packer = runPacker(template, {});
    kiln = await runKiln(template, {});
  });

  test('with the same exit code and the same files', () => {
    expect(packer.code).toBe(1);
    expect(kiln.code).toBe(1);
    expect(kiln.files).toEqual(packer.files);
    expect(packer.files['n-tries.txt']).toBe('attempt\nattempt\n');
  });

  test('with the same build lines and the same error lines', () => {
    for (const lead of ['==> ', '    ']) {
      const of = (out: string) => buildLines(out, 'n').filter((l) => l.startsWith(lead));
      expect(of(kiln.output)).toEqual(of(packer.output));
    }
    const errorLines = (out: string) => out.split('\n').filter((l) => /^(Build 'n' errored|--> n:)/.test(l));
    expect(errorLines(kiln.output)).toEqual(errorLines(packer.output));
    expect(errorLines(packer.output)[0]).toBe('Build \'n\' errored after <duration>: Cleanup failed: Script exited with non-zero exit status: 4.Allowed exit codes are: [0]. '
      + 'Original Provisioning error: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]');
  });
});
