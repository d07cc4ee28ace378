import * as fs from 'fs';
import * as path from 'path';

/*
 * What the tests that run real processes share: reading the files the
 * processes write, waiting for them, and telling whether a process group is
 * really gone.
 */

/**
 * An inline shell line that writes the process group of the script to
 * `pgid` (atomically), so a test can check later that the whole group is gone.
 */
export const RECORD_GROUP = 'awk \'{print $5}\' /proc/$$/stat > pgid.tmp && mv pgid.tmp pgid';

/** Reads a file of `dir`; undefined when it does not exist. */
export function read(dir: string, name: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

/** Waits until `check` holds, polling; fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * True while a process group has a live member. Zombies do not count: a
 * killed process whose parent has gone waits for init to reap it, and some
 * sandboxes' init never does.
 */
export function groupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`not a process group: ${pgid}`);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ")".
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** Resolves once every process of the group has gone (the last ones may take a moment to be reaped); fails after a second. */
export async function groupGone(pgid: number): Promise<void> {
  await waitFor(() => !groupAlive(pgid), 1000).catch(() => {
    throw new Error(`process group ${pgid} is still running`);
  });
}
