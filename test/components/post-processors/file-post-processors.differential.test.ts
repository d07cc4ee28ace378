import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isTar, isZip, readArchive } from './archives';

/*
 * compress, checksum, manifest and artifice, run by the real Packer 1.6.6
 * (/usr/bin/packer, or $PACKER_BIN) and by `node bin/kiln build`, each in its
 * own directory with the same template and input files. Then:
 * - the same files exist afterwards (intermediate artifacts destroyed alike);
 * - archives hold the same members, with the same content and, for tar, the
 *   same header fields (the compressed bytes may differ);
 * - checksum files hold the same lines; manifests the same entries, once
 *   times and run UUIDs are normalised;
 * - the post-processors' UI lines, the final artifact lines and the errors
 *   are the same.
 * Differences that come from Packer bugs are listed with each case.
 * lib/ must be compiled first (scripts/test.sh does it). Skipped without Packer.
 */

const PACKER = process.env.PACKER_BIN ?? '/usr/bin/packer';
const ROOT = path.resolve(__dirname, '../../..');
const KILN = path.join(ROOT, 'bin/kiln');
const havePacker = fs.existsSync(PACKER);
const differential = havePacker ? describe : describe.skip;

type Setup = Record<string, string | Buffer | [string, number]>;

interface Step {
  readonly args?: string[];
}

interface Case {
  readonly name: string;
  readonly template: object;
  readonly files?: Setup;
  /** Several runs in the same directory (appending, -force). Default: one run. */
  readonly steps?: Step[];
  /** Files Packer leaves and Kiln does not (or the reverse), with the reason. */
  readonly packerBugs?: Record<string, string>;
  /**
   * Checksum files shared by parallel builds: the build that creates one
   * lists it in its artifact, and which build that is depends on timing, in
   * Packer as in Kiln. They are left out of artifact lines.
   */
  readonly shared?: string[];
}

interface Outcome {
  readonly codes: number[];
  readonly output: string;
  readonly dir: string;
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Deterministic bytes: `n` pseudo-random bytes, then `n` zeros, and again, so blocks are stored and deduplicated. */
function mixedBytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    if (Math.floor(i / 300_000) % 3 === 2) continue; // zeros
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = Math.floor(i / 300_000) % 3 === 0 ? x >>> 24 : 'packer kiln '.charCodeAt(i % 12);
  }
  return b;
}

function setUp(prefix: string, c: Case): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `kiln-pp-diff-${prefix}-`)));
  made.push(dir);
  for (const [name, content] of Object.entries(c.files ?? {})) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (Array.isArray(content)) fs.writeFileSync(file, content[0], { mode: content[1] });
    else fs.writeFileSync(file, content);
  }
  fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify(c.template, null, 2));
  return dir;
}

function run(argv: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1', KILN_STATE_DIR: path.join(cwd, '..', `${path.basename(cwd)}-state`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

async function runAll(tool: 'packer' | 'kiln', c: Case): Promise<Outcome> {
  const dir = setUp(tool, c);
  made.push(path.join(dir, '..', `${path.basename(dir)}-state`));
  const codes: number[] = [];
  let output = '';
  for (const step of c.steps ?? [{}]) {
    const argv = tool === 'packer'
      ? [PACKER, 'build', '-color=false', ...(step.args ?? []), 'template.json']
      : [process.execPath, KILN, 'build', '-color=false', ...(step.args ?? []), 'template.json'];
    const r = await run(argv, dir);
    codes.push(r.code);
    output += r.output;
  }
  return { codes, output, dir };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        walk(rel);
      } else if (rel !== 'template.json') {
        out.push(rel);
      }
    }
  };
  walk('');
  return out.sort();
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** A manifest with run UUIDs numbered in order of appearance, times reduced to "set", builds sorted within each run. */
function normaliseManifest(text: string): unknown {
  const m = JSON.parse(text) as { builds: Record<string, unknown>[] | null; last_run_uuid: string };
  const ids = new Map<string, string>();
  const id = (u: string) => {
    if (!ids.has(u)) ids.set(u, `run-${ids.size + 1}`);
    return ids.get(u)!;
  };
  const builds = (m.builds ?? []).map((b) => ({
    ...b,
    ...(b.build_time !== undefined ? { build_time: typeof b.build_time === 'number' && b.build_time > 1_600_000_000 ? 'set' : b.build_time } : {}),
    packer_run_uuid: id(b.packer_run_uuid as string),
  }));
  builds.sort((a, b) => `${a.packer_run_uuid}/${JSON.stringify(a)}`.localeCompare(`${b.packer_run_uuid}/${JSON.stringify(b)}`));
  return { keys: Object.keys(m), builds, last_run_uuid: id(m.last_run_uuid), buildKeys: (m.builds ?? []).map((b) => Object.keys(b)) .sort() };
}

/** How a file compares: archives by members, manifests and checksum files by content. */
async function describeFile(file: string): Promise<unknown> {
  const data = fs.readFileSync(file);
  const text = data.toString('utf8');
  if (/^\{\n {2}"builds": /.test(text)) return { manifest: normaliseManifest(text), trailingNewline: text.endsWith('\n') };
  if (/^([0-9a-f]+\t[^\n]+\n)+$/.test(text)) return { checksumLines: text.split('\n').sort() };
  if (data.length < 6) return { bytes: data.toString('base64') };
  const magic = data.subarray(0, 6);
  const compressed = (magic[0] === 0x1f && magic[1] === 0x8b)
    || data.readUInt32LE(0) === 0x184d2204
    || magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (compressed || isTar(data) || isZip(data)) return readArchive(file);
  return { bytes: data.toString('base64') };
}

/**
 * Intended differences in the UI, not Packer bugs:
 * - Kiln's xz encoder uses several threads, and says so (Packer: "with 1 core
 *   for X (library does not support MT)").
 * - Kiln's engine notes when a post-processor that forces keeping its input
 *   ignores `keep_input_artifact: false` (Packer says nothing).
 */
function intended(line: string): string | undefined {
  if (/needs its input artifact, so keep_input_artifact: false is ignored$/.test(line)) return undefined;
  return line.replace(/Using xz compression with \d+ cores? for (\S+)( \(library does not support MT\))?$/, 'Using xz compression for $1');
}

/** UI lines of the post-processors under test, artifact lines and error lines, per build, in order. */
function lines(output: string, shared: string[] = []): Record<string, string[]> {
  const per: Record<string, string[]> = {};
  for (const raw of output.replace(UUID, '<uuid>').split('\n')) {
    const l = intended(raw.trimEnd());
    if (l === undefined) continue;
    let m = /^==> ([\w.-]+) \((compress|artifice|checksum|manifest)\): (.*)$/.exec(l);
    if (m) {
      (per[m[1]] ??= []).push(`${m[2]}: ${m[3]}`);
      continue;
    }
    m = /^--> ([\w.-]+): (.*)$/.exec(l);
    if (m) {
      const text = shared.reduce((t, f) => t.replace(`, ${f}`, ''), m[2]);
      (per[m[1]] ??= []).push(`--> ${text}`);
      continue;
    }
    m = /^\* (Post-processor failed: .*)$/.exec(l);
    if (m) (per['*'] ??= []).push(m[1]);
  }
  if (per['*']) per['*'].sort();
  return per;
}

const cases: Case[] = [
  {
    name: 'tar.gz under the default name, zip with the path as given, plain tar, tgz',
    template: {
      'builders': [
        { type: 'file', name: 'f1', target: 'out/sub/f1.txt', content: 'hello <world> & co\n' },
        { type: 'file', name: 'big', source: 'data/big.bin', target: 'big.bin' },
      ],
      'post-processors': [
        [{ type: 'compress', keep_input_artifact: true }],
        [{ type: 'compress', output: 'arch/{{.BuildName}}.zip', keep_input_artifact: true }],
        [{ type: 'compress', output: 'arch/{{.BuildName}}-{{.BuilderType}}.tar', keep_input_artifact: true }],
        [{ type: 'compress', output: 'arch/{{.BuildName}}.tgz', keep_input_artifact: true }],
      ],
    },
    files: { 'data/big.bin': mixedBytes(2_500_000) },
  },
  {
    name: 'single-file gz, lz4, bgzf, xz and their tar forms',
    template: {
      'builders': [{ type: 'file', name: 'one', source: 'data/big.bin', target: 'one.bin' }],
      'post-processors': ['gz', 'lz4', 'bgzf', 'xz', 'tar.gz', 'tar.lz4', 'tar.bgzf', 'tar.xz'].map((ext) => [
        { type: 'compress', output: `c/one.${ext}`, keep_input_artifact: true },
      ]),
    },
    files: { 'data/big.bin': mixedBytes(1_200_000, 7) },
  },
  {
    name: '"format" picks the format without renaming; unknown extensions give tar.gz',
    template: {
      'builders': [{ type: 'file', name: 'f', target: 'f.txt', content: 'format' }],
      'post-processors': [
        [{ type: 'compress', output: 'd', format: 'tar.gz', keep_input_artifact: true }],
        [{ type: 'compress', output: 'noext', format: 'zip', keep_input_artifact: true }],
        [{ type: 'compress', output: 'x.tar.zst', keep_input_artifact: true }],
        [{ type: 'compress', output: 'x.lz4', format: 'gz', keep_input_artifact: true }],
        [{ type: 'compress', output: 'archive.v1.2', keep_input_artifact: true }],
      ],
    },
  },
  {
    name: 'compression levels: 1, 9, 12 (counts as 9), -2 (Huffman only); -3 fails',
    template: {
      'builders': [{ type: 'file', name: 'lv', source: 'data/big.bin', target: 'lv.bin' }],
      'post-processors': [
        [{ type: 'compress', output: 'l1.tar.gz', compression_level: 1, keep_input_artifact: true }],
        [{ type: 'compress', output: 'l9.gz', compression_level: 9, keep_input_artifact: true }],
        [{ type: 'compress', output: 'l12.bgzf', compression_level: 12, keep_input_artifact: true }],
        [{ type: 'compress', output: 'l-2.gz', compression_level: -2, keep_input_artifact: true }],
        [{ type: 'compress', output: 'bad.tar.gz', compression_level: -3, keep_input_artifact: true }],
      ],
    },
    files: { 'data/big.bin': mixedBytes(700_000, 3) },
    packerBugs: { 'bad.tar.gz': 'Packer creates the archive before checking the level and leaves it empty' },
  },
  {
    name: 'gz of two files fails; compress under a regular file fails; a directory cannot be archived',
    template: {
      'builders': [{ type: 'null', name: 'n', communicator: 'none' }],
      'post-processors': [
        [{ type: 'artifice', files: ['in/*.txt'] }, { type: 'compress', output: 'two.gz' }],
        [{ type: 'artifice', files: ['in/a.txt'] }, { type: 'compress', output: 'in/a.txt/x.tar.gz' }],
        [{ type: 'artifice', files: ['in'] }, { type: 'compress', output: 'dir.tar' }],
        [{ type: 'artifice', files: ['in/b.txt'] }, { type: 'compress', output: 'ok.zip' }],
      ],
    },
    files: { 'in/a.txt': 'a\n', 'in/b.txt': 'bb\n' },
    packerBugs: {
      'two.gz': 'Packer creates the output before counting the input files and leaves it empty',
      'dir.tar': 'Packer leaves the tar it had started (with the directory\'s header) after the read error',
    },
  },
  {
    name: 'checksum: every type, default and custom output, two builds sharing a file, appended on a second run',
    template: {
      'builders': [
        { type: 'file', name: 'a', target: 'out/a.txt', content: 'alpha\n' },
        { type: 'file', name: 'b', source: 'data/big.bin', target: 'out/deep/b.bin' },
      ],
      'post-processors': [
        { type: 'checksum', checksum_types: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'], output: 'sums/{{.BuildName}}.{{.BuilderType}}.{{.ChecksumType}}' },
        { type: 'checksum' },
        { type: 'checksum', checksum_types: ['sha256'], output: 'all.sha256' },
        { type: 'checksum', checksum_types: [] },
      ],
    },
    files: { 'data/big.bin': mixedBytes(900_000, 5) },
    steps: [{}, {}],
    shared: ['all.sha256'],
  },
  {
    name: 'manifest: custom data with generated data, strip_path, strip_time, empty custom_data, a second run appends',
    template: {
      'builders': [
        { type: 'null', name: 'n', communicator: 'none' },
        { type: 'file', name: 'f', target: 'out/f.txt', content: 'ffff' },
      ],
      'post-processors': [
        { type: 'manifest', custom_data: { id: '{{build `ID`}}', html: '<a href="x">&</a>', who: '{{build_name}}/{{build_type}}', user: '{{user `v`}}' } },
        { type: 'manifest', output: 'm/stripped.json', strip_path: true, strip_time: true, custom_data: {} },
      ],
      'variables': { v: 'var-value' },
    },
    files: { 'm/.keep': '' },
    steps: [{}, {}],
  },
  {
    name: 'manifest with -force: a new run starts it again, builds of one run all stay',
    template: {
      'builders': [
        { type: 'file', name: 'x', target: 'x.txt', content: 'x' },
        { type: 'file', name: 'y', target: 'y.txt', content: 'yy' },
        { type: 'file', name: 'z', target: 'z.txt', content: 'zzz' },
      ],
      'post-processors': [{ type: 'manifest', output: 'manifest.json' }],
    },
    steps: [{}, {}, { args: ['-force'] }],
  },
  {
    name: 'artifice: Go glob rules, order and spelling, then compress; the files go when the artifact is destroyed',
    template: {
      'builders': [{ type: 'file', name: 'g', target: 'made.txt', content: 'made' }],
      'post-processors': [
        [{ type: 'artifice', files: ['src/*.txt', './src/[ab]*.txt', 'src/sub/?.log', 'src/.hidden', 'none*', 'src/[^a]*.txt', 'src/*/2?.*'] }, { type: 'compress', output: 'globbed.zip', keep_input_artifact: true }],
        [{ type: 'artifice', files: ['src/*'] }, { type: 'compress', output: 'with-dir.zip', keep_input_artifact: true }],
        [{ type: 'artifice', files: ['drop/*.tmp'] }, { type: 'compress', output: 'dropped.tar.gz' }],
        [{ type: 'artifice', files: ['nothing-matches-*'] }, { type: 'compress', output: 'empty.tar.gz' }],
      ],
    },
    files: {
      'src/a.txt': 'a',
      'src/b.txt': 'b',
      'src/c.txt': 'c',
      'src/.hidden': 'h',
      'src/.hidden.txt': 'ht',
      'src/sub/1.log': 'one',
      'src/sub/22.log': 'two',
      'drop/x.tmp': 'x',
      'drop/y.tmp': 'y',
    },
    packerBugs: { 'with-dir.zip': 'Packer leaves the zip it had started after failing to read the directory src/sub' },
  },
  {
    name: 'file -> compress -> checksum -> manifest in one chain, with keep_input_artifact variations',
    template: {
      'builders': [
        { type: 'file', name: 'keep', target: 'keep.txt', content: 'kept' },
        { type: 'file', name: 'drop', target: 'drop.txt', content: 'dropped' },
      ],
      'post-processors': [
        [
          // Plain tar: byte for byte the same as Packer's, so sizes and digests can be compared too.
          { type: 'compress', output: '{{.BuildName}}.tar', keep_input_artifact: true, only: ['keep'] },
          { type: 'compress', output: '{{.BuildName}}.tar', except: ['keep'] },
          { type: 'checksum', checksum_types: ['sha1'], output: '{{.BuildName}}.sha1', keep_input_artifact: false },
          { type: 'manifest', output: 'chain.json', keep_input_artifact: false },
        ],
      ],
    },
  },
  {
    name: 'compress only/except per build, a later chain keeps the builder artifact',
    template: {
      'builders': [
        { type: 'file', name: 'a', target: 'a.txt', content: 'A' },
        { type: 'file', name: 'b', target: 'b.txt', content: 'B' },
      ],
      'post-processors': [
        { type: 'compress', output: 'only-{{.BuildName}}.zip', only: ['a'] },
        { type: 'compress', output: 'except-{{.BuildName}}.tar', except: ['a'] },
        { type: 'manifest', output: 'ab.json', strip_time: true },
      ],
    },
  },
  {
    name: 'null builder with shell-local writing files, artifice and compress, checksum of the archive',
    template: {
      'builders': [{ type: 'null', name: 'gen', communicator: 'none' }],
      'provisioners': [{ type: 'shell-local', inline: ['mkdir -p gen/deeper', 'printf "one\\n" > gen/one.txt', 'head -c 200000 /dev/zero > gen/deeper/zeros.bin'] }],
      'post-processors': [
        [
          { type: 'artifice', files: ['gen/*.txt', 'gen/deeper/*'] },
          { type: 'compress', output: 'gen.tar', keep_input_artifact: true },
          { type: 'checksum', checksum_types: ['md5', 'sha512'], output: 'gen.{{.ChecksumType}}' },
        ],
        [{ type: 'artifice', files: ['gen/*.txt', 'gen/deeper/*'] }, { type: 'compress', output: 'gen.tar.bgzf', keep_input_artifact: true }],
      ],
    },
  },
  {
    name: 'tar headers byte for byte: a name over 100 bytes (GNU long name), an empty file, a non-ASCII name in a zip',
    template: {
      'builders': [
        { type: 'file', name: 'long', target: `sub/${'n'.repeat(120)}.txt`, content: 'long' },
        { type: 'file', name: 'empty', target: 'empty.txt' },
        { type: 'file', name: 'accent', target: 'dir/été ☺.txt', content: 'utf-8' },
      ],
      'post-processors': [
        [{ type: 'compress', output: '{{.BuildName}}.tar', keep_input_artifact: true }],
        [{ type: 'compress', output: '{{.BuildName}}.zip', keep_input_artifact: true }],
        { type: 'checksum', checksum_types: ['sha256'], output: 'tars.sha256', only: ['long', 'empty'] },
      ],
    },
    shared: ['tars.sha256'],
  },
  {
    name: 'generated data in compress and checksum outputs (null builder: ID is Null)',
    template: {
      'builders': [{ type: 'null', name: 'nd', communicator: 'none' }],
      'provisioners': [{ type: 'shell-local', inline: ['echo data > nd.txt'] }],
      'post-processors': [
        [
          { type: 'artifice', files: ['nd.txt'] },
          { type: 'compress', output: 'gd/{{.ID}}-{{.BuildName}}.tar', keep_input_artifact: true },
          { type: 'checksum', output: 'gd/{{.ID}}-{{.ChecksumType}}-{{.Missing}}.sum' },
          { type: 'manifest', output: 'gd/manifest.json', custom_data: { id: '{{ .ID }}', missing: '{{build `Host`}}' } },
        ],
      ],
    },
  },
];

/** Files present on one side only, minus the listed Packer bugs. */
function unexplained(packerFiles: string[], kilnFiles: string[], c: Case): { onlyPacker: string[]; onlyKiln: string[] } {
  const bug = (f: string) => Object.prototype.hasOwnProperty.call(c.packerBugs ?? {}, f);
  return {
    onlyPacker: packerFiles.filter((f) => !kilnFiles.includes(f) && !bug(f)),
    onlyKiln: kilnFiles.filter((f) => !packerFiles.includes(f) && !bug(f)),
  };
}

differential('compress, checksum, manifest and artifice agree with Packer 1.6.6', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'lib/cli/main.js'))) throw new Error('lib/ is not compiled: run "npx tsc --build" first');
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const [packer, kiln] = await Promise.all([runAll('packer', c), runAll('kiln', c)]);
    const context = `\n--- packer output ---\n${packer.output}\n--- kiln output ---\n${kiln.output}`;

    expect({ codes: kiln.codes, context }).toEqual({ codes: packer.codes, context });
    expect(lines(kiln.output, c.shared)).toEqual(lines(packer.output, c.shared));

    const packerFiles = listFiles(packer.dir);
    const kilnFiles = listFiles(kiln.dir);
    expect(unexplained(packerFiles, kilnFiles, c)).toEqual({ onlyPacker: [], onlyKiln: [] });
    // Kiln never leaves a partial file behind.
    expect(kilnFiles.filter((f) => f.includes('.kiln-partial-') || f.endsWith('.lock'))).toEqual([]);

    for (const f of packerFiles.filter((x) => !x.endsWith('/') && kilnFiles.includes(x) && !c.packerBugs?.[x])) {
      const [p, k] = await Promise.all([describeFile(path.join(packer.dir, f)), describeFile(path.join(kiln.dir, f))]);
      expect({ file: f, content: k }).toEqual({ file: f, content: p });
    }
  });
});
