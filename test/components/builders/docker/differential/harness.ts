import { ChildProcess, spawn } from 'child_process';
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import Docker from 'dockerode';
import * as tar from 'tar-stream';

/*
 * Runs a Packer JSON template with `kiln build` and with the real `packer
 * build` (1.6.6), each in a fresh copy of its fixture directory, and reduces
 * what each side produced to one report a user would recognise: the exit
 * status, the lines each build printed, the artifact and error summary, every
 * image the build made or tagged (tags, config, history and file tree), and
 * every file left in the working directory (tar files opened: members, modes,
 * owners and content hashes; `docker save` archives read as manifest, config
 * and layers). Values that legitimately differ from run to run (container
 * and image ids, run uuids, temporary paths, durations, the repository name
 * of each side) are replaced by stable placeholders, so the two reports can
 * be compared with `expect(kiln).toMatchPacker(packer)`.
 *
 * Hygiene: each side runs with its own TMPDIR, Kiln with its own state
 * directory and Packer with its own PACKER_TMP_DIR (which is mounted into
 * every container Packer starts, so Packer's containers can be told from
 * everybody else's). After each Kiln run no container or image may carry
 * that process's `kiln.pid` label, and its TMPDIR and journal directory must
 * be empty (the matcher fails otherwise); Packer's leftover containers are
 * removed. Every image either side made (ids from the output, tags under the
 * side's repository) is removed after the file's tests; nothing else in the
 * engine is touched. KILN_DIFF_KEEP=1 keeps the working directories.
 */

export const ROOT = path.resolve(__dirname, '../../../../..');
export const KILN = path.join(ROOT, 'bin/kiln');
export const PACKER = process.env.PACKER_BIN ?? '/usr/bin/packer';
export const FIXTURES = path.join(__dirname, 'fixtures');
/** The local base image made by scripts/setup.sh; never pulled. */
export const BASE_IMAGE = 'kiln/busybox:latest';

/** A token of this test process, so two runs of the suite never share names. */
const SUITE = randomUUID().slice(0, 8);
/** BASE_IMAGE plus a user `builder` (1000:1000) set as the image's USER; made once per suite. */
export const USER_IMAGE = `kiln-diff-base-${SUITE}:user`;

export type Side = 'kiln' | 'packer';

const docker = new Docker();

// ---------------------------------------------------------------------------
// Reports

/** One entry of a file tree: `type mode uid:gid` plus size and content (or hash), or a link target. */
export type Tree = Record<string, string>;

export interface ImageReport {
  readonly tags: string[];
  readonly parent: string;
  readonly author: string;
  readonly comment: string;
  readonly os: string;
  readonly architecture: string;
  readonly config: Record<string, unknown>;
  readonly layers: number;
  readonly history: string[];
  /** Entries that differ from the base image's (`<deleted>` for removed ones). */
  readonly tree: Tree;
}

export interface SavedImage {
  readonly config: string;
  readonly repoTags: string[] | null;
  /** Each layer: `<base layer>` when it is one of the base images', else its tree. */
  readonly layers: (string | { readonly tree: Tree })[];
}

export interface SaveReport {
  readonly manifest: SavedImage[];
  readonly repositories: unknown;
  readonly configs: Record<string, unknown>;
}

export type FileReport =
  | { readonly mode: string; readonly text: string }
  | { readonly mode: string; readonly sha256: string; readonly size: number }
  | { readonly mode: string; readonly tar: { readonly tree: Tree } }
  | { readonly mode: string; readonly dockerSave: SaveReport }
  | { readonly dir: string };

export interface Report {
  readonly exitCode: number | null;
  /** Per build, the lines it printed (`==> ` and `    ` lines), in order, normalised. */
  readonly builds: Record<string, { readonly say: string[]; readonly message: string[] }>;
  /** The lines without a build prefix: build results, artifacts and errors (builds' blocks in name order). */
  readonly summary: string[];
  /** Images by the placeholder of their id (`<image:build>`, `<imported:build>`), or `removed`. */
  readonly images: Record<string, ImageReport | 'removed'>;
  /** Files and directories left in the working directory (the template excluded). */
  readonly files: Record<string, FileReport>;
}

export interface SideRun {
  readonly side: Side;
  readonly fixture: string;
  readonly code: number | null;
  /** Everything the process printed (stdout then stderr), raw. */
  readonly output: string;
  /** The working directory (a copy of the fixture). */
  readonly dir: string;
  /** The repository name this side's templates got as `repo`. */
  readonly repo: string;
  /** Where each docker builder of the template mounts Packer's temp dir (`container_dir`). */
  readonly containerDirs: string[];
  /** What the run left behind that it should not have (Kiln only). */
  readonly leftovers: string[];
  readonly report: Report;
}

export interface Pair {
  readonly kiln: SideRun;
  readonly packer: SideRun;
}

export interface FixtureOptions {
  /** `-var` flags besides `repo` and `user_image`. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Other flags, put before the template name. */
  readonly args?: readonly string[];
  /** Files of the fixture given CRLF line endings in the copy (git stores them with LF). */
  readonly crlf?: readonly string[];
  /** Permission bits for files and directories of the copy (git keeps only the executable bit). */
  readonly modes?: Readonly<Record<string, number>>;
}

// ---------------------------------------------------------------------------
// Normalisation

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Maps this side's run-specific values to placeholders shared by both sides. */
class Normaliser {
  private readonly table: [string, string][] = [];

  constructor(private readonly side: Side, root: string, repo: string) {
    this.table.push([root, '<root>'], [repo, '<repo>'], [USER_IMAGE, '<user-image>']);
  }

  /** Learns container, image and import ids from the build output. */
  public learn(output: string): void {
    const seen = new Map<string, number>();
    const add = (value: string, name: string) => {
      if (this.table.some(([v]) => v === value)) return;
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      const label = n === 1 ? name : `${name}#${n}`;
      this.table.push([value, `<${label}>`]);
    };
    for (const line of output.split('\n')) {
      const m = /^ {4}([^\s:()]+)(?: \([\w-]+\))?: (Container ID|Image ID|Imported ID): (?:sha256:)?([0-9a-f]{64})$/.exec(line);
      if (!m) continue;
      const kind = m[2] === 'Container ID' ? 'container' : m[2] === 'Image ID' ? 'image' : 'imported';
      add(m[3], `${kind}:${m[1]}`);
      if (kind === 'container') add(m[3].slice(0, 12), `container-short:${m[1]}`);
    }
    // Longest first, so a full id is replaced before its 12-character prefix.
    this.table.sort((a, b) => b[0].length - a[0].length);
  }

  /** The placeholder of an image id (`sha256:…`), if the output named it. */
  public imageLabel(id: string): string | undefined {
    const hex = id.replace(/^sha256:/, '');
    return this.table.find(([v]) => v === hex)?.[1];
  }

  public text(s: string): string {
    let out = s;
    for (const [value, label] of this.table) out = out.split(value).join(label);
    out = out
      .replace(UUID, '<uuid>')
      .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<other>')
      .replace(/\b[0-9a-f]{64}\b/g, '<hex>')
      // Inline scripts: Packer's /tmp/packer-shellN, Kiln's …/kiln-shell-X/packer-shellN (shell)
      // and …/kiln-shell-local-X/inline-Y (shell-local).
      .replace(/<root>\/tmp\/(?:kiln-shell-[^/\s'"]+\/)?packer-shell\d+/g, '<inline script>')
      .replace(/<root>\/tmp\/kiln-shell-local-[^/\s'"]+\/inline-[0-9a-f]+/g, '<inline script>')
      .replace(/\bscript_\d+\.sh\b/g, 'script_<n>.sh')
      .replace(/\bvarfile_\d+\.sh\b/g, 'varfile_<n>.sh')
      .replace(/ after \d+ \w+( \d+ \w+)?/g, ' after <duration>')
      .replace(/(Using docker communicator to connect: )[\d.]+/g, '$1<ip>');
    if (this.side === 'packer') {
      // Accepted difference: Kiln mounts no temporary directory into the container.
      out = out.replace(/(Run command: docker run.*?)-v <root>\/tmp\/tmp\d+:\S+ /g, '$1');
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Tar archives and file trees

/** Runtime noise of any container's file system (and of exporting one). */
function isNoise(p: string): boolean {
  return p === '.dockerenv' || /^(dev|proc|sys)(\/|$)/.test(p) || /^etc\/(hostname|hosts|resolv\.conf|mtab)$/.test(p);
}

interface TarEntry {
  readonly name: string;
  readonly header: tar.Header;
  readonly data: Buffer;
}

/** Reads every entry of a tar stream into memory (the archives here are a few MB at most). */
async function readTar(source: Readable | Buffer): Promise<TarEntry[]> {
  const extract = tar.extract();
  const stream = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  const feeding = (async () => {
    for await (const chunk of stream) {
      if (!extract.write(chunk as Buffer)) await new Promise<void>((r) => extract.once('drain', () => r()));
    }
    extract.end(undefined);
  })().catch((e: Error) => extract.destroy(e));
  const out: TarEntry[] = [];
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    out.push({ name: entry.header.name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, ''), header: entry.header, data: Buffer.concat(parts) });
  }
  await feeding;
  return out;
}

function isText(b: Buffer): boolean {
  return !b.includes(0) && Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** `file 0644 0:0 12B "content"`, `dir 0755 1000:1000`, `symlink 0777 0:0 -> target`. */
function describeEntry(h: tar.Header, data: Buffer, norm: Normaliser): string {
  const mode = ((h.mode ?? 0) % 0o10000).toString(8).padStart(4, '0');
  const head = `${h.type} ${mode} ${h.uid ?? 0}:${h.gid ?? 0}`;
  if (h.type === 'symlink') return `${head} -> ${h.linkname}`;
  if (h.type === 'link') return `${head} => ${h.linkname}`;
  if (h.type !== 'file' && h.type !== 'contiguous-file') return head;
  if (data.length <= 1024 && isText(data)) return `${head} ${JSON.stringify(norm.text(data.toString('utf8')))}`;
  return `${head} ${data.length}B sha256:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
}

function treeOf(entries: readonly TarEntry[], norm: Normaliser): Tree {
  const tree: Tree = {};
  for (const e of entries) {
    if (!e.name || isNoise(e.name)) continue;
    const name = norm.text(e.name);
    // A name with a control character (a CR from a CRLF script, say) is shown quoted.
    tree[/[\x00-\x1f]/.test(name) ? JSON.stringify(name) : name] = describeEntry(e.header, e.data, norm);
  }
  return tree;
}

/** The entries of `tree` that are not in `base` as they are, plus `<deleted>` for those gone; sorted. */
function treeDiff(tree: Tree, base: Tree): Tree {
  const out: Tree = {};
  for (const p of new Set([...Object.keys(tree), ...Object.keys(base)])) {
    if (!(p in tree)) out[p] = '<deleted>';
    else if (tree[p] !== base[p]) out[p] = tree[p];
  }
  return sorted(out);
}

function sorted<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The file tree of an image: a container is created (never started) and exported, then removed. */
async function imageTree(image: string, norm: Normaliser): Promise<Tree> {
  const container = await docker.createContainer({ Image: image, Entrypoint: ['/bin/true'], Cmd: [], Labels: { 'kiln.test': 'differential' } });
  try {
    return treeOf(await readTar(await container.export() as unknown as Readable), norm);
  } finally {
    await container.remove({ force: true, v: true });
  }
}

const plainNormaliser = new Normaliser('kiln', '/nonexistent-root', '/nonexistent-repo');
let baseTrees: Promise<{ tree: Tree; layers: Set<string> }> | undefined;

/** The trees every image's is compared with, and the layers of the base images. */
function bases(): Promise<{ tree: Tree; layers: Set<string> }> {
  baseTrees ??= (async () => {
    const tree = await imageTree(BASE_IMAGE, plainNormaliser);
    const layers = new Set<string>();
    for (const image of [BASE_IMAGE, USER_IMAGE]) {
      for (const l of (await docker.getImage(image).inspect()).RootFS?.Layers ?? []) layers.add(l);
    }
    return { tree, layers };
  })();
  return baseTrees;
}

// ---------------------------------------------------------------------------
// Images

const CONFIG_KEYS = [
  'Hostname', 'User', 'Env', 'Cmd', 'Entrypoint', 'ExposedPorts', 'WorkingDir', 'Labels', 'Volumes', 'OnBuild',
  'Tty', 'OpenStdin', 'StdinOnce', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Image', 'StopSignal', 'Shell', 'Healthcheck',
] as const;

/** The config fields a user sees (inspect and `docker save` configs use the same names); empty ones left out. */
function configOf(raw: Record<string, unknown> | null | undefined, norm: Normaliser): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const v = raw?.[k];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && !Object.keys(v).length)) continue;
    out[k] = JSON.parse(norm.text(JSON.stringify(v)));
  }
  return out;
}

interface HistoryLike {
  readonly CreatedBy?: string;
  readonly Comment?: string;
  readonly Size?: number;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
  readonly author?: string;
}

function historyLine(h: HistoryLike, norm: Normaliser): string {
  const by = h.CreatedBy ?? h.created_by ?? '';
  const comment = h.Comment ?? h.comment ?? '';
  const empty = h.empty_layer ?? (h.Size === 0);
  return norm.text(`${by} | ${comment}${h.author ? ` | author ${h.author}` : ''}${empty ? ' | empty' : ''}`);
}

async function imageReport(id: string, norm: Normaliser, baseIds: Set<string>): Promise<ImageReport | 'removed'> {
  let info: Docker.ImageInspectInfo;
  try {
    info = await docker.getImage(id).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return 'removed';
    throw e;
  }
  const history = (await docker.getImage(id).history() as HistoryLike[]).slice().reverse();
  const { tree: base } = await bases();
  return {
    tags: (info.RepoTags ?? []).map((t) => norm.text(t)).sort(),
    parent: !info.Parent ? '' : baseIds.has(info.Parent) ? '<base image>' : norm.text(info.Parent),
    author: norm.text(info.Author ?? ''),
    comment: norm.text(info.Comment ?? ''),
    os: info.Os,
    architecture: info.Architecture,
    config: configOf(info.Config as unknown as Record<string, unknown>, norm),
    layers: info.RootFS?.Layers?.length ?? 0,
    history: history.map((h) => historyLine(h, norm)),
    tree: treeDiff(await imageTree(info.Id, norm), base),
  };
}

// ---------------------------------------------------------------------------
// Files of the working directory

/** A `docker save` archive: each image's manifest entry and config, its layers (trees), the repositories file. */
async function saveReport(entries: readonly TarEntry[], norm: Normaliser): Promise<SaveReport> {
  const { layers: baseLayers } = await bases();
  const byName = new Map(entries.map((e) => [e.name, e]));
  const json = (name: string): unknown => JSON.parse(byName.get(name)?.data.toString('utf8') ?? 'null');
  const manifest = (json('manifest.json') ?? []) as { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  const configs: Record<string, unknown> = {};
  const images: SavedImage[] = [];
  for (const m of manifest) {
    const raw = json(m.Config) as {
      architecture?: string;
      os?: string;
      author?: string;
      config?: Record<string, unknown>;
      container_config?: Record<string, unknown>;
      history?: HistoryLike[];
      rootfs?: { diff_ids?: string[] };
    };
    const layers: SavedImage['layers'] = [];
    for (const l of m.Layers) {
      const data = byName.get(l)?.data ?? Buffer.alloc(0);
      const diffId = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      layers.push(baseLayers.has(diffId) ? '<base layer>' : { tree: sorted(treeOf(await readTar(data), norm)) });
    }
    const name = norm.text(m.Config);
    configs[name] = {
      architecture: raw.architecture,
      os: raw.os,
      author: norm.text(raw.author ?? ''),
      config: configOf(raw.config, norm),
      history: (raw.history ?? []).map((h) => historyLine(h, norm)),
      diffIds: (raw.rootfs?.diff_ids ?? []).map((d) => (baseLayers.has(d) ? '<base layer>' : '<layer>')),
    };
    images.push({ config: name, repoTags: m.RepoTags ? m.RepoTags.map((t) => norm.text(t)).sort() : null, layers });
  }
  const repositories = byName.has('repositories') ? JSON.parse(norm.text(byName.get('repositories')!.data.toString('utf8'))) : null;
  return { manifest: images, repositories, configs };
}

async function fileReport(file: string, norm: Normaliser): Promise<FileReport> {
  const st = fs.lstatSync(file);
  const mode = (st.mode % 0o10000).toString(8).padStart(4, '0');
  if (st.isDirectory()) return { dir: mode };
  if (st.isSymbolicLink()) return { mode, text: `-> ${norm.text(fs.readlinkSync(file))}` };
  const data = fs.readFileSync(file);
  if (data.length > 512 && data.subarray(257, 262).toString('latin1') === 'ustar') {
    const entries = await readTar(data);
    if (entries.some((e) => e.name === 'manifest.json')) return { mode, dockerSave: await saveReport(entries, norm) };
    const { tree: base } = await bases();
    return { mode, tar: { tree: treeDiff(treeOf(entries, norm), base) } };
  }
  if (isText(data)) return { mode, text: norm.text(data.toString('utf8')) };
  return { mode, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}

async function filesOf(dir: string, norm: Normaliser): Promise<Record<string, FileReport>> {
  const out: Record<string, FileReport> = {};
  const walk = async (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === 'template.json') continue;
      const full = path.join(dir, r);
      out[norm.text(r)] = await fileReport(full, norm);
      if (fs.lstatSync(full).isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}

// ---------------------------------------------------------------------------
// Output

const BUILD_LINE = /^(==> | {4})([^\s:()]+)(?: \(([\w-]+)\))?:(?: (.*))?$/;

function outputOf(output: string, norm: Normaliser, side: Side): Pick<Report, 'builds' | 'summary'> {
  const builds: Record<string, { say: string[]; message: string[] }> = {};
  const summary: string[] = [];
  for (const raw of (side === 'packer' ? withoutCliWrapping(output) : output).replace(/\n$/, '').split('\n')) {
    const line = norm.text(raw);
    const m = BUILD_LINE.exec(line);
    if (m) {
      // Accepted difference: Kiln has no shared temporary directory to create.
      if (side === 'packer' && m[4] === 'Creating a temporary directory for sharing data...') continue;
      const b = (builds[m[2]] ??= { say: [], message: [] });
      const text = `${m[3] ? `(${m[3]}) ` : ''}${m[4] ?? ''}`;
      (m[1] === '==> ' ? b.say : b.message).push(text);
      continue;
    }
    summary.push(line);
  }
  return { builds: sorted(builds), summary: sortBlocks(summary) };
}

/**
 * Accepted difference: Packer runs the docker CLI and quotes its whole
 * complaint (`Docker exited with a non-zero exit status.`, `Stderr: docker:
 * Error response from daemon: <message>`, the usage hint); Kiln calls the
 * Engine API and quotes the engine's message alone. Packer's text is reduced
 * to the engine's message, wherever it is printed (build lines, summary).
 */
function withoutCliWrapping(output: string): string {
  const prefix = '(?:==> [^\\s:]+:)?';
  // `docker run`: "Docker exited with a non-zero exit status.\nStderr: docker: Error response from daemon: …\n\nRun 'docker run --help' …\n"
  const run = new RegExp(`Docker exited with a non-zero exit status\\.\\n${prefix} ?Stderr: docker: Error response from daemon: (.*)\\n${prefix} ?\\n${prefix} ?Run 'docker run --help' for more information\\n${prefix} ?\\n`, 'g');
  // Other commands (commit, tag, …): "exit status 1\nStderr: Error response from daemon: …\n"
  const other = new RegExp(`exit status \\d+\\n${prefix} ?Stderr: (?:Error response from daemon: )?(.*)\\n${prefix} ?\\n`, 'g');
  return output.replace(run, '$1\n').replace(other, '$1\n');
}

/**
 * Packer reports builds in the order they finish and lists artifacts and
 * errors in map order: runs of `Build '…'` lines and of `--> build: …` lines
 * are put in build-name order (stable, so each build's own order is kept).
 */
function sortBlocks(lines: string[]): string[] {
  const out = [...lines];
  const key = (l: string): string | undefined => /^Build '([^']+)'/.exec(l)?.[1] ?? /^--> ([^\s:]+):/.exec(l)?.[1];
  let i = 0;
  while (i < out.length) {
    if (key(out[i]) === undefined) {
      i++;
      continue;
    }
    let j = i;
    while (j < out.length && key(out[j]) !== undefined && out[j].startsWith(out[i].slice(0, 3))) j++;
    const block = out.slice(i, j).map((l, n) => ({ l, n }));
    block.sort((a, b) => (key(a.l)! < key(b.l)! ? -1 : key(a.l)! > key(b.l)! ? 1 : a.n - b.n));
    out.splice(i, j - i, ...block.map((x) => x.l));
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Running one side

/** Every image and tag made by either side, removed after the file's tests. */
const madeImages = new Set<string>();
const madeTags = new Set<string>();
const madeDirs: string[] = [];

function copyFixture(fixture: string, dst: string, opts: FixtureOptions): void {
  const src = path.join(FIXTURES, fixture);
  if (!fs.existsSync(path.join(src, 'template.json'))) throw new Error(`no fixture ${fixture} (${src}/template.json)`);
  fs.cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
  for (const f of opts.crlf ?? []) {
    const file = path.join(dst, f);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/\r?\n/g, '\r\n'));
  }
  for (const [f, mode] of Object.entries(opts.modes ?? {})) fs.chmodSync(path.join(dst, f), mode);
}

interface Finished {
  readonly code: number | null;
  /** stdout, then stderr. */
  readonly output: string;
}

/** Starts a command; `done` gives its exit code and what it printed. Killed after 100 s (a fixture takes a few). */
function exec(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGTERM'), 100_000);
  const done = new Promise<Finished>((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, output: stdout + stderr });
  }));
  return { child, done };
}

/** The `container_dir` of each docker builder of a template (Packer mounts its temp dir there). */
function containerDirsOf(dir: string): string[] {
  const template = JSON.parse(fs.readFileSync(path.join(dir, 'template.json'), 'utf8')) as { builders?: Record<string, unknown>[] };
  return (template.builders ?? []).filter((b) => b.type === 'docker').map((b) => String(b.container_dir ?? '/packer-files'));
}

function listRecursively(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...listRecursively(p));
  }
  return out;
}

/** Images whose tags are under `repo` (`repo`, `repo:…`, `repo-…`, `repo/…`). */
async function imagesTaggedUnder(repo: string): Promise<Docker.ImageInfo[]> {
  const under = (t: string) => t === repo || t.startsWith(`${repo}:`) || t.startsWith(`${repo}-`) || t.startsWith(`${repo}/`);
  return (await docker.listImages({ all: true })).filter((i) => (i.RepoTags ?? []).some(under));
}

export async function runSide(fixture: string, side: Side, opts: FixtureOptions = {}): Promise<SideRun> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `kiln-diff-${side}-`)));
  madeDirs.push(root);
  const dir = path.join(root, 'work');
  const tmp = path.join(root, 'tmp');
  const state = path.join(root, 'state');
  fs.mkdirSync(tmp);
  fs.mkdirSync(state);
  copyFixture(fixture, dir, opts);
  const repo = `kiln-diff-${side[0]}-${fixture}-${SUITE}`;
  const vars = { repo, user_image: USER_IMAGE, ...opts.vars };
  const args = ['build', '-color=false', ...Object.entries(vars).flatMap(([k, v]) => ['-var', `${k}=${v}`]), ...(opts.args ?? []), 'template.json'];
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TMPDIR: tmp, DIFF_GREETING: 'hello from the environment' };
  delete env.PACKER_NO_COLOR;
  delete env.NO_COLOR;
  const leftovers: string[] = [];
  let result: Finished;
  if (side === 'kiln') {
    env.KILN_STATE_DIR = state;
    const { child, done } = exec(process.execPath, [KILN, ...args], dir, env);
    result = await done;
    // Kiln labels its containers with its pid (and host); a committed image inherits the labels
    // until Kiln rewrites its config, so an image carrying them is a leftover too.
    const ours = [`kiln.pid=${child.pid}`, `kiln.host=${os.hostname()}`];
    for (const c of await docker.listContainers({ all: true, filters: { label: ours } })) {
      leftovers.push(`container ${c.Id.slice(0, 12)} (${JSON.stringify(c.Labels)})`);
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
    for (const i of await docker.listImages({ all: true, filters: { label: ours } })) {
      leftovers.push(`image ${i.Id} with Kiln's labels (${JSON.stringify(i.Labels)})`);
      madeImages.add(i.Id);
    }
    leftovers.push(...listRecursively(tmp).map((p) => `temporary file ${p}`));
    leftovers.push(...listRecursively(path.join(state, 'runs')).map((p) => `journal ${p}`));
  } else {
    env.PACKER_TMP_DIR = tmp;
    result = await exec(PACKER, args, dir, env).done;
    // Packer leaves its container behind when `docker run` or its cleanup fails: every container it
    // starts mounts a directory of PACKER_TMP_DIR, which is this run's own.
    const all = await docker.listContainers({ all: true });
    for (const c of all) {
      if ((c.Mounts ?? []).some((m) => m.Source?.startsWith(`${tmp}/`))) {
        await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      }
    }
  }

  const norm = new Normaliser(side, root, repo);
  norm.learn(result.output);
  // Track everything this side made before looking at it, so a failing look still cleans up.
  const ids = [...result.output.matchAll(/(?:Image ID|Imported ID): (sha256:[0-9a-f]{64})/g)].map((m) => m[1]);
  for (const id of ids) madeImages.add(id);
  const tagged = await imagesTaggedUnder(repo);
  for (const i of tagged) {
    madeImages.add(i.Id);
    for (const t of i.RepoTags ?? []) madeTags.add(t);
  }

  const baseIds = new Set<string>();
  for (const image of [BASE_IMAGE, USER_IMAGE]) baseIds.add((await docker.getImage(image).inspect()).Id);
  const images: Record<string, ImageReport | 'removed'> = {};
  for (const id of ids) {
    const label = norm.imageLabel(id) ?? norm.text(id);
    images[label] = await imageReport(id, norm, baseIds);
  }
  for (const i of tagged) {
    if (ids.includes(i.Id)) continue;
    images[`tagged ${norm.text((i.RepoTags ?? []).sort()[0])}`] = await imageReport(i.Id, norm, baseIds);
  }

  const report: Report = {
    exitCode: result.code,
    ...outputOf(result.output, norm, side),
    images: sorted(images),
    files: await filesOf(dir, norm),
  };
  return { side, fixture, code: result.code, output: result.output, dir, repo, containerDirs: containerDirsOf(dir), leftovers, report };
}

// ---------------------------------------------------------------------------
// The suite: a user image, a pool of two fixtures at a time, clean-up

async function makeUserImage(): Promise<void> {
  // Created, never started: nothing runs, and the files go in through the archive API.
  const container = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ['/bin/sh'] });
  try {
    const pack = tar.pack();
    pack.entry({ name: 'etc/passwd', mode: 0o644 }, 'root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000:builder:/home/builder:/bin/sh\n');
    pack.entry({ name: 'etc/group', mode: 0o644 }, 'root:x:0:\nbuilder:x:1000:\n');
    pack.entry({ name: 'home', type: 'directory', mode: 0o755 });
    pack.entry({ name: 'home/builder', type: 'directory', mode: 0o755, uid: 1000, gid: 1000 });
    pack.finalize();
    await container.putArchive(Readable.from(pack) as unknown as NodeJS.ReadableStream, { path: '/' });
    const [repo, tag] = USER_IMAGE.split(':');
    await container.commit({ repo, tag, changes: ['USER builder', 'WORKDIR /home/builder', 'CMD ["/bin/sh"]'] } as object);
  } finally {
    await container.remove({ force: true, v: true });
  }
}

async function removeEverything(): Promise<void> {
  for (const t of madeTags) await docker.getImage(t).remove().catch(() => undefined);
  for (const id of madeImages) await docker.getImage(id).remove().catch(() => undefined);
  await docker.getImage(USER_IMAGE).remove().catch(() => undefined);
  if (!process.env.KILN_DIFF_KEEP) for (const d of madeDirs) fs.rmSync(d, { recursive: true, force: true });
}

/**
 * Declares the fixtures of a test file. Each `fixture(...)` returns a
 * function giving that fixture's pair of runs; every fixture starts in
 * `beforeAll`, two at a time, so the tests mostly wait for results that
 * are already there. KILN_DIFF_ONLY=a,b runs only those fixtures.
 */
export function differentialSuite(concurrency = 2): { fixture(name: string, opts?: FixtureOptions): () => Promise<Pair> } {
  const queue: { name: string; opts: FixtureOptions; settle: (p: Promise<Pair>) => void }[] = [];
  const only = process.env.KILN_DIFF_ONLY?.split(',');

  let pool: Promise<unknown> = Promise.resolve();
  let stopping = false;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(ROOT, 'lib/cli/main.js'))) {
      throw new Error('lib/ is not compiled: run "npx tsc --build" first (scripts/test.sh does)');
    }
    await makeUserImage();
    await bases();
    const pending = queue.filter((q) => !only || only.includes(q.name));
    const worker = async () => {
      for (let next = pending.shift(); next && !stopping; next = pending.shift()) {
        const item = next;
        const run = (async (): Promise<Pair> => {
          const kiln = await runSide(item.name, 'kiln', item.opts);
          const packer = await runSide(item.name, 'packer', item.opts);
          return { kiln, packer };
        })();
        item.settle(run);
        await run.catch(() => undefined);
      }
    };
    // Not awaited: the tests wait for their own fixture.
    pool = Promise.all(Array.from({ length: concurrency }, worker));
  }, 60_000);

  afterAll(async () => {
    // When tests were filtered out, fixtures may still be running: start no more, let those finish.
    stopping = true;
    await pool;
    await removeEverything();
  }, 180_000);

  return {
    fixture(name: string, opts: FixtureOptions = {}): () => Promise<Pair> {
      let settle!: (p: Promise<Pair>) => void;
      const result = new Promise<Pair>((resolve, reject) => {
        settle = (p) => p.then(resolve, reject);
      });
      result.catch(() => undefined);
      queue.push({ name, opts, settle });
      return () => result;
    },
  };
}

// ---------------------------------------------------------------------------
// The matcher

/**
 * A difference between Kiln and Packer that a test records on purpose. Both
 * sides are asserted: the test fails if either stops doing what is recorded.
 */
export type KnownDifference = {
  /** Where in the report: keys from the top, e.g. `['files', 'dl/report.txt']`; `[]` for the whole report. */
  readonly at: readonly string[];
  /** Why they differ, e.g. "Packer bug: …". */
  readonly reason: string;
} & (
  | {
    /** What Packer has there (`undefined` for nothing; asymmetric matchers work). */
    readonly packer: unknown;
    /** What Kiln has there. */
    readonly kiln: unknown;
  }
  | {
    /** Items only Kiln has in the list at `at` (each once, in this order; matchers work). */
    readonly kilnOnly?: readonly unknown[];
    /** Items only Packer has there. The rest of the two lists must match. */
    readonly packerOnly?: readonly unknown[];
  }
);

/** Matches a list holding exactly these items, in any order (for a KnownDifference). */
export function inAnyOrder(items: readonly unknown[]): unknown {
  const key = (l: readonly unknown[]) => l.map((x) => JSON.stringify(x)).sort().join('\n');
  return {
    asymmetricMatch: (actual: unknown) => Array.isArray(actual) && key(actual) === key(items),
    toAsymmetricMatcher: () => `InAnyOrder ${JSON.stringify(items)}`,
  };
}

export interface MatchOptions {
  readonly differences?: readonly KnownDifference[];
}

type Json = Record<string, unknown>;

function getAt(o: unknown, at: readonly string[]): unknown {
  let cur = o;
  for (const k of at) cur = cur && typeof cur === 'object' ? (cur as Json)[k] : undefined;
  return cur;
}

function deleteAt(o: unknown, at: readonly string[]): void {
  if (!at.length) {
    for (const k of Object.keys(o as Json)) delete (o as Json)[k];
    return;
  }
  const parent = getAt(o, at.slice(0, -1));
  if (parent && typeof parent === 'object') delete (parent as Json)[at[at.length - 1]];
}

/**
 * The accepted differences every docker build has (see the test file's
 * header), taken out of Packer's report after checking they are what they
 * should be: the mount point of Packer's temporary directory in images and
 * exports (with any parents Kiln's tree lacks), and the image's Parent.
 */
function acceptedDifferences(packer: Json, kiln: Json, containerDirs: readonly string[], problems: string[]): void {
  const mountPoints = containerDirs.map((d) => d.replace(/^\/+|\/+$/g, ''));
  const fixTree = (p: Tree, k: Tree | undefined, where: string) => {
    for (const mp of mountPoints) {
      if (!(mp in p)) continue;
      if (p[mp] !== 'directory 0755 0:0') {
        problems.push(`${where}: Packer's ${mp} is not its empty mount point: ${p[mp]}`);
        continue;
      }
      delete p[mp];
      for (let parent = path.posix.dirname(mp); parent !== '.'; parent = path.posix.dirname(parent)) {
        if (p[parent] && !(k && parent in k)) delete p[parent];
      }
    }
  };
  const walk = (p: unknown, k: unknown, where: string) => {
    if (!p || typeof p !== 'object') return;
    for (const [key, value] of Object.entries(p as Json)) {
      const other = k && typeof k === 'object' ? (k as Json)[key] : undefined;
      if (key === 'tree') fixTree(value as Tree, other as Tree | undefined, where);
      else walk(value, other, `${where} › ${key}`);
    }
  };
  walk(packer, kiln, 'report');
  for (const [name, image] of Object.entries((packer.images ?? {}) as Json)) {
    const mine = (kiln.images as Json | undefined)?.[name] as ImageReport | 'removed' | undefined;
    if (image === 'removed' || !mine || mine === 'removed') continue;
    const p = image as { parent: string; layers: number; history: string[]; tree: Tree };
    // Kiln writes the committed image's config again (without its own labels), which loses the Parent link.
    if (p.parent === '<base image>' && mine.parent === '') p.parent = '';
    // When the mount point was the only change, Packer's commit has a layer where Kiln's is empty.
    const last = p.history.length - 1;
    // (The history API tells an empty layer only by its size, 0 for a lone directory too.)
    const sameStep = mine.history[last] === p.history[last] || mine.history[last] === `${p.history[last]} | empty`;
    if (p.layers === mine.layers + 1 && sameStep && !Object.keys(p.tree).length) {
      p.layers = mine.layers;
      p.history[last] = mine.history[last];
    }
  }
  // The same in `docker save` archives: a saved layer holding nothing but the mount point.
  for (const [name, file] of Object.entries((packer.files ?? {}) as Json)) {
    const p = (file as { dockerSave?: SaveReport }).dockerSave;
    const k = ((kiln.files as Json | undefined)?.[name] as { dockerSave?: SaveReport } | undefined)?.dockerSave;
    if (!p || !k) continue;
    p.manifest.forEach((pm, i) => {
      const km = k.manifest[i];
      const extra = pm.layers.findIndex((l) => typeof l === 'object' && !Object.keys(l.tree).length);
      if (!km || extra < 0 || pm.layers.length !== km.layers.length + 1) return;
      pm.layers.splice(extra, 1);
      const pc = p.configs[pm.config] as { diffIds: string[]; history: string[] } | undefined;
      const kc = k.configs[km.config] as { diffIds: string[]; history: string[] } | undefined;
      if (!pc || !kc || pc.history.length !== kc.history.length) return;
      pc.diffIds.splice(extra, 1);
      pc.history = pc.history.map((h, n) => (kc.history[n] === `${h} | empty` ? kc.history[n] : h));
    });
  }
}

function describeLeftovers(run: SideRun): string[] {
  return run.leftovers.map((l) => `Kiln left ${l} behind`);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** The Kiln run's report equals Packer's, apart from the accepted differences and the ones listed. */
      toMatchPacker(packer: SideRun, options?: MatchOptions): R;
    }
  }
}

expect.extend({
  toMatchPacker(this: jest.MatcherContext, kilnRun: SideRun, packerRun: SideRun, options: MatchOptions = {}) {
    const kiln = structuredClone(kilnRun.report) as unknown as Json;
    const packer = structuredClone(packerRun.report) as unknown as Json;
    const problems: string[] = describeLeftovers(kilnRun);
    acceptedDifferences(packer, kiln, packerRun.containerDirs, problems);
    for (const d of options.differences ?? []) {
      const where = d.at.join(' › ') || 'the whole report';
      if (!('packer' in d)) {
        for (const [side, report, only] of [['Kiln', kiln, d.kilnOnly], ['Packer', packer, d.packerOnly]] as const) {
          const list = getAt(report, d.at);
          let from = 0;
          for (const item of only ?? []) {
            const i = Array.isArray(list) ? list.findIndex((l, n) => n >= from && this.equals(l, item)) : -1;
            if (i < 0) {
              problems.push(`Known difference at ${where} (${d.reason}): ${side} no longer has ${this.utils.printExpected(item)}`);
              continue;
            }
            (list as unknown[]).splice(i, 1);
            from = i;
          }
        }
        continue;
      }
      for (const [side, report, expected] of [['Packer', packer, d.packer], ['Kiln', kiln, d.kiln]] as const) {
        const actual = getAt(report, d.at);
        if (!this.equals(actual, expected)) {
          problems.push(`Known difference at ${where} (${d.reason}): ${side} no longer does what was recorded:\n${this.utils.diff(expected, actual, { aAnnotation: 'Recorded', bAnnotation: side })}`);
        }
      }
      deleteAt(packer, d.at);
      deleteAt(kiln, d.at);
    }
    const same = this.equals(kiln, packer);
    const pass = same && problems.length === 0;
    const message = () => {
      const parts = [`${this.utils.matcherHint('toMatchPacker', 'kiln', 'packer')}`, `fixture ${kilnRun.fixture}: Kiln in ${kilnRun.dir}, Packer in ${packerRun.dir}`];
      parts.push(...problems);
      if (!same) parts.push(this.utils.diff(packer, kiln, { aAnnotation: 'Packer', bAnnotation: 'Kiln', expand: false }) ?? '');
      if (pass) parts.push('Kiln matched Packer');
      return parts.join('\n\n');
    };
    return { pass, message };
  },
});
