import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import { CATALOG } from '../../../lib/components/catalog';
import { dockerClient } from '../../../lib/components/docker/client';
import { RUNTIMES } from '../../../lib/components/runtimes';
import { BuildOutcome, OnError, runBuild } from '../../../lib/engine/build';
import { JournalRecord, RunJournal, journalDir } from '../../../lib/engine/journal';
import { Printer } from '../../../lib/engine/ui';
import { parseSource } from '../../../lib/template/parse';
import { prepare } from '../../../lib/template/prepare';
import { readTemplate } from '../../../lib/template/template';

/**
 * Runs templates through the real engine, the real component runtimes and
 * the real Docker engine, and looks at what came out: the build's output,
 * its artifacts, the images and files. Every run has its own run id; after
 * each one we check that no container carrying it is left. Everything a test
 * makes (images, tags, directories) is removed after the file's tests, and
 * nothing else is touched: the engine may be shared.
 */

/** The local base image made by scripts/setup.sh; no registry is reachable, so never pull it. */
export const BASE_IMAGE = 'kiln/busybox:latest';

export const docker: Docker = dockerClient();

const dirs: string[] = [];
const images = new Set<string>();

// Run journals of this test file go to a directory of its own.
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-docker-test-state-'));
dirs.push(stateDir);
process.env.KILN_STATE_DIR = stateDir;

/** Removes an image (or tag) made by a test when the file's tests are done. */
export function removeLater(image: string): void {
  if (image) images.add(image);
}

afterAll(async () => {
  for (const image of [...images].reverse()) {
    try {
      await docker.getImage(image).remove({ force: true });
    } catch {
      // Already gone (destroyed by the build itself, or removed with another tag).
    }
  }
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory for one test, removed after the file's tests. */
export function workdir(files: Record<string, string | Buffer> = {}): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-docker-test-')));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return dir;
}

/** A unique name for images and tags of this test run: `kiln-test/<word>-<random>`. */
export function uniqueName(word: string): string {
  return `kiln-test/${word}-${randomUUID().slice(0, 8)}`;
}

export interface BuildRun {
  readonly outcome: BuildOutcome;
  /** Everything printed, one entry per line. */
  readonly lines: string[];
  readonly runId: string;
  readonly dir: string;
}

export interface BuildOptions {
  /** Directory the template is in and relative paths are resolved against; a fresh one by default. */
  readonly dir?: string;
  readonly onError?: OnError;
  readonly signal?: AbortSignal;
  /** Called with each printed line as it comes (e.g. to interrupt the build at some point). */
  readonly onLine?: (line: string) => void;
  /** Do not fail when containers of the run are left (`-on-error=abort` leaves them on purpose). */
  readonly keepContainers?: boolean;
  /** The run journal to record partial files in, as `kiln build` does. */
  readonly journal?: RunJournal;
  /** The run id; a fresh one by default. */
  readonly runId?: string;
}

/** A docker builder with the local base image and no pull. */
export function dockerBuilder(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'docker', image: BASE_IMAGE, pull: false, ...extra };
}

/**
 * Prepares `template` (one build) as `kiln build` does and runs it; returns
 * the outcome and the printed lines. Fails the test if a container of the run
 * is left behind or a partial file is left in the directory.
 */
export async function build(template: object, opts: BuildOptions = {}): Promise<BuildRun> {
  const dir = opts.dir ?? workdir();
  const runId = opts.runId ?? randomUUID();
  const plan = prepare(readTemplate(parseSource(JSON.stringify(template), path.join(dir, 't.json')), dir), {
    catalog: { kinds: CATALOG },
    cwd: dir,
  });
  const lines: string[] = [];
  const printer = new Printer({
    write: (text) => {
      for (const l of text.replace(/\n$/, '').split('\n')) {
        lines.push(l);
        opts.onLine?.(l);
      }
    },
    mask: (s) => s,
    color: false,
    timestamps: false,
    machineReadable: false,
  });
  const b = plan.builds[0];
  const journal = opts.journal ?? new RunJournal(runId);
  const outcome = await runBuild({
    build: b,
    runId,
    ui: printer.forBuild(b.name),
    signal: opts.signal ?? new AbortController().signal,
    onError: opts.onError ?? 'cleanup',
    force: false,
    runtimes: RUNTIMES,
    journal,
    interpolation: {
      userVariables: plan.variables,
      templatePath: plan.template.absPath,
      buildName: b.name,
      buildType: b.type,
      cwd: dir,
    },
  });
  // Whatever images the run made are removed after the file's tests, even when it failed half way.
  for (const l of lines) {
    const m = /(?:Image ID|Imported ID): (sha256:[0-9a-f]{64})/.exec(l);
    if (m) removeLater(m[1]);
  }
  for (const a of outcome.artifacts) {
    if (a.builderId.startsWith('packer.post-processor.docker')) removeLater(a.id);
    const tags = a.state.docker_tags;
    if (Array.isArray(tags)) for (const t of tags) removeLater(String(t));
  }
  if (!opts.keepContainers) {
    expect(await containersOf(runId)).toEqual([]);
    // Every temporary directory and partial file the run recorded is gone again.
    expect(journalItems(runId)).toEqual([]);
  }
  expect(partialFiles(dir)).toEqual([]);
  if (!opts.journal) journal.close();
  return { outcome, lines, runId, dir };
}

/** What the run's journal still lists. */
export function journalItems(runId: string): { kind: string; path: string }[] {
  return (JSON.parse(fs.readFileSync(path.join(journalDir(), `${runId}.json`), 'utf8')) as JournalRecord).items;
}

/** Containers (running or not) labelled with this run id. */
export async function containersOf(runId: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`kiln.run=${runId}`] } });
  return list.map((c) => c.Id);
}

/** Files named `*.kiln-partial-*` under `dir`. */
export function partialFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.includes('.kiln-partial-')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The lines a build printed with its name as prefix, prefix removed (`==> ` kept out). */
export function said(run: BuildRun): string[] {
  return run.lines.map((l) => l.replace(/^(==> |    )[^:]+: ?/, ''));
}

/** The error message of a failed build. */
export function errorOf(run: BuildRun): string {
  expect(run.outcome.error).toBeDefined();
  return run.outcome.error!.message;
}

/** The message of the one post-processor that failed a build (the engine lists post-processor errors as Packer does). */
export function postProcessorError(run: BuildRun): string {
  const text = errorOf(run);
  const at = text.indexOf('Post-processor failed: ');
  expect(at).toBeGreaterThanOrEqual(0);
  return text.slice(at + 'Post-processor failed: '.length);
}

/** A member of a tar archive, as tests look at it. */
export interface TarMember {
  readonly type: string;
  readonly content: string;
  readonly mode: number;
  readonly uid: number;
}

/** The members of a tar stream or file: name → type, content, permissions, owner. */
export async function tarMembers(source: NodeJS.ReadableStream | string): Promise<Map<string, TarMember>> {
  const stream = typeof source === 'string' ? fs.createReadStream(source) : Readable.from(source as AsyncIterable<Buffer>);
  const extract = tar.extract();
  const out = new Map<string, TarMember>();
  const feeding = (async () => {
    for await (const chunk of stream) {
      if (!extract.write(chunk as Buffer)) await new Promise<void>((r) => extract.once('drain', () => r()));
    }
    extract.end(undefined);
  })();
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    out.set(entry.header.name.replace(/^\.\//, ''), {
      type: entry.header.type,
      content: Buffer.concat(parts).toString('utf8'),
      mode: entry.header.mode % 0o10000,
      uid: entry.header.uid,
    });
  }
  await feeding;
  return out;
}

/** Runs a throwaway container of `image` with `cmd` (no entrypoint) and returns its stdout; the container is removed. */
export async function runIn(image: string, cmd: string[]): Promise<string> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [],
    Cmd: cmd,
    Labels: { 'kiln.test': 'harness' },
  });
  try {
    await container.start();
    await container.wait();
    const logs = await container.logs({ stdout: true, stderr: false });
    return demuxLogs(logs as unknown as Buffer);
  } finally {
    await container.remove({ force: true, v: true });
  }
}

function demuxLogs(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    if (buf[i] === 1) out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString('utf8');
}

/** A file of an image, read without starting anything from it. */
export async function fileInImage(image: string, file: string): Promise<string> {
  const container = await docker.createContainer({ Image: image, Entrypoint: [], Cmd: ['true'], Labels: { 'kiln.test': 'harness' } });
  try {
    const members = await tarMembers(await container.getArchive({ path: file }));
    return [...members.values()][0]?.content ?? '';
  } finally {
    await container.remove({ force: true, v: true });
  }
}
