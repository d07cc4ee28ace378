import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export { RECORD_GROUP, groupAlive, groupGone, read, waitFor } from '../processes';

/*
 * Runs the compiled CLI (bin/kiln) the way a user does, in a sandbox: a fresh
 * working directory, its own KILN_STATE_DIR and its own TMPDIR, so a test can
 * tell that nothing is left behind. Docker is pointed at a socket that does
 * not exist: these tests never touch containers, not even through
 * `kiln cleanup`. lib/ must be compiled first (scripts/test.sh does it).
 */

export const ROOT = path.resolve(__dirname, '../..');
export const KILN = path.join(ROOT, 'bin/kiln');
export const ESC = '\x1b[';

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'lib/cli/main.js'))) {
    throw new Error('lib/ is not compiled: run "npx tsc --build" first (scripts/test.sh does)');
  }
});

export interface Sandbox {
  /** Where templates live and commands run. */
  readonly dir: string;
  /** KILN_STATE_DIR: journals go to `${state}/runs`. */
  readonly state: string;
  /** TMPDIR of the kiln process: every temporary directory it makes is in here. */
  readonly tmp: string;
}

const sandboxes: string[] = [];
afterAll(() => {
  for (const d of sandboxes) fs.rmSync(d, { recursive: true, force: true });
});

export function sandbox(template?: object): Sandbox {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-test-')));
  sandboxes.push(root);
  const box = { dir: path.join(root, 'work'), state: path.join(root, 'state'), tmp: path.join(root, 'tmp') };
  for (const d of Object.values(box)) fs.mkdirSync(d);
  if (template) fs.writeFileSync(path.join(box.dir, 'template.json'), JSON.stringify(template, null, 2));
  return box;
}

function environment(box: Sandbox): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_STATE_DIR: box.state, TMPDIR: box.tmp, DOCKER_HOST: 'unix:///nonexistent/kiln-test/docker.sock' };
  delete env.NO_COLOR;
  delete env.PACKER_NO_COLOR;
  return env;
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function start(box: Sandbox, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [KILN, ...args], { cwd: box.dir, env: { ...environment(box), ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const done = new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

export function kiln(box: Sandbox, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  return start(box, args, opts).done;
}

/** Runs kiln on a pseudo-terminal (util-linux `script`), where colour is on by default. */
export function kilnOnTerminal(box: Sandbox, args: string[]): string {
  const command = [process.execPath, KILN, ...args].map((a) => `'${a}'`).join(' ');
  return spawnSync('script', ['-qec', command, '/dev/null'], { cwd: box.dir, env: environment(box), encoding: 'utf8' }).stdout;
}

export const nullBuild = { type: 'null', communicator: 'none' };
export const hasScript = spawnSync('script', ['--version']).status === 0;


/**
 * Runs kiln on a pseudo-terminal and types `keys` once `prompt` shows up;
 * resolves with everything the terminal showed and the exit code.
 */
export function kilnTyping(box: Sandbox, args: string[], prompt: string, keys: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, KILN, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: box.dir, env: environment(box), stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  child.stdout!.on('data', (c: Buffer) => {
    screen += c.toString();
    if (!typed && screen.includes(prompt)) {
      typed = true;
      // A moment for the question to start listening, as a person would take.
      setTimeout(() => child.stdin!.write(keys), 150);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen: screen.replace(/\r/g, '') })));
}
