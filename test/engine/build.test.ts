import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { RECORD_GROUP, build, groupGone, nullBuilder, read, sh, waitFor, workdir } from './helpers';
import { RUNTIMES } from '../../lib/components/runtimes';
import { RuntimeLoader } from '../../lib/engine/build';
import { Artifact, BuilderRuntime, PostProcessorRuntime } from '../../lib/engine/types';

/*
 * runBuild with the real null and file builders and the real shell-local
 * runtime: every command really runs, and the tests look at the files they
 * write and at the temporary directories left (or not) on disk.
 */

/** The null builder, wrapped so that it creates two temporary directories and records the order its cleanups run in. */
function recordingRuntimes(record: { dirs: string[]; order: string[] }): RuntimeLoader {
  const recording: BuilderRuntime = {
    async run(env, config, provision) {
      const first = await env.tempDir('first');
      record.dirs.push(first);
      env.cleanups.defer('after first', () => {
        record.order.push(`after first (first ${fs.existsSync(first) ? 'still there' : 'gone'}, second ${fs.existsSync(record.dirs[1]) ? 'still there' : 'gone'})`);
      });
      const second = await env.tempDir('second');
      record.dirs.push(second);
      env.cleanups.defer('after second', () => {
        record.order.push(`after second (second ${fs.existsSync(second) ? 'still there' : 'gone'})`);
      });
      return RUNTIMES.builder('null').run(env, config, provision);
    },
  };
  return { ...RUNTIMES, builder: (type) => (type === 'null' ? recording : RUNTIMES.builder(type)) };
}

/** Removes the temporary directories an `-on-error=abort` build said it left; returns them. */
function removeAbandoned(lines: string[]): string[] {
  const dirs = lines.map((l) => /aborted: skipping cleanup of temporary directory (.*)$/.exec(l)?.[1]).filter((d): d is string => Boolean(d));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  return dirs;
}

describe('cleanups', () => {
  const reverseOrder = [
    'after second (second still there)',
    'after first (first still there, second gone)',
  ];

  test('run newest first and remove every temporary directory when the build succeeds', async () => {
    const dir = workdir();
    const record = { dirs: [] as string[], order: [] as string[] };
    const { result } = await build(dir, { builders: [nullBuilder()], provisioners: [sh(['true'])] }, { runtimes: recordingRuntimes(record) });
    expect(result.exitCode).toBe(0);
    expect(record.order).toEqual(reverseOrder);
    for (const d of record.dirs) expect(fs.existsSync(d)).toBe(false);
  });

  test('run newest first and remove every temporary directory when a provisioner fails', async () => {
    const dir = workdir();
    const record = { dirs: [] as string[], order: [] as string[] };
    const { result } = await build(dir, { builders: [nullBuilder()], provisioners: [sh(['exit 1'])] }, { runtimes: recordingRuntimes(record) });
    expect(result.exitCode).toBe(1);
    expect(record.order).toEqual(reverseOrder);
    for (const d of record.dirs) expect(fs.existsSync(d)).toBe(false);
  });

  test('run newest first, stop the running script and remove everything when the build is cancelled', async () => {
    const dir = workdir();
    const record = { dirs: [] as string[], order: [] as string[] };
    const controller = new AbortController();
    const running = build(dir, {
      builders: [nullBuilder()],
      provisioners: [sh([RECORD_GROUP, 'sleep 30', 'touch finished'])],
      ['post-processors']: [sh(['touch post-processed'])],
    }, { runtimes: recordingRuntimes(record), signal: controller.signal });
    await waitFor(() => Boolean(read(dir, 'pgid')?.endsWith('\n')));
    const started = Date.now();
    controller.abort(new Error('build cancelled by user'));
    const { result, output } = await running;

    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.exitCode).toBe(1);
    expect(result.outcomes[0].cancelled).toBe(true);
    expect(output).toContain('Cleanly cancelled builds after being interrupted.');
    await groupGone(Number(read(dir, 'pgid')));
    expect(read(dir, 'finished')).toBeUndefined();
    expect(read(dir, 'post-processed')).toBeUndefined();
    expect(record.order).toEqual(reverseOrder);
    for (const d of record.dirs) expect(fs.existsSync(d)).toBe(false);
  });

  test('are skipped with -on-error=abort, which leaves the temporary directories and says so', async () => {
    const dir = workdir();
    const record = { dirs: [] as string[], order: [] as string[] };
    const { result, lines } = await build(dir, { builders: [nullBuilder()], provisioners: [sh(['exit 1'])] }, { runtimes: recordingRuntimes(record), onError: 'abort' });
    const skipped = lines.filter((l) => l.includes('aborted: skipping cleanup of'));
    try {
      expect(result.exitCode).toBe(1);
      expect(record.order).toEqual([]);
      for (const d of record.dirs) expect(fs.existsSync(d)).toBe(true);
      // Newest first: shell-local's directory for inline scripts (its script already removed), then the builder's.
      expect(skipped).toEqual([
        expect.stringMatching(/^==> null: aborted: skipping cleanup of temporary directory \/.*\/kiln-shell-local-[^/]+$/),
        '==> null: aborted: skipping cleanup of after second',
        `==> null: aborted: skipping cleanup of temporary directory ${record.dirs[1]}`,
        '==> null: aborted: skipping cleanup of after first',
        `==> null: aborted: skipping cleanup of temporary directory ${record.dirs[0]}`,
      ]);
      expect(fs.readdirSync(skipped[0].replace(/^.* temporary directory /, ''))).toEqual([]);
      expect(lines).not.toContain('==> null: Provisioning step had errors: Running the cleanup provisioner, if present...');
    } finally {
      removeAbandoned(lines);
    }
  });
});

describe('provisioners', () => {
  test('run in template order, with only, except and an override that merges lists element by element', async () => {
    const dir = workdir();
    const log = (text: string) => `echo ${text} >> {{build_name}}.log`;
    const { result } = await build(dir, {
      builders: [nullBuilder('a'), nullBuilder('b')],
      provisioners: [
        sh([log('one')]),
        sh([log('two-only-a')], { only: ['a'] }),
        sh([log('three-except-a')], { except: ['a'] }),
        sh([log('four-x'), log('four-y'), log('four-z')], { override: { b: { inline: [log('four-b')] } } }),
      ],
    });
    expect(result.exitCode).toBe(0);
    expect(read(dir, 'a.log')).toBe('one\ntwo-only-a\nfour-x\nfour-y\nfour-z\n');
    expect(read(dir, 'b.log')).toBe('one\nthree-except-a\nfour-b\nfour-y\nfour-z\n');
  });

  test('pause_before turns timeout off, as in Packer', async () => {
    const dir = workdir();
    const { result, lines } = await build(dir, {
      builders: [nullBuilder()],
      provisioners: [sh(['sleep 0.5', 'touch done'], { pause_before: '50ms', timeout: '100ms' })],
    });
    expect(result.exitCode).toBe(0);
    expect(read(dir, 'done')).toBe('');
    expect(lines).toContain('==> null: Pausing 50ms before the next provisioner...');
    expect(lines.some((l) => l.includes('timeout'))).toBe(false);
  });

  test('timeout stops a long script with its whole process group, and the error comes from the provisioner', async () => {
    const dir = workdir();
    const started = Date.now();
    const { result, lines } = await build(dir, {
      builders: [nullBuilder()],
      provisioners: [sh([RECORD_GROUP, 'sleep 30', 'touch finished'], { timeout: '300ms' }), sh(['touch second'])],
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.exitCode).toBe(1);
    const error = result.outcomes[0].error!.message;
    expect(error).toMatch(/^Error executing script: \/.*\/kiln-shell-local-[^/]+\/inline-[0-9a-f]{8}\n\nPlease see output above for more information\.$/);
    expect(lines).toEqual(expect.arrayContaining([
      '==> null: Setting a 300ms timeout for the next provisioner...',
      '==> null: Cancelling provisioner after a timeout...',
      '==> null: Provisioning step had errors: Running the cleanup provisioner, if present...',
    ]));
    await groupGone(Number(read(dir, 'pgid')));
    expect(read(dir, 'finished')).toBeUndefined();
    expect(read(dir, 'second')).toBeUndefined();
    // The temporary inline script is gone with its directory.
    expect(fs.existsSync(path.dirname(error.split('\n')[0].replace('Error executing script: ', '')))).toBe(false);
  });

  test('max_retries tries again at once, prints Packer\'s retry lines and returns the first error', async () => {
    const dir = workdir();
    const { result, lines } = await build(dir, {
      builders: [nullBuilder()],
      // Each attempt exits with its own number: 1, then 2, then 3.
      provisioners: [sh(['echo try >> tries', 'exit $(wc -l < tries)'], { max_retries: 2 })],
    });
    const status = (n: number) => `Script exited with non-zero exit status: ${n}.Allowed exit codes are: [0]`;
    expect(read(dir, 'tries')).toBe('try\ntry\ntry\n');
    expect(result.outcomes[0].error!.message).toBe(status(1));
    expect(lines.filter((l) => l.startsWith('==> null: Provisioner failed') || l.includes('retry limit'))).toEqual([
      `==> null: Provisioner failed with "${status(1)}", retrying with 2 trie(s) left`,
      `==> null: Provisioner failed with "${status(2)}", retrying with 1 trie(s) left`,
      '==> null: retry limit reached.',
    ]);
    expect(lines).toContain(`Build 'null' errored after ${lines.find((l) => l.startsWith('Build '))!.replace(/^Build 'null' errored after (.*?): .*$/, '$1')}: ${status(1)}`);
  });

  test('the error-cleanup-provisioner runs when provisioning fails, and the build keeps the original error', async () => {
    const dir = workdir();
    const { result, lines } = await build(dir, {
      'builders': [nullBuilder()],
      'provisioners': [sh(['exit 3']), sh(['touch never'])],
      'error-cleanup-provisioner': sh(['echo cleaned > cleaned']),
    });
    expect(read(dir, 'cleaned')).toBe('cleaned\n');
    expect(read(dir, 'never')).toBeUndefined();
    expect(lines).toContain('==> null: Provisioning step had errors: Running the cleanup provisioner, if present...');
    expect(result.outcomes[0].error!.message).toBe('Script exited with non-zero exit status: 3.Allowed exit codes are: [0]');
  });

  test('a failing error-cleanup-provisioner gives Packer\'s combined message', async () => {
    const dir = workdir();
    const { result } = await build(dir, {
      'builders': [nullBuilder()],
      'provisioners': [sh(['exit 3'])],
      'error-cleanup-provisioner': sh(['exit 4']),
    });
    expect(result.outcomes[0].error!.message).toBe(
      'Cleanup failed: Script exited with non-zero exit status: 4.Allowed exit codes are: [0]. '
      + 'Original Provisioning error: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]');
  });

  test('the error-cleanup-provisioner does not run with -on-error=abort, but does with run-cleanup-provisioner', async () => {
    const template = {
      'builders': [nullBuilder()],
      'provisioners': [sh(['exit 3'])],
      'error-cleanup-provisioner': sh(['touch cleaned']),
    };
    const aborted = workdir();
    const { lines } = await build(aborted, template, { onError: 'abort' });
    removeAbandoned(lines);
    expect(read(aborted, 'cleaned')).toBeUndefined();
    const runCleanup = workdir();
    const after = await build(runCleanup, template, { onError: 'run-cleanup-provisioner' });
    // Then it aborts: the other cleanups are skipped, as with abort.
    expect(removeAbandoned(after.lines).length).toBeGreaterThan(0);
    expect(read(runCleanup, 'cleaned')).toBe('');
  });

  describe('a step after provisioning fails (as a commit or an export can)', () => {
    /** The null builder, failing once its provisioners have run, with the machine still there (a cleanup of its own). */
    const failingAfterProvisioning = (record: string[]): RuntimeLoader => ({
      ...RUNTIMES,
      builder: () => ({
        async run(env, config, provision) {
          env.cleanups.defer('the machine', () => {
            record.push('machine removed');
          });
          await RUNTIMES.builder('null').run(env, config, provision);
          throw new Error('Error committing container: no space left on device');
        },
      }),
    });
    const template = (cleanup: string[]) => ({
      'builders': [nullBuilder()],
      'provisioners': [sh(['touch provisioned'])],
      'error-cleanup-provisioner': sh(cleanup),
    });

    test('the error-cleanup-provisioner runs before the machine goes, and the build keeps the step\'s error', async () => {
      const dir = workdir();
      const record: string[] = [];
      const { result, lines } = await build(dir, template(['test -e provisioned && echo cleaned > cleaned']), { runtimes: failingAfterProvisioning(record) });
      expect(read(dir, 'cleaned')).toBe('cleaned\n');
      expect(lines).toContain('==> null: Provisioning step had errors: Running the cleanup provisioner, if present...');
      expect(record).toEqual(['machine removed']);
      expect(result.outcomes[0].error!.message).toBe('Error committing container: no space left on device');
    });

    test('its failure gives Packer\'s combined message', async () => {
      const { result } = await build(workdir(), template(['exit 4']), { runtimes: failingAfterProvisioning([]) });
      expect(result.outcomes[0].error!.message).toBe(
        'Cleanup failed: Script exited with non-zero exit status: 4.Allowed exit codes are: [0]. '
        + 'Original Provisioning error: Error committing container: no space left on device');
    });

    test('-on-error=run-cleanup-provisioner runs it, then leaves the rest; abort runs nothing and says so', async () => {
      const runCleanup = workdir();
      const record: string[] = [];
      const after = await build(runCleanup, template(['touch cleaned']), { runtimes: failingAfterProvisioning(record), onError: 'run-cleanup-provisioner' });
      removeAbandoned(after.lines);
      expect(read(runCleanup, 'cleaned')).toBe('');
      expect(record).toEqual([]);
      expect(after.lines).toContain('==> null: aborted: skipping cleanup of the machine');

      const aborted = workdir();
      const { lines } = await build(aborted, template(['touch cleaned']), { runtimes: failingAfterProvisioning(record), onError: 'abort' });
      removeAbandoned(lines);
      expect(read(aborted, 'cleaned')).toBeUndefined();
      expect(lines).not.toContain('==> null: Provisioning step had errors: Running the cleanup provisioner, if present...');
      expect(lines).toContain('==> null: aborted: skipping cleanup of error-cleanup provisioner (shell-local)');
      expect(record).toEqual([]);
    });

    test('a successful build does not run it', async () => {
      const dir = workdir();
      const { result, lines } = await build(dir, template(['touch cleaned']));
      expect(result.exitCode).toBe(0);
      expect(read(dir, 'cleaned')).toBeUndefined();
      expect(lines).not.toContain('==> null: Provisioning step had errors: Running the cleanup provisioner, if present...');
    });
  });
});

/**
 * A stand-in for `artifice` with Packer's behaviour (a new artifact from the
 * listed files, input kept by default, keep_input_artifact: false honoured),
 * so the keep rules can be tested before Kiln's own artifice runtime exists.
 */
const artifice: PostProcessorRuntime = {
  async postProcess(env, config, input) {
    if (input.files.length) env.ui.say(`Discarding files from artifact: ${input.files.join(', ')}`);
    const files = config.files as string[];
    env.ui.say(`Using these artifact files: ${files.join(', ')}`);
    const artifact: Artifact = {
      builderId: 'packer.post-processor.artifice',
      id: '',
      files,
      state: {},
      describe: () => `Created artifact from files: ${files.join(', ')}`,
      destroy: async () => {
        for (const f of files) await fsp.rm(path.resolve(env.interpolation.cwd!, f));
      },
    };
    return { artifact, keep: true, forceKeep: false };
  },
};
const withArtifice: RuntimeLoader = { ...RUNTIMES, postProcessor: (type) => (type === 'artifice' ? artifice : RUNTIMES.postProcessor(type)) };

describe('post-processor chains', () => {
  // The same template gave the same artifacts and left the same files with packer 1.6.6.
  const template = {
    'builders': ['solo', 'dropped', 'quirk', 'kept', 'failing'].map((name) => ({ type: 'file', name, target: `${name}.txt`, content: 'x' })),
    'post-processors': [
      { type: 'shell-local', only: ['solo'], inline: ['echo made > solo-made.txt'] },
      { type: 'artifice', only: ['dropped'], files: ['extra.txt'], keep_input_artifact: false },
      [{ type: 'shell-local', only: ['quirk'], inline: ['true'] }, { type: 'artifice', only: ['quirk'], files: ['extra.txt'], keep_input_artifact: false }],
      { type: 'artifice', only: ['kept'], files: ['extra.txt'], keep_input_artifact: false },
      { type: 'shell-local', only: ['kept'], inline: ['true'] },
      { type: 'shell-local', only: ['failing'], inline: ['exit 1'] },
    ],
  };
  let dir: string;
  let lines: string[];
  let exitCode: number;
  beforeAll(async () => {
    dir = workdir();
    fs.writeFileSync(path.join(dir, 'extra.txt'), 'extra');
    const out = await build(dir, template, { runtimes: withArtifice });
    lines = out.lines;
    exitCode = out.result.exitCode;
  });
  /** The artifact lines of one build in the closing summary. */
  const artifacts = (name: string) => lines
    .slice(lines.indexOf('==> Builds finished. The artifacts of successful builds are:'))
    .filter((l) => l.startsWith(`--> ${name}: `))
    .map((l) => l.slice(`--> ${name}: `.length));

  test('shell-local passes its input on with keep forced, so the file stays and is listed twice', () => {
    expect(artifacts('solo')).toEqual(['Stored file: solo.txt', 'Stored file: solo.txt']);
    expect(read(dir, 'solo.txt')).toBe('x');
    expect(read(dir, 'solo-made.txt')).toBe('made\n');
  });

  test('keep_input_artifact: false on the first post-processor of the only chain destroys the builder\'s file', () => {
    expect(artifacts('dropped')).toEqual(['Created artifact from files: extra.txt']);
    expect(read(dir, 'dropped.txt')).toBeUndefined();
  });

  test('a later post-processor that does not keep its input destroys the file that shell-local passed on, which is still listed first', () => {
    expect(artifacts('quirk')).toEqual(['Stored file: quirk.txt', 'Created artifact from files: extra.txt']);
    expect(read(dir, 'quirk.txt')).toBeUndefined();
  });

  test('any chain whose first post-processor keeps its input keeps the builder\'s file', () => {
    expect(artifacts('kept')).toEqual(['Stored file: kept.txt', 'Created artifact from files: extra.txt', 'Stored file: kept.txt']);
    expect(read(dir, 'kept.txt')).toBe('x');
  });

  test('a failed post-processor fails the build, lists none of its artifacts and destroys the file no chain kept', () => {
    expect(exitCode).toBe(1);
    expect(artifacts('failing')).toEqual([]);
    expect(lines).toContain('--> failing: 1 error(s) occurred:');
    expect(lines).toContain('* Post-processor failed: Script exited with non-zero exit status: 1.Allowed exit codes are: [0]');
    expect(lines.find((l) => l.startsWith('Build \'failing\' errored after '))).toMatch(/: 1 error\(s\) occurred:$/);
    expect(read(dir, 'failing.txt')).toBeUndefined();
  });
});
