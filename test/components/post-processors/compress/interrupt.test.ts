import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { kiln, sandbox, start, waitFor } from '../../../cli/kiln';

/*
 * `kiln build` interrupted or failing while compress writes: the process
 * exits non-zero, nothing is left at the final path and no temporary file is
 * left in the output directory or elsewhere in the working directory.
 */

/**
 * `mib` MiB of base64 text: compressible, so DEFLATE has to search it for
 * matches (seconds for a few hundred MiB), unlike random bytes, which Kiln
 * stores at memory speed.
 */
function writeSlowToCompress(file: string, mib: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) fs.writeSync(fd, randomBytes(786_432).toString('base64'));
  } finally {
    fs.closeSync(fd);
  }
}

/** Every path under `dir`, relative. */
function everything(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, e.name);
      out.push(rel);
      if (e.isDirectory()) walk(rel);
    }
  };
  walk('');
  return out.sort();
}

const template = (output: string, files: string[]) => ({
  'builders': [{ type: 'null', communicator: 'none' }],
  'post-processors': [[{ type: 'artifice', files }, { type: 'compress', output }]],
});

test('SIGINT while compressing: exit code 1, no archive, no temporary file', async () => {
  const box = sandbox(template('out/big.tar.gz', ['big.txt']));
  writeSlowToCompress(path.join(box.dir, 'big.txt'), 300);
  const before = everything(box.dir);

  const { child, done } = start(box, ['build', '-color=false', 'template.json']);
  const out = path.join(box.dir, 'out');
  // Interrupt once the partial archive has data in it: compress is half-way.
  await waitFor(() => fs.existsSync(out) && fs.readdirSync(out).some((f) => f.includes('.kiln-partial-') && fs.statSync(path.join(out, f)).size > 1 << 20), 60_000);
  child.kill('SIGINT');
  const r = await done;

  expect(r.code).not.toBe(0);
  expect(r.stdout).toContain('Tarring out/big.tar.gz with pgzip');
  expect(r.stdout).not.toContain('Archive out/big.tar.gz completed');
  expect(fs.existsSync(path.join(out, 'big.tar.gz'))).toBe(false);
  expect(fs.readdirSync(out)).toEqual([]);
  expect(everything(box.dir)).toEqual([...before, 'out'].sort());
  expect(everything(box.tmp)).toEqual([]);
}, 120_000);

test('the output directory is under a regular file: Packer\'s error, nothing written', async () => {
  const box = sandbox(template('blocker/sub/x.tar.gz', ['a.txt']));
  fs.writeFileSync(path.join(box.dir, 'a.txt'), 'a');
  fs.writeFileSync(path.join(box.dir, 'blocker'), 'a file, not a directory');
  const before = everything(box.dir);

  const r = await kiln(box, ['build', '-color=false', 'template.json']);

  expect(r.code).toBe(1);
  expect(r.stdout).toContain('* Post-processor failed: Unable to create dir for archive blocker/sub/x.tar.gz: mkdir blocker: not a directory');
  expect(everything(box.dir)).toEqual(before);
});

test('a failure half-way through the archive (a directory after a large file) removes the partial archive', async () => {
  const box = sandbox(template('out/two.tar', ['data.bin', 'adir']));
  fs.writeFileSync(path.join(box.dir, 'data.bin'), randomBytes(8 << 20));
  fs.mkdirSync(path.join(box.dir, 'adir'));
  fs.mkdirSync(path.join(box.dir, 'out'));
  fs.writeFileSync(path.join(box.dir, 'out', 'two.tar'), 'an older archive stays as it was');
  const before = everything(box.dir);

  const r = await kiln(box, ['build', '-color=false', 'template.json']);

  expect(r.code).toBe(1);
  expect(r.stdout).toContain('* Post-processor failed: Error creating tar: Failed to copy adir data to archive: read adir: is a directory');
  expect(everything(box.dir)).toEqual(before);
  expect(fs.readFileSync(path.join(box.dir, 'out', 'two.tar'), 'utf8')).toBe('an older archive stays as it was');
});
