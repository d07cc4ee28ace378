import { spawnSync } from 'child_process';
import * as fs from 'fs';

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
  /**
   * Also measure each side's peak memory (maximum resident set size of the
   * process and the children it waited for, e.g. Packer's plugin processes),
   * with GNU time; the median is reported.
   */
  readonly measureMemory?: boolean;
  /** What Kiln's peak memory should be at most, in MiB; undefined when not a target. */
  readonly kilnPeakTargetMiB?: number;
  /** A note printed under the table, e.g. why this one has few runs. */
  readonly note?: string;
}

export interface Result {
  readonly name: string;
  readonly kilnMs: number;
  readonly packerMs: number;
  readonly ratio: number;
  readonly targetRatio?: number;
  /** Median peak resident memory in KiB, when measured. */
  readonly kilnPeakKiB?: number;
  readonly packerPeakKiB?: number;
  readonly kilnPeakTargetMiB?: number;
  readonly runs?: number;
  readonly note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** GNU time, which reports the peak RSS of what it runs (children it waited for included). */
const GNU_TIME = '/usr/bin/time';
const PEAK_MARK = 'bench-peak-rss-kib=';

interface Sample {
  readonly ms: number;
  readonly peakKiB?: number;
}

function timeOnce(cmd: Command, measureMemory = false): Sample {
  cmd.before?.();
  const argv = measureMemory ? [GNU_TIME, '-f', `${PEAK_MARK}%M`, ...cmd.argv] : [...cmd.argv];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: cmd.cwd,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', ...cmd.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) {
    throw new Error(`${cmd.argv.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  if (!measureMemory) return { ms };
  const mark = String(r.stderr).split('\n').reverse().find((l) => l.startsWith(PEAK_MARK));
  if (!mark) throw new Error(`${GNU_TIME} printed no peak memory for ${cmd.argv.join(' ')}:\n${r.stderr}`);
  return { ms, peakKiB: Number(mark.slice(PEAK_MARK.length)) };
}

export function runBenchmark(b: Benchmark): Result {
  if (b.measureMemory && !fs.existsSync(GNU_TIME)) throw new Error(`${b.name}: measuring memory needs GNU time at ${GNU_TIME} (Debian package "time")`);
  b.setup?.();
  try {
    // One untimed warm-up each: file caches, docker image layers.
    timeOnce(b.kiln);
    timeOnce(b.packer);
    const kiln: Sample[] = [];
    const packer: Sample[] = [];
    for (let i = 0; i < b.runs; i++) {
      if (i % 2 === 0) {
        kiln.push(timeOnce(b.kiln, b.measureMemory));
        packer.push(timeOnce(b.packer, b.measureMemory));
      } else {
        packer.push(timeOnce(b.packer, b.measureMemory));
        kiln.push(timeOnce(b.kiln, b.measureMemory));
      }
    }
    const kilnMs = median(kiln.map((s) => s.ms));
    const packerMs = median(packer.map((s) => s.ms));
    return {
      name: b.name,
      kilnMs,
      packerMs,
      ratio: kilnMs / packerMs,
      targetRatio: b.targetRatio,
      runs: b.runs,
      note: b.note,
      ...(b.measureMemory ? {
        kilnPeakKiB: median(kiln.map((s) => s.peakKiB!)),
        packerPeakKiB: median(packer.map((s) => s.peakKiB!)),
        kilnPeakTargetMiB: b.kilnPeakTargetMiB,
      } : {}),
    };
  } finally {
    b.teardown?.();
  }
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

export function report(results: readonly Result[]): string {
  const memory = results.some((r) => r.kilnPeakKiB !== undefined);
  const rows = results.map((r) => [
    r.name,
    `${r.kilnMs.toFixed(1)} ms`,
    `${r.packerMs.toFixed(1)} ms`,
    `${r.ratio.toFixed(2)}x`,
    r.targetRatio === undefined ? '-' : `<= ${r.targetRatio}x ${r.ratio <= r.targetRatio ? 'met' : 'NOT met'}`,
    ...(memory ? [
      r.kilnPeakKiB === undefined ? '-' : mib(r.kilnPeakKiB),
      r.packerPeakKiB === undefined ? '-' : mib(r.packerPeakKiB),
      r.kilnPeakTargetMiB === undefined || r.kilnPeakKiB === undefined ? '-'
        : `<= ${r.kilnPeakTargetMiB} MiB ${r.kilnPeakKiB / 1024 <= r.kilnPeakTargetMiB ? 'met' : 'NOT met'}`,
    ] : []),
  ]);
  const head = ['benchmark', 'kiln (median)', 'packer (median)', 'kiln/packer', 'target',
    ...(memory ? ['kiln peak RSS', 'packer peak RSS', 'memory target'] : [])];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const table = all.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
  const notes = results.filter((r) => r.note).map((r) => `note (${r.name}, ${r.runs} runs): ${r.note}`);
  return [table, ...notes].join('\n');
}
