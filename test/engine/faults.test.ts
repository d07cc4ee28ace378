import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type Docker from 'dockerode';
import {
  BASE_IMAGE, Finished, KilnRun, PrivateEngine, ROOT, Sandbox, containersWith, danglingImages, docker, hasStackTrace,
  finish, imagesWith, journalOf, journalsLeft, kiln, makePayload, partialFiles, removeSandboxes, sandbox, startKiln, until,
} from './faults-harness';

/*
 * Faults, with the real engine, the compiled CLI (`node bin/kiln`) and the
 * real Docker engine: Ctrl-C at each step of a docker build, a build killed
 * outright and `kiln cleanup` after it, and the Docker engine dying or missing.
 * After each, nothing Kiln made may be left: no container of the run, no
 * temporary directory, no journal, no half-written file, no image.
 *
 * The shared engine is only looked at through the labels of the run under test
 * (`kiln.run`, `kiln.pid`) and a label of the test's own on every image it
 * could commit (`kiln.faulttest=<uuid>`). Tests that kill an engine or run
 * `kiln cleanup` (which looks at every Kiln container of an engine) do so on a
 * private dockerd. Compile first (`npx tsc --build`).
 */

jest.setTimeout(90_000);

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'lib/cli/main.js'))) {
    throw new Error('lib/ is not compiled: run "npx tsc --build" first (scripts/test.sh does)');
  }
});
afterAll(() => removeSandboxes());

/** A docker build whose commits carry `kiln.faulttest=<mark>`, so any image it could leave is found by label. */
function dockerTemplate(mark: string, builder: Record<string, unknown>, provisioners: object[], postProcessors: object[] = []): object {
  return {
    'builders': [{ type: 'docker', image: BASE_IMAGE, pull: false, commit: true, changes: [`LABEL kiln.faulttest=${mark}`], ...builder }],
    provisioners,
    'post-processors': postProcessors,
  };
}

/** Writes `mb` MB into the container, so that commit, export and save take a moment. */
const bigLayer = (mb: number) => ({ type: 'shell', inline: [`dd if=/dev/zero of=/kiln-fault-big bs=1M count=${mb} 2>/dev/null`] });

interface Interrupted {
  readonly box: Sandbox;
  readonly run: KilnRun;
  readonly runId: string;
  readonly result: Finished;
}

/**
 * Builds `template` with `kiln build`, sends SIGINT once `when` resolves, and
 * checks everything a cancelled run must leave behind: nothing.
 */
async function interruptBuild(
  template: object,
  mark: string,
  when: (run: KilnRun, box: Sandbox) => Promise<void>,
  setup?: (box: Sandbox) => void,
): Promise<Interrupted> {
  const box = sandbox(template);
  setup?.(box);
  const danglingBefore = await danglingImages(docker);
  const run = startKiln(box, ['build', 'template.json']);
  let runId = '';
  let result: Finished;
  try {
    runId = (await journalOf(box)).runId;
    await when(run, box);
    run.child.kill('SIGINT');
    result = await finish(run);
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
  const output = `${result.stdout}\n${result.stderr}`;

  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  expect(result.stdout).toContain('Interrupt received. Cancelling builds and cleaning up...');
  expect(result.stdout).toContain('Cleanly cancelled builds after being interrupted.');
  expect(output).not.toMatch(/cleaning up .* failed/);
  expect(hasStackTrace(output)).toBe(false);
  // No container of the run, however it is looked up.
  expect(await containersWith(docker, `kiln.run=${runId}`)).toEqual([]);
  expect(await containersWith(docker, `kiln.pid=${run.pid}`, `kiln.host=${os.hostname()}`)).toEqual([]);
  // No temporary directory, no journal, no partial file.
  expect(fs.readdirSync(box.tmp)).toEqual([]);
  expect(journalsLeft(box)).toEqual([]);
  expect(partialFiles(box.dir)).toEqual([]);
  // No image the run committed: neither the raw commit (labelled with the run) nor the final one.
  expect(await imagesWith(docker, `kiln.run=${runId}`)).toEqual([]);
  expect(await imagesWith(docker, `kiln.faulttest=${mark}`)).toEqual([]);
  // Of the images that became dangling meanwhile (other tests share the engine), none is ours.
  for (const id of await danglingImages(docker)) {
    if (danglingBefore.has(id)) continue;
    const labels = (await docker.getImage(id).inspect().catch(() => undefined))?.Config?.Labels ?? {};
    expect(labels['kiln.faulttest']).not.toBe(mark);
    expect(labels['kiln.run']).not.toBe(runId);
  }
  return { box, run, runId, result: result! };
}

/** Resolves once a `*.kiln-partial*` file in `dir` holds at least `bytes`: the artifact is half written. */
async function partialGrowing(dir: string, bytes: number): Promise<string> {
  let found = '';
  await until(() => {
    found = partialFiles(dir).find((f) => {
      try {
        return fs.statSync(f).size >= bytes;
      } catch {
        return false;
      }
    }) ?? '';
    return Boolean(found);
  }, 60_000, `a partial file of ${bytes} bytes in ${dir}`);
  return found;
}

describe('Ctrl-C (SIGINT) during a docker build leaves nothing behind', () => {
  test('while the container starts', async () => {
    const mark = randomUUID();
    const template = dockerTemplate(mark, {}, [{ type: 'shell', inline: ['echo never-here'] }]);
    const { result } = await interruptBuild(template, mark, async (run) => {
      await run.waitForLine(/Run command: docker run/);
      // The container exists (created) and its start is under way: interrupt now.
      await until(async () => (await containersWith(docker, `kiln.pid=${run.pid}`)).length > 0, 30_000, 'the container');
    });
    // The start was cut short: its container id (printed once it has started) never came.
    expect(result.stdout).not.toContain('Container ID:');
    expect(result.stdout).not.toContain('never-here');
  });

  test('while a shell provisioner runs', async () => {
    const mark = randomUUID();
    const template = dockerTemplate(mark, {}, [{ type: 'shell', inline: ['echo kiln-fault-sleeping', 'sleep 120'] }]);
    const started = Date.now();
    const { result } = await interruptBuild(template, mark, async (run) => {
      await run.waitForLine(/kiln-fault-sleeping/);
    });
    // Cancelled at once, not after the sleep.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.stdout).not.toContain('Committing the container');
  });

  test('during a large file-provisioner upload', async () => {
    const mark = randomUUID();
    const template = dockerTemplate(mark, {}, [{ type: 'file', source: 'payload/', destination: '/tmp/payload' }]);
    const { result } = await interruptBuild(template, mark, async (run) => {
      await run.waitForLine(/Uploading payload\/ => \/tmp\/payload/);
      await new Promise((r) => setTimeout(r, 150));
    }, (box) => makePayload(path.join(box.dir, 'payload'), 300, 1024 * 1024));
    // It was the upload that was interrupted: the build never got to the commit.
    expect(result.stdout).not.toContain('Committing the container');
  });

  test('during the commit', async () => {
    const mark = randomUUID();
    const template = dockerTemplate(mark, {}, [bigLayer(256)]);
    const { result } = await interruptBuild(template, mark, async (run) => {
      await run.waitForLine(/==> docker: Committing the container/);
    });
    // The commit had not finished (its image id is printed once it has).
    expect(result.stdout).not.toContain('Image ID:');
  });

  test('during a docker-save post-processor: no half-written tar, no image', async () => {
    const mark = randomUUID();
    const template = dockerTemplate(mark, {}, [bigLayer(256)], [{ type: 'docker-save', path: 'out/image.tar' }]);
    const { box } = await interruptBuild(template, mark, async (run, b) => {
      await run.waitForLine(/Saving image: sha256:/);
      await partialGrowing(path.join(b.dir, 'out'), 1024 * 1024);
    }, (b) => fs.mkdirSync(path.join(b.dir, 'out')));
    expect(fs.existsSync(path.join(box.dir, 'out/image.tar'))).toBe(false);
    expect(fs.readdirSync(path.join(box.dir, 'out'))).toEqual([]);
  });

  test('during export_path: no half-written tar', async () => {
    const mark = randomUUID();
    const template = dockerTemplate(mark, { commit: false, export_path: 'out/container.tar' }, [bigLayer(256)]);
    const { box } = await interruptBuild(template, mark, async (run, b) => {
      await run.waitForLine(/Exporting the container/);
      await partialGrowing(path.join(b.dir, 'out'), 1024 * 1024);
    });
    expect(fs.existsSync(path.join(box.dir, 'out/container.tar'))).toBe(false);
    expect(fs.readdirSync(path.join(box.dir, 'out'))).toEqual([]);
  });
});

describe('other ways a build loses its user leave nothing behind either', () => {
  test.each([['SIGTERM', 'Termination'], ['SIGHUP', 'Hangup']] as const)('%s while a shell provisioner runs', async (sig, word) => {
    const mark = randomUUID();
    const box = sandbox(dockerTemplate(mark, {}, [{ type: 'shell', inline: ['echo kiln-fault-sleeping', 'sleep 120'] }]));
    const run = startKiln(box, ['build', 'template.json']);
    const { runId } = await journalOf(box);
    await run.waitForLine(/kiln-fault-sleeping/);
    run.child.kill(sig);
    const result = await finish(run);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${word} received. Cancelling builds and cleaning up...`);
    expect(result.stdout).toContain('Cleanly cancelled builds after being interrupted.');
    expect(await containersWith(docker, `kiln.run=${runId}`)).toEqual([]);
    expect(fs.readdirSync(box.tmp)).toEqual([]);
    expect(journalsLeft(box)).toEqual([]);
  });

  test('its output closed (`kiln build | head`): cancels and cleans up instead of dying on EPIPE', async () => {
    const mark = randomUUID();
    const ticking = { type: 'shell', inline: ['echo kiln-fault-ticking', 'i=0; while [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done'] };
    const box = sandbox(dockerTemplate(mark, {}, [ticking]));
    const run = startKiln(box, ['build', 'template.json']);
    const { runId } = await journalOf(box);
    await run.waitForLine(/kiln-fault-ticking/);
    // The reader goes away: kiln's next line fails with EPIPE.
    run.child.stdout!.destroy();
    const result = await finish(run, 30_000);
    expect(result.code).toBe(1);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(await containersWith(docker, `kiln.run=${runId}`)).toEqual([]);
    expect(await imagesWith(docker, `kiln.faulttest=${mark}`)).toEqual([]);
    expect(fs.readdirSync(box.tmp)).toEqual([]);
    expect(journalsLeft(box)).toEqual([]);
  });
});

describe('a build killed outright (SIGKILL), then kiln cleanup (on a private engine)', () => {
  let engine: PrivateEngine;
  beforeAll(async () => {
    engine = await PrivateEngine.start();
    await engine.copyImage(BASE_IMAGE);
  });
  afterAll(async () => {
    await engine?.destroy();
    expect(engine?.leftovers()).toEqual([]);
  });

  const ofRun = async (client: Docker, runId: string) => containersWith(client, `kiln.run=${runId}`);

  test('cleanup removes the killed run\'s container, temp dirs and partial file, says so, and leaves a running build alone', async () => {
    // A is killed in the middle of a provisioner (a file download, so that a partial file exists too)
    // while B, sharing A's state directory, keeps building.
    const env = { DOCKER_HOST: engine.host };
    const box = sandbox({
      builders: [{ type: 'docker', image: BASE_IMAGE, pull: false, discard: true }],
      provisioners: [{ type: 'shell', inline: ['echo kiln-fault-b-running', 'sleep 120'] }],
    });
    const b = startKiln(box, ['build', 'template.json'], env);
    const aDir = path.join(box.dir, 'a');
    fs.mkdirSync(aDir);
    fs.writeFileSync(path.join(aDir, 'template.json'), JSON.stringify({
      builders: [{ type: 'docker', image: BASE_IMAGE, pull: false, discard: true }],
      provisioners: [bigLayer(256), { type: 'file', direction: 'download', source: '/kiln-fault-big', destination: 'out/big.bin' }],
    }));
    let a: KilnRun | undefined;
    try {
      await b.waitForLine(/kiln-fault-b-running/);
      const bJournal = await journalOf(box);
      a = startKiln({ ...box, dir: aDir }, ['build', 'template.json'], env);
      await a.waitForLine(/Downloading \/kiln-fault-big => out\/big\.bin/);
      const partial = await partialGrowing(path.join(aDir, 'out'), 1024 * 1024);
      const runs = path.join(box.state, 'runs');
      const aFile = fs.readdirSync(runs).map((n) => path.join(runs, n)).find((f) => f !== bJournal.file)!;
      const aJournal = JSON.parse(fs.readFileSync(aFile, 'utf8')) as { runId: string; items: { kind: string; path: string }[] };
      a.child.kill('SIGKILL');
      await finish(a);

      // A could not clean up: its container, temporary directories and partial file are all still there.
      const aContainers = await ofRun(engine.client, aJournal.runId);
      expect(aContainers).toHaveLength(1);
      expect(aContainers[0].Labels['kiln.pid']).toBe(String(a.pid));
      const aDirs = aJournal.items.filter((i) => i.kind === 'dir').map((i) => i.path);
      expect(aDirs.length).toBeGreaterThan(0);
      expect(aJournal.items).toContainEqual({ kind: 'file', path: partial });
      for (const item of aJournal.items) expect(fs.existsSync(item.path)).toBe(true);
      const bContainers = await ofRun(engine.client, bJournal.runId);
      expect(bContainers).toHaveLength(1);

      const cleanup = await kiln(box, ['cleanup'], env);
      expect(cleanup.code).toBe(0);
      expect(cleanup.stderr).toBe('');
      const said = cleanup.stdout.trim().split('\n');
      expect(said).toContain(`removed container ${aContainers[0].Id.slice(0, 12)} (run ${aJournal.runId}, build docker)`);
      for (const item of aJournal.items) {
        expect(said).toContain(`removed ${item.kind === 'dir' ? 'temporary directory' : 'partial file'} ${item.path} (run ${aJournal.runId})`);
        expect(fs.existsSync(item.path)).toBe(false);
      }
      expect(said).toHaveLength(1 + aJournal.items.length);
      expect(cleanup.stdout).not.toContain(bJournal.runId);
      expect(await ofRun(engine.client, aJournal.runId)).toEqual([]);
      expect(fs.readdirSync(path.join(aDir, 'out'))).toEqual([]);
      expect(fs.existsSync(aFile)).toBe(false);

      // B, still building, was not touched: its container runs, its journal and directories are there.
      const bNow = await ofRun(engine.client, bJournal.runId);
      expect(bNow.map((c) => [c.Id, c.State])).toEqual([[bContainers[0].Id, 'running']]);
      expect(fs.existsSync(bJournal.file)).toBe(true);
      for (const item of bJournal.items) expect(fs.existsSync(item.path)).toBe(true);

      // Nothing left to clean, even seen from another state directory (B's process is alive on this host).
      expect((await kiln(box, ['cleanup'], env)).stdout).toBe('nothing to clean up\n');
      const elsewhere = sandbox();
      expect((await kiln(elsewhere, ['cleanup'], env)).stdout).toBe('nothing to clean up\n');
      expect((await ofRun(engine.client, bJournal.runId)).map((c) => c.State)).toEqual(['running']);

      // B still cancels cleanly.
      b.child.kill('SIGINT');
      const bDone = await finish(b);
      expect(bDone.code).toBe(1);
      expect(bDone.stdout).toContain('Cleanly cancelled builds after being interrupted.');
      expect(await ofRun(engine.client, bJournal.runId)).toEqual([]);
      expect(journalsLeft(box)).toEqual([]);
      expect(fs.readdirSync(box.tmp)).toEqual([]);
    } finally {
      a?.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  });
});

describe('the Docker engine failing', () => {
  /** The lines of the output that report a problem, in order. */
  const sayLines = (r: Finished) => r.stdout.split('\n');

  test('stopped mid-build: exit 1, the cause on one line first, no stack trace, nothing left', async () => {
    const engine = await PrivateEngine.start();
    try {
      await engine.copyImage(BASE_IMAGE);
      const box = sandbox({
        builders: [{ type: 'docker', image: BASE_IMAGE, pull: false, commit: true }],
        provisioners: [{ type: 'shell', inline: ['echo kiln-fault-engine-up', 'sleep 120'] }],
      });
      const run = startKiln(box, ['build', 'template.json'], { DOCKER_HOST: engine.host });
      try {
        const marker = await run.waitForLine(/kiln-fault-engine-up/);
        engine.kill();
        const started = Date.now();
        const result = await finish(run, 30_000);
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(result.code).toBe(1);
        const lines = sayLines(result);
        // The first thing said after the engine went away is why, on one line.
        const next = lines[lines.indexOf(marker) + 1];
        expect(next).toMatch(new RegExp(`^==> docker: (${[
          `the Docker engine is not answering at ${engine.socket} \\(connection refused\\): start dockerd, or point DOCKER_HOST at a running engine`,
          `the Docker socket ${engine.socket} does not exist: is the Docker engine installed and running\\? \\(or set DOCKER_HOST\\)`,
        ].join('|')})$`));
        const cause = next.replace(/^==> docker: /, '');
        expect(result.stdout).toContain(`--> docker: ${cause}\n`);
        expect(result.stdout).toMatch(new RegExp(`Build 'docker' errored after [^:]+: ${cause.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
        expect(hasStackTrace(result.stdout + result.stderr)).toBe(false);
        expect(fs.readdirSync(box.tmp)).toEqual([]);
        expect(journalsLeft(box)).toEqual([]);
      } finally {
        run.child.kill('SIGKILL');
      }
    } finally {
      await engine.destroy();
    }
    // The private engine is gone without a trace: no process, mount, cgroup or file of it.
    expect(engine.leftovers()).toEqual([]);
  });

  test('unreachable from the start (DOCKER_HOST names a missing socket): exit 1, one-line cause, no stack trace', async () => {
    const box = sandbox({ builders: [{ type: 'docker', image: BASE_IMAGE, pull: false, commit: true }], provisioners: [{ type: 'shell', inline: ['true'] }] });
    const missing = path.join(box.dir, 'no-such-dir', 'docker.sock');
    const result = await kiln(box, ['build', 'template.json'], { DOCKER_HOST: `unix://${missing}` });
    expect(result.code).toBe(1);
    const first = sayLines(result).find((l) => /Error|error/.test(l));
    expect(first).toBe(`==> docker: Error running container: the Docker socket ${missing} does not exist: is the Docker engine installed and running? (or set DOCKER_HOST)`);
    expect(hasStackTrace(result.stdout + result.stderr)).toBe(false);
    expect(fs.readdirSync(box.tmp)).toEqual([]);
    expect(journalsLeft(box)).toEqual([]);
  });

  test('base image missing: exit 1, one-line cause, no stack trace, no container', async () => {
    const box = sandbox({ builders: [{ type: 'docker', image: 'kiln-test/does-not-exist:1', pull: false, commit: true }], provisioners: [{ type: 'shell', inline: ['true'] }] });
    const run = startKiln(box, ['build', 'template.json']);
    const result = await finish(run);
    expect(result.code).toBe(1);
    const first = sayLines(result).find((l) => /Error|error/.test(l));
    expect(first).toBe('==> docker: Error running container: the image kiln-test/does-not-exist:1 does not exist in the Docker engine: pull, build or import it first');
    expect(hasStackTrace(result.stdout + result.stderr)).toBe(false);
    expect(await containersWith(docker, `kiln.pid=${run.pid}`, `kiln.host=${os.hostname()}`)).toEqual([]);
    expect(fs.readdirSync(box.tmp)).toEqual([]);
    expect(journalsLeft(box)).toEqual([]);
  });
});
