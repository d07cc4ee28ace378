import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Docker from 'dockerode';

/*
 * What the fault tests share: the compiled CLI (bin/kiln) run as a user runs
 * it, in a sandbox with its own KILN_STATE_DIR and TMPDIR, whose output lines
 * can be waited for; the Docker engine, looked at only through labels and
 * names these tests made; and private Docker engines that a test may kill
 * without harming anyone else. lib/ must be compiled first (`npx tsc --build`).
 */

export const ROOT = path.resolve(__dirname, '../..');
export const KILN = path.join(ROOT, 'bin/kiln');
/** The local base image made by scripts/setup.sh; never pulled. */
export const BASE_IMAGE = 'kiln/busybox:latest';

/** The shared engine (DOCKER_HOST of the test process, or the default socket). */
export const docker = new Docker();

const made: string[] = [];

/** Removes every sandbox made so far. */
export function removeSandboxes(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export interface Sandbox {
  /** Where the template lives and kiln runs. */
  readonly dir: string;
  /** KILN_STATE_DIR: journals go to `${state}/runs`. */
  readonly state: string;
  /** TMPDIR of the kiln process. */
  readonly tmp: string;
}

export function sandbox(template?: object): Sandbox {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-fault-test-')));
  made.push(root);
  const box = { dir: path.join(root, 'work'), state: path.join(root, 'state'), tmp: path.join(root, 'tmp') };
  for (const d of Object.values(box)) fs.mkdirSync(d);
  if (template) writeTemplate(box, template);
  return box;
}

export function writeTemplate(box: Sandbox, template: object, name = 'template.json'): void {
  fs.writeFileSync(path.join(box.dir, name), JSON.stringify(template, null, 2));
}

/** Fills `dir` with `count` files of `size` bytes each (in sub-directories of 100). */
export function makePayload(dir: string, count: number, size: number): void {
  const block = randomBytes(size);
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(2, '0')}`);
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
    block.writeUInt32BE(i, 0); // no two files alike
    fs.writeFileSync(path.join(sub, `f${String(i).padStart(5, '0')}.bin`), block);
  }
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KilnRun {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout so far, one entry per complete line. */
  readonly lines: string[];
  readonly done: Promise<Finished>;
  /** Resolves with the first stdout line matching `re` (already printed or to come); rejects if kiln ends first or after `ms`. */
  waitForLine(re: RegExp, ms?: number): Promise<string>;
}

/** Starts `kiln ARGS` in the sandbox; `env` entries override (undefined removes). */
export function startKiln(box: Sandbox, args: string[], env: Record<string, string | undefined> = {}): KilnRun {
  const environment: NodeJS.ProcessEnv = { ...process.env, KILN_STATE_DIR: box.state, TMPDIR: box.tmp };
  delete environment.KILN_DEBUG;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete environment[k];
    else environment[k] = v;
  }
  const child = spawn(process.execPath, [KILN, ...args], { cwd: box.dir, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    partial += c.toString();
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => x.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const done = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  let ended = false;
  void done.then(() => { ended = true; });
  const waitForLine = (re: RegExp, ms = 60_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(`no line matching ${re} after ${ms} ms`), ms);
      const fail = (why: string) => {
        clearTimeout(timer);
        const i = waiters.findIndex((w) => w.resolve === ok);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`${why}; output so far:\n${stdout}\n${stderr}`));
      };
      const ok = (l: string) => {
        clearTimeout(timer);
        resolve(l);
      };
      waiters.push({ re, resolve: ok });
      void done.then(() => setImmediate(() => {
        if (waiters.some((w) => w.resolve === ok)) fail(`kiln ended before printing a line matching ${re}`);
      }));
      if (ended) fail('kiln already ended');
    });
  };
  return { child, pid: child.pid!, lines, done, waitForLine };
}

/** Waits for kiln to end; kills it (and fails) if it is still running after `ms`. */
export async function finish(run: KilnRun, ms = 60_000): Promise<Finished> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), ms); });
  const result = await Promise.race([run.done, late]);
  clearTimeout(timer);
  if (result !== 'late') return result;
  run.child.kill('SIGKILL');
  const r = await run.done;
  throw new Error(`kiln was still running after ${ms} ms; output:\n${r.stdout}\n${r.stderr}`);
}

/** Runs kiln to its end. */
export function kiln(box: Sandbox, args: string[], env: Record<string, string | undefined> = {}): Promise<Finished> {
  return startKiln(box, args, env).done;
}

/** Waits until `check` holds, polling every 20 ms; fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 30_000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The journal of the one run of a sandbox, as soon as it exists. */
export async function journalOf(box: Sandbox): Promise<{ file: string; runId: string; pid: number; items: { kind: string; path: string }[] }> {
  const runs = path.join(box.state, 'runs');
  let file = '';
  await until(() => {
    const names = fs.existsSync(runs) ? fs.readdirSync(runs).filter((n) => n.endsWith('.json')) : [];
    file = names.length ? path.join(runs, names[0]) : '';
    return Boolean(file);
  }, 30_000, `a journal in ${runs}`);
  return { file, ...JSON.parse(fs.readFileSync(file, 'utf8')) };
}

/** Journal files left in the sandbox's state directory. */
export function journalsLeft(box: Sandbox): string[] {
  const runs = path.join(box.state, 'runs');
  return fs.existsSync(runs) ? fs.readdirSync(runs) : [];
}

/** Containers of an engine carrying every one of `labels` (`key=value`). */
export async function containersWith(client: Docker, ...labels: string[]): Promise<Docker.ContainerInfo[]> {
  return client.listContainers({ all: true, filters: { label: labels } });
}

/** Image ids of an engine carrying every one of `labels`, intermediate images included. */
export async function imagesWith(client: Docker, ...labels: string[]): Promise<string[]> {
  const list = await client.listImages({ all: true, filters: { label: labels } });
  return list.map((i) => i.Id);
}

/** Ids of the dangling images of an engine. */
export async function danglingImages(client: Docker): Promise<Set<string>> {
  const list = await client.listImages({ all: true, filters: { dangling: ['true'] } });
  return new Set(list.map((i) => i.Id));
}

/** Files named `*.kiln-partial*` under `dir`. */
export function partialFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.name.includes('.kiln-partial')) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

/** True when the output shows a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m.test(text) || /^\w*Error: .*\n\s+at /m.test(text);
}

/**
 * A Docker engine of a test's own: its own socket, data and exec roots, pid
 * file and cgroup parent, started in a network namespace of its own (so that
 * `--bridge=none`, which makes dockerd delete a `docker0` bridge, cannot
 * touch the shared engine's bridge). A test may kill it mid-build; `destroy`
 * then removes every process, mount, cgroup and file it left.
 */
export class PrivateEngine {
  public static async start(): Promise<PrivateEngine> {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dockerd-')));
    const engine = new PrivateEngine(dir, `kiln-fault-${randomBytes(4).toString('hex')}`);
    await engine.launch();
    return engine;
  }

  public readonly socket: string;
  public readonly client: Docker;
  private daemon: ChildProcess | undefined;

  private constructor(public readonly dir: string, private readonly cgroupParent: string) {
    this.socket = path.join(dir, 'docker.sock');
    this.client = new Docker({ socketPath: this.socket });
  }

  /** DOCKER_HOST for kiln. */
  public get host(): string {
    return `unix://${this.socket}`;
  }

  /** Copies an image of the shared engine into this one (`docker save | docker load`). */
  public async copyImage(ref: string): Promise<void> {
    const saved = await docker.getImage(ref).get();
    const out = await this.client.loadImage(saved, { quiet: true });
    await new Promise<void>((resolve, reject) => {
      (out as NodeJS.ReadableStream).on('error', reject);
      (out as NodeJS.ReadableStream).on('end', () => resolve());
      (out as NodeJS.ReadableStream).resume();
    });
    await this.client.getImage(ref).inspect();
  }

  /** The engine dies as in a crash: dockerd (and with it its containerd) killed outright. */
  public kill(): void {
    if (this.daemon?.pid) process.kill(this.daemon.pid, 'SIGKILL');
  }

  /** Stops the engine and removes everything it made: processes, mounts, cgroups, files. */
  public async destroy(): Promise<void> {
    try {
      if (this.daemon && this.daemon.exitCode === null && this.daemon.signalCode === null) {
        try {
          for (const c of await this.client.listContainers({ all: true })) await this.client.getContainer(c.Id).remove({ force: true, v: true });
        } catch {
          // Not answering any more: the processes are killed below.
        }
        const exited = new Promise((r) => this.daemon!.once('exit', r));
        this.daemon.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
    } finally {
      await this.sweep();
    }
  }

  /** What is left of the engine after `destroy`: processes, mounts, cgroups, files (nothing, normally). */
  public leftovers(): string[] {
    return [
      ...processesMentioning(this.dir).map((pid) => `process ${pid}`),
      ...mountsUnder(this.dir).map((m) => `mount ${m}`),
      ...this.cgroupDirs().map((c) => `cgroup ${c}`),
      ...(fs.existsSync(this.dir) ? [`directory ${this.dir}`] : []),
    ];
  }

  private async launch(): Promise<void> {
    const log = fs.openSync(path.join(this.dir, 'dockerd.log'), 'a');
    this.daemon = spawn('unshare', ['--net', '--', 'dockerd',
      '-H', this.host,
      '--data-root', path.join(this.dir, 'root'),
      '--exec-root', path.join(this.dir, 'exec'),
      '--pidfile', path.join(this.dir, 'docker.pid'),
      '--bridge=none', '--iptables=false', '--ip-masq=false',
      `--cgroup-parent=/${this.cgroupParent}`], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.client.ping();
        return;
      } catch (e) {
        if (this.daemon.exitCode !== null || Date.now() > deadline) {
          const text = fs.readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8');
          await this.destroy();
          throw new Error(`the private dockerd did not start: ${(e as Error).message}\n${text.slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Kills what is left of the engine (dockerd, containerd, shims, containers), then unmounts and removes it all. */
  private async sweep(): Promise<void> {
    const cgroups = this.cgroupDirs();
    for (let round = 0; round < 50; round++) {
      const pids = new Set<number>();
      for (const cg of cgroups) for (const pid of procsUnder(cg)) pids.add(pid);
      for (const pid of processesMentioning(this.dir)) pids.add(pid);
      pids.delete(process.pid);
      if (!pids.size) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const mount of mountsUnder(this.dir)) spawnSync('umount', ['-l', mount]);
    for (const cg of cgroups) removeCgroup(cg);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private cgroupDirs(): string[] {
    const base = '/sys/fs/cgroup';
    const candidates = [path.join(base, this.cgroupParent)];
    try {
      for (const c of fs.readdirSync(base)) candidates.push(path.join(base, c, this.cgroupParent));
    } catch {
      // No cgroup filesystem: nothing to look at.
    }
    return [...new Set(candidates.filter((c) => fs.existsSync(c)).map((c) => fs.realpathSync(c)))];
  }
}

function procsUnder(cgroup: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) out.push(Number(l));
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      // Removed meanwhile.
    }
  };
  walk(cgroup);
  return out;
}

function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Mount points at or under `dir`, deepest first (mountinfo escapes spaces and such as octal). */
function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const points = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]).filter(Boolean).map(unescape)
    .filter((p) => p === dir || p.startsWith(dir + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function removeCgroup(dir: string): void {
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
    fs.rmdirSync(dir);
  } catch {
    // Busy or gone: nothing more to do.
  }
}
