import { spawnSync } from 'child_process';

/**
 * Side-by-side benchmarks: the same work done by Kiln and by Packer in the same
 * run, alternating so that drift on the machine hits both alike; medians and ratios.
 */

export interface Command {
  readonly argv: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Runs before each timed run (not timed), e.g. to remove a previous output. */
  readonly before?: () => void;
}

export interface Benchmark {
  readonly name: string;
  readonly kiln: Command;
  readonly packer: Command;
  readonly runs: number;
  /** What the ratio kiln/packer should be at most; undefined for informative ones. */
  readonly targetRatio?: number;
  readonly setup?: () => void;
  readonly teardown?: () => void;
}

export interface Result {
  readonly name: string;
  readonly kilnMs: number;
  readonly packerMs: number;
  readonly ratio: number;
  readonly targetRatio?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function timeOnce(cmd: Command): number {
  cmd.before?.();
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd.argv[0], cmd.argv.slice(1), {
    cwd: cmd.cwd,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', ...cmd.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) {
    throw new Error(`${cmd.argv.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return ms;
}

export function runBenchmark(b: Benchmark): Result {
  b.setup?.();
  try {
    // One untimed warm-up each: file caches, docker image layers.
    timeOnce(b.kiln);
    timeOnce(b.packer);
    const kiln: number[] = [];
    const packer: number[] = [];
    for (let i = 0; i < b.runs; i++) {
      if (i % 2 === 0) {
        kiln.push(timeOnce(b.kiln));
        packer.push(timeOnce(b.packer));
      } else {
        packer.push(timeOnce(b.packer));
        kiln.push(timeOnce(b.kiln));
      }
    }
    const kilnMs = median(kiln);
    const packerMs = median(packer);
    return { name: b.name, kilnMs, packerMs, ratio: kilnMs / packerMs, targetRatio: b.targetRatio };
  } finally {
    b.teardown?.();
  }
}

export function report(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.name,
    `${r.kilnMs.toFixed(1)} ms`,
    `${r.packerMs.toFixed(1)} ms`,
    `${r.ratio.toFixed(2)}x`,
    r.targetRatio === undefined ? '-' : `<= ${r.targetRatio}x ${r.ratio <= r.targetRatio ? 'met' : 'NOT met'}`,
  ]);
  const head = ['benchmark', 'kiln (median)', 'packer (median)', 'kiln/packer', 'target'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}
