import * as fs from 'fs';
import * as path from 'path';

/**
 * Go's `path/filepath.Glob` and `Match` (Unix flavour), which Packer's
 * artifice uses, so that `files` patterns select the same files in the same
 * order and spelled the same way as in Packer. Glob libraries differ in ways
 * that show: they skip dot-files for `*`, expand braces and `**`, treat `[!x]`
 * as a negation, do not sort, and do not clean `./out/*` into `out/...`.
 *
 * - `*` matches any run of characters other than `/`, dot-files included;
 *   `?` one character other than `/`; `[a-z]`, `[^a-z]` classes; `\` escapes.
 * - A pattern without any of `*?[\` is returned as it is when the path exists
 *   (even as a dangling symlink), and matches nothing otherwise.
 * - Each directory is read in byte order; results are joined and cleaned
 *   (`./a/*` gives `a/x`).
 */

export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

const META = /[*?[\\]/;

function hasMeta(p: string): boolean {
  return META.test(p);
}

/** Splits off the leading run of `*` and the chunk up to the next `*` outside a class. */
function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let i = 0;
  let star = false;
  while (i < pattern.length && pattern[i] === '*') {
    i++;
    star = true;
  }
  const p = pattern.slice(i);
  let inRange = false;
  let j = 0;
  scan: for (; j < p.length; j++) {
    switch (p[j]) {
      case '\\':
        if (j + 1 < p.length) j++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, j), rest: p.slice(j) };
}

/** Reads one (possibly escaped) character of a class. */
function getEsc(chunk: string[]): { r: string; rest: string[] } {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPatternError();
  let c = chunk;
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) throw new BadPatternError();
  }
  const rest = c.slice(1);
  if (rest.length === 0) throw new BadPatternError();
  return { r: c[0], rest };
}

const cp = (ch: string): number => ch.codePointAt(0)!;

/**
 * Matches `chunk` at the start of `s`: the rest of `s`, or undefined. The
 * whole chunk is always read, so a malformed one fails even after a mismatch.
 */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | undefined {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case '[': {
        let r = -1;
        if (!failed) {
          r = cp(s[0]);
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true;
          chunk = chunk.slice(1);
        }
        let inClass = false;
        let ranges = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && ranges > 0) {
            chunk = chunk.slice(1);
            break;
          }
          const lo = getEsc(chunk);
          chunk = lo.rest;
          let hi = lo.r;
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1));
            hi = h.r;
            chunk = h.rest;
          }
          if (cp(lo.r) <= r && r <= cp(hi)) inClass = true;
          ranges++;
        }
        if (inClass === negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] === '/') failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        break;
      default: {
        // `\x` matches x literally; anything else matches itself.
        if (chunk[0] === '\\') {
          chunk = chunk.slice(1);
          if (chunk.length === 0) throw new BadPatternError();
        }
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
      }
    }
  }
  return failed ? undefined : s;
}

/** Whether `name` matches the shell pattern; throws BadPatternError for a malformed pattern. */
export function match(patternText: string, nameText: string): boolean {
  let pattern = Array.from(patternText);
  let name = Array.from(nameText);
  outer: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes('/');
    const t = matchChunk(chunk, name);
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const u = matchChunk(chunk, name.slice(i + 1));
        if (u !== undefined) {
          if (pattern.length === 0 && u.length > 0) continue;
          name = u;
          continue outer;
        }
      }
    }
    return false;
  }
  return name.length === 0;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Go's `filepath.Clean` for Unix paths. */
export function clean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined || '.';
}

/** The names in `dir` matching `pattern`, joined to `dir`; I/O errors count as no match, as in Go. */
function globDir(cwd: string, dir: string, pattern: string, into: string[]): void {
  let names: string[];
  try {
    if (!fs.statSync(path.resolve(cwd, dir)).isDirectory()) return;
    names = fs.readdirSync(path.resolve(cwd, dir));
  } catch {
    return;
  }
  names.sort(byteOrder);
  for (const n of names) if (match(pattern, n)) into.push(clean(`${dir}/${n}`));
}

/**
 * The paths matching `pattern`, relative paths resolved against `cwd` but
 * returned as Go spells them. Throws BadPatternError for a malformed pattern.
 */
export function glob(pattern: string, cwd: string): string[] {
  match(pattern, ''); // validates the whole pattern first
  if (!hasMeta(pattern)) {
    try {
      fs.lstatSync(path.resolve(cwd, pattern));
      return [pattern];
    } catch {
      return [];
    }
  }
  const slash = pattern.lastIndexOf('/');
  let dir = pattern.slice(0, slash + 1);
  const file = pattern.slice(slash + 1);
  if (dir === '') dir = '.';
  else if (dir !== '/') dir = dir.slice(0, -1);

  const matches: string[] = [];
  if (!hasMeta(dir)) {
    globDir(cwd, dir, file, matches);
    return matches;
  }
  if (dir === pattern) throw new BadPatternError();
  for (const d of glob(dir, cwd)) globDir(cwd, d, file, matches);
  return matches;
}
