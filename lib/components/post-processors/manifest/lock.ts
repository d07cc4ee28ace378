import { randomBytes } from 'crypto';
import * as fsp from 'fs/promises';
import * as os from 'os';
import { abortError, sleep } from '../../../engine/build';
import { processAlive } from '../../../engine/journal';

/**
 * An exclusive lock on a file, shared by every Kiln process and by Packer:
 * the lock is `<file>.lock`, created with O_EXCL (Packer uses the same name,
 * so a Packer run and a Kiln run do not write the manifest at once). Builds
 * of one Kiln process also queue on an in-process mutex first, so they never
 * race each other for the lock file.
 *
 * The lock file holds `pid host token time`. It is taken as stale, and
 * broken, when its process is gone (same host), or when it is older than
 * `staleMs` (another host, an empty lock file left by a killed Packer). A
 * stale lock is broken by renaming it away, and only if it still is the one
 * that was judged stale, so two waiters cannot both break it and then both
 * hold the lock.
 */

export interface LockOptions {
  readonly signal: AbortSignal;
  /** Give up after this long (ms). */
  readonly timeoutMs?: number;
  /** A lock older than this is stale whatever its owner (ms). */
  readonly staleMs?: number;
}

const queues = new Map<string, Promise<void>>();

/** Runs `fn` with `lockPath` held; in-process callers are served one at a time in arrival order. */
export async function withFileLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(lockPath) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  queues.set(lockPath, tail);
  try {
    await previous;
    const token = await acquire(lockPath, options);
    try {
      return await fn();
    } finally {
      await releaseLock(lockPath, token);
    }
  } finally {
    release();
    if (queues.get(lockPath) === tail) queues.delete(lockPath);
  }
}

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

function parseOwner(text: string): Owner | undefined {
  const [pid, host, token] = text.trim().split(' ');
  if (!pid || !/^\d+$/.test(pid) || !host || !token) return undefined;
  return { pid: Number(pid), host, token };
}

async function acquire(lockPath: string, options: LockOptions): Promise<string> {
  const token = randomBytes(8).toString('hex');
  const content = `${process.pid} ${os.hostname()} ${token} ${new Date().toISOString()}\n`;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (options.signal.aborted) throw abortError(options.signal);
    try {
      const handle = await fsp.open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      return token;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await inspect(lockPath);
    if (holder && isStale(holder, staleMs)) {
      await breakLock(lockPath, holder.text);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder?.owner ? `process ${holder.owner.pid} on ${holder.owner.host}` : 'another process';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for the lock ${lockPath}, held by ${who}; remove it if that process is gone`);
    }
    await sleep(delay, options.signal);
    delay = Math.min(200, delay * 2);
  }
}

interface Holder {
  readonly text: string;
  readonly owner?: Owner;
  readonly ageMs: number;
}

async function inspect(lockPath: string): Promise<Holder | undefined> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(lockPath, 'utf8'), fsp.stat(lockPath)]);
    return { text, owner: parseOwner(text), ageMs: Date.now() - st.mtimeMs };
  } catch {
    return undefined; // released meanwhile: just try again
  }
}

function isStale(h: Holder, staleMs: number): boolean {
  if (h.owner && h.owner.host === os.hostname()) return !processAlive(h.owner.pid) || h.ageMs > 10 * staleMs;
  return h.ageMs > staleMs;
}

/** Moves the stale lock aside; if what was moved is no longer the stale lock, puts it back. */
async function breakLock(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.rename(lockPath, aside);
  } catch {
    return; // someone else broke or released it
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== undefined && moved !== staleText) {
    // A live lock was taken between our look and our rename: restore it unless a new one exists.
    await fsp.link(aside, lockPath).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
}

async function releaseLock(lockPath: string, token: string): Promise<void> {
  const text = await fsp.readFile(lockPath, 'utf8').catch(() => undefined);
  if (text !== undefined && parseOwner(text)?.token === token) await fsp.rm(lockPath, { force: true });
}
