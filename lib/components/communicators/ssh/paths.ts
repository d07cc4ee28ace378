import * as path from 'path';
import { shellQuote as quoteWord } from '../../shell-quote';

/** Paths on both ends of an SSH copy. */


/**
 * A remote path as one shell word. A leading `~` or `~/` still means the
 * user's home directory (Packer passes paths unquoted, so users rely on
 * it); with `glob`, the wildcard characters `*`, `?`, `[` and `]` stay
 * unquoted so that the remote shell expands them.
 */
export function quoteRemote(p: string, glob = false): string {
  let home = '';
  let rest = p;
  const tilde = /^~(\/|$)/.exec(p);
  if (tilde) {
    home = tilde[0];
    rest = p.slice(home.length);
  }
  if (!rest) return home || '\'\'';
  if (!glob) return home + quoteWord(rest);
  return home + rest.split(/([*?[\]])/).map((part, i) => (i % 2 ? part : part && quoteWord(part))).join('');
}

/** The four octal digits scp sends for a file's permissions. */
export function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** A local path without its trailing slash (`src/` → `src`), resolved. */
export function localPath(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  return path.resolve(trimmed);
}

/** A name received from the other end, refused if it would leave the directory it is written into. */
export function safeEntryName(name: string): string {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new Error(`refusing the unsafe file name ${JSON.stringify(name)} sent by the remote side`);
  }
  return name;
}

/** True when a remote source names several files by wildcards, as in Packer's download rule. */
export function hasWildcards(p: string): boolean {
  return /[*?[]/.test(p);
}
