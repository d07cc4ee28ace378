import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CleanupStack } from '../../lib/engine/cleanup';
import { BuildEnvironment } from '../../lib/engine/types';
import { Printer } from '../../lib/engine/ui';
import { PreparedBuild } from '../../lib/template/prepare';

export { RECORD_GROUP, groupGone, read, waitFor } from '../processes';

/**
 * A build environment for running one component runtime on its own: the real
 * Printer (colour off) writing into `output`, a real cleanup stack, real
 * temporary directories.
 */
export interface TestEnvironment {
  readonly env: BuildEnvironment;
  readonly cleanups: CleanupStack;
  /** Everything the component printed, one entry per line. */
  readonly lines: string[];
  /** Temporary directories the component asked for. */
  readonly tempDirs: string[];
}

export interface TestEnvironmentOptions {
  readonly cwd: string;
  readonly signal?: AbortSignal;
  readonly buildName?: string;
  readonly buildType?: string;
  /** Answers questions as a terminal would; without it there is no terminal. */
  readonly ask?: (question: string, signal?: AbortSignal) => Promise<string>;
  readonly machineReadable?: boolean;
}

export const RUN_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** Every environment's cleanups, unwound after the tests of a file in case a test did not. */
const stacks: CleanupStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.unwind();
});

export function testEnvironment(opts: TestEnvironmentOptions): TestEnvironment {
  const lines: string[] = [];
  const tempDirs: string[] = [];
  const cleanups = new CleanupStack();
  stacks.push(cleanups);
  const name = opts.buildName ?? 'test';
  const type = opts.buildType ?? 'null';
  const printer = new Printer({
    write: (t) => lines.push(...t.replace(/\n$/, '').split('\n')),
    mask: (t) => t,
    color: false,
    timestamps: false,
    machineReadable: opts.machineReadable ?? false,
    ask: opts.ask,
  });
  const env: BuildEnvironment = {
    build: { name, type } as PreparedBuild,
    runId: RUN_ID,
    ui: printer.forBuild(name),
    signal: opts.signal ?? new AbortController().signal,
    cleanups,
    interpolation: { userVariables: {}, buildName: name, buildType: type, cwd: opts.cwd },
    force: false,
    tempDir: async (purpose) => {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `kiln-${purpose}-`));
      tempDirs.push(dir);
      cleanups.defer(`temporary directory ${dir}`, () => fs.promises.rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
  return { env, cleanups, lines, tempDirs };
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory with the given files; `executable` lists those to make 0755. */
export function scratch(files: Record<string, string> = {}, executable: string[] = []): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-runtime-test-')));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: executable.includes(name) ? 0o755 : 0o644 });
  }
  return dir;
}
