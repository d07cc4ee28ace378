import { Cleanups } from './types';

interface Entry {
  readonly what: string;
  readonly undo: () => Promise<void> | void;
}

/**
 * The undo list of one build. Each step registers the undo of what it creates
 * the moment it creates it; `unwind` runs them newest first, whatever happened,
 * and keeps going when one fails so that nothing after it is left behind.
 */
export class CleanupStack implements Cleanups {
  private readonly entries: Entry[] = [];
  private running: string | undefined;

  public defer(what: string, undo: () => Promise<void> | void): void {
    this.entries.push({ what, undo });
  }

  /** What is still to be cleaned up, the one in progress first. */
  public pending(): string[] {
    const rest = this.entries.map((e) => e.what).reverse();
    return this.running ? [this.running, ...rest] : rest;
  }

  public get size(): number {
    return this.entries.length;
  }

  /** Runs every undo, newest first. Returns the errors of those that failed. */
  public async unwind(onError: (what: string, e: Error) => void = () => {}): Promise<Error[]> {
    const errors: Error[] = [];
    for (let e = this.entries.pop(); e; e = this.entries.pop()) {
      this.running = e.what;
      try {
        await e.undo();
      } catch (err) {
        errors.push(err as Error);
        onError(e.what, err as Error);
      } finally {
        this.running = undefined;
      }
    }
    return errors;
  }

  /** Forgets every undo without running it (`-on-error=abort`); returns what was skipped. */
  public abandon(): string[] {
    const skipped = this.entries.map((e) => e.what).reverse();
    this.entries.length = 0;
    return skipped;
  }
}
