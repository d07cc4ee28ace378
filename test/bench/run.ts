import * as path from 'path';
import { Benchmark, report, runBenchmark } from './harness';

/**
 * `npm run bench [name...]`: every benchmark, or those whose names contain one of the arguments.
 * Needs the set-up of scripts/setup.sh (packer, compiled lib/).
 */

const root = path.resolve(__dirname, '..', '..');
const kiln = [process.execPath, path.join(root, 'bin', 'kiln')];
const example = path.join(root, 'examples', 'hello.json');

const benchmarks: Benchmark[] = [
  {
    name: 'validate examples/hello.json',
    kiln: { argv: [...kiln, 'validate', '-var', 'tag=1.0', example] },
    packer: { argv: ['packer', 'validate', '-var', 'tag=1.0', example] },
    runs: 15,
    targetRatio: 1.0,
  },
];

const filters = process.argv.slice(2);
const chosen = benchmarks.filter((b) => !filters.length || filters.some((f) => b.name.includes(f)));
const results = [];
for (const b of chosen) {
  process.stderr.write(`running: ${b.name} (${b.runs} runs each, alternating)\n`);
  results.push(runBenchmark(b));
}
console.log(report(results));
