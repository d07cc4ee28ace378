import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * A small on-disk record of what a running `kiln build` has created outside
 * Docker (temporary directories, partly written files). Containers carry a
 * `kiln.run` label instead. If the process is killed outright, `kiln cleanup`
 * reads the journals of runs whose process is gone and removes what they list.
 */

export type JournalItemKind = 'dir' | 'file';

export interface JournalRecord {
  readonly runId: string;
  readonly pid: number;
  readonly started: string;
  readonly items: { kind: JournalItemKind; path: string }[];
}

/** Where journals live: `$KILN_STATE_DIR/runs`, default `~/.kiln/runs`. */
export function journalDir(): string {
  return path.join(process.env.KILN_STATE_DIR ?? path.join(os.homedir(), '.kiln'), 'runs');
}

export class RunJournal {
  private readonly file: string;
  private readonly record: JournalRecord;

  constructor(runId: string) {
    fs.mkdirSync(journalDir(), { recursive: true });
    this.file = path.join(journalDir(), `${runId}.json`);
    this.record = { runId, pid: process.pid, started: new Date().toISOString(), items: [] };
    this.flush();
  }

  public add(kind: JournalItemKind, p: string): void {
    this.record.items.push({ kind, path: p });
    this.flush();
  }

  public remove(kind: JournalItemKind, p: string): void {
    const i = this.record.items.findIndex((x) => x.kind === kind && x.path === p);
    if (i >= 0) {
      this.record.items.splice(i, 1);
      this.flush();
    }
  }

  /** The run finished and cleaned up: the journal is no longer needed. */
  public close(): void {
    fs.rmSync(this.file, { force: true });
  }

  // Written whole and renamed into place, so a kill never leaves a torn journal.
  private flush(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.record));
    fs.renameSync(tmp, this.file);
  }
}

/** True when a process with this pid exists and is not a zombie (killed, waiting to be reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process stays in the process table, as a zombie, until its parent
  // reaps it; it runs no more and holds nothing, so it does not count as alive.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true; // no /proc here: trust the signal check
  }
}

/** Journals of runs whose process is gone. */
export function abandonedRuns(): { file: string; record: JournalRecord }[] {
  let names: string[];
  try {
    names = fs.readdirSync(journalDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    const file = path.join(journalDir(), name);
    try {
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as JournalRecord;
      if (!processAlive(record.pid)) out.push({ file, record });
    } catch {
      // A journal being written right now, or not ours: leave it.
    }
  }
  return out;
}
