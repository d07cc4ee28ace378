import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dockerBenchmarks, dockerFigures, uploadBenchmark } from './docker';
import { Benchmark, report, runBenchmark } from './harness';
import { sshBenchmarks } from './ssh';
import { synthThousandTemplates } from './synth';

/**
 * `npm run bench [name...]`: every benchmark, or those whose names contain one of the arguments.
 * Needs the set-up of scripts/setup.sh (packer, compiled lib/).
 */

const root = path.resolve(__dirname, '..', '..');
const kiln = [process.execPath, path.join(root, 'bin', 'kiln')];
const example = path.join(root, 'examples', 'hello.json');

/**
 * A ~1 GiB "exported image": 256 runs of 1 MiB from /dev/urandom (as
 * incompressible as compressed files and encrypted data in an image) and
 * 3 MiB of zeros (empty space), made with dd. Both sides archive it with
 * artifice -> compress into out/image.tar.gz, the input kept.
 */
function compressImageBenchmark(): Benchmark {
  const dirs = { kiln: '', packer: '' };
  const template = {
    'builders': [{ type: 'null', communicator: 'none' }],
    'post-processors': [[
      { type: 'artifice', files: ['image.tar'], keep_input_artifact: true },
      { type: 'compress', output: 'out/image.tar.gz', keep_input_artifact: true },
    ]],
  };
  const command = (side: 'kiln' | 'packer', argv: string[]) => ({
    argv: [...argv, 'build', '-color=false', 'template.json'],
    get cwd() { return dirs[side]; },
    before: () => fs.rmSync(path.join(dirs[side], 'out'), { recursive: true, force: true }),
  });
  return {
    name: 'compress a 1 GB exported image to .tar.gz',
    kiln: command('kiln', kiln),
    packer: command('packer', ['packer']),
    runs: 5,
    targetRatio: 1.0,
    measureMemory: true,
    kilnPeakTargetMiB: 200,
    note: 'few runs, each moves 1 GiB; the image is 1 MiB of /dev/urandom then 3 MiB of zeros, 256 times',
    setup: () => {
      const top = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-compress-'));
      dirs.kiln = path.join(top, 'kiln');
      dirs.packer = path.join(top, 'packer');
      fs.mkdirSync(dirs.kiln);
      fs.mkdirSync(dirs.packer);
      const image = path.join(dirs.kiln, 'image.tar');
      const script = `for i in $(seq 256); do dd if=/dev/urandom bs=1M count=1 status=none; dd if=/dev/zero bs=1M count=3 status=none; done > '${image}'`;
      execFileSync('/bin/sh', ['-c', script]);
      fs.linkSync(image, path.join(dirs.packer, 'image.tar'));
      for (const d of Object.values(dirs)) fs.writeFileSync(path.join(d, 'template.json'), JSON.stringify(template));
    },
    teardown: () => fs.rmSync(path.dirname(dirs.kiln), { recursive: true, force: true }),
  };
}

const benchmarks: Benchmark[] = [
  {
    name: 'validate examples/hello.json',
    kiln: { argv: [...kiln, 'validate', '-var', 'tag=1.0', example] },
    packer: { argv: ['packer', 'validate', '-var', 'tag=1.0', example] },
    runs: 15,
    targetRatio: 1.0,
  },
  compressImageBenchmark(),
  ...dockerBenchmarks(),
  ...sshBenchmarks,
];

const filters = process.argv.slice(2);
const chosen = benchmarks.filter((b) => !filters.length || filters.some((f) => b.name.includes(f)));
const results = [];
for (const b of chosen) {
  process.stderr.write(`running: ${b.name} (${b.runs} runs each, alternating)\n`);
  results.push(runBenchmark(b));
}
// Benchmarks timed on one step of the output rather than the whole run (see docker.ts).
const steps = [uploadBenchmark()].filter((b) => !filters.length || filters.some((f) => b.name.includes(f)));
const stepResults = steps.map((b) => {
  process.stderr.write(`running: ${b.name} (${b.runs} runs each, alternating)\n`);
  return b.run();
});
console.log(report([...results, ...stepResults]));
const figures = dockerFigures(results, stepResults);
if (figures) console.log(`\n${figures}`);
// Kiln alone: Packer has no synth.
if (!filters.length || filters.some((f) => 'synth'.includes(f) || f.includes('synth'))) {
  const synth = synthThousandTemplates();
  console.log(`\n${synth.name}: ${synth.medianMs.toFixed(0)} ms (target < ${synth.targetMs} ms: ${synth.medianMs < synth.targetMs ? 'met' : 'NOT met'})`);
}
